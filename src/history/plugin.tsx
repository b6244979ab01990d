/**
 * The run history of a job in the main area (chart + table + Compare), the command that opens
 * it, and links from mails and webhooks (`?ml-ship-run=ID` opens that run).
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import * as React from 'react';

import { errorMessage, type MlShipClient } from '../api/client';
import type { IPipelineHistory, IRunComparison, IRunHistory, IRunInfo } from '../api/types';
import type { MlShipModel } from '../core/model';
import { CompareRuns } from '../components/CompareRuns';
import { RunsTable } from '../components/RunsTable';
import { CommandIDs, IMlShip, PipelineCommandIDs, PluginIDs } from '../tokens';
import { getTrans, useTrans } from '../core/i18n';

function HistoryBody(props: {
  job: string;
  client: MlShipClient;
  openRun: (id: string) => void;
  /** `job` is a pipeline: its pipeline runs, a column group per step, no Compare */
  pipeline?: boolean;
  openStepRun?: (id: string) => void;
  /** the lab's model: the table reloads when one of the job's runs ends (server events) */
  model?: MlShipModel;
  /** the app's rendermime: two runs' notebooks diffed by nbdime, as versions are */
  rendermime?: IRenderMimeRegistry | null;
}): JSX.Element {
  const trans = useTrans();
  const [history, setHistory] = React.useState<IRunHistory | IPipelineHistory | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [cmp, setCmp] = React.useState<IRunComparison | null>(null);
  /** each version's parameter names: a blank cell says "default" or "not a parameter then" */
  const [versionParams, setVersionParams] = React.useState<Record<number, string[]> | null>(null);
  const compareRef = React.useRef<HTMLDivElement>(null);
  const load = React.useCallback(() => {
    const t0 = performance.now();
    const path = `${props.pipeline ? 'pipelines' : 'jobs'}/${encodeURIComponent(props.job)}/history`;
    props.client
      .call<IRunHistory | IPipelineHistory>(path)
      .then(h => {
        setHistory(h);
        setError(null);
        // for bench/bench_history.py: fetch + first paint of the table and chart
        requestAnimationFrame(() =>
          document.body.setAttribute('data-ml-ship-history-ms', String(Math.round(performance.now() - t0)))
        );
      })
      .catch(e => setError(errorMessage(e)));
    if (!props.pipeline) {
      props.client
        .versions(props.job)
        .then(vs => setVersionParams(Object.fromEntries(vs.map(v => [v.number, v.parameters.map(p => p.name)]))))
        .catch(() => setVersionParams(null));
    }
  }, [props.job, props.pipeline]);
  React.useEffect(load, [load]);
  React.useEffect(() => {
    const model = props.model;
    if (!model) {
      return;
    }
    const ended = (_: unknown, run: IRunInfo) => {
      if (props.pipeline ? !!run.pipeline_run_id : run.job === props.job) {
        load();
      }
    };
    model.runFinished.connect(ended);
    return () => {
      model.runFinished.disconnect(ended);
    };
  }, [props.model, load]);
  const compare = (a: string, b: string) => {
    props.client
      .call<IRunComparison>('runs/compare', {}, { a, b })
      .then(c => {
        setCmp(c);
        requestAnimationFrame(() => compareRef.current?.scrollIntoView({ block: 'start' }));
      })
      .catch(e => setError(errorMessage(e)));
  };
  return (
    <div className="jp-MlShip-historyView">
      <div className="jp-MlShip-historyBar">
        <h2 className="jp-MlShip-historyTitle">
          {trans.__('Runs of')}{' '}{props.pipeline ? trans.__('pipeline ') : ''}
          {props.job}
        </h2>
        <span className="jp-MlShip-grow" />
        <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={load} title={trans.__('Reload the runs')}>
          {trans.__('Refresh')}
        </button>
      </div>
      {error && <div className="jp-MlShip-error">{error}</div>}
      {!history && !error && <div className="jp-MlShip-empty">{trans.__('Loading…')}</div>}
      {history && history.runs.length === 0 && <div className="jp-MlShip-empty">{trans.__('No runs yet.')}</div>}
      {history && history.runs.length > 0 && (
        <RunsTable
          history={history}
          versionParameters={versionParams ?? undefined}
          onOpenRun={props.openRun}
          onCompare={props.pipeline ? undefined : compare}
          onOpenStepRun={props.openStepRun}
        />
      )}
      <div ref={compareRef}>{cmp && (
          <CompareRuns
            cmp={cmp}
            onOpenRun={props.openRun}
            onClose={() => setCmp(null)}
            rendermime={props.rendermime}
          />
        )}</div>
    </div>
  );
}

