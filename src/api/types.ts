/**
 * Wire types of the ml-ship REST API and server events.
 *
 * They mirror the pydantic models in `jupyter_ml_ship/core/models.py` field by field
 * (snake_case kept on purpose: these are the JSON documents as sent). Dates are ISO 8601
 * strings; `Record<string, unknown>` stands for `dict[str, Any]`.
 */

export type RunStatus =
  | 'queued'
  | 'building'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'timed_out'
  | 'skipped';

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'skipped'
]);

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** One notebook parameter, as papermill's `inspect_notebook` reports it. */
export interface IParameterSpec {
  name: string;
  /** inferred type name: int, float, str, bool, list, dict, None or '' */
  type: string;
  /** the default as written in the parameters cell (a Python expression) */
  default: string | null;
  help: string;
}

export interface IRunError {
  cell_index: number | null;
  ename: string | null;
  evalue: string | null;
  message: string;
}

export interface IRunInfo {
  id: string;
  job: string;
  version: number;
  backend: string;
  status: RunStatus;
  parameters: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  /** seconds from start to end (or to now) */
  duration: number | null;
  error: IRunError | null;
  outputs: Record<string, unknown>;
  pipeline_run_id: string | null;
  step: string | null;
  has_output: boolean;
}

export interface IVersionInfo {
  job: string;
  number: number;
  digest: string;
  message: string;
  author: string;
  created_at: string;
  parameters: IParameterSpec[];
  /** the requirements lock of this version */
  environment: string;
  /** metadata.ml_ship of the shipped notebook */
  config: Record<string, unknown>;
  source_path: string;
  is_current: boolean;
}

export interface IJobInfo {
  name: string;
  current_version: number | null;
  latest_version: number | null;
  created_at: string;
  updated_at: string;
  source_path: string;
  last_run: IRunInfo | null;
  /** the current version's schedule (cron, UTC), if it has one */
  schedule: string | null;
  /** the schedule's next tick */
  next_run: string | null;
}

export interface IShipResult {
  job: IJobInfo;
  version: IVersionInfo;
  /** false when the content was unchanged and the version reused */
  created: boolean;
  run: IRunInfo | null;
}

export interface IBackendStatus {
  name: string;
  available: boolean;
  reason: string;
}

export interface IHealthInfo {
  version: string;
  /** sqlite or postgresql */
  store: string;
  backends: IBackendStatus[];
  default_backend: string;
}

export interface IJobList {
  jobs: IJobInfo[];
}

export interface IVersionList {
  versions: IVersionInfo[];
}

export interface IRunList {
  runs: IRunInfo[];
  next_cursor: string | null;
}

export interface IErrorBody {
  /** a stable machine code: bad_request, not_found, conflict, too_large, unavailable */
  error: string;
  message: string;
  /** /pipeline-info only: the steps as the file writes them (IStepInfo), when it parses but
   * does not validate, to draw next to the message */
  steps?: Record<string, unknown>[] | null;
}

// ---- requests ------------------------------------------------------------------------

export interface IShipRequest {
  /** notebook path relative to the server root */
  path: string;
  name?: string | null;
  message?: string | null;
  parameters?: Record<string, unknown> | null;
  backend?: string | null;
  run?: boolean;
  /** overrides merged into metadata.ml_ship before shipping */
  config?: Record<string, unknown> | null;
}

export interface ICreateRunRequest {
  job: string;
  version?: number | null;
  parameters?: Record<string, unknown> | null;
  backend?: string | null;
}

export interface IRollbackRequest {
  version: number;
}

/** Payload of the Jupyter server event emitted on every run status change. */
export interface IRunStatusEvent {
  run_id: string;
  job: string;
  version: number;
  status: RunStatus;
  pipeline_run_id: string | null;
  step: string | null;
  /** attempts begun so far (a retry: same status, one more attempt) */
  attempts?: number;
}

export const RUN_STATUS_SCHEMA_ID =
  'https://events.jupyter-ml-ship.org/run-status/v1';

// ---- extras served for the lab (not in core/models.py) ------------------------------

/** `GET /notebook-info?path=P`: what the ship dialog needs to know about a notebook. */
export interface INotebookInfo {
  /** suggested job name */
  name: string;
  parameters: IParameterSpec[];
  /** the notebook's metadata.ml_ship */
  config: Record<string, unknown>;
}

/** A message of the log WebSocket `/runs/{id}/logs/ws?offset=N`. */
export type LogMessage =
  | { offset: number; data: string; skipped?: number }
  | { done: true; status: RunStatus }
  | IErrorBody;

/** The `metadata.ml_ship` keys the ship dialog reads and writes. */
export interface IShipConfig {
  name?: string;
  backend?: string;
  resources?: { cpu?: number | string; memory?: string; gpu?: number };
  timeout?: number;
  retries?: number;
  [key: string]: unknown;
}
