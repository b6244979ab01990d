/** A job in the side panel: its runs and its versions, with Run and Roll back. */
import { caretLeftIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { IJobInfo, IRunInfo, IVersionFiles, IVersionInfo } from '../api/types';
import { formatDate, formatDuration, formatRelative, runDuration, shortId } from '../core/format';
import type { IVersionFocus } from '../core/model';
import { inlineValues, StatusChip } from './common';
import { EnvironmentChips, VersionsList } from './VersionsList';
import { JobAudit } from './JobAudit';
import { HealthBadge } from './HealthBadge';
import { HealthTab } from './HealthTab';
import { JobTriggers } from './JobTriggers';
import type { MlShipClient } from '../api/client';
import { may, permitted } from '../core/permissions';
import { useTrans } from '../core/i18n';
import { describeSchedule, formatInZone } from '../schedules/cronlib';

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
  /** promote a version to an environment (none: no Promote button) */
  onPromote?: (version: IVersionInfo) => void;
  onLoadMore: () => void;
  /** compare version `a` with `b` (null: the current version) */
  onCompare: (a: number, b: number | null) => void;
  loadVersionFiles: (version: number) => Promise<IVersionFiles>;
  /** open a version's notebook read-only */
  onOpenVersion?: (version: number) => void;
  /** open the job's runs as a table and a chart (the run history plugin's view) */
  onOpenHistory?: () => void;
  /** a version to show (the Versions tab opens on it), when it is one of this job's */
  focus: IVersionFocus | null;
  /** for the Health tab (none: no Health tab) */
  client?: MlShipClient;
  /** open a run by its id (the Health tab's points and drift columns) */
  onOpenRunId?: (id: string) => void;
}

