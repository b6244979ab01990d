/**
 * Stored notebooks of ML Ship, opened read-only in the lab: the output notebooks of runs and
 * the notebooks of shipped versions.
 *
 * A small read-only contents drive serves `MlShipOutput:<run id>/<job>-v<N>-<id>.ipynb` from
 * `GET /runs/{id}/output` and `MlShipOutput:versions/<job>@<N>/<job>-v<N>.ipynb` from
 * `GET /jobs/{job}/versions/{N}/notebook`, so either opens in JupyterLab's own notebook
 * viewer: rendered outputs, the "read-only" indicator, no kernel started, and "Save As…"
 * to keep a copy.
 */
import { PageConfig } from '@jupyterlab/coreutils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { Contents, ServerConnection } from '@jupyterlab/services';
import { Signal, type ISignal } from '@lumino/signaling';

import { ApiError, apiUrl, type MlShipClient } from '../api/client';
import type { IRunInfo } from '../api/types';
import { shortId } from './format';
import { getTrans } from './i18n';

export const OUTPUT_DRIVE = 'MlShipOutput';
/** The drive folder of versions' notebooks (a run id is hex: never this name). */
const VERSIONS = 'versions';

function readOnly(): string {
  const trans = getTrans();
  return trans.__(
    'Stored notebooks (run outputs, shipped versions) are read-only: use File › Save Notebook As… to keep a copy.'
  );
}

/**
 * A lab reloaded while a stored notebook's tab was the current one has
 * `/lab/tree/MlShipOutput:…` as its URL: JupyterLab would hand that path to the file browser's
 * "open path" (no file browser serves this drive: a modal "Cannot open … reading 'model'").
 * The workspace restores the tab itself, so the path is dropped from the page's tree path
 * before the router reads it. Call at activation (before the lab has routed its URL).
 */
export function dropStoredTreePath(): boolean {
  const tree = PageConfig.getOption('treePath');
  if (!tree.startsWith(`${OUTPUT_DRIVE}:`)) {
    return false;
  }
  PageConfig.setOption('treePath', '');
  return true;
}

/** What a read-only notebook of the drive is: a run's output or a shipped version. */
export type StoredNotebook =
  | { kind: 'output'; runId: string }
  | { kind: 'version'; job: string; version: number };

/** The path of a run's output notebook in the output drive. */
export function outputPath(run: Pick<IRunInfo, 'id' | 'job' | 'version'>): string {
  return `${OUTPUT_DRIVE}:${run.id}/${run.job}-v${run.version}-${shortId(run.id)}.ipynb`;
}

/** The path of a version's notebook in the output drive. */
export function versionPath(job: string, version: number): string {
  return `${OUTPUT_DRIVE}:${VERSIONS}/${job}@${version}/${job}-v${version}.ipynb`;
}

/** The stored notebook at a path of the drive (with or without `MlShipOutput:`); null for a
 * folder of the drive or any other path. */
export function storedNotebookAt(path: string): StoredNotebook | null {
  const prefix = `${OUTPUT_DRIVE}:`;
  if (path.includes(':') && !path.startsWith(prefix)) {
    return null;
  }
  const parts = (path.startsWith(prefix) ? path.slice(prefix.length) : path).split('/');
  if (parts[0] === VERSIONS) {
    const match = parts.length === 3 && parts[2] ? /^(.+)@(\d+)$/.exec(parts[1]) : null;
    return match ? { kind: 'version', job: match[1], version: Number(match[2]) } : null;
  }
  return parts.length === 2 && parts[0] && parts[1] ? { kind: 'output', runId: parts[0] } : null;
}

/** How the lab names a stored notebook in its banner, tab caption and messages. */
export function describeStored(stored: StoredNotebook): string {
  const trans = getTrans();
  return stored.kind === 'output'
    ? trans.__('The output of run #%1', shortId(stored.runId))
    : trans.__('Version v%1 of %2', stored.version, stored.job);
}

