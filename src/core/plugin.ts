/**
 * The core plugin: the jobs and runs model, the shared actions and the settings (IMlShip), the
 * Ship button and commands (./commands), run views and the Compare view (./views).
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IToolbarWidgetRegistry } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';

import { notifyFinished, type IActions } from './actions';
import { MlShipClient } from '../api/client';
import { addCoreCommands } from './commands';
import { setTranslator } from './i18n';
import { MlShipModel } from './model';
import { dropStoredTreePath, OutputDrive } from './outputs';
import { DEFAULT_SETTINGS, watchSettings, type IMlShipSettings } from './settings';
import { OutputNotebookExtension, shipButtonFactory } from './notebookExtras';
import { CoreViews } from './views';
import { CommandIDs, IMlShip, PANEL_ID, PluginIDs } from '../tokens';

const PLUGIN_ID = PluginIDs.core;

export const corePlugin: JupyterFrontEndPlugin<IMlShip> = {
  id: PLUGIN_ID,
  description: 'Ship notebooks as versioned jobs and follow their runs.',
  autoStart: true,
  provides: IMlShip,
  optional: [
    INotebookTracker,
    ISettingRegistry,
    ICommandPalette,
    ILayoutRestorer,
    IDocumentManager,
    IFileBrowserFactory,
    IRenderMimeRegistry,
    IEditorServices,
    IToolbarWidgetRegistry,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    docManager: IDocumentManager | null,
    fileBrowsers: IFileBrowserFactory | null,
    rendermime: IRenderMimeRegistry | null,
    editorServices: IEditorServices | null,
    toolbarRegistry: IToolbarWidgetRegistry | null,
    translator: ITranslator | null
  ): IMlShip => {
    setTranslator(translator);
    const { shell, serviceManager } = app;
    let settings: IMlShipSettings = { ...DEFAULT_SETTINGS };
    const client = new MlShipClient(serviceManager.serverSettings);
    const model = new MlShipModel({
      client,
      events: serviceManager.events ?? null,
      pageSize: settings.runsPageSize,
      watchInterval: 4000
    });
    serviceManager.contents.addDrive(new OutputDrive(client));
    dropStoredTreePath();

    const views = new CoreViews({
      shell,
      client,
      model,
      rendermime,
      editorServices,
      actions: () => actions
    });
    const actions: IActions = {
      model,
      settings: () => settings,
      docManager,
      watched: new Set<string>(),
      openRun: id => views.openRun(id, false),
      showJob: name => {
        shell.activateById(PANEL_ID);
        void model.selectJob(name);
      },
      showVersion: (job, version) => {
        shell.activateById(PANEL_ID);
        void model.focusVersion(job, version);
      },
      openCompare: (job, a, b) => views.openCompare(job, a, b)
    };
    model.runFinished.connect((_, run) => notifyFinished(actions, run));

    toolbarRegistry?.addFactory<NotebookPanel>(
      'Notebook',
      'ml-ship',
      shipButtonFactory(actions, serviceManager.contents)
    );
    app.docRegistry.addWidgetExtension('Notebook', new OutputNotebookExtension(actions));
    addCoreCommands(app, { actions, views, notebooks, docManager, fileBrowsers, palette });
    if (restorer) {
      views.restore(restorer);
    }
    if (settingRegistry) {
      watchSettings(settingRegistry, PLUGIN_ID, () => client.health(), next => {
        settings = next;
        model.pageSize = settings.runsPageSize;
      });
    }
    void model.start();
    return { model, actions, settings: () => settings, commandIds: CommandIDs };
  }
};