export const historyPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIDs.history,
  description: 'A job\'s runs as a chart and a table; two runs compared',
  autoStart: true,
  requires: [IMlShip],
  optional: [IRenderMimeRegistry],
  activate: (app: JupyterFrontEnd, core: IMlShip, rendermime: IRenderMimeRegistry | null) => {
    const trans = getTrans();
    const { client } = core.model;
    const views = new Map<string, MainAreaWidget>();
    const openRun = (id: string) => void app.commands.execute(CommandIDs.openRun, { id });
    app.commands.addCommand(CommandIDs.runHistory, {
      label: args => (args.job ? trans.__('Runs of %1', args.job) : trans.__('Run history')),
      execute: args => {
        const job = String(args.job ?? '');
        const open = views.get(job);
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return;
        }
        const content = ReactWidget.create(
          <HistoryBody
            job={job}
            client={client}
            openRun={openRun}
            model={core.model}
            rendermime={rendermime}
          />
        );
        const widget = new MainAreaWidget({ content });
        widget.id = `ml-ship-history-${job}`;
        widget.title.label = trans.__('Runs of %1', job);
        widget.title.closable = true;
        widget.addClass('jp-MlShip-historyWidget');
        views.set(job, widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });
    core.actions.openHistory = job => void app.commands.execute(CommandIDs.runHistory, { job });
    app.commands.addCommand(CommandIDs.pipelineRunHistory, {
      label: args => (args.pipeline ? trans.__('Runs of pipeline %1', args.pipeline) : trans.__('Pipeline run history')),
      execute: args => {
        const pipeline = String(args.pipeline ?? '');
        const key = `pipeline:${pipeline}`;
        const open = views.get(key);
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return;
        }
        const openPipelineRun = (id: string) =>
          void app.commands.execute(PipelineCommandIDs.openRun, { id });
        const content = ReactWidget.create(
          <HistoryBody
            job={pipeline}
            pipeline
            client={client}
            model={core.model}
            openRun={openPipelineRun}
            openStepRun={openRun}
          />
        );
        const widget = new MainAreaWidget({ content });
        widget.id = `ml-ship-pipeline-history-${pipeline}`;
        widget.title.label = trans.__('Runs of %1', pipeline);
        widget.title.caption = trans.__('Runs of pipeline %1, a column group per step', pipeline);
        widget.title.closable = true;
        widget.addClass('jp-MlShip-historyWidget');
        views.set(key, widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });
    core.actions.openPipelineHistory = pipeline =>
      void app.commands.execute(CommandIDs.pipelineRunHistory, { pipeline });
    // a link from a notification mail or webhook: /lab?ml-ship-run=ID
    const runId = new URLSearchParams(window.location.search).get('ml-ship-run');
    if (runId) {
      void app.restored.then(() => openRun(runId));
    }
    // the same for a pipeline run: /lab?ml-ship-pipeline-run=ID (core/notifications/pipeline.py)
    const pipelineRunId = new URLSearchParams(window.location.search).get('ml-ship-pipeline-run');
    if (pipelineRunId) {
      void app.restored.then(() =>
        app.commands.execute(PipelineCommandIDs.openRun, { id: pipelineRunId })
      );
    }
  }
};
