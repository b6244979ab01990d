/**
 * The graph's main-area widgets: the "Pipeline Graph" viewer of `*.pipeline.yaml` files (a
 * document widget) and the view of one pipeline run (opened from the side panel), with
 * Run pipeline / Cancel / Refresh in their toolbars.
 */
import {
  Dialog,
  MainAreaWidget,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { showErrorMessage } from '../core/errorDialog';
import {
  ABCWidgetFactory,
  DocumentWidget,
  type DocumentRegistry
} from '@jupyterlab/docregistry';
import type { Event } from '@jupyterlab/services';
import {
  editIcon,
  refreshIcon,
  runIcon,
  stopIcon,
  Toolbar,
  ToolbarButton,
  type ToolbarButtonComponent
} from '@jupyterlab/ui-components';

import type { IActions } from '../core/actions';
import { errorMessage } from '../api/client';
import type { IPipelineRunInfo } from '../api/pipelines';
import { pickBackend } from '../components/BackendSelect';
import { shortId } from '../core/format';
import { may, mayCancel } from '../core/permissions';
import type { PipelineApi } from './api';
import { PipelineGraphModel } from './graphModel';
import { PipelineViewContent } from './PipelineView';
import { askRunChoices } from './RunPipelineDialog';
import { isPipelineDone } from './status';
import { getTrans } from '../core/i18n';

export const PIPELINE_FILE_TYPE = 'ml-ship-pipeline';
export const PIPELINE_FACTORY = 'Pipeline Graph';

export interface IPipelineDeps {
  actions: IActions;
  api: PipelineApi;
  events: Event.IManager | null;
  /** open a file of the server root with a widget factory (the editor) */
  openWith: (path: string, factory: string) => void;
}

/** Runs started from this lab: a notification when they end. */
const watched = new Set<string>();

function notifyEnded(deps: IPipelineDeps, run: IPipelineRunInfo): void {
  const trans = getTrans();
  if (!watched.delete(run.id) || !deps.actions.settings().notifyOnFinish) {
    return;
  }
  const text = trans.__('Pipeline %1 v%2: run #%3 %4', run.pipeline, run.version, shortId(run.id), run.status);
  if (run.status === 'succeeded') {
    Notification.success(text, { autoClose: 5000 });
  } else if (run.status === 'cancelled') {
    Notification.info(text, { autoClose: 5000 });
  } else {
    Notification.error(run.error?.message ? `${text}: ${run.error.message}` : text, {
      autoClose: false
    });
  }
}

/** Ask for parameters, ship the file and start a run; the graph then follows the run. */
export async function runPipeline(
  deps: IPipelineDeps,
  model: PipelineGraphModel,
  save?: () => Promise<void>
): Promise<void> {
  const trans = getTrans();
  if (save) {
    await save(); // unsaved edits (Open With › Editor) are what the user means to run
  }
  if (save || !model.description || model.invalid) {
    await model.loadFile();
  }
  const description = model.description;
  if (model.invalid || !description) {
    await showErrorMessage(
      trans.__('Cannot run this pipeline'),
      model.invalid ?? model.problem ?? trans.__('The file could not be read.')
    );
    return;
  }
  const { actions } = deps;
  const last = model.run ?? model.lastRun;
  const fromLast =
    actions.settings().runDialogFromLastRun &&
    last?.pipeline === description.name &&
    Object.keys(last.parameters).length > 0;
  const choices = await askRunChoices({
    name: description.name,
    parameters: description.parameters,
    steps: description.steps.length,
    initial: fromLast
      ? {
          parameters: last.parameters,
          from: trans.__('pipeline run #%1 (v%2, %3)', shortId(last.id), last.version, last.status)
        }
      : undefined,
    health: actions.model.health,
    backend: pickBackend(actions.model.health, actions.settings().defaultBackend || undefined)
  });
  if (!choices) {
    return;
  }
  try {
    const run = await model.start(choices);
    watched.add(run.id);
  } catch (error) {
    await showErrorMessage(trans.__('Cannot run pipeline %1', description.name), errorMessage(error));
  }
}

export async function cancelPipeline(model: PipelineGraphModel): Promise<void> {
  const trans = getTrans();
  const run = model.run;
  if (!run) {
    return;
  }
  const result = await showDialog({
    title: trans.__('Cancel pipeline run #%1?', shortId(run.id)),
    body: trans.__('No new step of %1 starts and the running ones are cancelled; finished steps and their logs are kept.', run.pipeline),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Keep running') }),
      Dialog.warnButton({ label: trans.__('Cancel pipeline run') })
    ]
  });
  if (!result.button.accept) {
    return;
  }
  try {
    await model.cancel();
  } catch (error) {
    await showErrorMessage(trans.__('Cannot cancel the pipeline run'), errorMessage(error));
  }
}

