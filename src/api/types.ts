/**
 * Wire types of the ml-ship REST API and server events.
 *
 * They mirror the pydantic models in `jupyter_ml_ship/models/` field by field
 * (snake_case kept on purpose: these are the JSON documents as sent). Dates are ISO 8601
 * strings; `Record<string, unknown>` stands for `dict[str, Any]`.
 */

/** Every run status, in the order a run goes through them (the spec's RunStatus enum; the
 * one list of them: types.spec.ts checks it against openapi.json). */
export const RUN_STATUSES = [
  'queued',
  'building',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'skipped'
] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

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
  /** 0-based index of the failing cell in the output notebook */
  cell_index: number | null;
  ename: string | null;
  evalue: string | null;
  message: string;
  /** 1-based number as in the user's notebook (papermill's cells not counted) */
  cell_number?: number | null;
  cell_source?: string | null;
  /** 1-based line of the failing cell */
  line?: number | null;
  /** the kernel's traceback, ANSI colours kept */
  traceback?: string | null;
  /** how to fix it, when known (e.g. a module outside the shipped folder) */
  hint?: string | null;
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
  /** notifications and MLflow logs (GET /runs/{id} only) */
  notifications?: IDeliveryInfo[];
  /** the user who started it ("schedule": a schedule's tick) */
  started_by?: string;
  /** degraded: it succeeded but a check on its outputs failed */
  health?: RunHealth;
  /** its checks (metadata.ml_ship.checks) as evaluated when it ended */
  checks?: ICheckResult[];
  /** its Spark application (a PySpark job: metadata.ml_ship.spark) */
  spark?: ISparkApp | null;
}

/** The Spark application of a PySpark run. */
export interface ISparkApp {
  /** the application's id on its master */
  app_id: string;
  /** its Spark UI (live while it runs) */
  ui_url: string | null;
  master: string;
  app_name: string;
}

export type RunHealth = 'healthy' | 'degraded';

/** One rule of a run's checks on one output. */
export interface ICheckResult {
  /** the output checked */
  name: string;
  /** min, max, max_drop, max_rise, required, drift, … */
  rule: string;
  value: number | null;
  /** max_drop / max_rise: what the value was compared with */
  baseline: number | null;
  /** the rule's limit */
  bound: number | null;
  passed: boolean;
  message: string;
}

/** One run's value of a checked output. */
export interface IHealthPoint {
  run_id: string;
  version: number;
  at: string | null;
  value: number | null;
  baseline: number | null;
  passed: boolean;
}

/** A checked output over a job's recent runs. */
export interface IOutputHealth {
  name: string;
  /** the current version's checks on it */
  rules: Record<string, unknown>;
  latest: number | null;
  passed: boolean | null;
  failed: number;
  /** oldest first */
  points: IHealthPoint[];
}

export interface IHealthCounts {
  runs: number;
  succeeded: number;
  healthy: number;
  degraded: number;
  failed: number;
  active: number;
}

/** GET /jobs/{name}/health */
export interface IJobHealth {
  job: string;
  current_version: number | null;
  /** of the latest succeeded run (null: none) */
  health: RunHealth | null;
  latest_run_id: string | null;
  /** its failed checks, in words */
  failing: string[];
  counts: IHealthCounts;
  outputs: IOutputHealth[];
  limit: number;
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
  /** the project files shipped with the notebook (null: a lone notebook) */
  project: IProjectSummary | null;
  /**
   * gated promotion (metadata.ml_ship.promote): candidate, validating (its validation run is
   * running), promoted or rejected; null: shipped without promote (current at once)
   */
  promotion: PromotionState | null;
  /** why it was promoted or rejected, or what it waits for */
  promotion_reason: string | null;
  /** the run that validated it (cells tagged test run only there) */
  validation_run_id: string | null;
  /** the run its checks' reference baseline and drift compare with (the validation run, once promoted) */
  reference_run_id: string | null;
  /** rollback_on rolled it back: when, to which version and why */
  auto_rollback: IAutoRollback | null;
  /** git provenance (null: not shipped from a git repository) */
  git?: IGitInfo | null;
  /** the environments (MlShip.environments) whose pointer is this version; production is the current version */
  environments?: string[];
  /** the environment its running validation run promotes it to */
  promotion_target?: string | null;
}

