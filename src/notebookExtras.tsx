/**
 * What the lab adds to notebooks: the Ship toolbar button (it ships the notebook it belongs
 * to, whichever has focus), and output notebooks of runs shown visibly read-only.
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
import { OUTPUT_DRIVE } from './outputs';
import { shipNotebook } from './ship';

export const SHIP_TOOLTIP = 'Ship this notebook as a new version of a job, and optionally run it';

/** `MlShipOutput:<run id>/<file>` → the run id (null for any other path). */
export function outputRunId(path: string): string | null {
  if (!path.startsWith(`${OUTPUT_DRIVE}:`)) {
    return null;
  }
  return path.slice(OUTPUT_DRIVE.length + 1).split('/')[0] || null;
}

/** The Ship button of one notebook's toolbar: ships that notebook, not the focused one. */
export function shipButtonFactory(
  actions: IActions,
  contents: Contents.IManager
): (panel: NotebookPanel) => Widget {
  return (panel: NotebookPanel) => {
    if (outputRunId(panel.context.path) !== null) {
      const hidden = new Widget();
      hidden.hide(); // an output of a run cannot be shipped: its banner says what it is
      return hidden;
    }
    return new ToolbarButton({
      icon: shipIcon,
      label: 'Ship',
      tooltip: SHIP_TOOLTIP,
      className: 'jp-MlShip-shipButton',
      onClick: () => void shipNotebook(actions, panel, contents)
    });
  };
}

function OutputBanner(props: { runId: string; onOpenRun: () => void }): JSX.Element {
  return (
    <div className="jp-MlShip-outputBanner" role="note">
      <span className="jp-MlShip-outputBanner-badge">Read-only</span>
      <span>
        Output of run{' '}
        <button className="jp-MlShip-linkButton" onClick={props.onOpenRun}>
          #{shortId(props.runId)}
        </button>
        : cells cannot be edited or saved. File › Save Notebook As… keeps a copy.
      </span>
    </div>
  );
}

/** Output notebooks of runs: a banner, cells not editable, Ctrl+S explained (no raw path). */
export class OutputNotebookExtension
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(private readonly _actions: IActions) {}

  createNew(panel: NotebookPanel, context: DocumentRegistry.IContext<INotebookModel>): void {
    const runId = outputRunId(context.path);
    if (runId === null) {
      return;
    }
    panel.addClass('jp-MlShip-outputNotebook');
    const banner = ReactWidget.create(
      <OutputBanner runId={runId} onOpenRun={() => this._actions.openRun(runId)} />
    );
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
      lock();
      context.model.cells.changed.connect(() => requestAnimationFrame(lock));
      // cells are created lazily (windowed notebook): lock those that appear
      panel.content.node.addEventListener('focusin', lock, true);
    });
    panel.node.addEventListener('keydown', (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's' && !event.shiftKey) {
        event.preventDefault();
        event.stopPropagation();
        Notification.info(
          `The output of run #${shortId(runId)} is read-only: File › Save Notebook As… keeps a copy.`,
          { autoClose: 5000 }
        );
      }
    });
  }
}