/** Toolbar buttons that follow the model's state. */
function addToolbar(
  toolbar: Toolbar,
  deps: IPipelineDeps,
  model: PipelineGraphModel,
  save?: () => Promise<void>,
  editor?: { toggle: () => void; readonly editing: boolean }
): void {
  const trans = getTrans();
  const fileView = !!save;
  // kept: the buttons render these props, so a new tooltip is set here and then update()
  const runProps: ToolbarButtonComponent.IProps = {
    icon: runIcon,
    label: trans.__('Run pipeline'),
    tooltip: trans.__('Ship the pipeline and run it with parameters'),
    onClick: () => void runPipeline(deps, model, save)
  };
  const run = new ToolbarButton(runProps);
  const cancelProps: ToolbarButtonComponent.IProps = {
    icon: stopIcon,
    label: trans.__('Cancel'),
    tooltip: trans.__('Cancel the pipeline run shown'),
    enabled: false,
    onClick: () => void cancelPipeline(model)
  };
  const cancel = new ToolbarButton(cancelProps);
  const setTooltip = (button: ToolbarButton, props: ToolbarButtonComponent.IProps, text: string) => {
    if (props.tooltip !== text) {
      props.tooltip = text;
      button.update();
    }
  };
  const refresh = new ToolbarButton({
    icon: refreshIcon,
    tooltip: fileView ? trans.__('Check the file again') : trans.__('Reload the run'),
    onClick: () => void (fileView ? model.loadFile() : Promise.resolve()).then(() => model.refreshRun())
  });
  if (fileView) {
    toolbar.addItem('run-pipeline', run);
  }
  toolbar.addItem('cancel-pipeline', cancel);
  toolbar.addItem('refresh-pipeline', refresh);
  if (fileView && editor) {
    const edit = new ToolbarButton({
      icon: editIcon,
      label: trans.__('Edit'),
      tooltip: trans.__('Edit the pipeline on a canvas: drop notebooks, draw edges, set parameters'),
      className: 'jp-MlShip-editToggle',
      onClick: () => {
        editor.toggle();
        edit.pressed = editor.editing;
      }
    });
    toolbar.addItem('edit-pipeline', edit);
    toolbar.addItem(
      'text-pipeline',
      new ToolbarButton({
        label: trans.__('Open as text'),
        tooltip: trans.__('Open the file in the text editor'),
        onClick: () => model.path && deps.openWith(model.path, 'Editor')
      })
    );
  }
  toolbar.addItem('spacer', Toolbar.createSpacerItem());
  model.changed.connect(() => {
    const invalid = model.invalid !== null || (!model.run && model.issues.length > 0);
    // Run pipeline ships the file, then runs it (team mode: anyone may ship a file as it was
    // shipped; changing it is for its owners, and the server says so if it was changed)
    const mayRun = may(model.permissions, 'run');
    const mayShip = may(model.permissions, 'ship');
    run.enabled = !model.busy && !!model.path && !invalid && mayRun.allowed;
    setTooltip(
      run,
      runProps,
      invalid
        ? trans.__('Fix the problems shown first: this pipeline cannot run')
        : !mayRun.allowed
          ? mayRun.reason
          : mayShip.allowed
            ? trans.__('Ship the pipeline and run it with parameters')
            : trans.__('Run the pipeline with parameters. The file must be as shipped: %1', mayShip.reason)
    );
    const mayStop = mayCancel(
      model.permissions,
      model.run?.started_by,
      deps.actions.model.health?.user?.name
    );
    cancel.enabled = !!model.run && !isPipelineDone(model.run.status) && mayStop.allowed;
    setTooltip(cancel, cancelProps, mayStop.allowed ? trans.__('Cancel the pipeline run shown') : mayStop.reason);
  });
  model.runEnded.connect((_, ended) => notifyEnded(deps, ended));
}

