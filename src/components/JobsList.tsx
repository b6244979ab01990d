/**
 * The side panel's first page: every job with its current version and last run, searchable,
 * filtered by the last run's status, sorted by name or last run, pipeline steps grouped under
 * their pipeline; a job can be deleted from here. In team mode each job shows its owner, and
 * the list can keep the user's own jobs (Mine) or the rest of the team's (Team).
 */
import { deleteIcon, searchIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { RUN_STATUSES, type IJobInfo, type IVisitor, type RunStatus } from '../api/types';
import { formatDate, formatRelative, STATUS_LABELS } from '../core/format';
import { may, permitted } from '../core/permissions';
import { StatusChip } from './common';
import { HealthBadge } from './HealthBadge';
import { useTrans } from '../core/i18n';

export type JobSort = 'name' | 'last-run';
export type JobStatusFilter = RunStatus | 'all' | 'never';
/** team mode: everyone's jobs, the user's own, or the rest of the team's */
export type JobOwnerFilter = 'all' | 'mine' | 'team';

export interface IJobsQuery {
  search: string;
  status: JobStatusFilter;
  sort: JobSort;
  /** ignored outside team mode */
  owner?: JobOwnerFilter;
}

export const DEFAULT_JOBS_QUERY: IJobsQuery = { search: '', status: 'all', sort: 'name', owner: 'all' };

/** Is the job the user's: they own it, or are in one of its owner groups? */
export function isMine(job: IJobInfo, user: IVisitor): boolean {
  return job.owner === user.name || (job.owners ?? []).some(g => user.groups.includes(g));
}

/** The jobs the query keeps, in its order; `user` (team mode) for the Mine / Team filter. */
export function filterJobs(
  jobs: readonly IJobInfo[],
  query: IJobsQuery,
  user?: IVisitor | null
): IJobInfo[] {
  const words = query.search.toLowerCase().split(/\s+/).filter(Boolean);
  const owner = user ? (query.owner ?? 'all') : 'all';
  const kept = jobs.filter(job => {
    const text = `${job.name} ${job.source_path}`.toLowerCase();
    if (!words.every(w => text.includes(w))) {
      return false;
    }
    if (owner !== 'all' && user && isMine(job, user) !== (owner === 'mine')) {
      return false;
    }
    if (query.status === 'all') {
      return true;
    }
    return query.status === 'never' ? !job.last_run : job.last_run?.status === query.status;
  });
  const lastRun = (job: IJobInfo) => (job.last_run ? Date.parse(job.last_run.created_at) : -Infinity);
  return kept.sort((a, b) =>
    query.sort === 'last-run' ? lastRun(b) - lastRun(a) || a.name.localeCompare(b.name) : a.name.localeCompare(b.name)
  );
}

function JobItem(props: {
  job: IJobInfo;
  onSelect: (name: string) => void;
  onDelete?: (name: string) => void;
  /** team mode: the user, to show owners */
  user?: IVisitor | null;
}): JSX.Element {
  const trans = useTrans();
  const { job, user } = props;
  const del = permitted(may(job.permissions, 'delete'), trans.__('Delete %1: its versions and runs', job.name));
  return (
    <li data-job={job.name} className="jp-MlShip-jobItem">
      <button className="jp-MlShip-item" onClick={() => props.onSelect(job.name)} title={job.name}>
        <div className="jp-MlShip-item-main">
          <span className="jp-MlShip-item-title">{job.name}</span>
          <HealthBadge job={job} quiet />
          {job.last_run && (
            <StatusChip status={job.last_run.status} version={job.last_run.version} />
          )}
        </div>
        <div className="jp-MlShip-item-sub">
          <span className="jp-MlShip-version-badge" data-current-version={job.current_version ?? ''}>
            v{job.current_version ?? '–'}
          </span>
          {job.latest_version !== null && job.latest_version !== job.current_version && (
            <span title={trans.__('The current version is not the latest: rolled back')}>
              {' '}
              {trans.__('(latest v')}{job.latest_version})
            </span>
          )}
          <span className="jp-MlShip-dot">·</span>
          <span title={formatDate(job.last_run?.created_at ?? job.updated_at)}>
            {job.last_run
              ? trans.__('ran %1', formatRelative(job.last_run.created_at))
              : trans.__('shipped %1', formatRelative(job.updated_at))}
          </span>
          {user && job.owner && (
            <>
              <span className="jp-MlShip-dot">·</span>
              <span
                className="jp-MlShip-owner"
                data-owner={job.owner}
                title={trans.__('Owner %1%2', job.owner, job.owners?.length ? trans.__(', owner groups %1', job.owners.join(', ')) : '')}
              >
                {job.owner === user.name ? trans.__('you') : job.owner}
                {job.owners?.length ? ` · ${job.owners.join(', ')}` : ''}
              </span>
            </>
          )}
        </div>
      </button>
      {props.onDelete && (
        <button
          className="jp-MlShip-iconButton jp-MlShip-jobDelete"
          title={del.title}
          disabled={del.disabled}
          aria-label={trans.__('Delete %1', job.name)}
          onClick={() => props.onDelete?.(job.name)}
        >
          <deleteIcon.react tag="span" />
        </button>
      )}
    </li>
  );
}

