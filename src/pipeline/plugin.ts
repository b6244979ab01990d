/**
 * The pipelines plugin: the `*.pipeline.yaml` file type with "Pipeline Graph" as its default
 * viewer (the text editor stays under Open With), pipeline run views, their commands, and the
 * side panel's Pipelines section (IMlShipPipelines).
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';

import type { IActions } from '../core/actions';
import { shipIcon } from '../core/icons';
import { IMlShip, IMlShipPanel, IMlShipPipelines, PipelineCommandIDs, PluginIDs } from '../tokens';
import { PipelineApi } from './api';
import { PipelineListModel } from './listModel';
import { pipelinesSection } from './PipelinesSection';
import { pathInRoot } from './status';
import {
  cancelPipeline,
  createPipelineRunView,
  PIPELINE_FACTORY,
  PIPELINE_FILE_TYPE,
  PipelineGraphFactory,
  runPipeline,
  type IPipelineDeps,
  type PipelineDocument,
  type PipelineRunView
} from './widgets';
import { getTrans } from '../core/i18n';

export { PipelineCommandIDs };

function setupPipelines(
  app: JupyterFrontEnd,
  actions: IActions,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null
): IMlShipPipelines {
  const trans = getTrans();
  const { commands, shell, docRegistry, serviceManager } = app;
  const events = serviceManager.events ?? null;
  const api = new PipelineApi(actions.model.client);
  const deps: IPipelineDeps = {
    actions,
    api,
    events,
    openWith: (path, factory) => void commands.execute('docmanager:open', { path, factory })
  };

  docRegistry.addFileType({
    name: PIPELINE_FILE_TYPE,
    displayName: trans.__('ML Ship Pipeline'),
    extensions: ['.pipeline.yaml', '.pipeline.yml'],
    mimeTypes: ['text/x-yaml'],
    contentType: 'file',
    fileFormat: 'text',
    icon: shipIcon
  });
  const factory = new PipelineGraphFactory(deps, {
    name: PIPELINE_FACTORY,
    label: trans.__('Pipeline Graph'),
    fileTypes: [PIPELINE_FILE_TYPE],
    defaultFor: [PIPELINE_FILE_TYPE],
    modelName: 'text'
  });
  docRegistry.addWidgetFactory(factory);
  const documents = new WidgetTracker<PipelineDocument>({ namespace: 'ml-ship-pipeline' });
  factory.widgetCreated.connect((_, widget) => {
    widget.title.icon = shipIcon;
    void documents.add(widget);
    widget.context.pathChanged.connect(() => void documents.save(widget));
  });

  const runViews = new WidgetTracker<PipelineRunView>({ namespace: 'ml-ship-pipeline-run' });
  const openRun = (id: string) => {
    const open = runViews.find(w => w.runId === id);
    if (open) {
      shell.activateById(open.id);
      return;
    }
    const view = createPipelineRunView(deps, id);
    void runViews.add(view);
    shell.add(view, 'main');
    shell.activateById(view.id);
  };

  /** The graph view in focus: a pipeline file or a pipeline run. */
  const current = () => {
    const widget = shell.currentWidget;
    return widget && (documents.has(widget) || runViews.has(widget))
      ? (widget as PipelineDocument | PipelineRunView).content.model
      : null;
  };
  commands.addCommand(PipelineCommandIDs.openRun, {
    label: args => trans.__('Open Pipeline Run %1', (args.id as string) ?? ''),
    caption: trans.__('Open the live graph of a pipeline run'),
    execute: args => {
      if (typeof args.id === 'string' && args.id) {
        openRun(args.id);
      }
    }
  });
  commands.addCommand(PipelineCommandIDs.run, {
    label: trans.__('Run Pipeline…'),
    caption: trans.__('Ship the pipeline file in focus and run it with parameters'),
    isEnabled: () => !!current()?.path,
    execute: () => {
      const widget = shell.currentWidget;
      if (widget && documents.has(widget)) {
        return (widget as PipelineDocument).runPipeline?.();
      }
      const model = current();
      return model?.path ? runPipeline(deps, model) : undefined;
    }
  });
  commands.addCommand(PipelineCommandIDs.cancel, {
    label: trans.__('Cancel Pipeline Run'),
    caption: trans.__('Cancel the pipeline run shown in the graph in focus'),
    isEnabled: () => !!current()?.run,
    execute: () => {
      const model = current();
      return model ? cancelPipeline(model) : undefined;
    }
  });
  if (palette) {
    palette.addItem({ command: PipelineCommandIDs.run, category: trans.__('ML Ship') });
    palette.addItem({ command: PipelineCommandIDs.cancel, category: trans.__('ML Ship') });
  }
  if (restorer) {
    void restorer.restore(documents, {
      command: 'docmanager:open',
      args: w => ({ path: w.context.path, factory: PIPELINE_FACTORY }),
      name: w => w.context.path
    });
    void restorer.restore(runViews, {
      command: PipelineCommandIDs.openRun,
      args: w => ({ id: w.runId }),
      name: w => w.runId
    });
  }

  const list = new PipelineListModel(api, events);
  const labPath = (serverPath: string) =>
    pathInRoot(serverPath, PageConfig.getOption('serverRoot'));
  const openFile = (serverPath: string) => {
    const path = labPath(serverPath);
    if (path) {
      deps.openWith(path, PIPELINE_FACTORY);
    }
  };
  return { list, openRun, openFile, labPath };
}

export const pipelinesPlugin: JupyterFrontEndPlugin<IMlShipPipelines> = {
  id: PluginIDs.pipelines,
  description:
    'Pipelines: their graphs, runs and commands, and the Pipelines section of the panel.',
  autoStart: true,
  requires: [IMlShip, IMlShipPanel],
  optional: [ICommandPalette, ILayoutRestorer],
  provides: IMlShipPipelines,
  activate: (
    app: JupyterFrontEnd,
    core: IMlShip,
    panel: IMlShipPanel,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): IMlShipPipelines => {
    const pipelines = setupPipelines(app, core.actions, palette, restorer);
    // a run view's "part of pipeline run …" link
    core.actions.openPipelineRun = pipelines.openRun;
    panel.addSection(pipelinesSection(pipelines, core.actions));
    // the jobs list shows the steps of each pipeline together
    panel.setJobGroups({ groups: () => pipelines.list.stepJobs, changed: pipelines.list.changed });
    void pipelines.list.start();
    return pipelines;
  }
};
