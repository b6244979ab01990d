/**
 * A typed client of the ml-ship REST API.
 *
 * Every request goes through `ServerConnection.makeRequest`, so authentication (token or
 * cookie) and the XSRF header are handled like for JupyterLab's own services. A failed
 * request throws an `ApiError` carrying the server's `{error, message}` body, or a clear
 * message of our own when there is none (network error, HTML error page).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type {
  ICreateRunRequest,
  IErrorBody,
  IHealthInfo,
  IJobHealth,
  IJobInfo,
  IJobList,
  INotebookInfo,
  INotifyTestRequest,
  INotifyTestResponse,
  IProjectPreview,
  IPromoteRequest,
  IRunFiles,
  IRunInfo,
  IRunList,
  IShipRequest,
  IShipResult,
  ITriggerInfo,
  ITriggerList,
  IVersionDiff,
  IVersionFiles,
  IVersionInfo,
  IVersionList,
  RunStatus
} from './types';
import { nullTranslator, type TranslationBundle } from '@jupyterlab/translation';
import { DOMAIN, getTrans } from '../core/i18n';

/** The REST base, relative to the server's base URL. */
export const API_NAMESPACE = 'ml-ship/api';

/**
 * An error answered by the server (or met on the way to it).
 *
 * `code` is the server's stable code (`bad_request`, `not_found`, `conflict`, `too_large`,
 * `unavailable`), or `network` / `http_<status>` when the server sent no error body.
 */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** the error body's `steps` (an invalid pipeline file's graph as written), if any */
  readonly steps: Record<string, unknown>[] | null;

  constructor(
    code: string,
    message: string,
    status: number,
    steps: Record<string, unknown>[] | null = null
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.steps = steps;
  }

  /** Build the error for a non-2xx response from its body. */
  static async fromResponse(response: Response): Promise<ApiError> {
    const trans = getTrans();
    let text = '';
    try {
      text = await response.text();
    } catch {
      // the body is not readable: keep the status line
    }
    const body = parseErrorBody(text);
    if (body) {
      return new ApiError(body.error, body.message, response.status, body.steps ?? null);
    }
    const statusLine = `${response.status} ${response.statusText || ''}`.trim();
    const message =
      response.status === 404
        ? trans.__('Not found (%1): is the jupyter_ml_ship server extension installed and enabled?', statusLine)
        : trans.__('The server answered %1', statusLine);
    return new ApiError(`http_${response.status}`, message, response.status);
  }
}

/** The `{error, message}` body of an error response, or null when it is something else. */
export function parseErrorBody(text: string): IErrorBody | null {
  if (!text) {
    return null;
  }
  try {
    const data = JSON.parse(text);
    if (data && typeof data.message === 'string' && data.message) {
      return {
        error: typeof data.error === 'string' ? data.error : 'error',
        message: data.message,
        steps: Array.isArray(data.steps) ? data.steps : null
      };
    }
    // jupyter_server's own JSON errors: {"message": ..., "reason": ...}
    if (data && typeof data.reason === 'string' && data.reason) {
      return { error: 'error', message: data.reason };
    }
  } catch {
    // not JSON
  }
  return null;
}

/**
 * What the server's error codes mean, in the user's language: the server's `message` is English,
 * its `error` code is stable (jupyter_ml_ship/server/_base.py), so the lab says the code's meaning.
 */
function codeTexts(trans: TranslationBundle): Record<string, string> {
  return {
    bad_request: trans.__('Refused: the request is not valid'),
    unauthorized: trans.__('Not signed in'),
    forbidden: trans.__('Not allowed'),
    not_found: trans.__('Not found'),
    method_not_allowed: trans.__('Not allowed'),
    conflict: trans.__('Refused: it conflicts with the current state'),
    too_large: trans.__('Refused: too large'),
    unavailable: trans.__('Unavailable: a backend or service is not running'),
    insufficient_storage: trans.__('The server’s disk is full'),
    internal_error: trans.__('Internal server error'),
    network: trans.__('The Jupyter server cannot be reached'),
    bad_response: trans.__('The server sent an invalid answer')
  };
}

/** The meaning of a server error code in the user's language; null in English (the message
 * says it) and for codes the lab does not know. */
export function errorCodeText(code: string): string | null {
  const text = codeTexts(getTrans())[code];
  return text && text !== codeTexts(nullTranslator.load(DOMAIN))[code] ? text : null;
}

/** A readable message for anything thrown, never "undefined" (a server error: its code's
 * meaning first when the lab speaks another language than the server's English). */