type Json = Record<string, unknown>;

/** The stored notebooks the server no longer has (a tab restored after its run or job was
 * deleted, or with another ML Ship home): keyed by {@link storedKey}. */
export const goneStored = new Set<string>();

export function storedKey(stored: StoredNotebook): string {
  return stored.kind === 'output' ? stored.runId : `${stored.job}@${stored.version}`;
}

/** What a tab of a gone stored notebook shows: one markdown cell saying so (the lab opens it
 * instead of a modal "File Load Error"; the tab's banner offers to close it). */
function goneNotebook(stored: StoredNotebook): Json {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'markdown', metadata: {}, source: goneText(stored), id: 'gone' }
    ]
  };
}

/** Why a stored notebook's tab is empty. */
export function goneText(stored: StoredNotebook): string {
  const trans = getTrans();
  return stored.kind === 'output'
    ? trans.__('Run #%1 no longer exists: its job was deleted (or this lab uses another ML Ship home than when the tab was opened).', shortId(stored.runId))
    : trans.__('Version v%1 of %2 no longer exists: the job was deleted (or this lab uses another ML Ship home than when the tab was opened).', stored.version, stored.job);
}

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
    const stored = storedNotebookAt(localPath);
    const now = new Date().toISOString();
    if (!stored) {
      return {
        name: localPath.split('/').pop() ?? '',
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
    let content: Json | null = null;
    if (options?.content !== false) {
      try {
        content = joinMultiline(
          await (stored.kind === 'output'
            ? this._client.output(stored.runId)
            : this._client.versionNotebook(stored.job, stored.version))
        );
        goneStored.delete(storedKey(stored));
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'not_found')) {
          throw error;
        }
        goneStored.add(storedKey(stored));
        content = goneNotebook(stored);
      }
    }
    return {
      name: localPath.split('/').pop() ?? '',
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
    const stored = storedNotebookAt(localPath);
    if (stored?.kind === 'version') {
      return apiUrl(
        this.serverSettings,
        `jobs/${encodeURIComponent(stored.job)}/versions/${stored.version}/notebook`
      );
    }
    const runId = localPath.split('/')[0];
    return apiUrl(this.serverSettings, `runs/${encodeURIComponent(runId)}/output`);
  }

  async listCheckpoints(): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  private _readOnly(): Promise<never> {
    return Promise.reject(new Error(readOnly()));
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

/** Open a stored notebook of the drive read-only, without starting a kernel; at a cell if
 * given. The notebook extension adds the banner and locks the cells (notebookExtras). */
function openReadOnly(
  docManager: IDocumentManager,
  path: string,
  caption: string,
  cellIndex?: number | null
): void {
  const widget = docManager.openOrReveal(path, 'Notebook', undefined, undefined, {
    shouldStart: false,
    canStart: true,
    autoStartDefault: false
  });
  if (widget) {
    widget.addClass('jp-MlShip-outputNotebook');
    widget.title.caption = caption;
  }
  if (widget && cellIndex !== null && cellIndex !== undefined) {
    void widget.context.ready.then(() => revealCell(widget.content as unknown, cellIndex));
  }
}

/** Open a run's output notebook read-only; at a cell if given. */
export function openOutput(
  docManager: IDocumentManager,
  run: IRunInfo,
  cellIndex?: number | null
): void {
  const trans = getTrans();
  openReadOnly(
    docManager,
    outputPath(run),
    trans.__('Output of run %1 (%2 v%3), read-only', run.id, run.job, run.version),
    cellIndex
  );
}

/** Open the notebook of a shipped version read-only. */
export function openVersion(docManager: IDocumentManager, job: string, version: number): void {
  const trans = getTrans();
  openReadOnly(
    docManager,
    versionPath(job, version),
    trans.__('%1 v%2: the notebook as shipped, read-only', job, version)
  );
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