export function JobsList(props: {
  jobs: readonly IJobInfo[];
  onSelect: (name: string) => void;
  onDelete?: (name: string) => void;
  /** pipeline → the jobs of its current version's steps */
  pipelineJobs?: ReadonlyMap<string, readonly string[]>;
  query?: IJobsQuery;
  onQuery?: (query: IJobsQuery) => void;
  /** team mode: the user (owners shown, the Mine / Team filter); null outside team mode */
  user?: IVisitor | null;
}): JSX.Element {
  const trans = useTrans();
  const user = props.user ?? null;
  const [own, setOwn] = React.useState<IJobsQuery>(DEFAULT_JOBS_QUERY);
  const query = props.query ?? own;
  const setQuery = props.onQuery ?? setOwn;
  if (!props.jobs.length) {
    return (
      <div className="jp-MlShip-empty">
        <p>{trans.__('No jobs yet.')}</p>
        <p>
          {trans.__('Open a notebook and press')}{' '}<strong>{trans.__('Ship')}</strong>{' '}{trans.__('in its toolbar: it becomes a versioned job you can run with parameters.')}
        </p>
      </div>
    );
  }
  const shown = filterJobs(props.jobs, query, user);
  const grouped = new Map<string, IJobInfo[]>();
  const inGroup = new Set<string>();
  for (const [pipeline, names] of props.pipelineJobs ?? []) {
    const steps = shown.filter(j => names.includes(j.name) && !inGroup.has(j.name));
    steps.forEach(j => inGroup.add(j.name));
    if (steps.length) {
      grouped.set(pipeline, steps);
    }
  }
  const single = shown.filter(j => !inGroup.has(j.name));
  const item = (job: IJobInfo) => (
    <JobItem key={job.name} job={job} onSelect={props.onSelect} onDelete={props.onDelete} user={user} />
  );
  return (
    <div className="jp-MlShip-jobsBlock">
      <div className="jp-MlShip-jobsTools">
        <div className="jp-MlShip-search">
          <searchIcon.react tag="span" className="jp-MlShip-searchIcon" />
          <input
            type="search"
            className="jp-mod-styled jp-MlShip-input"
            placeholder={trans.__('Search jobs')}
            aria-label={trans.__('Search jobs')}
            value={query.search}
            onChange={e => setQuery({ ...query, search: e.currentTarget.value })}
          />
        </div>
        <select
          className="jp-mod-styled jp-MlShip-select"
          aria-label={trans.__('Last run status')}
          value={query.status}
          onChange={e => setQuery({ ...query, status: e.currentTarget.value as JobStatusFilter })}
        >
          <option value="all">{trans.__('Any status')}</option>
          {RUN_STATUSES.map(s => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
          <option value="never">{trans.__('Never ran')}</option>
        </select>
        {user && (
          <select
            className="jp-mod-styled jp-MlShip-select"
            aria-label={trans.__('Whose jobs')}
            title={trans.__('Mine: %1 owns them or is in an owner group; Team: the others\'', user.name)}
            value={query.owner ?? 'all'}
            onChange={e => setQuery({ ...query, owner: e.currentTarget.value as JobOwnerFilter })}
          >
            <option value="all">{trans.__('All jobs')}</option>
            <option value="mine">{trans.__('Mine')}</option>
            <option value="team">{trans.__('Team')}</option>
          </select>
        )}
        <select
          className="jp-mod-styled jp-MlShip-select"
          aria-label={trans.__('Sort jobs')}
          value={query.sort}
          onChange={e => setQuery({ ...query, sort: e.currentTarget.value as JobSort })}
        >
          <option value="name">{trans.__('By name')}</option>
          <option value="last-run">{trans.__('By last run')}</option>
        </select>
      </div>
      {!shown.length && (
        <div className="jp-MlShip-empty">
          {trans.__('No job matches.')}{' '}
          <button className="jp-MlShip-linkButton" onClick={() => setQuery(DEFAULT_JOBS_QUERY)}>
            {trans.__('Show all')}{' '}{props.jobs.length}
          </button>
        </div>
      )}
      <ul className="jp-MlShip-list jp-MlShip-jobs" aria-label={trans.__('Jobs')}>
        {single.map(item)}
      </ul>
      {[...grouped].map(([pipeline, jobs]) => (
        <div key={pipeline} className="jp-MlShip-jobGroup" data-job-group={pipeline}>
          <div className="jp-MlShip-jobGroup-title" title={trans.__('Steps of the pipeline %1', pipeline)}>
            {trans.__('pipeline')}{' '}<strong>{pipeline}</strong>
          </div>
          <ul className="jp-MlShip-list jp-MlShip-jobs" aria-label={trans.__('Steps of %1', pipeline)}>
            {jobs.map(item)}
          </ul>
        </div>
      ))}
    </div>
  );
}
