/** The Ship command: save the notebook, ask in the Ship dialog, remember choices, ship. */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { showErrorMessage } from './errorDialog';
import { PathExt } from '@jupyterlab/coreutils';
import { FileBrowser, FilterFileBrowserModel } from '@jupyterlab/filebrowser';
import { PromiseDelegate } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';

import { type IActions } from './actions';
import { errorMessage } from '../api/client';
import type { INotebookInfo, IShipConfig, IShipResult } from '../api/types';
import { pickBackend } from '../components/BackendSelect';
import {
  applyRunSettings,
  applyShipExtras,
  runSettingsFromConfig,
  shipExtrasFromConfig
} from '../components/settingsFields';
import { applyNotify, notifyFromConfig } from './notifyConfig';
import { ShipDialogBody, type IShipChoices } from '../components/ShipDialog';
import { settleNotification } from './notify';
import { jobNameFromPath } from './params';
import { getTrans } from './i18n';
import { showTriggerToken } from '../components/JobTriggers';

function shipConfigOf(panel: NotebookPanel): IShipConfig {
  const value = panel.model?.getMetadata('ml_ship');
  return value && typeof value === 'object' && !Array.isArray(value)
    ? { ...(value as IShipConfig) }
    : {};
}

/**
 * JupyterLab's file browser as a folder picker, opened inside the Ship dialog (a second dialog,
 * FileDialog.getExistingDirectory, would wait in JupyterLab's dialog queue until the Ship dialog
 * closed): folders only, at the current choice; Select takes the folder selected, or the one
 * the browser is in.
 */
let pickers = 0;
function pickFolder(
  ctx: IActions,
  notebookPath: string
): (current: string, host: HTMLElement) => Promise<string | null> {
  const trans = getTrans();
  return async (current, host) => {
    if (!ctx.docManager) {
      return null;
    }
    const model = new FilterFileBrowserModel({
      manager: ctx.docManager,
      filter: item => (item.type === 'directory' ? {} : null)
    });
    const browser = new FileBrowser({ id: `jp-MlShip-folderBrowser-${++pickers}`, model, restore: false });
    browser.addClass('jp-MlShip-folderBrowser');
    const bar = document.createElement('div');
    bar.className = 'jp-MlShip-folderBrowserBar';
    const label = document.createElement('span');
    label.className = 'jp-MlShip-field-help';
    label.textContent = trans.__(
      'The folder shipped with %1: its own, or one above it',
      PathExt.basename(notebookPath)
    );
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'jp-Button jp-mod-styled jp-mod-reject';
    cancel.textContent = trans.__('Cancel');
    const select = document.createElement('button');
    select.type = 'button';
    select.className = 'jp-Button jp-mod-styled jp-mod-accept';
    select.textContent = trans.__('Select');
    bar.append(label, cancel, select);
    const done = new PromiseDelegate<string | null>();
    cancel.onclick = () => done.resolve(null);
    select.onclick = () => {
      const chosen = browser.selectedItems().next();
      const item = chosen && !chosen.done ? chosen.value : null;
      done.resolve(item && item.type === 'directory' ? item.path : model.path);
    };
    Widget.attach(browser, host);
    host.appendChild(bar);
    try {
      await model.cd('/' + (current || PathExt.dirname(notebookPath)));
    } catch {
      await model.cd('/' + PathExt.dirname(notebookPath));
    }
    try {
      return await done.promise;
    } finally {
      Widget.detach(browser);
      browser.dispose();
      model.dispose();
      bar.remove();
    }
  };
}

