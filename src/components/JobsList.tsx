/** The side panel's first page: every job with its current version and last run. */
import * as React from 'react';

import type { IJobInfo } from '../api/types';
import { formatDate, formatRelative } from '../format';
import { StatusChip } from './common';

export function JobsList(props: {
  jobs: readonly IJobInfo[];
  onSelect: (name: string) => void;
}): JSX.Element {
  if (!props.jobs.length) {
    return (
      <div className="jp-MlShip-empty">
        <p>No jobs yet.</p>
        <p>
          Open a notebook and press <strong>Ship</strong> in its toolbar: it becomes a versioned
          job you can run with parameters.
        </p>
      </div>
    );
  }
  return (
    <ul className="jp-MlShip-list jp-MlShip-jobs" aria-label="Jobs">
      {props.jobs.map(job => (
        <li key={job.name} data-job={job.name}>
          <button
            className="jp-MlShip-item"
            onClick={() => props.onSelect(job.name)}
            title={job.source_path || job.name}
          >
            <div className="jp-MlShip-item-main">
              <span className="jp-MlShip-item-title">{job.name}</span>
              {job.last_run && <StatusChip status={job.last_run.status} />}
            </div>
            <div className="jp-MlShip-item-sub">
              <span className="jp-MlShip-version-badge" data-current-version={job.current_version ?? ''}>
                v{job.current_version ?? '–'}
              </span>
              {job.latest_version !== null && job.latest_version !== job.current_version && (
                <span title="The current version is not the latest: rolled back">
                  {' '}
                  (latest v{job.latest_version})
                </span>
              )}
              <span className="jp-MlShip-dot">·</span>
              <span title={formatDate(job.last_run?.created_at ?? job.updated_at)}>
                {job.last_run
                  ? `ran ${formatRelative(job.last_run.created_at)}`
                  : `shipped ${formatRelative(job.updated_at)}`}
              </span>
            </div>
          </button>
        </li>
      ))}
    </ul>
  );
}
