/**
 * The body of a graph view (a pipeline file or one pipeline run): header with the run's
 * status, validation errors, the graph, and the run's parameters.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import type { IActions } from '../core/actions';
import type { IStepInfo } from '../api/pipelines';
import { KeyValues, Notice, RunErrorBox, StatusChip } from '../components/common';
import { JobTriggers } from '../components/JobTriggers';
import { DeliveryList } from '../components/RunNotifications';
import { formatDate, formatDuration, formatRelative, shortId } from '../core/format';
import type { IBackendStatus } from '../api/types';
import { drawnFromSource, withRunStatuses, type PipelineGraphModel } from './graphModel';
import { GraphView } from './GraphView';
import { PipelineEditor } from './PipelineEditor';
import { isPipelineDone, statusSummary } from './status';
import { useTrans } from '../core/i18n';

function RunBar(props: { model: PipelineGraphModel; fileView: boolean }): JSX.Element | null {
  const trans = useTrans();
  const { model, fileView } = props;
  const run = model.run;
  if (run) {
    const duration =
      run.started_at && !run.ended_at
        ? (Date.now() - Date.parse(run.started_at)) / 1000
        : run.duration;
    return (
      <div className="jp-MlShip-pipelineRunBar" data-pipeline-run={run.id} data-status={run.status}>
        <StatusChip status={run.status} />
        <span className="jp-MlShip-item-title">
          {trans.__('Run #')}{shortId(run.id)}{' '}{trans.__('of')}{' '}{run.pipeline}{' '}
          <span className="jp-MlShip-version-badge">v{run.version}</span>
        </span>
        <span className="jp-MlShip-muted" title={formatDate(run.started_at ?? run.created_at)}>
          {formatRelative(run.started_at ?? run.created_at)} · {formatDuration(duration)}
        </span>
        <span className="jp-MlShip-muted jp-MlShip-grow">{statusSummary(run.steps)}</span>
        {fileView && (
          <button
            className="jp-Button jp-mod-styled jp-MlShip-smallButton jp-MlShip-outlineButton"
            onClick={() => model.showFile()}
            title={trans.__('Show the graph of the file as it is now, without run statuses')}
          >
            {trans.__('Show the file')}
          </button>
        )}
      </div>
    );
  }
  const last = model.lastRun;
  if (fileView && last) {
    return (
      <div className="jp-MlShip-pipelineRunBar">
        <span className="jp-MlShip-muted">{trans.__('Last run')}</span>
        <StatusChip status={last.status} />
        <span className="jp-MlShip-muted jp-MlShip-grow">
          #{shortId(last.id)} · v{last.version} · {formatRelative(last.created_at)}
        </span>
        <button
          className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-smallButton"
          onClick={() => model.showRun(last)}
        >
          {trans.__('Show it')}
        </button>
      </div>
    );
  }
  return null;
}

/** Why steps failed, each with a link to its run. */
function StepErrors(props: {
  steps: readonly IStepInfo[];
  onOpenStep: (step: IStepInfo) => void;
}): JSX.Element | null {
  const trans = useTrans();
  const failed = props.steps.filter(
    s => s.error && (s.status === 'failed' || s.status === 'timed_out')
  );
  if (!failed.length) {
    return null;
  }
  return (
    <ul className="jp-MlShip-stepErrors" aria-label={trans.__('Failed steps')}>
      {failed.map(step => (
        <li key={step.id} data-step={step.id}>
          <span className="jp-MlShip-stepErrors-id">{step.id}</span>
          <RunErrorBox error={step.error!} />
          {step.run_id && (
            <button
              className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-smallButton"
              onClick={() => props.onOpenStep(step)}
            >
              {trans.__('Open run')}
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}

export interface IFileEditorHooks {
  getText: () => string;
  setText: (text: string) => void;
}

function PipelineBody(props: {
  model: PipelineGraphModel;
  fileView: boolean;
  onOpenStep: (step: IStepInfo) => void;
  editor?: IFileEditorHooks | null;
  backends?: readonly IBackendStatus[];
}): JSX.Element {
  const trans = useTrans();
  const { model, fileView } = props;
  const run = props.editor ? null : model.run;
  const cycle = !run ? model.cycle : null;
  const steps = cycle ?? model.steps;
  return (
    <div
      className="jp-MlShip-pipelineView"
      data-pipeline={model.name ?? ''}
      data-invalid={model.invalid ? 'true' : 'false'}
      data-editing={props.editor ? 'true' : undefined}
      data-path={fileView ? (model.path ?? '') : undefined}
    >
      <div className="jp-MlShip-pipelineHeader">
        <span className="jp-MlShip-pipelineName">{model.name ?? model.path ?? trans.__('Pipeline')}</span>
        {fileView && model.path && <span className="jp-MlShip-muted">{model.path}</span>}
        {model.loading && <span className="jp-MlShip-muted">{trans.__('loading…')}</span>}
        {model.busy && <span className="jp-MlShip-muted">{trans.__('shipping and starting…')}</span>}
      </div>
      {fileView && model.pipelineInfo && (
        <JobTriggers
          client={model.api.client}
          job={model.pipelineInfo.name}
          target="pipeline"
          refresh={model.pipelineInfo.updated_at}
        />
      )}
      <RunBar model={model} fileView={fileView} />
      {!run && model.issues.length > 0 && (
        <div className="jp-MlShip-error jp-MlShip-pipelineInvalid" role="alert">
          <div className="jp-MlShip-error-where">
            {trans.__('This pipeline cannot run')}
            {model.issues.length > 1 ? trans.__(' (%1 problems)', model.issues.length) : ''}
          </div>
          <ul className="jp-MlShip-issues">
            {model.issues.map((issue, i) => (
              <li key={i} className="jp-MlShip-error-message" data-issue-step={issue.step ?? ''}>
                {issue.message}
              </li>
            ))}
          </ul>
          <div className="jp-MlShip-field-help">
            {trans.__('Fix the file (Edit, or Open With › Editor) and save it: the graph updates.')}
          </div>
        </div>
      )}
      {model.problem && <Notice kind="error">{model.problem}</Notice>}
      {run?.error && run.status === 'cancelled' ? (
        <Notice kind="info">{run.error.message}</Notice>
      ) : run?.error && run.status !== 'succeeded' ? (
        // the pipeline's own error names the step; its exception class (StepFailed) says nothing
        <RunErrorBox error={{ ...run.error, ename: null, evalue: null }} />
      ) : null}
      {props.editor && model.path ? (
        <PipelineEditor
          text={model.source ?? props.editor.getText()}
          path={model.path}
          known={model.description?.steps ?? []}
          drawn={withRunStatuses(
            drawnFromSource(model.source ?? props.editor.getText()),
            model.run ?? model.lastRun
          )}
          issues={model.issues}
          badSteps={model.badSteps}
          backends={props.backends ?? []}
          onChange={props.editor.setText}
        />
      ) : (
      <div className="jp-MlShip-graphScroll">
        {steps.length ? (
          <GraphView
            steps={steps}
            cycle={!!cycle}
            badSteps={run ? undefined : model.badSteps}
            onOpenStep={cycle ? undefined : props.onOpenStep}
          />
        ) : model.loading || model.invalid ? null : (
          <div className="jp-MlShip-empty">{trans.__('No steps.')}</div>
        )}
      </div>
      )}
      {run && <StepErrors steps={run.steps} onOpenStep={props.onOpenStep} />}
      {run && (
        <div className="jp-MlShip-runTables jp-MlShip-pipelineFacts">
          <section>
            <h3>{trans.__('Parameters')}</h3>
            <KeyValues values={run.parameters} empty={trans.__('the pipeline’s defaults')} />
          </section>
          <section>
            <h3>{trans.__('Run')}</h3>
            <KeyValues
              values={{
                backend: run.backend ?? trans.__('per step / server default'),
                parallelism: run.parallelism,
                cache: run.use_cache ? trans.__('reuse unchanged steps') : trans.__('off (every step runs)'),
                ...(isPipelineDone(run.status) && run.ended_at
                  ? { ended: formatDate(run.ended_at) }
                  : {})
              }}
            />
          </section>
        </div>
      )}
      {run?.notifications?.length ? (
        <section className="jp-MlShip-runNotifications">
          <h3>{trans.__('Notifications')}</h3>
          <DeliveryList deliveries={run.notifications} />
        </section>
      ) : null}
    </div>
  );
}

/** A ReactWidget over a graph model; re-renders on every model change. */
export class PipelineViewContent extends ReactWidget {
  private _timer: ReturnType<typeof setInterval> | null = null;
  /** set by a file view: how the editor reads and changes the file */
  editor: IFileEditorHooks | null = null;
  private _editing = false;

  get editing(): boolean {
    return this._editing;
  }
  toggleEditing(): void {
    this._editing = !this._editing && !!this.editor;
    this.toggleClass('jp-mod-editing', this._editing);
    this.update();
  }

  constructor(
    readonly model: PipelineGraphModel,
    private readonly _actions: IActions,
    readonly fileView: boolean
  ) {
    super();
    this.addClass('jp-MlShip-pipelineContent');
    model.changed.connect(this._onChange, this);
  }

  private _onChange(): void {
    // tick the duration while a run is active
    const active = !!this.model.run && !isPipelineDone(this.model.run.status);
    if (active && !this._timer) {
      this._timer = setInterval(() => this.update(), 1000);
    } else if (!active && this._timer) {
      clearInterval(this._timer);
      this._timer = null;
    }
    this.update();
  }

  dispose(): void {
    if (this._timer) {
      clearInterval(this._timer);
    }
    this.model.changed.disconnect(this._onChange, this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <PipelineBody
        model={this.model}
        fileView={this.fileView}
        onOpenStep={step => step.run_id && this._actions.openRun(step.run_id)}
        editor={this._editing ? this.editor : null}
        backends={this._actions.model.health?.backends ?? []}
      />
    );
  }
}
