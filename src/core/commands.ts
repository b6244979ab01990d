/**
 * The core plugin's commands: Ship (toolbar, menu, palette, file browser), open a run, compare
 * versions, refresh, and the parameters tag of the active cell.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { type INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { tagIcon } from '@jupyterlab/ui-components';

import type { IActions } from './actions';
import { shipIcon } from './icons';
import { shipTooltip } from './notebookExtras';
import { PARAMETERS_TAG, toggleParametersTag } from './params';
import { shipNotebook } from './ship';
import type { CoreViews } from './views';
import { CommandIDs } from '../tokens';
import { getTrans } from './i18n';

export interface ICoreCommandsOptions {
  actions: IActions;
  views: CoreViews;
  notebooks: INotebookTracker | null;
  docManager: IDocumentManager | null;
  fileBrowsers: IFileBrowserFactory | null;
  palette: ICommandPalette | null;
}

export function addCoreCommands(app: JupyterFrontEnd, options: ICoreCommandsOptions): void {
  const trans = getTrans();
  const { commands, serviceManager } = app;
  const { actions, views, notebooks, docManager, fileBrowsers, palette } = options;
  const { model } = actions;

  commands.addCommand(CommandIDs.ship, {
    label: args => (args.toolbar ? 'Ship' : trans.__('Ship Notebook as a Job…')),
    caption: shipTooltip(),
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
    label: trans.__('Ship Notebook as a Job…'),
    caption: trans.__('Open this notebook and ship it as a new version of a job'),
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
    label: args => trans.__('Open Run %1', (args.id as string) ?? ''),
    caption: trans.__('Open the view of a run: status, log and outputs'),
    execute: args => {
      if (typeof args.id === 'string' && args.id) {
        views.openRun(args.id, args.own === true);
      }
    }
  });
  commands.addCommand(CommandIDs.compare, {
    label: trans.__('Compare Job Versions'),
    caption: trans.__('Compare two versions of a job: notebook cells and project files'),
    execute: args => {
      const { job, a, b } = args as { job?: string; a?: number; b?: number | null };
      if (typeof job === 'string' && typeof a === 'number') {
        actions.openCompare(job, a, typeof b === 'number' ? b : null);
      }
    }
  });
  commands.addCommand(CommandIDs.refresh, {
    label: trans.__('Refresh ML Ship Jobs and Runs'),
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
          ? trans.__('Untag as Parameters Cell')
          : trans.__('Tag as Parameters Cell'),
    caption:
      trans.__('Toggle papermill\'s \'parameters\' tag on the active cell: a run\'s parameters override the variables it sets'),
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
    const category = trans.__('ML Ship');
    palette.addItem({ command: CommandIDs.ship, category });
    palette.addItem({ command: CommandIDs.refresh, category });
    palette.addItem({ command: CommandIDs.tagParameters, category });
  }
}
