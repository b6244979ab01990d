/**
 * The run history of a job in the main area (chart + table + Compare), the command that opens
 * it, and links from mails and webhooks (`?ml-ship-run=ID` opens that run).
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import * as React from 'react';

import { errorMessage, requestAPI } from '../api/client';
import type { IPipelineHistory, IRunComparison, IRunHistory } from '../api/types';
import { CompareRuns } from '../components/CompareRuns';
import { RunsTable } from '../components/RunsTable';

export const OPEN_HISTORY = 'ml-ship:run-history';
export const OPEN_PIPELINE_HISTORY = 'ml-ship:pipeline-run-history';
const OPEN_RUN = 'ml-ship:open-run';
const OPEN_PIPELINE_RUN = 'ml-ship:open-pipeline-run';

let opener: ((job: string) => void) | null = null;
let pipelineOpener: ((pipeline: string) => void) | null = null;

/** Open the run history of a job (the side panel's Runs tab calls it). */
export function openRunHistory(job: string): void {
  opener?.(job);
}

/** Open the runs table of a pipeline (one column group per step). */
export function openPipelineHistory(pipeline: string): void {
  pipelineOpener?.(pipeline);
}

function HistoryBody(props: {
  job: string;
  settings: ServerConnection.ISettings;
  openRun: (id: string) => void;
  /** `job` is a pipeline: its pipeline runs, a column group per step, no Compare */
  pipeline?: boolean;
  openStepRun?: (id: string) => void;
}): JSX.Element {
  const [history, setHistory] = React.useState<IRunHistory | IPipelineHistory | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [cmp, setCmp] = React.useState<IRunComparison | null>(null);
  const compareRef = React.useRef<HTMLDivElement>(null);
  const load = React.useCallback(() => {
    const t0 = performance.now();
    const path = `${props.pipeline ? 'pipelines' : 'jobs'}/${encodeURIComponent(props.job)}/history`;
    requestAPI<IRunHistory | IPipelineHistory>(path, {}, props.settings)
      .then(h => {
        setHistory(h);
        setError(null);
        // for bench/bench_history.py: fetch + first paint of the table and chart
        requestAnimationFrame(() =>
          document.body.setAttribute('data-ml-ship-history-ms', String(Math.round(performance.now() - t0)))
        );
      })
      .catch(e => setError(errorMessage(e)));
  }, [props.job, props.pipeline]);
  React.useEffect(load, [load]);
  const compare = (a: string, b: string) => {
    requestAPI<IRunComparison>('runs/compare', {}, props.settings, { a, b })
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
          Runs of {props.pipeline ? 'pipeline ' : ''}
          {props.job}
        </h2>
        <span className="jp-MlShip-grow" />
        <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={load} title="Reload the runs">
          Refresh
        </button>
      </div>
      {error && <div className="jp-MlShip-error">{error}</div>}
      {!history && !error && <div className="jp-MlShip-empty">Loading…</div>}
      {history && history.runs.length === 0 && <div className="jp-MlShip-empty">No runs yet.</div>}
      {history && history.runs.length > 0 && (
        <RunsTable
          history={history}
          onOpenRun={props.openRun}
          onCompare={props.pipeline ? undefined : compare}
          onOpenStepRun={props.openStepRun}
        />
      )}
      <div ref={compareRef}>{cmp && <CompareRuns cmp={cmp} onOpenRun={props.openRun} onClose={() => setCmp(null)} />}</div>
    </div>
  );
}

export const historyPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-ml-ship:run-history',
  description: 'A job\'s runs as a chart and a table; two runs compared',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    const settings = app.serviceManager.serverSettings;
    const views = new Map<string, MainAreaWidget>();
    const openRun = (id: string) => void app.commands.execute(OPEN_RUN, { id });
    app.commands.addCommand(OPEN_HISTORY, {
      label: args => (args.job ? `Runs of ${args.job}` : 'Run history'),
      execute: args => {
        const job = String(args.job ?? '');
        const open = views.get(job);
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return;
        }
        const content = ReactWidget.create(<HistoryBody job={job} settings={settings} openRun={openRun} />);
        const widget = new MainAreaWidget({ content });
        widget.id = `ml-ship-history-${job}`;
        widget.title.label = `Runs of ${job}`;
        widget.title.closable = true;
        widget.addClass('jp-MlShip-historyWidget');
        views.set(job, widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });
    opener = job => void app.commands.execute(OPEN_HISTORY, { job });
    app.commands.addCommand(OPEN_PIPELINE_HISTORY, {
      label: args => (args.pipeline ? `Runs of pipeline ${args.pipeline}` : 'Pipeline run history'),
      execute: args => {
        const pipeline = String(args.pipeline ?? '');
        const key = `pipeline:${pipeline}`;
        const open = views.get(key);
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return;
        }
        const openPipelineRun = (id: string) => void app.commands.execute(OPEN_PIPELINE_RUN, { id });
        const content = ReactWidget.create(
          <HistoryBody job={pipeline} pipeline settings={settings} openRun={openPipelineRun} openStepRun={openRun} />
        );
        const widget = new MainAreaWidget({ content });
        widget.id = `ml-ship-pipeline-history-${pipeline}`;
        widget.title.label = `Runs of ${pipeline}`;
        widget.title.caption = `Runs of pipeline ${pipeline}, a column group per step`;
        widget.title.closable = true;
        widget.addClass('jp-MlShip-historyWidget');
        views.set(key, widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });
    pipelineOpener = pipeline => void app.commands.execute(OPEN_PIPELINE_HISTORY, { pipeline });
    // a link from a notification mail or webhook: /lab?ml-ship-run=ID
    const runId = new URLSearchParams(window.location.search).get('ml-ship-run');
    if (runId) {
      void app.restored.then(() => openRun(runId));
    }
    // the same for a pipeline run: /lab?ml-ship-pipeline-run=ID (core/_notify_pipeline.py)
    const pipelineRunId = new URLSearchParams(window.location.search).get('ml-ship-pipeline-run');
    if (pipelineRunId) {
      void app.restored.then(() =>
        app.commands.execute('ml-ship:open-pipeline-run', { id: pipelineRunId })
      );
    }
  }
};