export function errorMessage(error: unknown): string {
  const trans = getTrans();
  if (error instanceof ApiError && error.message) {
    const meaning = errorCodeText(error.code);
    return meaning ? trans.__('%1 — %2', meaning, error.message) : error.message;
  }
  if (error instanceof Error && error.message) {
    return error.message;
  }
  if (typeof error === 'string' && error) {
    return error;
  }
  return trans.__('Unknown error');
}

type Query = Record<string, string | number | undefined | null>;

function queryString(query?: Query): string {
  if (!query) {
    return '';
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') {
      params.set(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The URL of an API path (segments are URL-encoded by the caller's `encodeURIComponent`). */
export function apiUrl(
  settings: ServerConnection.ISettings,
  path: string,
  query?: Query
): string {
  return URLExt.join(settings.baseUrl, API_NAMESPACE, path) + queryString(query);
}

/**
 * Call the ml-ship API and return the decoded body (JSON, or text for text responses).
 */
export async function requestAPI<T>(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
  query?: Query
): Promise<T> {
  const trans = getTrans();
  const response = await send(path, init, settings, query);
  if (response.status === 204) {
    return undefined as T;
  }
  const type = response.headers.get('Content-Type') || '';
  const text = await response.text();
  if (type.includes('json') || (!type && text.startsWith('{'))) {
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('bad_response', trans.__('The server sent invalid JSON'), response.status);
    }
  }
  return text as unknown as T;
}

async function send(
  path: string,
  init: RequestInit,
  settings: ServerConnection.ISettings,
  query?: Query
): Promise<Response> {
  const trans = getTrans();
  const url = apiUrl(settings, path, query);
  let response: Response;
  try {
    // 'no-cache' (always revalidate) rather than JupyterLab's default 'no-store', which
    // appends a timestamp to the query string that the API's strict query models refuse.
    response = await ServerConnection.makeRequest(url, { cache: 'no-cache', ...init }, settings);
  } catch (error) {
    throw new ApiError(
      'network',
      trans.__('Cannot reach the Jupyter server: %1', errorMessage(error)),
      0
    );
  }
  if (!response.ok) {
    throw await ApiError.fromResponse(response);
  }
  return response;
}

/** A path segment (a job, pipeline or run name), escaped. */
export const seg = encodeURIComponent;

/** A JSON POST's request options. */
export function post(body?: unknown): RequestInit {
  return {
    method: 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' }
  };
}

/** The ml-ship API, one method per route. */
export class MlShipClient {
  readonly serverSettings: ServerConnection.ISettings;

  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  /** One authenticated request to a route of the API (the one request helper). */
  call<T>(path: string, init: RequestInit = {}, query?: Query): Promise<T> {
    return requestAPI<T>(path, init, this.serverSettings, query);
  }

  private _call<T>(path: string, init: RequestInit = {}, query?: Query): Promise<T> {
    return this.call<T>(path, init, query);
  }

  health(): Promise<IHealthInfo> {
    return this._call('health');
  }

  notebookInfo(path: string): Promise<INotebookInfo> {
    return this._call('notebook-info', {}, { path });
  }

  ship(request: IShipRequest): Promise<IShipResult> {
    return this._call('ship', post(request));
  }

  /** The triggers of every job and pipeline (runs started by events), or of one job (or, with
   * target 'pipeline', of one pipeline: its file's triggers:). */
  async triggers(job?: string, target: 'job' | 'pipeline' = 'job'): Promise<ITriggerInfo[]> {
    const found = (await this._call<ITriggerList>('triggers')).triggers;
    return job === undefined
      ? found
      : found.filter(t => t.job === job && (t.target ?? 'job') === target);
  }

  async jobs(): Promise<IJobInfo[]> {
    return (await this._call<IJobList>('jobs')).jobs;
  }

  job(name: string): Promise<IJobInfo> {
    return this._call(`jobs/${seg(name)}`);
  }

  deleteJob(name: string): Promise<void> {
    return this._call(`jobs/${seg(name)}`, { method: 'DELETE' });
  }

  async versions(job: string): Promise<IVersionInfo[]> {
    return (await this._call<IVersionList>(`jobs/${seg(job)}/versions`)).versions;
  }

  version(job: string, n: number): Promise<IVersionInfo> {
    return this._call(`jobs/${seg(job)}/versions/${n}`);
  }

  /** What shipping the notebook at `path` would take along (its project folder); `root`:
   * the project folder to preview, relative to the notebook's (null: the notebook's own). */
  project(path: string, root?: string | null): Promise<IProjectPreview> {
    return this._call('project', {}, root === undefined || root === null ? { path } : { path, root });
  }

  /** Send a test message to these notification targets, through the server's channels. */
  notifyTest(request: INotifyTestRequest): Promise<INotifyTestResponse> {
    return this._call('notify/test', post(request));
  }

  /** The notebook a version stored (nbformat JSON), to be shown read-only. */
  versionNotebook(job: string, n: number): Promise<Record<string, unknown>> {
    return this._call(`jobs/${seg(job)}/versions/${n}/notebook`);
  }

  versionFiles(job: string, n: number): Promise<IVersionFiles> {
    return this._call(`jobs/${seg(job)}/versions/${n}/files`);
  }

  /** Version `a` against version `b` (default: the current version). */
  diff(job: string, a: number, b?: number | null): Promise<IVersionDiff> {
    return this._call(`jobs/${seg(job)}/diff`, {}, { a, b });
  }

  /** Each checked output of a job over its recent runs, counts, the latest verdict. */
  jobHealth(job: string, limit?: number): Promise<IJobHealth> {
    return this._call(`jobs/${seg(job)}/health`, {}, { limit });
  }

  rollback(job: string, version: number): Promise<IJobInfo> {
    return this._call(`jobs/${seg(job)}/rollback`, post({ version }));
  }

  /** Point an environment (default production) at a version, through the job's promotion
   * gate: the answer says `validating` while the gate's validation run decides. */
  promote(job: string, version: number, request: IPromoteRequest = {}): Promise<IVersionInfo> {
    return this._call(`jobs/${seg(job)}/versions/${version}/promote`, post(request));
  }

  runs(query: {
    job?: string;
    status?: RunStatus;
    limit?: number;
    cursor?: string | null;
  }): Promise<IRunList> {
    return this._call('runs', {}, query);
  }

  createRun(request: ICreateRunRequest): Promise<IRunInfo> {
    return this._call('runs', post(request));
  }

  run(id: string): Promise<IRunInfo> {
    return this._call(`runs/${seg(id)}`);
  }

  /** Delete an ended run with its log, notebooks and files (409 while it is active). */
  deleteRun(id: string): Promise<void> {
    return this._call(`runs/${seg(id)}`, { method: 'DELETE' });
  }

  cancel(id: string): Promise<IRunInfo> {
    return this._call(`runs/${seg(id)}/cancel`, post());
  }

  /** Log text from byte `offset`, and the offset to ask from next time. */
  async logs(id: string, offset = 0): Promise<{ text: string; nextOffset: number }> {
    const response = await send(
      `runs/${seg(id)}/logs`,
      {},
      this.serverSettings,
      { offset }
    );
    const text = await response.text();
    const header = Number(response.headers.get('X-Next-Offset'));
    const nextOffset = Number.isFinite(header) && header >= offset ? header : offset + byteLength(text);
    return { text, nextOffset };
  }

  /** The executed notebook of a run (nbformat JSON). */
  output(id: string): Promise<Record<string, unknown>> {
    return this._call(`runs/${seg(id)}/output`);
  }

  runFiles(id: string): Promise<IRunFiles> {
    return this._call(`runs/${seg(id)}/files`);
  }

  /** An artifact's bytes (as a Response: the caller reads as much as it needs). */
  runFile(id: string, path: string, init: RequestInit = {}): Promise<Response> {
    return send(runFilePath(id, path), init, this.serverSettings);
  }

  /** A URL for a link to an artifact (`download`: saved rather than shown). */
  runFileUrl(id: string, path: string, download = false): string {
    const { token, appendToken } = this.serverSettings;
    return apiUrl(this.serverSettings, runFilePath(id, path), {
      download: download ? 1 : undefined,
      token: appendToken && token ? token : undefined
    });
  }

  /** The WebSocket URL that streams a run's log from `offset`. */
  /** `tail`: start about that many bytes before the end of the log (at a line start). */
  logSocketUrl(id: string, offset = 0, tail?: number): string {
    const { wsUrl, token, appendToken } = this.serverSettings;
    const query: Query = { offset };
    if (tail !== undefined) {
      query.tail = tail;
    }
    if (appendToken && token) {
      query.token = token;
    }
    return URLExt.join(wsUrl, API_NAMESPACE, `runs/${seg(id)}/logs/ws`) + queryString(query);
  }
}

/** The route of one artifact: each path segment encoded, the slashes kept. */
function runFilePath(id: string, path: string): string {
  return `runs/${seg(id)}/files/${path.split('/').map(seg).join('/')}`;
}

/** UTF-8 length of a string, as the server counts log offsets in bytes. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
