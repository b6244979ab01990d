/**
 * Output notebooks of runs, opened read-only in the lab.
 *
 * A small read-only contents drive serves `MlShipOutput:<run id>/<job>-v<N>-<id>.ipynb` from
 * `GET /runs/{id}/output`, so the executed notebook opens in JupyterLab's own notebook
 * viewer: rendered outputs, the "read-only" indicator, no kernel started, and "Save As…"
 * to keep a copy.
 */
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { Contents, ServerConnection } from '@jupyterlab/services';
import { Signal, type ISignal } from '@lumino/signaling';

import { apiUrl, type MlShipClient } from './api/client';
import type { IRunInfo } from './api/types';
import { shortId } from './format';

export const OUTPUT_DRIVE = 'MlShipOutput';

const READ_ONLY =
  'Output notebooks of runs are read-only: use File › Save Notebook As… to keep a copy.';

/** The path of a run's output notebook in the output drive. */
export function outputPath(run: Pick<IRunInfo, 'id' | 'job' | 'version'>): string {
  return `${OUTPUT_DRIVE}:${run.id}/${run.job}-v${run.version}-${shortId(run.id)}.ipynb`;
}

type Json = Record<string, unknown>;

const join = (value: unknown) =>
  Array.isArray(value) && value.every(v => typeof v === 'string') ? value.join('') : value;

/**
 * nbformat allows multi-line strings as lists of lines on disk; the lab expects strings
 * (the contents API joins them, as nbformat's `rejoin_lines` does): join sources, stream
 * texts and non-JSON output data.
 */
export function joinMultiline(notebook: Json): Json {
  const cells = Array.isArray(notebook.cells) ? (notebook.cells as Json[]) : [];
  return {
    ...notebook,
    cells: cells.map(cell => ({
      ...cell,
      source: join(cell.source),
      ...(Array.isArray(cell.outputs)
        ? {
            outputs: (cell.outputs as Json[]).map(output => {
              const out: Json = { ...output };
              if ('text' in out) {
                out.text = join(out.text);
              }
              if (out.data && typeof out.data === 'object') {
                out.data = Object.fromEntries(
                  Object.entries(out.data as Json).map(([mime, value]) => [
                    mime,
                    /json$/.test(mime) ? value : join(value)
                  ])
                );
              }
              return out;
            })
          }
        : {})
    }))
  };
}

export class OutputDrive implements Contents.IDrive {
  readonly name = OUTPUT_DRIVE;
  readonly serverSettings: ServerConnection.ISettings;
  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _disposed = false;

  constructor(private readonly _client: MlShipClient) {
    this.serverSettings = _client.serverSettings;
  }

  get fileChanged(): ISignal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }
  get isDisposed(): boolean {
    return this._disposed;
  }
  dispose(): void {
    this._disposed = true;
    Signal.clearData(this);
  }

  async get(localPath: string, options?: Contents.IFetchOptions): Promise<Contents.IModel> {
    const [runId, file] = localPath.split('/');
    const now = new Date().toISOString();
    if (!file) {
      return {
        name: runId ?? '',
        path: localPath,
        type: 'directory',
        format: 'json',
        content: [],
        writable: false,
        created: now,
        last_modified: now,
        mimetype: ''
      };
    }
    const content =
      options?.content === false ? null : joinMultiline(await this._client.output(runId));
    return {
      name: file,
      path: localPath,
      type: 'notebook',
      format: 'json',
      content,
      writable: false,
      created: now,
      last_modified: now,
      mimetype: 'application/x-ipynb+json'
    };
  }

  async getDownloadUrl(localPath: string): Promise<string> {
    const runId = localPath.split('/')[0];
    return apiUrl(this.serverSettings, `runs/${encodeURIComponent(runId)}/output`);
  }

  async listCheckpoints(): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  private _readOnly(): Promise<never> {
    return Promise.reject(new Error(READ_ONLY));
  }
  newUntitled(): Promise<Contents.IModel> {
    return this._readOnly();
  }
  delete(): Promise<void> {
    return this._readOnly();
  }
  rename(): Promise<Contents.IModel> {
    return this._readOnly();
  }
  save(): Promise<Contents.IModel> {
    return this._readOnly();
  }
  copy(): Promise<Contents.IModel> {
    return this._readOnly();
  }
  createCheckpoint(): Promise<Contents.ICheckpointModel> {
    return this._readOnly();
  }
  restoreCheckpoint(): Promise<void> {
    return this._readOnly();
  }
  deleteCheckpoint(): Promise<void> {
    return this._readOnly();
  }
}

/** Open a run's output notebook read-only, without starting a kernel; at a cell if given. */
export function openOutput(
  docManager: IDocumentManager,
  run: IRunInfo,
  cellIndex?: number | null
): void {
  const widget = docManager.openOrReveal(outputPath(run), 'Notebook', undefined, undefined, {
    shouldStart: false,
    canStart: true,
    autoStartDefault: false
  });
  if (widget) {
    widget.addClass('jp-MlShip-outputNotebook');
    widget.title.caption = `Output of run ${run.id} (${run.job} v${run.version}), read-only`;
  }
  if (widget && cellIndex !== null && cellIndex !== undefined) {
    void widget.context.ready.then(() => revealCell(widget.content as unknown, cellIndex));
  }
}

interface INotebookLike {
  activeCellIndex: number;
  widgets: ReadonlyArray<{ node: HTMLElement }>;
  scrollToItem?: (index: number, behavior?: string) => Promise<void>;
  fullyRendered?: { connect: (fn: () => void) => void };
}

/** Make a cell active and scroll it into view once the notebook has rendered it. */
function revealCell(content: unknown, index: number): void {
  const notebook = content as INotebookLike;
  let tries = 0;
  const attempt = () => {
    if (notebook.widgets.length > index) {
      notebook.activeCellIndex = index;
      const scrolled = notebook.scrollToItem?.(index, 'center');
      void Promise.resolve(scrolled).then(() =>
        notebook.widgets[index]?.node.scrollIntoView({ block: 'center' })
      );
    } else if (tries++ < 50) {
      setTimeout(attempt, 100);
    }
  };
  attempt();
}
