/**
 * The run view (a main-area tab): status, times, parameters, outputs, error, and the live log,
 * with Cancel, Re-run with these parameters and Open output in its toolbar.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import {
  deleteIcon,
  notebookIcon,
  runIcon,
  stopIcon,
  tabIcon,
  Toolbar,
  ToolbarButton
} from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  cancelWithConfirm,
  deleteRunWithConfirm,
  openRunOutput,
  rerun,
  type IActions
} from '../core/actions';
import { ApiError, errorMessage } from '../api/client';
import { isTerminal, type IRunInfo, type RunStatus } from '../api/types';
import { formatDate, formatDuration, runDuration, shortId } from '../core/format';
import { shipIcon } from '../core/icons';
import { LogBuffer, LogFollower } from '../core/log';
import { KeyValues, Notice, RunErrorBox, StatusChip } from './common';
import { LogView } from './LogView';
import { RunFiles } from './RunFiles';
import { RunChecks } from './RunChecks';
import { RunSpark } from './RunSpark';
import { RunNotifications } from './RunNotifications';
import { getTrans, useTrans } from '../core/i18n';

/** A run view asks for its run when no event told anything for this long. */
const FALLBACK_POLL_MS = 15000;

function Header(props: {
  run: IRunInfo;
  now: number;
  onShowVersion: () => void;
  onOpenPipelineRun: (id: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { run } = props;
  return (
    <div className="jp-MlShip-runHeader">
      <div className="jp-MlShip-runTitle">
        <StatusChip status={run.status} />
        <span className="jp-MlShip-item-title">
          {run.job}{' '}
          <button
            className="jp-MlShip-version-badge jp-MlShip-versionLink"
            onClick={props.onShowVersion}
            title={trans.__('Show version %1 of %2: its files and message', run.version, run.job)}
          >
            v{run.version}
          </button>
        </span>
        <span className="jp-MlShip-muted" title={run.id}>
          {trans.__('run #')}{shortId(run.id)}
        </span>
        {run.step && <span className="jp-MlShip-muted">{trans.__('step')}{' '}{run.step}</span>}
        {run.pipeline_run_id && (
          <button
            className="jp-MlShip-linkButton jp-MlShip-pipelineRunLink"
            onClick={() => props.onOpenPipelineRun(run.pipeline_run_id as string)}
            title={trans.__('Open the graph of the pipeline run this step belongs to')}
          >
            {trans.__('pipeline run #')}{shortId(run.pipeline_run_id)}
          </button>
        )}
      </div>
      <dl className="jp-MlShip-facts">
        <div>
          <dt>{trans.__('Backend')}</dt>
          <dd>{run.backend}</dd>
        </div>
        <div>
          <dt>{trans.__('Started')}</dt>
          <dd>{formatDate(run.started_at ?? run.created_at)}</dd>
        </div>
        <div>
          <dt>{trans.__('Ended')}</dt>
          <dd>{run.ended_at ? formatDate(run.ended_at) : '—'}</dd>
        </div>
        <div>
          <dt>{trans.__('Duration')}</dt>
          <dd data-duration>{formatDuration(runDuration(run, props.now))}</dd>
        </div>
        <div>
          <dt>{trans.__('Attempts')}</dt>
          <dd>
            {run.attempts}{' '}{trans.__('of')}{' '}{run.max_attempts}
          </dd>
        </div>
      </dl>
    </div>
  );
}

/** The live state of one run view: run info, log buffer and follower. */
class RunViewContent extends ReactWidget {
  run: IRunInfo | null = null;
  buffer: LogBuffer;
  /** the run no longer exists (its job was deleted): the view explains instead of an error */
  gone = false;
  private _follower: LogFollower | null = null;
  private _revision = 0;
  private _follow: boolean;
  private _problem: string | null = null;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _lastUpdate = Date.now();
  private _asking = false;

  constructor(
    private _runId: string,
    private readonly _actions: IActions,
    private readonly _onRunChange: () => void,
    private readonly _onClose: () => void = () => undefined
  ) {
    super();
    this.addClass('jp-MlShip-runView');
    this.buffer = new LogBuffer(_actions.settings().maxLogChars);
    this._follow = _actions.settings().followLogs;
    _actions.model.runChanged.connect(this._onModelRun, this);
    void this._load();
  }

  get runId(): string {
    return this._runId;
  }

  /** Show another run in this view (the Runs tab following the latest). */
  showRun(id: string): void {
    if (id === this._runId) {
      return;
    }
    this._follower?.dispose();
    this._follower = null;
    if (this._timer) {
      clearInterval(this._timer);
      this._timer = null;
    }
    this._runId = id;
    this.run = null;
    this.gone = false;
    this._problem = null;
    this.buffer = new LogBuffer(this._actions.settings().maxLogChars);
    this._revision++;
    this._onRunChange();
    this.update();
    void this._load();
  }

  private async _load(): Promise<void> {
    const id = this._runId;
    try {
      const run = await this._actions.model.client.run(id);
      if (id !== this._runId) {
        return;
      }
      this._setRun(run);
      this._startLog();
    } catch (error) {
      if (id !== this._runId) {
        return;
      }
      this.gone = error instanceof ApiError && error.code === 'not_found';
      this._problem = errorMessage(error);
      this._onRunChange();
      this.update();
    }
  }

  private _startLog(): void {
    const trans = getTrans();
    const follower = (this._follower = new LogFollower({
      client: this._actions.model.client,
      runId: this.runId,
      tail: this.buffer.maxChars // a long log opens at its end, as much as the view keeps
    }));
    follower.skipped.connect((_, bytes) => {
      this.buffer.skip(bytes);
      this._revision++;
      this.update();
    });
    follower.data.connect((_, text) => {
      this.buffer.append(text);
      this._revision++;
      this.update();
    });
    follower.finished.connect(() => {
      // the final info (outputs, error) may be newer than the last event
      void this._actions.model.client
        .run(this.runId)
        .then(run => this._actions.model.updateRun(run))
        .catch(() => undefined);
    });
    follower.error.connect((_, message) => {
      this._problem = trans.__('Log: %1', message);
      this.update();
    });
    follower.start();
  }

  private _onModelRun(_: unknown, run: IRunInfo): void {
    if (run.id === this.runId) {
      this._setRun(run);
    }
  }

  private _setRun(run: IRunInfo): void {
    this.run = run;
    this._problem = null;
    this._lastUpdate = Date.now();
    const active = !isTerminal(run.status);
    if (active && !this._timer) {
      this._timer = setInterval(() => this._tick(), 1000);
    } else if (!active && this._timer) {
      clearInterval(this._timer);
      this._timer = null;
    }
    this._onRunChange();
    this.update();
  }

  /** Every second while active: the duration ticks; after 15 s without news, ask. */
  private _tick(): void {
    this.update();
    if (Date.now() - this._lastUpdate > FALLBACK_POLL_MS && !this._asking) {
      this._asking = true;
      this._lastUpdate = Date.now();
      void this._actions.model.client
        .run(this.runId)
        .then(run => this._actions.model.updateRun(run))
        .catch(() => undefined)
        .then(() => (this._asking = false));
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._actions.model.runChanged.disconnect(this._onModelRun, this);
    this._follower?.dispose();
    if (this._timer) {
      clearInterval(this._timer);
    }
    super.dispose();
  }

  protected render(): JSX.Element {
    const trans = getTrans();
    const run = this.run;
    if (!run) {
      return (
        <div className="jp-MlShip-runBody">
          {this.gone ? (
            <div className="jp-MlShip-empty jp-MlShip-runGone" data-gone={this.runId}>
              <p>
                {trans.__('Run #')}{shortId(this.runId)}{' '}{trans.__('no longer exists: its job was deleted (or the store this lab uses changed since the tab was opened).')}
              </p>
              <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={this._onClose}>
                {trans.__('Close this tab')}
              </button>
            </div>
          ) : this._problem ? (
            <Notice kind="error">{this._problem}</Notice>
          ) : (
            <div className="jp-MlShip-empty">{trans.__('Loading run')}{' '}{this.runId}…</div>
          )}
        </div>
      );
    }
    const placeholder: Record<RunStatus, string> = {
      queued: trans.__('Waiting for the run to start…'),
      building: trans.__('Building the environment…'),
      running: trans.__('Waiting for output…'),
      succeeded: trans.__('The run printed nothing.'),
      failed: trans.__('No log.'),
      cancelled: trans.__('No log.'),
      timed_out: trans.__('No log.'),
      skipped: trans.__('Skipped: it did not run.')
    };
    return (
      <div className="jp-MlShip-runBody" data-run={run.id} data-status={run.status}>
        <Header
          run={run}
          now={Date.now()}
          onShowVersion={() => this._actions.showVersion(run.job, run.version)}
          onOpenPipelineRun={id => this._actions.openPipelineRun?.(id)}
        />
        {this._problem && <Notice kind="warning">{this._problem}</Notice>}
        {run.error && (run.status === 'cancelled' || run.status === 'skipped') ? (
          <Notice kind="info">{run.error.message}</Notice>
        ) : run.error && run.status !== 'succeeded' ? (
          <RunErrorBox
            error={run.error}
            onOpenCell={
              run.has_output
                ? () => void openRunOutput(this._actions, run, run.error?.cell_index)
                : undefined
            }
          />
        ) : null}
        <div className="jp-MlShip-runTables">
          <section>
            <h3>{trans.__('Parameters')}</h3>
            <KeyValues values={run.parameters} empty={trans.__('the notebook’s defaults')} />
          </section>
          <section>
            <h3>{trans.__('Outputs')}</h3>
            <KeyValues
              values={run.outputs}
              className="jp-MlShip-outputs"
              empty={isTerminal(run.status) ? trans.__('none recorded') : trans.__('none yet')}
            />
          </section>
        </div>
        <RunChecks run={run} />
        <RunSpark run={run} />
        <RunNotifications client={this._actions.model.client} run={run} />
        <RunFiles
          client={this._actions.model.client}
          run={run}
          onOpenRun={id => this._actions.openRun(id)}
        />
        <LogView
          buffer={this.buffer}
          revision={this._revision}
          follow={this._follow}
          onFollowChange={follow => {
            this._follow = follow;
            this.update();
          }}
          placeholder={placeholder[run.status]}
          runId={run.id}
        />
      </div>
    );
  }
}

export type RunView = MainAreaWidget<RunViewContent>;

/** The id of the one "Runs" tab, the run view that follows the latest run. */
export const LATEST_RUN_VIEW_ID = 'jp-MlShip-runs-latest';

export function isLatestRunView(view: RunView): boolean {
  return view.hasClass('jp-MlShip-latestRunView');
}

/**
 * A main-area widget showing one run. With `latest`, it is the "Runs" tab: it shows whichever
 * run was started or opened last (`content.showRun(id)`) until "Keep open" gives the run its own tab.
 */
export function createRunView(
  runId: string,
  actions: IActions,
  options: { latest?: boolean; onKeep?: (view: RunView) => void } = {}
): RunView {
  const trans = getTrans();
  const cancel = new ToolbarButton({
    icon: stopIcon,
    label: trans.__('Cancel'),
    tooltip: trans.__('Cancel this run'),
    enabled: false,
    onClick: () => content.run && void cancelWithConfirm(actions, content.run)
  });
  const again = new ToolbarButton({
    icon: runIcon,
    label: trans.__('Re-run'),
    tooltip: trans.__('Re-run with these parameters'),
    enabled: false,
    onClick: () => content.run && void rerun(actions, content.run)
  });
  const output = new ToolbarButton({
    icon: notebookIcon,
    label: trans.__('Open output'),
    tooltip: trans.__('Open the executed notebook (read-only)'),
    enabled: false,
    onClick: () => content.run && void openRunOutput(actions, content.run)
  });
  const remove = new ToolbarButton({
    icon: deleteIcon,
    label: trans.__('Delete'),
    tooltip: trans.__('Delete this run with its log, output notebook and files (once it has ended)'),
    enabled: false,
    className: 'jp-MlShip-deleteRun',
    onClick: async () => {
      if (content.run && (await deleteRunWithConfirm(actions, content.run))) {
        widget.close();
      }
    }
  });
  const keep = new ToolbarButton({
    icon: tabIcon,
    label: trans.__('Keep open'),
    tooltip: trans.__('Give this run its own tab; the Runs tab goes on following the latest run'),
    onClick: () => {
      setLatest(false);
      options.onKeep?.(widget);
    }
  });
  let latest = !!options.latest;
  const retitle = () => {
    const run = content?.run;
    const id = content?.runId ?? runId;
    const name = run ? `${run.job} #${shortId(run.id)}` : `Run #${shortId(id)}`;
    widget.title.label = latest ? trans.__('Runs: %1', name) : name;
    widget.title.caption = latest
      ? trans.__('The latest run (ml-ship run %1): a new run started or opened in the lab shows here', id)
      : trans.__('ml-ship run %1', id);
    widget.title.className = `jp-MlShip-runTab${run ? ` jp-MlShip-runTab-${run.status}` : ''}`;
  };
  const setLatest = (value: boolean) => {
    latest = value;
    widget.toggleClass('jp-MlShip-latestRunView', value);
    widget.id = value ? LATEST_RUN_VIEW_ID : `jp-MlShip-run-${content.runId}`;
    keep.setHidden(!value);
    retitle();
  };
  const content: RunViewContent = new RunViewContent(
    runId,
    actions,
    () => {
      const run = content?.run;
      cancel.enabled = !!run && !isTerminal(run.status);
      again.enabled = !!run;
      output.enabled = !!run && run.has_output;
      remove.enabled = !!run && isTerminal(run.status);
      if (widget) {
        retitle();
      }
    },
    () => widget.close()
  );
  const widget = new MainAreaWidget({ content });
  widget.title.icon = shipIcon;
  widget.title.closable = true;
  widget.addClass('jp-MlShip-runWidget');
  widget.toolbar.addItem('cancel', cancel);
  widget.toolbar.addItem('rerun', again);
  widget.toolbar.addItem('output', output);
  widget.toolbar.addItem('delete', remove);
  widget.toolbar.addItem('keep', keep);
  widget.toolbar.addItem('spacer', Toolbar.createSpacerItem());
  setLatest(latest);
  return widget;
}
