/**
 * The core plugin: the jobs and runs model, the shared actions and the settings (IMlShip), the
 * Ship button and commands, run views and the Compare view.
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IToolbarWidgetRegistry, WidgetTracker } from '@jupyterlab/apputils';
import { tagIcon } from '@jupyterlab/ui-components';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { notifyFinished, type IActions } from './actions';
import { MlShipClient } from '../api/client';
import type { IHealthInfo } from '../api/types';
import { createCompareView, type CompareView } from '../components/CompareView';
import { createRunView, isLatestRunView, type RunView } from '../components/RunView';
import { shipIcon } from './icons';
import { MlShipModel } from './model';
import { OutputDrive } from './outputs';
import { DEFAULT_SETTINGS, readSettings, type IMlShipSettings } from './settings';
import { OutputNotebookExtension, SHIP_TOOLTIP, shipButtonFactory } from './notebookExtras';
import { shipNotebook } from './ship';
import { PARAMETERS_TAG, toggleParametersTag } from './params';
import { CommandIDs, IMlShip, PANEL_ID, PluginIDs } from '../tokens';

const PLUGIN_ID = PluginIDs.core;

/** The plugin's schema with `defaultBackend` an enum of the enabled backends ('' = the server's). */
function withBackendChoices(
  plugin: ISettingRegistry.IPlugin,
  health: IHealthInfo | null
): ISettingRegistry.IPlugin {
  if (!health) {
    return plugin;
  }
  const names = health.backends.filter(b => b.available).map(b => b.name);
  const user = (plugin.data?.user as { defaultBackend?: unknown } | undefined)?.defaultBackend;
  if (typeof user === 'string' && user && !names.includes(user)) {
    names.push(user); // chosen earlier, unavailable now: still a valid setting
  }
  const properties = { ...(plugin.schema.properties ?? {}) };
  properties.defaultBackend = {
    ...properties.defaultBackend,
    enum: ['', ...names],
    description:
      `${properties.defaultBackend?.description ?? ''} Enabled backends: ${names.join(', ') || 'none'}; ` +
      `the server's default: ${health.default_backend}.`
  };
  return { ...plugin, schema: { ...plugin.schema, properties } };
}

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
    IToolbarWidgetRegistry
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
    toolbarRegistry: IToolbarWidgetRegistry | null
  ): IMlShip => {
    const { commands, shell, serviceManager } = app;
    let settings: IMlShipSettings = { ...DEFAULT_SETTINGS };
    const client = new MlShipClient(serviceManager.serverSettings);
    const model = new MlShipModel({
      client,
      events: serviceManager.events ?? null,
      pageSize: settings.runsPageSize,
      watchInterval: 4000
    });
    serviceManager.contents.addDrive(new OutputDrive(client));

    const runViews = new WidgetTracker<RunView>({ namespace: 'ml-ship-run' });
    const compareViews = new WidgetTracker<CompareView>({ namespace: 'ml-ship-compare' });
    const compareDeps = {
      client,
      rendermime,
      editorFactory: editorServices
        ? editorServices.factoryService.newInlineEditor.bind(editorServices.factoryService)
        : undefined,
      mimeTypeOf: editorServices
        ? (name: string) => editorServices.mimeTypeService.getMimeTypeByLanguage({ name })
        : undefined
    };
    /** Where a run shows: its own tab if it has one, else the one "Runs" tab (`own`: a tab of its own). */
    const openRunView = (id: string, own: boolean) => {
      const mine = runViews.find(w => !isLatestRunView(w) && w.content.runId === id);
      if (mine) {
        shell.activateById(mine.id);
        return;
      }
      const latest = runViews.find(w => isLatestRunView(w));
      if (latest && !own) {
        latest.content.showRun(id);
        void runViews.save(latest);
        shell.activateById(latest.id);
        model.selectRun(id);
        return;
      }
      const view = createRunView(id, actions, {
        latest: !own,
        onKeep: kept => void runViews.save(kept)
      });
      // new run views become tabs next to the last one, not ever narrower splits
      const last = runViews.currentWidget ?? runViews.find(() => true);
      void runViews.add(view);
      shell.add(
        view,
        'main',
        last && last.isAttached ? { mode: 'tab-after', ref: last.id } : { mode: 'split-right' }
      );
      shell.activateById(view.id);
      model.selectRun(id);
    };
    const actions: IActions = {
      model,
      settings: () => settings,
      docManager,
      watched: new Set<string>(),
      openRun: id => openRunView(id, false),
      showJob: name => {
        shell.activateById(PANEL_ID);
        void model.selectJob(name);
      },
      showVersion: (job, version) => {
        shell.activateById(PANEL_ID);
        void model.focusVersion(job, version);
      },
      openCompare: (job, a, b) => {
        const open = compareViews.find(w => {
          const [x, y] = w.content.pair;
          return w.content.job === job && x === a && (y === b || w.content.state.b === b);
        });
        if (open) {
          shell.activateById(open.id);
          return;
        }
        const view = createCompareView(compareDeps, job, a, b);
        void compareViews.add(view);
        view.content.diffChanged.connect(() => void compareViews.save(view));
        shell.add(view, 'main');
        shell.activateById(view.id);
      }
    };
    model.runFinished.connect((_, run) => notifyFinished(actions, run));
    runViews.currentChanged.connect((_, view) => {
      if (view) {
        model.selectRun(view.content.runId);
      }
    });

    toolbarRegistry?.addFactory<NotebookPanel>(
      'Notebook',
      'ml-ship',
      shipButtonFactory(actions, serviceManager.contents)
    );
    app.docRegistry.addWidgetExtension('Notebook', new OutputNotebookExtension(actions));

    commands.addCommand(CommandIDs.ship, {
      label: args => (args.toolbar ? 'Ship' : 'Ship Notebook as a Job…'),
      caption: SHIP_TOOLTIP,
      icon: shipIcon,
      // only notebooks of the server's file system (not, e.g., read-only run outputs)
      isEnabled: () =>
        !!notebooks?.currentWidget &&
        !serviceManager.contents.driveName(notebooks.currentWidget.context.path),
      execute: async () => {
        const current = notebooks?.currentWidget;
        if (current) {
          await shipNotebook(actions, current, serviceManager.contents);
        }
      }
    });
    /** The notebook selected in the file browser (its context menu's target), if one is. */
    const selectedNotebook = (): string | null => {
      const item = fileBrowsers?.tracker.currentWidget?.selectedItems().next();
      return item && !item.done && item.value.type === 'notebook' ? item.value.path : null;
    };
    commands.addCommand(CommandIDs.shipFile, {
      label: 'Ship Notebook as a Job…',
      caption: 'Open this notebook and ship it as a new version of a job',
      icon: shipIcon,
      isVisible: () => !!docManager && selectedNotebook() !== null,
      execute: async () => {
        const path = selectedNotebook();
        const widget = path && docManager ? docManager.openOrReveal(path) : undefined;
        if (widget instanceof NotebookPanel) {
          await widget.context.ready;
          await shipNotebook(actions, widget, serviceManager.contents);
        }
      }
    });
    commands.addCommand(CommandIDs.openRun, {
      label: args => `Open Run ${(args.id as string) ?? ''}`,
      caption: 'Open the view of a run: status, log and outputs',
      execute: args => {
        if (typeof args.id === 'string' && args.id) {
          openRunView(args.id, args.own === true);
        }
      }
    });
    commands.addCommand(CommandIDs.compare, {
      label: 'Compare Job Versions',
      caption: 'Compare two versions of a job: notebook cells and project files',
      execute: args => {
        const { job, a, b } = args as { job?: string; a?: number; b?: number | null };
        if (typeof job === 'string' && typeof a === 'number') {
          actions.openCompare(job, a, typeof b === 'number' ? b : null);
        }
      }
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh ML Ship Jobs and Runs',
      execute: () => model.checkHealth().then(() => model.refresh())
    });
    notebooks?.currentChanged.connect(() => commands.notifyCommandChanged(CommandIDs.ship));

    const activeCellTags = (): string[] | null => {
      const cell = notebooks?.activeCell;
      if (!cell) {
        return null;
      }
      const tags = cell.model.getMetadata('tags');
      return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
    };
    commands.addCommand(CommandIDs.tagParameters, {
      label: args =>
        args.toolbar
          ? ''
          : activeCellTags()?.includes(PARAMETERS_TAG)
            ? 'Untag as Parameters Cell'
            : 'Tag as Parameters Cell',
      caption:
        "Toggle papermill's 'parameters' tag on the active cell: a run's parameters override the variables it sets",
      icon: args => (args.isPalette ? undefined : tagIcon),
      isEnabled: () => {
        const cell = notebooks?.activeCell;
        return !!cell && cell.model.type === 'code' && !cell.readOnly;
      },
      isToggled: () => !!activeCellTags()?.includes(PARAMETERS_TAG),
      execute: () => {
        const cell = notebooks?.activeCell;
        const tags = activeCellTags();
        if (!cell || tags === null) {
          return;
        }
        const next = toggleParametersTag(tags);
        if (next.length) {
          cell.model.setMetadata('tags', next);
        } else {
          cell.model.deleteMetadata('tags');
        }
        commands.notifyCommandChanged(CommandIDs.tagParameters);
      }
    });
    notebooks?.activeCellChanged.connect(() =>
      commands.notifyCommandChanged(CommandIDs.tagParameters)
    );

    if (palette) {
      const category = 'ML Ship';
      palette.addItem({ command: CommandIDs.ship, category });
      palette.addItem({ command: CommandIDs.refresh, category });
      palette.addItem({ command: CommandIDs.tagParameters, category });
    }
    if (restorer) {
      void restorer.restore(runViews, {
        command: CommandIDs.openRun,
        args: view => ({ id: view.content.runId, own: !isLatestRunView(view) }),
        name: view => (isLatestRunView(view) ? 'latest' : view.content.runId)
      });
      void restorer.restore(compareViews, {
        command: CommandIDs.compare,
        args: view => ({ job: view.content.job, a: view.content.state.a, b: view.content.state.b }),
        name: view => `${view.content.job}:${view.content.state.a}:${view.content.state.b}`
      });
    }

    if (settingRegistry) {
      // Settings' "Default backend": a choice of the server's enabled backends (free text if the
      // server cannot be asked)
      // (the schema's jupyter.lab.transform: loaded only once the transform is registered)
      const registry = settingRegistry;
      void client
        .health()
        .catch(() => null)
        .then(health => {
          registry.transform(PLUGIN_ID, { fetch: plugin => withBackendChoices(plugin, health) });
          return registry.load(PLUGIN_ID);
        })
        .then(loaded => {
          const apply = () => {
            settings = readSettings(loaded);
            model.pageSize = settings.runsPageSize;
          };
          apply();
          loaded.changed.connect(apply);
        })
        .catch(reason => console.error('jupyter-ml-ship: cannot load settings', reason));
    }
    void model.start();
    return { model, actions, settings: () => settings, commandIds: CommandIDs };
  }
};
