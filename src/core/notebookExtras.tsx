/**
 * What the lab adds to notebooks: the Ship toolbar button (it ships the notebook it belongs
 * to, whichever has focus), and stored notebooks (outputs of runs, shipped versions) shown
 * visibly read-only.
 */
import { Notification, ReactWidget } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { BoxLayout, Widget } from '@lumino/widgets';
import * as React from 'react';

import type { IActions } from './actions';
import { shortId } from './format';
import { shipIcon } from './icons';
import {
  describeStored,
  goneStored,
  goneText,
  OUTPUT_DRIVE,
  storedKey,
  storedNotebookAt,
  type StoredNotebook
} from './outputs';
import { shipNotebook } from './ship';
import { getTrans, useTrans } from './i18n';

export function shipTooltip(): string {
  const trans = getTrans();
  return trans.__('Ship this notebook as a new version of a job, and optionally run it');
}

/** The stored notebook (run output, shipped version) at a path; null for any other path. */
function storedAt(path: string): StoredNotebook | null {
  return path.startsWith(`${OUTPUT_DRIVE}:`) ? storedNotebookAt(path) : null;
}

/** The Ship button of one notebook's toolbar: ships that notebook, not the focused one. */
export function shipButtonFactory(
  actions: IActions,
  contents: Contents.IManager
): (panel: NotebookPanel) => Widget {
  const trans = getTrans();
  return (panel: NotebookPanel) => {
    if (storedAt(panel.context.path) !== null) {
      const hidden = new Widget();
      hidden.hide(); // a run's output or a shipped version is not shipped: its banner says so
      return hidden;
    }
    return new ToolbarButton({
      icon: shipIcon,
      label: trans.__('Ship'),
      tooltip: shipTooltip(),
      className: 'jp-MlShip-shipButton',
      onClick: () => void shipNotebook(actions, panel, contents)
    });
  };
}

function StoredBanner(props: { stored: StoredNotebook; onOpen: () => void }): JSX.Element {
  const trans = useTrans();
  const { stored } = props;
  // one line: in a narrow pane the text ends in an ellipsis, the whole of it in the tooltip
  const title = trans.__('%1%2: cells cannot be edited or saved. File › Save Notebook As… keeps a copy.', describeStored(stored), stored.kind === 'version' ? trans.__(' as shipped') : '');
  return (
    <div
      className="jp-MlShip-outputBanner"
      role="note"
      data-stored={stored.kind}
      data-version={stored.kind === 'version' ? stored.version : undefined}
    >
      <span className="jp-MlShip-outputBanner-badge">{trans.__('Read-only')}</span>
      {stored.kind === 'output' ? (
        <span className="jp-MlShip-outputBanner-text" title={title}>
          {trans.__('Output of run')}{' '}
          <button className="jp-MlShip-linkButton" onClick={props.onOpen}>
            #{shortId(stored.runId)}
          </button>
          {trans.__(': cells cannot be edited or saved. File › Save Notebook As… keeps a copy.')}
        </span>
      ) : (
        <span className="jp-MlShip-outputBanner-text" title={title}>
          {trans.__('Version')}{' '}
          <button
            className="jp-MlShip-linkButton"
            onClick={props.onOpen}
            title={trans.__('Show v%1 in the ML Ship panel', stored.version)}
          >
            v{stored.version}
          </button>{' '}
          {trans.__('of')}{' '}{stored.job}{' '}{trans.__('as shipped: cells cannot be edited or saved. File › Save Notebook As… keeps a copy.')}
        </span>
      )}
    </div>
  );
}

/** The banner of a stored notebook the server no longer has: why, and a button to close. */
function GoneBanner(props: { stored: StoredNotebook; onClose: () => void }): JSX.Element {
  const trans = useTrans();
  const text = goneText(props.stored);
  return (
    <div className="jp-MlShip-outputBanner jp-MlShip-storedGone" role="note" data-gone={storedKey(props.stored)}>
      <span className="jp-MlShip-outputBanner-badge">{trans.__('Gone')}</span>
      <span className="jp-MlShip-outputBanner-text" title={text}>
        {text}
      </span>
      <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={props.onClose}>
        {trans.__('Close this tab')}
      </button>
    </div>
  );
}

/** Stored notebooks (outputs of runs, shipped versions): a banner, cells not editable, Ctrl+S
 * explained (no raw path). */
export class OutputNotebookExtension
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(private readonly _actions: IActions) {}

  createNew(panel: NotebookPanel, context: DocumentRegistry.IContext<INotebookModel>): void {
    const trans = getTrans();
    const stored = storedAt(context.path);
    if (stored === null) {
      return;
    }
    panel.addClass('jp-MlShip-outputNotebook');
    // a tab restored with the workspace is opened with the lab's default kernel preference: a
    // stored notebook starts no kernel (nor asks for one, as a gone one with no kernelspec would)
    context.sessionContext.kernelPreference = {
      ...context.sessionContext.kernelPreference,
      shouldStart: false,
      autoStartDefault: false
    };
    const open = () =>
      stored.kind === 'output'
        ? this._actions.openRun(stored.runId)
        : this._actions.showVersion(stored.job, stored.version);
    const banner = ReactWidget.create(<StoredBanner stored={stored} onOpen={open} />);
    banner.addClass('jp-MlShip-outputBanner-host');
    BoxLayout.setStretch(banner, 0);
    (panel.layout as unknown as { insertWidget: (i: number, w: Widget) => void }).insertWidget(
      1,
      banner
    );
    const lock = () => {
      for (const cell of panel.content.widgets) {
        cell.readOnly = true;
      }
    };
    void context.ready.then(() => {
      if (goneStored.has(storedKey(stored))) {
        // restored after its run (or job) was deleted: say so in place of the banner
        const gone = ReactWidget.create(<GoneBanner stored={stored} onClose={() => panel.close()} />);
        gone.addClass('jp-MlShip-outputBanner-host');
        gone.addClass('jp-MlShip-goneBanner-host');
        BoxLayout.setStretch(gone, 0);
        (panel.layout as unknown as { insertWidget: (i: number, w: Widget) => void }).insertWidget(
          1,
          gone
        );
        banner.dispose();
      }
      lock();
      // nothing here can be saved: no "unsaved changes" dot, no "Save changes?" on close (the
      // lab marks a loaded notebook dirty when it normalises it, e.g. adds cell ids)
      const clean = () => {
        if (context.model.dirty) {
          context.model.dirty = false;
        }
      };
      clean();
      context.model.stateChanged.connect(clean);
      context.model.cells.changed.connect(() => requestAnimationFrame(lock));
      // cells are created lazily (windowed notebook): lock those that appear
      panel.content.node.addEventListener('focusin', lock, true);
    });
    panel.node.addEventListener('keydown', (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's' && !event.shiftKey) {
        event.preventDefault();
        event.stopPropagation();
        Notification.info(
          trans.__('%1 is read-only: File › Save Notebook As… keeps a copy.', describeStored(stored)),
          { autoClose: 5000 }
        );
      }
    });
  }
}
