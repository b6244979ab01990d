/**
 * Wire types of the pipeline routes and events.
 *
 * They mirror the pydantic models in `jupyter_ml_ship/pipelines/models.py` field by field
 * (snake_case kept: these are the JSON documents as sent); `pipelineTypes.spec.ts` checks
 * them against the server's openapi.json.
 */
import {
  RUN_STATUSES,
  type IDeliveryInfo,
  type IGitInfo,
  type IRunError,
  type IShippedInfo
} from './types';

/** A step's statuses: a run's, plus `pending` (upstream not done) and `starting`. */
export const STEP_STATUSES = ['pending', 'starting', ...RUN_STATUSES] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A pipeline run's statuses (pipelineTypes.spec.ts checks both lists against openapi.json). */
export const PIPELINE_RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled'
] as const;
export type PipelineRunStatus = (typeof PIPELINE_RUN_STATUSES)[number];
/** The ones a pipeline run ends in. */
export const PIPELINE_TERMINAL: ReadonlySet<PipelineRunStatus> = new Set<PipelineRunStatus>([
  'succeeded',
  'failed',
  'cancelled'
]);

/** One step: as declared (in a file or version) and, in a run, how it went. */
export interface IStepInfo {
  id: string;
  job: string;
  /** pinned job version (null: not shipped yet) */
  version: number | null;
  /** the notebook file the step was shipped from */
  notebook: string | null;
  depends_on: string[];
  /** as written (templates) in a version; resolved values in a run */
  parameters: Record<string, unknown>;
  retries: number | null;
  timeout: number | null;
  backend: string | null;
  /** false: the step always runs, never reused */
  cache: boolean;
  /** checks on the step's outputs, over its notebook's */
  checks?: Record<string, unknown> | null;
  /** stop: a degraded run of the step stops the steps after it */
  on_degraded?: 'continue' | 'stop';
  /** the step's spark: (master, executors, cores, memory, conf), over its notebook's */
  spark?: boolean | Record<string, unknown> | null;
  /** outputs the notebook records (null: names computed at run time) */
  declared_outputs: string[] | null;
  /** in a run only */
  status: StepStatus | null;
  /** the step's run (for a cached step: the earlier run whose outputs were reused) */
  run_id: string | null;
  cached: boolean;
  outputs: Record<string, unknown>;
  error: IRunError | null;
  started_at: string | null;
  ended_at: string | null;
  duration: number | null;
}

/** `GET /pipeline-info?path=P`: a pipeline file read and validated, nothing shipped or run. */
export interface IPipelineDescription {
  name: string;
  path: string;
  parameters: Record<string, unknown>;
  steps: IStepInfo[];
}

export interface IPipelineVersionInfo {
  pipeline: string;
  number: number;
  digest: string;
  message: string;
  author: string;
  created_at: string;
  /** pipeline parameters and their defaults */
  parameters: Record<string, unknown>;
  steps: IStepInfo[];
  source_path: string;
  is_current: boolean;
  /** the environments whose pointer is this version (production: the current version) */
  environments?: string[];
  /** git provenance of the pipeline file's folder */
  git?: IGitInfo | null;
}

export interface IPipelineRunInfo {
  id: string;
  pipeline: string;
  version: number;
  status: PipelineRunStatus;
  parameters: Record<string, unknown>;
  backend: string | null;
  parallelism: number;
  use_cache: boolean;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  duration: number | null;
  error: IRunError | null;
  steps: IStepInfo[];
  /** the user who started it ("schedule": a schedule's tick) */
  started_by?: string;
  /** the mails, webhook posts and MLflow logs of its end, and how each went */
  notifications?: IDeliveryInfo[];
}

/** A shipped pipeline (its schedule, if it has one: the Schedules section). */
export type IPipelineInfo = IShippedInfo<IPipelineRunInfo>;

export interface IShipPipelineResult {
  pipeline: IPipelineInfo;
  version: IPipelineVersionInfo;
  /** false when the content was unchanged and the version reused */
  created: boolean;
  /** the secret of the pipeline's new webhook trigger, shown this once */
  trigger_token?: string | null;
}

export interface IPipelineList {
  pipelines: IPipelineInfo[];
}

export interface IPipelineVersionList {
  versions: IPipelineVersionInfo[];
}

export interface IPipelineRunList {
  runs: IPipelineRunInfo[];
  next_cursor: string | null;
}

export interface IShipPipelineRequest {
  /** a *.pipeline.yaml file or a folder of notebooks, relative to the server root */
  path: string;
  message?: string | null;
}

export interface IStartPipelineRunRequest {
  /** default: the current version */
  version?: number | null;
  parameters?: Record<string, unknown> | null;
  /** for steps that name no backend */
  backend?: string | null;
  /** false: re-run steps even when unchanged */
  use_cache?: boolean;
  parallelism?: number | null;
  /** run the version this environment points at (not with version) */
  environment?: string | null;
}

/** Payload of the Jupyter server event emitted when a pipeline run or a step changes. */
export interface IPipelineRunStatusEvent {
  pipeline_run_id: string;
  pipeline: string;
  status: PipelineRunStatus;
  /** status of each step, by step id */
  steps: Record<string, StepStatus>;
}

export const PIPELINE_RUN_STATUS_SCHEMA_ID =
  'https://events.jupyter-ml-ship.org/pipeline-run-status/v1';
