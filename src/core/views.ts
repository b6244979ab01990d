/**
 * The core plugin's main-area views: run views (one "Runs" tab that follows the selection, and
 * runs kept in tabs of their own) and Compare views, their trackers and their restoration.
 */
import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { WidgetTracker } from '@jupyterlab/apputils';
import type { IEditorServices } from '@jupyterlab/codeeditor';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import type { MlShipClient } from '../api/client';
import { createCompareView, type CompareView } from '../components/CompareView';
import { createRunView, isLatestRunView, type RunView } from '../components/RunView';
import type { IActions } from './actions';
import type { MlShipModel } from './model';
import { CommandIDs } from '../tokens';

export interface ICoreViewsOptions {
  shell: JupyterFrontEnd.IShell;
  client: MlShipClient;
  model: MlShipModel;
  rendermime: IRenderMimeRegistry | null;
  editorServices: IEditorServices | null;
  /** the shared actions (made after the views: they open them) */
  actions: () => IActions;
}

export class CoreViews {
  readonly runViews = new WidgetTracker<RunView>({ namespace: 'ml-ship-run' });
  readonly compareViews = new WidgetTracker<CompareView>({ namespace: 'ml-ship-compare' });

  constructor(private readonly _options: ICoreViewsOptions) {
    this.runViews.currentChanged.connect((_, view) => {
      if (view) {
        _options.model.selectRun(view.content.runId);
      }
    });
  }

  /** Where a run shows: its own tab if it has one, else the one "Runs" tab (`own`: a tab of its own). */
  openRun(id: string, own: boolean): void {
    const { shell, model } = this._options;
    const runViews = this.runViews;
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
    const view = createRunView(id, this._options.actions(), {
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
  }

  /** Open (or reveal) the Compare view of two versions of a job (`b` null: the current one). */
  openCompare(job: string, a: number, b: number | null): void {
    const { shell, client, rendermime, editorServices } = this._options;
    const compareViews = this.compareViews;
    const open = compareViews.find(w => {
      const [x, y] = w.content.pair;
      return w.content.job === job && x === a && (y === b || w.content.state.b === b);
    });
    if (open) {
      shell.activateById(open.id);
      return;
    }
    const deps = {
      client,
      rendermime,
      editorFactory: editorServices
        ? editorServices.factoryService.newInlineEditor.bind(editorServices.factoryService)
        : undefined,
      mimeTypeOf: editorServices
        ? (name: string) => editorServices.mimeTypeService.getMimeTypeByLanguage({ name })
        : undefined
    };
    const view = createCompareView(deps, job, a, b);
    void compareViews.add(view);
    view.content.diffChanged.connect(() => void compareViews.save(view));
    shell.add(view, 'main');
    shell.activateById(view.id);
  }

  /** Reopen the run and Compare views of the last session (through the commands that open them). */
  restore(restorer: ILayoutRestorer): void {
    void restorer.restore(this.runViews, {
      command: CommandIDs.openRun,
      args: view => ({ id: view.content.runId, own: !isLatestRunView(view) }),
      name: view => (isLatestRunView(view) ? 'latest' : view.content.runId)
    });
    void restorer.restore(this.compareViews, {
      command: CommandIDs.compare,
      args: view => ({ job: view.content.job, a: view.content.state.a, b: view.content.state.b }),
      name: view => `${view.content.job}:${view.content.state.a}:${view.content.state.b}`
    });
  }
}
