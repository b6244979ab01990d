/**
 * The TypeScript wire types (src/api/types.ts) against the server's OpenAPI spec, so that a
 * field added, renamed or removed in `jupyter_ml_ship/models/` fails here instead of in the lab.
 *
 * Each `Record<keyof IX, true>` below must list exactly the interface's fields (the compiler
 * checks that), and the test checks that list against the spec's schema properties.
 */
import * as fs from 'fs';
import * as path from 'path';

import type * as T from '../api/types';
import { RUN_STATUSES } from '../api/types';

const SPEC = path.join(__dirname, '..', '..', 'jupyter_ml_ship', 'server', 'openapi.json');

const fields: Record<string, Record<string, true>> = {
  ParameterSpec: { name: true, type: true, default: true, help: true } satisfies Record<keyof T.IParameterSpec, true>,
  RunError: { cell_index: true, ename: true, evalue: true, message: true, cell_number: true, cell_source: true, line: true, traceback: true, hint: true } satisfies Record<keyof T.IRunError, true>,
  RunInfo: {
    id: true, job: true, version: true, backend: true, status: true, parameters: true,
    attempts: true, max_attempts: true, created_at: true, started_at: true, ended_at: true,
    duration: true, error: true, outputs: true, pipeline_run_id: true, step: true, has_output: true,
    notifications: true, started_by: true, health: true, checks: true, spark: true
  } satisfies Record<keyof T.IRunInfo, true>,
  SparkApp: {
    app_id: true, ui_url: true, master: true, app_name: true
  } satisfies Record<keyof T.ISparkApp, true>,
  CheckResult: {
    name: true, rule: true, value: true, baseline: true, bound: true, passed: true, message: true
  } satisfies Record<keyof T.ICheckResult, true>,
  HealthPoint: {
    run_id: true, version: true, at: true, value: true, baseline: true, passed: true
  } satisfies Record<keyof T.IHealthPoint, true>,
  OutputHealth: {
    name: true, rules: true, latest: true, passed: true, failed: true, points: true
  } satisfies Record<keyof T.IOutputHealth, true>,
  HealthCounts: {
    runs: true, succeeded: true, healthy: true, degraded: true, failed: true, active: true
  } satisfies Record<keyof T.IHealthCounts, true>,
  JobHealth: {
    job: true, current_version: true, health: true, latest_run_id: true, failing: true,
    counts: true, outputs: true, limit: true
  } satisfies Record<keyof T.IJobHealth, true>,
  DeliveryInfo: {
    channel: true, target: true, event: true, status: true, attempts: true, error: true,
    sent_at: true, next_attempt_at: true, url: true
  } satisfies Record<keyof T.IDeliveryInfo, true>,
  HistoryRow: {
    id: true, version: true, status: true, backend: true, created_at: true, started_at: true,
    ended_at: true, duration: true, parameters: true, outputs: true, error: true, step: true,
    pipeline_run_id: true, health: true
  } satisfies Record<keyof T.IHistoryRow, true>,
  HistoryColumn: { name: true, numeric: true } satisfies Record<keyof T.IHistoryColumn, true>,
  HistoryVersion: {
    number: true, digest: true, created_at: true, message: true, is_current: true
  } satisfies Record<keyof T.IHistoryVersion, true>,
  RunHistory: {
    job: true, current_version: true, versions: true, parameters: true, outputs: true, runs: true,
    truncated: true
  } satisfies Record<keyof T.IRunHistory, true>,
  StepCell: {
    status: true, duration: true, run_id: true, cached: true, parameters: true, outputs: true
  } satisfies Record<keyof T.IStepCell, true>,
  PipelineHistoryRow: {
    id: true, version: true, status: true, backend: true, created_at: true, started_at: true,
    ended_at: true, duration: true, parameters: true, outputs: true, error: true, step: true,
    pipeline_run_id: true, steps: true, health: true
  } satisfies Record<keyof T.IPipelineHistoryRow, true>,
  StepGroup: { id: true, job: true, parameters: true, outputs: true } satisfies Record<keyof T.IStepGroup, true>,
  PipelineHistory: {
    job: true, current_version: true, versions: true, parameters: true, outputs: true, runs: true,
    truncated: true, step_groups: true
  } satisfies Record<keyof T.IPipelineHistory, true>,
  CompareRow: { name: true, a: true, b: true, same: true } satisfies Record<keyof T.ICompareRow, true>,
  RunComparison: {
    a: true, b: true, parameters: true, outputs: true, duration_a: true, duration_b: true,
    notebook_a: true, notebook_diff: true, notebook_text: true, missing: true
  } satisfies Record<keyof T.IRunComparison, true>,
  VersionInfo: {
    job: true, number: true, digest: true, message: true, author: true, created_at: true,
    parameters: true, environment: true, config: true, source_path: true, is_current: true,
    project: true, promotion: true, promotion_reason: true, validation_run_id: true,
    reference_run_id: true, auto_rollback: true, git: true, environments: true,
    promotion_target: true
  } satisfies Record<keyof T.IVersionInfo, true>,
  GitInfo: {
    commit: true, branch: true, dirty: true, remote: true, url: true
  } satisfies Record<keyof T.IGitInfo, true>,
  AutoRollback: { at: true, to: true, runs: true, reason: true } satisfies Record<keyof T.IAutoRollback, true>,
  ProjectFile: { path: true, size: true, sha256: true } satisfies Record<keyof T.IProjectFile, true>,
  ExcludedFile: { path: true, reason: true } satisfies Record<keyof T.IExcludedFile, true>,
  ProjectSummary: { root: true, notebook: true, files: true, bytes: true } satisfies Record<keyof T.IProjectSummary, true>,
  ProjectPreview: {
    root: true, notebook: true, files: true, bytes: true, largest: true, excluded: true,
    max_files: true, max_bytes: true, error: true, proposed_root: true, proposed_folder: true,
    proposed_reasons: true, may_ship_anyway: true, anyway_max_files: true, anyway_max_bytes: true
  } satisfies Record<keyof T.IProjectPreview, true>,
  NotifyTestRequest: { email: true, webhook: true, job: true } satisfies Record<keyof T.INotifyTestRequest, true>,
  NotifyTestResult: {
    channel: true, target: true, sent: true, error: true
  } satisfies Record<keyof T.INotifyTestResult, true>,
  NotifyTestResponse: { results: true } satisfies Record<keyof T.INotifyTestResponse, true>,
  VersionFiles: { job: true, version: true, project: true, files: true } satisfies Record<keyof T.IVersionFiles, true>,
  FileChange: { path: true, size_a: true, size_b: true } satisfies Record<keyof T.IFileChange, true>,
  VersionDiff: {
    job: true, a: true, b: true, notebook_a: true, notebook_diff: true, notebook_text: true,
    added: true, removed: true, changed: true
  } satisfies Record<keyof T.IVersionDiff, true>,
  FileInput: {
    parameter: true, file: true, path: true, run_id: true, step: true, job: true
  } satisfies Record<keyof T.IFileInput, true>,
  RunFiles: { run_id: true, files: true, not_kept: true, inputs: true } satisfies Record<keyof T.IRunFiles, true>,
  JobInfo: {
    name: true, current_version: true, latest_version: true, created_at: true, updated_at: true,
    source_path: true, last_run: true, schedule: true, next_run: true, schedule_error: true,
    schedule_timezone: true,
    schedule_paused: true,
    owner: true, owners: true, run_by: true, permissions: true, environments: true
  } satisfies Record<keyof T.IJobInfo, true>,
  Permission: { allowed: true, reason: true } satisfies Record<keyof T.IPermission, true>,
  JobPermissions: {
    ship: true, run: true, rollback: true, promote: true, cancel: true, delete: true
  } satisfies Record<keyof T.IJobPermissions, true>,
  AuditEvent: {
    id: true, subject: true, kind: true, actor: true, created_at: true, data: true
  } satisfies Record<keyof T.IAuditEvent, true>,
  AuditTrail: { events: true } satisfies Record<keyof T.IAuditTrail, true>,
  ShipResult: {
    job: true, version: true, created: true, made_current: true, run: true, trigger_token: true
  } satisfies Record<keyof T.IShipResult, true>,
  TriggerInfo: {
    job: true, target: true, kind: true, detail: true, environment: true, last_fired: true,
    last_run_id: true, root: true, parameter: true, revoked: true
  } satisfies Record<keyof T.ITriggerInfo, true>,
  TriggerList: { triggers: true } satisfies Record<keyof T.ITriggerList, true>,
  BackendStatus: { name: true, available: true, reason: true } satisfies Record<keyof T.IBackendStatus, true>,
  AgentInfo: {
    holder: true, host: true, pid: true, since: true, last_tick: true, expires_at: true
  } satisfies Record<keyof T.IAgentInfo, true>,
  ServerHealth: {
    version: true, store: true, backends: true, default_backend: true, agent: true,
    periodic: true, warnings: true, team_mode: true, user: true, environments: true
  } satisfies Record<keyof T.IHealthInfo, true>,
  Visitor: { name: true, groups: true, admin: true } satisfies Record<keyof T.IVisitor, true>,
  JobList: { jobs: true } satisfies Record<keyof T.IJobList, true>,
  VersionList: { versions: true } satisfies Record<keyof T.IVersionList, true>,
  RunList: { runs: true, next_cursor: true } satisfies Record<keyof T.IRunList, true>,
  ErrorBody: { error: true, message: true, steps: true } satisfies Record<keyof T.IErrorBody, true>,
  ShipRequest: {
    path: true, name: true, message: true, parameters: true, backend: true, run: true, config: true,
    ship_anyway: true
  } satisfies Record<keyof T.IShipRequest, true>,
  CreateRunRequest: { job: true, version: true, parameters: true, backend: true, environment: true } satisfies Record<keyof T.ICreateRunRequest, true>,
  RollbackRequest: { version: true } satisfies Record<keyof T.IRollbackRequest, true>,
  PromoteRequest: { force: true, to: true } satisfies Record<keyof T.IPromoteRequest, true>,
  RunStatusEvent: {
    run_id: true, job: true, version: true, status: true, pipeline_run_id: true, step: true,
    attempts: true
  } satisfies Record<keyof T.IRunStatusEvent, true>,
  NotebookInfo: { name: true, parameters: true, config: true } satisfies Record<keyof T.INotebookInfo, true>
};

const hasSpec = fs.existsSync(SPEC);
const describeSpec = hasSpec ? describe : describe.skip;

describeSpec('src/api/types.ts against openapi.json', () => {
  const schemas = hasSpec ? JSON.parse(fs.readFileSync(SPEC, 'utf-8')).components.schemas : {};

  it.each(Object.keys(fields))('%s has the same fields', name => {
    expect(schemas[name]).toBeDefined();
    expect(Object.keys(fields[name]).sort()).toEqual(Object.keys(schemas[name].properties).sort());
  });

  it('knows every run status', () => {
    const status = schemas.RunInfo.properties.status;
    const values: string[] = status.enum ?? schemas[status.$ref?.split('/').pop()]?.enum;
    // the one list the lab's filters use, in the spec's order
    expect([...RUN_STATUSES]).toEqual(values);
  });

  it('knows the log WebSocket messages', () => {
    expect(Object.keys(schemas.LogChunk.properties).sort()).toEqual(['data', 'offset', 'skipped']);
    expect(Object.keys(schemas.LogDone.properties).sort()).toEqual(['done', 'status']);
  });
});