function RunsList(props: IJobDetailProps): JSX.Element {
  const trans = useTrans();
  if (!props.runs.length) {
    return <div className="jp-MlShip-empty">{trans.__('No runs yet: press Run.')}</div>;
  }
  return (
    <>
      <ul className="jp-MlShip-list jp-MlShip-runs" aria-label={trans.__('Runs')}>
        {props.runs.map(run => (
          <li key={run.id} data-run={run.id}>
            <button
              className={`jp-MlShip-item${
                run.id === props.selectedRunId ? ' jp-mod-selected' : ''
              }`}
              onClick={() => props.onOpenRun(run)}
              title={trans.__('Run %1: open its log and outputs', run.id)}
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
                {run.started_by && (
                  <>
                    <span className="jp-MlShip-dot">·</span>
                    <span data-started-by={run.started_by}>{trans.__('by')}{' '}{run.started_by}</span>
                  </>
                )}
                {run.step && (
                  <>
                    <span className="jp-MlShip-dot">·</span>
                    <span>{trans.__('step')}{' '}{run.step}</span>
                  </>
                )}
              </div>
              {Object.keys(run.parameters).length > 0 && (
                <div className="jp-MlShip-item-line" title="parameters">
                  <span className="jp-MlShip-label">{trans.__('in')}</span> {inlineValues(run.parameters)}
                </div>
              )}
              {Object.keys(run.outputs).length > 0 && (
                <div className="jp-MlShip-item-line" title="outputs">
                  <span className="jp-MlShip-label">{trans.__('out')}</span> {inlineValues(run.outputs)}
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
          {trans.__('Load older runs')}
        </button>
      )}
    </>
  );
}

export function JobDetail(props: IJobDetailProps): JSX.Element {
  const trans = useTrans();
  const { job, focus } = props;
  const [tab, setTab] = React.useState<'runs' | 'versions' | 'health' | 'history'>(focus ? 'versions' : 'runs');
  const run = permitted(may(job.permissions, 'run'), trans.__('Run the current version'));
  const mayRollback = may(job.permissions, 'rollback');
  const mayPromote = may(job.permissions, 'promote');
  const environments = job.environments ?? {};
  React.useEffect(() => {
    if (focus) {
      setTab('versions');
    }
  }, [focus?.seq]);
  return (
    <div className="jp-MlShip-job" data-job={job.name}>
      <div className="jp-MlShip-jobHeader">
        <button className="jp-MlShip-iconButton" onClick={props.onBack} title={trans.__('All jobs')} aria-label={trans.__('All jobs')}>
          <caretLeftIcon.react tag="span" />
        </button>
        <div className="jp-MlShip-jobTitle">
          <div className="jp-MlShip-item-main">
            <span className="jp-MlShip-item-title" title={job.source_path}>{job.name}</span>
            <HealthBadge job={job} versions={props.versions} />
          </div>
          <div className="jp-MlShip-item-sub">
            {trans.__('current')}{' '}<span className="jp-MlShip-version-badge" data-current-version={job.current_version ?? ''}>v{job.current_version ?? '–'}</span>
            {job.source_path && (
              <>
                <span className="jp-MlShip-dot">·</span>
                <span className="jp-MlShip-ellipsis">{job.source_path}</span>
              </>
            )}
          </div>
          {Object.keys(environments).length > 0 && (
            <div className="jp-MlShip-item-sub jp-MlShip-environments" aria-label={trans.__('Environments')}>
              <EnvironmentChips environments={Object.keys(environments)} versions={environments} />
            </div>
          )}
          {props.client && <JobTriggers client={props.client} job={job.name} refresh={job.updated_at} />}
          {job.owner && (
            <div className="jp-MlShip-item-sub" data-owner={job.owner}>
              {trans.__('owner')}{' '}{job.owner}
              {job.owners && job.owners.length > 0 && ` · ${job.owners.join(', ')}`}
              {job.run_by === 'team' && trans.__(' · the team may run it')}
            </div>
          )}
          {job.schedule && (
            <div
              className="jp-MlShip-item-sub jp-MlShip-schedule"
              data-schedule={job.schedule}
              title={trans.__('Runs on the schedule %1 (cron, %2); the panel’s Schedules section edits it', job.schedule, job.schedule_timezone ?? 'UTC')}
            >
              {trans.__('on schedule')}{' '}<code>{job.schedule}</code>{' '}
              <span className="jp-MlShip-scheduleZone">{job.schedule_timezone ?? 'UTC'}</span>
              {describeSchedule(job.schedule) && (
                <>
                  <span className="jp-MlShip-dot">·</span>
                  {describeSchedule(job.schedule)}
                </>
              )}
              {job.schedule_paused ? (
                <>
                  <span className="jp-MlShip-dot">·</span>
                  {trans.__('paused')}
                </>
              ) : (
                job.next_run && (
                  <>
                    <span className="jp-MlShip-dot">·</span>
                    <span title={formatDate(job.next_run)}>
                      {trans.__('next')}{' '}{formatInZone(new Date(job.next_run), job.schedule_timezone ?? 'UTC')}
                    </span>
                  </>
                )
              )}
              {job.schedule_error && (
                <>
                  <span className="jp-MlShip-dot">·</span>
                  <span className="jp-MlShip-schedule-error" title={job.schedule_error}>
                    {trans.__('never runs:')}{' '}{job.schedule_error}
                  </span>
                </>
              )}
            </div>
          )}
        </div>
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-MlShip-runButton"
          onClick={() => props.onRun(null)}
          disabled={run.disabled}
          title={run.title}
        >
          {trans.__('Run')}
        </button>
      </div>
      <div className="jp-MlShip-tabs" role="tablist">
        {(props.client ? (['runs', 'versions', 'health', 'history'] as const) : (['runs', 'versions', 'history'] as const)).map(name => (
          <button
            key={name}
            role="tab"
            aria-selected={tab === name}
            className={`jp-MlShip-tab${tab === name ? ' jp-mod-active' : ''}`}
            onClick={() => setTab(name)}
          >
            {name === 'runs'
              ? trans.__('Runs')
              : name === 'history'
                ? trans.__('History')
                : name === 'health'
                  ? trans.__('Health')
                  : trans.__('Versions (%1)', props.versions.length)}
          </button>
        ))}
      </div>
      <div className="jp-MlShip-tabBody">
        {tab === 'history' ? (
          <JobAudit name={job.name} refresh={job.updated_at} />
        ) : tab === 'health' && props.client ? (
          <HealthTab
            client={props.client}
            job={job.name}
            runs={props.runs}
            refresh={`${job.updated_at} ${job.last_run?.id} ${job.last_run?.status}`}
            onOpenRun={id => props.onOpenRunId?.(id)}
          />
        ) : tab === 'runs' ? (
          <>
            {props.runs.length > 0 && (
              <button
                className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-historyButton"
                onClick={() => props.onOpenHistory?.()}
                title={trans.__('Every run of this job as a table, with a chart of an output over runs and Compare')}
              >
                {trans.__('Table & chart')}
              </button>
            )}
            <RunsList {...props} />
          </>
        ) : (
          <VersionsList
            versions={props.versions}
            now={props.now}
            focus={focus}
            onRun={props.onRun}
            onRollback={props.onRollback}
            rollbackRefused={mayRollback.allowed ? undefined : mayRollback.reason}
            onPromote={props.onPromote}
            promoteRefused={mayPromote.allowed ? undefined : mayPromote.reason}
            runRefused={run.disabled ? run.title : undefined}
            onCompare={props.onCompare}
            onOpen={props.onOpenVersion}
            loadFiles={props.loadVersionFiles}
          />
        )}
      </div>
    </div>
  );
}