/** Where a version's project folder came from in git. */
export interface IGitInfo {
  /** the commit checked out (HEAD, or the --git-ref) */
  commit: string;
  /** the branch (null: a detached HEAD or a tag) */
  branch: string | null;
  /** files of the project folder differed from the commit: the version is not exactly the commit */
  dirty: boolean;
  /** the remote's URL, credentials stripped */
  remote: string | null;
  /** the commit's page on a GitHub or GitLab remote */
  url: string | null;
}

export type PromotionState = 'candidate' | 'validating' | 'promoted' | 'rejected';

/** rollback_on rolled this version back (it is never rolled back twice, nor back to). */
export interface IAutoRollback {
  at: string;
  /** the version made current instead */
  to: number;
  /** the degraded or failed runs that caused it */
  runs: string[];
  reason: string;
}

// ---- projects: the files a version holds beside its notebook, a run's artifacts ----------

/** One file of a version's project folder (or of a run's artifacts). */
export interface IProjectFile {
  /** relative to the project folder, with '/' separators */
  path: string;
  size: number;
  sha256?: string | null;
}

export interface IExcludedFile {
  path: string;
  /** hidden, __pycache__, .shipignore, metadata.ml_ship.exclude, a link… */
  reason: string;
}

/** What a version holds beside its notebook. */
export interface IProjectSummary {
  /** the project folder as shipped from (server-relative in the lab) */
  root: string;
  /** the notebook's path inside the project folder */
  notebook: string;
  /** number of files (the notebook itself not counted) */
  files: number;
  /** their total size */
  bytes: number;
}

/** `GET /project?path=NB`: what shipping a notebook would take along. */
export interface IProjectPreview extends IProjectSummary {
  /** the largest files, biggest first */
  largest: IProjectFile[];
  /** what was left out and why */
  excluded: IExcludedFile[];
  max_files: number;
  max_bytes: number;
  /** why shipping would be refused, if it would */
  error: string | null;
  /** the folder to ship instead, relative to the notebook's (as `metadata.ml_ship.root`) */
  proposed_root?: string | null;
  /** that folder relative to the server root ('' the root itself) */
  proposed_folder?: string | null;
  /** why: what the notebook reaches outside its folder */
  proposed_reasons?: string[];
  /** over the limits, and this user may ship it anyway (`ship_anyway` in `POST /ship`) */
  may_ship_anyway?: boolean;
  /** the limits of a ship anyway */
  anyway_max_files?: number | null;
  anyway_max_bytes?: number | null;
}

/** `POST /notify/test`: the targets to send a test message to. */
export interface INotifyTestRequest {
  email: string[];
  webhook: string[];
  job?: string | null;
}

/** One target of a test message, and how it went. */
export interface INotifyTestResult {
  channel: 'email' | 'webhook';
  target: string;
  sent: boolean;
  /** why it was not sent (no secret in it) */
  error: string | null;
}

export interface INotifyTestResponse {
  results: INotifyTestResult[];
}

/** `GET /jobs/{name}/versions/{n}/files` */
export interface IVersionFiles {
  job: string;
  version: number;
  project: IProjectSummary | null;
  files: IProjectFile[];
}

export interface IFileChange {
  path: string;
  size_a: number | null;
  size_b: number | null;
}

/** `GET /jobs/{name}/diff?a=N&b=M`: version a against version b. */
export interface IVersionDiff {
  job: string;
  a: number;
  b: number;
  /** version a's notebook (nbdime's diff base) */
  notebook_a: Record<string, unknown>;
  /** nbdime's diff of a's notebook to b's, outputs and metadata ignored */
  notebook_diff: Record<string, unknown>[];
  /** the same diff as text */
  notebook_text: string;
  added: IProjectFile[];
  removed: IProjectFile[];
  changed: IFileChange[];
}

/** A file a pipeline step took from an upstream step's artifacts. */
export interface IFileInput {
  parameter: string;
  /** the artifact's path in the upstream run */
  file: string;
  /** where the step read it */
  path: string;
  run_id: string;
  step: string | null;
  job: string;
}

