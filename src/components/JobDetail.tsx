/** A job in the side panel: its runs and its versions, with Run and Roll back. */
import {
  historyIcon,
  runIcon,
  caretLeftIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import type { IJobInfo, IRunInfo, IVersionInfo } from '../api/types';
import { formatDate, formatDuration, formatRelative, runDuration, shortId } from '../format';
import { inlineValues, StatusChip } from './common';

export interface IJobDetailProps {
  job: IJobInfo;
  versions: readonly IVersionInfo[];
  runs: readonly IRunInfo[];
  hasMoreRuns: boolean;
  selectedRunId: string | null;
  now: number;
  onBack: () => void;
  onOpenRun: (run: IRunInfo) => void;
  onRun: (version: number | null) => void;
  onRollback: (version: IVersionInfo) => void;
  onLoadMore: () => void;
}

function RunsList(props: IJobDetailProps): JSX.Element {
  if (!props.runs.length) {
    return <div className="jp-MlShip-empty">No runs yet: press Run.</div>;
  }
  return (
    <>
      <ul className="jp-MlShip-list jp-MlShip-runs" aria-label="Runs">
        {props.runs.map(run => (
          <li key={run.id} data-run={run.id}>
            <button
              className={`jp-MlShip-item${
                run.id === props.selectedRunId ? ' jp-mod-selected' : ''
              }`}
              onClick={() => props.onOpenRun(run)}
              title={`Run ${run.id}: open its log and outputs`}
            >
              <div className="jp-MlShip-item-main">
                <StatusChip status={run.status} />
                <span className="jp-MlShip-item-title">#{shortId(run.id)}</span>
                <span className="jp-MlShip-muted">v{run.version}</span>
                <span className="jp-MlShip-grow" />
                <span className="jp-MlShip-muted" title="duration">
                  {formatDuration(runDuration(run, props.now))}
                </span>
              </div>
              <div className="jp-MlShip-item-sub">
                <span title={formatDate(run.created_at)}>{formatRelative(run.created_at, props.now)}</span>
                <span className="jp-MlShip-dot">·</span>
                <span>{run.backend}</span>
                {run.step && (
                  <>
                    <span className="jp-MlShip-dot">·</span>
                    <span>step {run.step}</span>
                  </>
                )}
              </div>
              {Object.keys(run.parameters).length > 0 && (
                <div className="jp-MlShip-item-line" title="parameters">
                  <span className="jp-MlShip-label">in</span> {inlineValues(run.parameters)}
                </div>
              )}
              {Object.keys(run.outputs).length > 0 && (
                <div className="jp-MlShip-item-line" title="outputs">
                  <span className="jp-MlShip-label">out</span> {inlineValues(run.outputs)}
                </div>
              )}
              {run.error && run.status !== 'cancelled' && (
                <div className="jp-MlShip-item-line jp-MlShip-item-error">
                  {run.error.ename ? `${run.error.ename}: ${run.error.evalue ?? ''}` : run.error.message}
                </div>
              )}
            </button>
          </li>
        ))}
      </ul>
      {props.hasMoreRuns && (
        <button className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-more" onClick={props.onLoadMore}>
          Load older runs
        </button>
      )}
    </>
  );
}

function VersionsList(props: IJobDetailProps): JSX.Element {
  return (
    <ul className="jp-MlShip-list jp-MlShip-versions" aria-label="Versions">
      {props.versions.map(v => (
        <li
          key={v.number}
          data-version={v.number}
          className={`jp-MlShip-version${v.is_current ? ' jp-mod-current' : ''}`}
        >
          <div className="jp-MlShip-item-main">
            <span className="jp-MlShip-item-title">v{v.number}</span>
            {v.is_current && <span className="jp-MlShip-current">current</span>}
            <span className="jp-MlShip-grow" />
            <button
              className="jp-MlShip-iconButton"
              title={`Run v${v.number}`}
              aria-label={`Run v${v.number}`}
              onClick={() => props.onRun(v.number)}
            >
              <runIcon.react tag="span" />
            </button>
            {!v.is_current && (
              <button
                className="jp-MlShip-iconButton jp-MlShip-rollback"
                title={`Roll back to v${v.number}: make it the current version`}
                aria-label={`Roll back to v${v.number}`}
                onClick={() => props.onRollback(v)}
              >
                <historyIcon.react tag="span" />
              </button>
            )}
          </div>
          <div className={`jp-MlShip-message${v.message ? '' : ' jp-MlShip-muted'}`}>
            {v.message || 'no message'}
          </div>
          <div className="jp-MlShip-item-sub">
            <span title={formatDate(v.created_at)}>{formatRelative(v.created_at, props.now)}</span>
            {v.author && (
              <>
                <span className="jp-MlShip-dot">·</span>
                <span>{v.author}</span>
              </>
            )}
            <span className="jp-MlShip-dot">·</span>
            <code title={v.digest}>{v.digest.slice(0, 8)}</code>
          </div>
        </li>
      ))}
    </ul>
  );
}

export function JobDetail(props: IJobDetailProps): JSX.Element {
  const [tab, setTab] = React.useState<'runs' | 'versions'>('runs');
  const { job } = props;
  return (
    <div className="jp-MlShip-job" data-job={job.name}>
      <div className="jp-MlShip-jobHeader">
        <button className="jp-MlShip-iconButton" onClick={props.onBack} title="All jobs" aria-label="All jobs">
          <caretLeftIcon.react tag="span" />
        </button>
        <div className="jp-MlShip-jobTitle">
          <div className="jp-MlShip-item-title" title={job.source_path}>{job.name}</div>
          <div className="jp-MlShip-item-sub">
            current <span className="jp-MlShip-version-badge" data-current-version={job.current_version ?? ''}>v{job.current_version ?? '–'}</span>
            {job.source_path && (
              <>
                <span className="jp-MlShip-dot">·</span>
                <span className="jp-MlShip-ellipsis">{job.source_path}</span>
              </>
            )}
          </div>
          {job.schedule && (
            <div
              className="jp-MlShip-item-sub jp-MlShip-schedule"
              data-schedule={job.schedule}
              title={`Runs on the schedule ${job.schedule} (cron, UTC)`}
            >
              on schedule <code>{job.schedule}</code>
              {job.next_run && (
                <>
                  <span className="jp-MlShip-dot">·</span>
                  next {formatDate(job.next_run)}
                </>
              )}
            </div>
          )}
        </div>
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-MlShip-runButton"
          onClick={() => props.onRun(null)}
          title="Run the current version"
        >
          Run
        </button>
      </div>
      <div className="jp-MlShip-tabs" role="tablist">
        {(['runs', 'versions'] as const).map(name => (
          <button
            key={name}
            role="tab"
            aria-selected={tab === name}
            className={`jp-MlShip-tab${tab === name ? ' jp-mod-active' : ''}`}
            onClick={() => setTab(name)}
          >
            {name === 'runs' ? 'Runs' : `Versions (${props.versions.length})`}
          </button>
        ))}
      </div>
      <div className="jp-MlShip-tabBody">
        {tab === 'runs' ? <RunsList {...props} /> : <VersionsList {...props} />}
      </div>
    </div>
  );
}