export async function shipNotebook(
  ctx: IActions,
  panel: NotebookPanel,
  contents: Contents.IManager
): Promise<IShipResult | null> {
  const trans = getTrans();
  const { context } = panel;
  const { model } = ctx;
  await context.ready;
  if (contents.driveName(context.path)) {
    await showErrorMessage(
      trans.__('Cannot ship this notebook'),
      trans.__('Only notebooks saved in the Jupyter server’s file system can be shipped. Save a copy there first (File › Save Notebook As…).')
    );
    return null;
  }
  const path = contents.localPath(context.path);
  if (!model.health) {
    await model.checkHealth();
    if (!model.health) {
      await showErrorMessage(trans.__('Cannot ship'), model.compatibility.message);
      return null;
    }
  }
  if (context.model.dirty) {
    await context.save();
  }

  let info: INotebookInfo | null = null;
  let parametersError: string | null = null;
  try {
    info = await model.client.notebookInfo(path);
  } catch (error) {
    parametersError = trans.__('The notebook’s parameters could not be read: %1', errorMessage(error));
  }
  const config = shipConfigOf(panel);
  const name =
    (typeof config.name === 'string' && config.name) || info?.name || jobNameFromPath(path);
  const backend = pickBackend(
    model.health,
    (config.backend as string) || ctx.settings().defaultBackend || undefined
  );
  const body = new ShipDialogBody({
    path,
    name,
    parameters: info?.parameters ?? [],
    parametersError,
    settings: runSettingsFromConfig(config, backend),
    extras: shipExtrasFromConfig(config),
    health: model.health,
    loadProject: root => model.client.project(path, root),
    root: typeof config.root === 'string' ? config.root : undefined,
    pickFolder: ctx.docManager ? pickFolder(ctx, path) : undefined,
    notify: notifyFromConfig(config),
    sendTest: request => model.client.notifyTest(request)
  });
  const shipAndRun = trans.__('Ship & run');
  const result = await showDialog<IShipChoices>({
    title: trans.__('Ship %1', PathExt.basename(path)),
    body,
    buttons: [
      Dialog.cancelButton(),
      Dialog.okButton({ label: trans.__('Ship'), caption: trans.__('Save a new version of the job') }),
      Dialog.okButton({
        label: shipAndRun,
        caption: trans.__('Save a new version and run it with these parameters')
      })
    ],
    defaultButton: 1,
    focusNodeSelector: '#jp-MlShip-name'
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  const choices = result.value;
  const run = result.button.label === shipAndRun;

  // Remember the choices in the notebook, so that the next ship is one click.
  const newConfig = applyNotify(
    applyShipExtras(applyRunSettings(config, choices.name, choices.settings), choices.extras),
    choices.notify
  );
  if (choices.root) {
    newConfig.root = choices.root; // the project folder, relative to the notebook's
  } else {
    delete newConfig.root;
  }
  panel.model?.setMetadata('ml_ship', newConfig);
  try {
    await context.save();
  } catch (error) {
    await showErrorMessage(trans.__('Cannot save the notebook before shipping'), errorMessage(error));
    return null;
  }

  const pending = Notification.emit(trans.__('Shipping %1…', PathExt.basename(path)), 'in-progress', {
    autoClose: false
  });
  let shipped: IShipResult;
  try {
    shipped = await model.client.ship({
      path,
      name: choices.name,
      message: choices.message || null,
      run,
      parameters: run ? choices.parameters : null,
      backend: choices.settings.backend || null,
      config: newConfig,
      ...(choices.shipAnyway ? { ship_anyway: true } : {})
    });
  } catch (error) {
    Notification.dismiss(pending);
    await showErrorMessage(trans.__('Cannot ship %1', choices.name), errorMessage(error));
    return null;
  }
  model.noteShipped(shipped.job, shipped.run);
  if (shipped.trigger_token) {
    // the webhook's secret, shown this once (the server keeps only its hash)
    void showTriggerToken(shipped.job.name, shipped.trigger_token);
  }
  const { job, version } = shipped;
  const text = shipped.created
    ? trans.__('Shipped %1 v%2', job.name, version.number)
    : shipped.made_current
      ? trans.__('Same content as v%1: %2 v%3 is the current version again', version.number, job.name, version.number)
      : trans.__('No changes since v%1: %2 was not re-versioned', version.number, job.name);
  const actions = [{ label: trans.__('Show job'), callback: () => ctx.showJob(job.name) }];
  if (shipped.run) {
    const runId = shipped.run.id;
    ctx.watched.add(runId);
    actions.unshift({ label: trans.__('View run'), callback: () => ctx.openRun(runId) });
    if (ctx.settings().openRunView) {
      ctx.openRun(runId);
    }
  }
  settleNotification(
    pending,
    shipped.run ? trans.__('%1, run started', text) : text,
    shipped.created ? 'success' : 'info',
    { autoClose: 6000, actions }
  );
  return shipped;
}
