/** An error dialog whose message wraps (a raw Docker error is one long line) instead of being clipped. */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { getTrans } from './i18n';

export async function showErrorMessage(title: string, message: string): Promise<void> {
  const trans = getTrans();
  const node = document.createElement('div');
  node.className = 'jp-MlShip-dialogError';
  node.textContent = message;
  await showDialog({
    title,
    body: new Widget({ node }),
    buttons: [Dialog.okButton({ label: trans.__('Dismiss') })]
  });
}