export type PipelineDocument = DocumentWidget<PipelineViewContent, DocumentRegistry.ICodeModel> & {
  /** the toolbar's Run pipeline (saves unsaved edits first) */
  runPipeline?: () => Promise<void>;
};

/** The "Pipeline Graph" viewer: the file's graph, validated on open and on every save. */
export class PipelineGraphFactory extends ABCWidgetFactory<
  PipelineDocument,
  DocumentRegistry.ICodeModel
> {
  constructor(
    private readonly _deps: IPipelineDeps,
    options: DocumentRegistry.IWidgetFactoryOptions<PipelineDocument>
  ) {
    super(options);
  }

  protected createNewWidget(
    context: DocumentRegistry.IContext<DocumentRegistry.ICodeModel>
  ): PipelineDocument {
    const deps = this._deps;
    const model = new PipelineGraphModel({ api: deps.api, events: deps.events });
    const content = new PipelineViewContent(model, deps.actions, true);
    const widget: PipelineDocument = new DocumentWidget({ content, context });
    widget.addClass('jp-MlShip-pipelineWidget');
    const save = async () => {
      if (context.model.dirty && !context.model.readOnly) {
        await context.save();
      }
    };
    widget.runPipeline = () => runPipeline(deps, model, save);
    let saveTimer: ReturnType<typeof setTimeout> | null = null;
    content.editor = {
      setText: (text: string) => {
        context.model.sharedModel.setSource(text);
        model.source = text;
        // saved shortly after: the server's validation (/pipeline-info) follows each change
        if (saveTimer) {
          clearTimeout(saveTimer);
        }
        saveTimer = setTimeout(() => {
          saveTimer = null;
          void context.save().catch(error => console.error('ml-ship: cannot save the pipeline', error));
        }, 700);
      },
      getText: () => context.model.toString()
    };
    addToolbar(widget.toolbar, deps, model, save, {
      toggle: () => content.toggleEditing(),
      get editing() {
        return content.editing;
      }
    });
    const load = () => {
      model.path = context.localPath;
      model.source = context.model.toString();
      void model.loadFile();
    };
    void context.ready.then(() => {
      load();
      context.fileChanged.connect(load);
    });
    context.pathChanged.connect(load);
    widget.disposed.connect(() => model.dispose());
    return widget;
  }
}

export type PipelineRunView = MainAreaWidget<PipelineViewContent> & { runId: string };

/** A main-area view of one pipeline run (from the side panel). */
export function createPipelineRunView(deps: IPipelineDeps, runId: string): PipelineRunView {
  const trans = getTrans();
  const model = new PipelineGraphModel({ api: deps.api, events: deps.events });
  const content = new PipelineViewContent(model, deps.actions, false);
  const widget = new MainAreaWidget({ content }) as PipelineRunView;
  widget.runId = runId;
  widget.id = `jp-MlShip-pipelineRun-${runId}`;
  widget.title.label = trans.__('Pipeline run #%1', shortId(runId));
  widget.title.caption = trans.__('ml-ship pipeline run %1', runId);
  widget.title.closable = true;
  widget.addClass('jp-MlShip-pipelineWidget');
  addToolbar(widget.toolbar, deps, model);
  model.changed.connect(() => {
    if (model.run) {
      widget.title.label = `${model.run.pipeline} #${shortId(runId)}`;
    }
  });
  widget.disposed.connect(() => model.dispose());
  void model.loadRun(runId);
  return widget;
}
