/** A job's health badge (jobs list, job header) and the overview of all jobs (panel header). */
import * as React from 'react';

import type { IJobInfo, IVersionInfo } from '../api/types';
import { BADGE_LABELS, badgeTitle, healthOverview, jobBadge, listBadge, type JobBadge } from '../core/health';
import { useTrans } from '../core/i18n';

export function HealthBadge(props: {
  job: IJobInfo;
  versions?: readonly IVersionInfo[];
  /** the jobs list: only what its status chip does not say already (see `listBadge`) */
  quiet?: boolean;
}): JSX.Element | null {
  const badge = props.quiet ? listBadge(props.job) : jobBadge(props.job, props.versions);
  if (!badge) {
    return null;
  }
  return (
    <span
      className={`jp-MlShip-healthBadge jp-MlShip-health-${badge}`}
      data-health={badge}
      title={badgeTitle(badge, props.job)}
    >
      {BADGE_LABELS[badge]}
    </span>
  );
}

const ORDER: JobBadge[] = ['failing', 'degraded', 'validating', 'healthy'];

/** "2 healthy · 1 degraded · 1 failing" over all jobs; nothing when
 * no job ran yet. */
export function HealthOverview(props: { jobs: readonly IJobInfo[] }): JSX.Element | null {
  const trans = useTrans();
  const counts = healthOverview(props.jobs);
  const parts = ORDER.filter(b => counts[b] > 0);
  if (!parts.length) {
    return null;
  }
  return (
    <div
      className="jp-MlShip-healthOverview"
      aria-label={trans.__('Health of all jobs')}
      title={trans.__('%1 jobs: the badge of each job\'s last run', props.jobs.length)}
    >
      {parts.map(b => (
        <span key={b} className={`jp-MlShip-healthBadge jp-MlShip-health-${b}`} data-health-count={b}>
          {counts[b]} {BADGE_LABELS[b]}
        </span>
      ))}
    </div>
  );
}