/** `GET /runs/{id}/files` */
export interface IRunFiles {
  run_id: string;
  /** the files the run created or changed */
  files: IProjectFile[];
  /** artifacts over the size cap, not kept */
  not_kept: IProjectFile[];
  /** files taken from upstream steps */
  inputs: IFileInput[];
}

/** Team mode: whether the current user may do an action, and why not. */
export interface IPermission {
  allowed: boolean;
  reason: string;
}

/** What the current user may do with a job or pipeline (all allowed outside team mode). */
export interface IJobPermissions {
  ship: IPermission;
  run: IPermission;
  rollback: IPermission;
  promote: IPermission;
  cancel: IPermission;
  delete: IPermission;
}

/** One entry of the audit trail (GET /jobs/{name}/audit). */
export interface IAuditEvent {
  id: number;
  /** the job's or pipeline's name */
  subject: string;
  /** ship, current, rollback, run, cancel, delete; pipeline-… */
  kind: string;
  actor: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface IAuditTrail {
  events: IAuditEvent[];
}

/**
 * What a job (`IJobInfo`) and a pipeline (`IPipelineInfo`) say alike; `R` is the type of its
 * last run. The server's `ShippedInfo` (jupyter_ml_ship/models).
 */
export interface IShippedInfo<R> {
  name: string;
  /** who shipped its first version */
  owner?: string;
  /** owner groups (a job's metadata.ml_ship.owners, a pipeline file's owners) */
  owners?: string[];
  /** who may run it: its owners, or the whole team */
  run_by?: 'owners' | 'team';
  /** what the current user may do with it (team mode) */
  permissions?: IJobPermissions;
  current_version: number | null;
  latest_version: number | null;
  created_at: string;
  updated_at: string;
  source_path: string;
  last_run: R | null;
  /** the version each environment points at (production: the current version) */
  environments?: Record<string, number>;
}

export interface IJobInfo extends IShippedInfo<IRunInfo> {
  /** the current version's schedule (cron), as edited in the Schedules section, if it has one */
  schedule: string | null;
  /** the IANA time zone the schedule is read in (UTC unless edited) */
  schedule_timezone?: string;
  /** the schedule is paused (edited in the Schedules section): no next_run */
  schedule_paused?: boolean;
  /** the schedule's next tick */
  next_run: string | null;
  /** why the schedule never fires (a row stored before ship checked that): it starts nothing */
  schedule_error?: string | null;
}

export interface IShipResult {
  job: IJobInfo;
  version: IVersionInfo;
  /** false when the content was unchanged and the version reused */
  created: boolean;
  /** the reused version was not the current one (shipped after a roll back) and now is */
  made_current: boolean;
  run: IRunInfo | null;
  /** the secret of the job's new webhook trigger, shown this once (only its hash is kept) */
  trigger_token?: string | null;
}

/** A job's trigger: runs started by events (metadata.ml_ship.triggers) */
export interface ITriggerInfo {
  /** the job or pipeline it starts (see target) */
  job: string;
  /** what it starts: a job (metadata.ml_ship.triggers) or a pipeline (its file's triggers:) */
  target?: 'job' | 'pipeline';
  kind: 'webhook' | 'files' | 'after';
  /** files: the glob; after: the upstream jobs or pipelines; webhook: 'active' or 'revoked' */
  detail: string;
  environment: string;
  last_fired: string | null;
  last_run_id: string | null;
  root: string | null;
  parameter: string | null;
  revoked: boolean;
}

export interface ITriggerList {
  triggers: ITriggerInfo[];
}

export interface IBackendStatus {
  name: string;
  available: boolean;
  reason: string;
}

/** The `ml-ship agent` holding the store's lease: it does the periodic work. */
export interface IAgentInfo {
  /** host:pid */
  holder: string;
  host: string;
  pid: number;
  since: string;
  last_tick: string | null;
  /** taken over by a waiting agent after this */
  expires_at: string;
}

export interface IHealthInfo {
  version: string;
  /** sqlite or postgresql */
  store: string;
  backends: IBackendStatus[];
  default_backend: string;
  /** the agent doing the periodic work, if any */
  agent: IAgentInfo | null;
  /** who fires schedules, resumes pipelines and reconciles runs now */
  periodic: 'agent' | 'jupyter server' | 'none';
  /** e.g. schedules that nothing would fire */
  warnings: string[];
  /** runs are started by the agent (JupyterHub team mode) */
  team_mode?: boolean;
  /** the environments versions are promoted to, in promotion order (production: the current version) */
  environments?: string[];
  /** team mode: the user asking (null outside team mode) */
  user?: IVisitor | null;
}

/** Team mode: the user of this lab, as JupyterHub identified them. */
export interface IVisitor {
  name: string;
  /** their JupyterHub groups */
  groups: string[];
  /** an ml-ship admin: may do everything */
  admin: boolean;
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
  /** a project folder over the server's limits ships anyway (admins; audited) */
  ship_anyway?: boolean;
}

export interface ICreateRunRequest {
  job: string;
  version?: number | null;
  parameters?: Record<string, unknown> | null;
  backend?: string | null;
  /** run the version this environment points at (not with version) */
  environment?: string | null;
}

export interface IRollbackRequest {
  version: number;
}

/** POST /jobs/{name}/versions/{n}/promote */
export interface IPromoteRequest {
  /** promote a rejected (or still validating) version anyway */
  force?: boolean;
  /** the environment (MlShip.environments) to point at it; default production */
  to?: string;
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

// ---- extras served for the lab (models/lab.py) ------------------------------

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

// ---- run history (models/history.py) and notifications (core/notifications/) ----------------------

/** A notification (mail, webhook) or MLflow log of a run, and how it went. */
export interface IDeliveryInfo {
  channel: 'email' | 'webhook' | 'mlflow';
  /** the addresses, the webhook's secret NAME (never its URL), or MLflow */
  target: string;
  event: string;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  error: string | null;
  sent_at: string | null;
  next_attempt_at: string | null;
  /** MLflow: the run in the tracking server's UI */
  url: string | null;
}

export interface IHistoryRow {
  id: string;
  version: number;
  status: RunStatus;
  backend: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  duration: number | null;
  parameters: Record<string, unknown>;
  outputs: Record<string, unknown>;
  error: string | null;
  step: string | null;
  pipeline_run_id: string | null;
  /** degraded: it succeeded but a check on its outputs failed (null: a pipeline's run) */
  health?: RunHealth | null;
}

export interface IHistoryColumn {
  name: string;
  numeric: boolean;
}

export interface IHistoryVersion {
  number: number;
  digest: string;
  created_at: string;
  message: string;
  is_current: boolean;
}

/** GET /jobs/{name}/history */
export interface IRunHistory {
  job: string;
  current_version: number | null;
  versions: IHistoryVersion[];
  parameters: IHistoryColumn[];
  outputs: IHistoryColumn[];
  runs: IHistoryRow[];
  truncated: boolean;
}

/** One step of one pipeline run, a cell group of the pipeline's runs table. */
export interface IStepCell {
  status: string;
  duration: number | null;
  run_id: string | null;
  cached: boolean;
  parameters: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

export interface IPipelineHistoryRow extends IHistoryRow {
  /** each step of the run, by step id */
  steps: Record<string, IStepCell>;
}

/** A column group of the pipeline's runs table: one step and its columns. */
export interface IStepGroup {
  id: string;
  job: string;
  parameters: IHistoryColumn[];
  outputs: IHistoryColumn[];
}

/** GET /pipelines/{name}/history: `job` is the pipeline; `outputs` are STEP.OUTPUT (the chart) */
export interface IPipelineHistory extends Omit<IRunHistory, 'runs'> {
  runs: IPipelineHistoryRow[];
  step_groups: IStepGroup[];
}

export interface ICompareRow {
  name: string;
  a: unknown;
  b: unknown;
  same: boolean;
}

/** GET /runs/compare?a=&b= */
export interface IRunComparison {
  a: IRunInfo;
  b: IRunInfo;
  parameters: ICompareRow[];
  outputs: ICompareRow[];
  duration_a: number | null;
  duration_b: number | null;
  notebook_a: Record<string, unknown> | null;
  notebook_diff: Record<string, unknown>[];
  notebook_text: string;
  missing: string[];
}
