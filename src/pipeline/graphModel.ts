/**
 * The state behind one graph view: a pipeline file's validated graph and, once one is shown,
 * a pipeline run whose step statuses update live from the server's pipeline-run-status
 * events (a slow poll only makes up for missed events).
 */
import type { Event } from '@jupyterlab/services';
import { Signal, type ISignal } from '@lumino/signaling';

import { ApiError, errorMessage } from '../api/client';
import { showTriggerToken } from '../components/JobTriggers';
import { PipelineDoc, pipelineIssues, stepsInMessage, type IPipelineIssue } from './pipelineDoc';

/** The steps a file says, as far as they can be drawn (edges to unknown steps left out). */
/**
 * The steps drawn from the file with the statuses of a run (the last one): a step the run had
 * (same id) shows how it went there, a new step shows "not run". Edit mode draws these.
 */
export function withRunStatuses(
  drawn: readonly IStepInfo[],
  run: { steps: readonly IStepInfo[] } | null | undefined
): IStepInfo[] {
  const ran = new Map((run?.steps ?? []).map(s => [s.id, s]));
  return drawn.map(step => {
    const had = ran.get(step.id);
    return had
      ? {
          ...step,
          status: had.status,
          run_id: had.run_id,
          cached: had.cached,
          outputs: had.outputs,
          error: had.error,
          started_at: had.started_at,
          ended_at: had.ended_at,
          duration: had.duration,
          version: step.job === had.job ? had.version : step.version
        }
      : step;
  });
}

export function drawnFromSource(text: string): IStepInfo[] {
  const steps = new PipelineDoc(text).steps;
  const ids = new Set(steps.map(s => s.id));
  return steps.map(s => ({
    id: s.id,
    job: s.job ?? '',
    version: null,
    notebook: s.notebook,
    depends_on: s.depends_on.filter(d => ids.has(d) && d !== s.id),
    parameters: s.parameters,
    retries: typeof s.retries === 'number' ? s.retries : null,
    timeout: typeof s.timeout === 'number' ? s.timeout : null,
    backend: s.backend,
    cache: true,
    declared_outputs: null,
    status: null,
    run_id: null,
    cached: false,
    outputs: {},
    error: null,
    started_at: null,
    ended_at: null,
    duration: null
  }));
}
import { deliveriesDue } from '../core/deliveries';
import { EventDrivenModel } from '../core/eventModel';
import {
  PIPELINE_RUN_STATUS_SCHEMA_ID,
  type IPipelineDescription,
  type IPipelineInfo,
  type IPipelineRunInfo,
  type IPipelineRunStatusEvent,
  type IStepInfo
} from '../api/pipelines';
import { RUN_STATUS_SCHEMA_ID, type IJobPermissions, type IRunStatusEvent } from '../api/types';
import type { PipelineApi } from './api';
import { applyStatusEvent, cycleInMessage, cycleSteps, isPipelineDone } from './status';
import { getTrans } from '../core/i18n';

export interface IGraphModelOptions {
  api: PipelineApi;
  /** the server's event bus; without it the run is polled every 2 s */
  events?: Event.IManager | null;
  /** a pipeline file, relative to the server root */
  path?: string | null;
  /** fallback poll of an active run, in ms */
  pollInterval?: number;
}

export interface IRunChoices {
  parameters: Record<string, unknown>;
  backend?: string | null;
  useCache?: boolean;
}

export class PipelineGraphModel extends EventDrivenModel {
  readonly api: PipelineApi;
  private _path: string | null;
  private _description: IPipelineDescription | null = null;
  /** an invalid file's steps as written (from the 400 body), drawn next to the message */
  private _drawn: IStepInfo[] | null = null;
  private _invalid: string | null = null;
  private _run: IPipelineRunInfo | null = null;
  private _lastRun: IPipelineRunInfo | null = null;
  /** the shipped pipeline of the file or run shown (null: never shipped) */
  private _pipeline: IPipelineInfo | null = null;
  private _problem: string | null = null;
  private _loading = false;
  private _busy = false;
  private _pollInterval: number;
  private _pollTimer: ReturnType<typeof setInterval> | null = null;
  private _runEnded = new Signal<this, IPipelineRunInfo>(this);
  private _source: string | null = null;
  private _issues: IPipelineIssue[] = [];

  constructor(options: IGraphModelOptions) {
    super(options.events ?? null);
    this.api = options.api;
    this._path = options.path ?? null;
    this._pollInterval = options.pollInterval ?? (this._events ? 10000 : 2000);
  }

  /** The shown run reached a final status while it was watched. */
  get runEnded(): ISignal<this, IPipelineRunInfo> {
    return this._runEnded;
  }
  get path(): string | null {
    return this._path;
  }
  set path(value: string | null) {
    this._path = value;
  }
  get description(): IPipelineDescription | null {
    return this._description;
  }
  /** Why the file is not a valid pipeline (the server's message, with line and column). */
  get invalid(): string | null {
    return this._invalid;
  }
  /** The file's text as the editor holds it: checked at once, for every problem. */
  get source(): string | null {
    return this._source;
  }
  set source(text: string | null) {
    if (text === this._source) {
      return;
    }
    this._source = text;
    this._issues = text === null ? [] : pipelineIssues(text);
    this._emit();
  }
  /** Every problem: the server's validation message first, then what the file check found. */
  get issues(): IPipelineIssue[] {
    const all: IPipelineIssue[] = [];
    if (this._invalid !== null) {
      all.push({ step: stepsInMessage(this._invalid)[0] ?? null, message: this._invalid });
    }
    for (const issue of this._issues) {
      if (!this._invalid || !this._invalid.includes(issue.message.replace(/^steps\.[^:]+: /, ''))) {
        all.push(issue);
      }
    }
    return all;
  }
  /** Steps with a problem (highlighted in the graph). */
  get badSteps(): Set<string> {
    const bad = new Set(this._issues.map(i => i.step).filter((s): s is string => !!s));
    for (const id of this._invalid ? stepsInMessage(this._invalid) : []) {
      bad.add(id);
    }
    for (const step of this.cycle ?? []) {
      bad.add(step.id);
    }
    return bad;
  }
  /** The run shown, if any. */
  get run(): IPipelineRunInfo | null {
    return this._run;
  }
  /** The pipeline's latest run, when the file's pipeline has been run before. */
  /** The shipped pipeline of the file or run shown (null: never shipped). */
  get pipelineInfo(): IPipelineInfo | null {
    return this._pipeline;
  }
  get lastRun(): IPipelineRunInfo | null {
    return this._lastRun;
  }
  /** Team mode: what the user may do with the shipped pipeline (undefined: anything). */
  get permissions(): IJobPermissions | undefined {
    return this._pipeline?.permissions;
  }
  /** A failure to load or act (not a validation error). */
  get problem(): string | null {
    return this._problem;
  }
  get loading(): boolean {
    return this._loading;
  }
  /** Shipping or starting a run. */
  get busy(): boolean {
    return this._busy;
  }
  get name(): string | null {
    return this._run?.pipeline ?? this._description?.name ?? null;
  }
  /** The steps drawn: the run's (with statuses), else the file's. */
  get steps(): readonly IStepInfo[] {
    if (this._run) {
      return this._run.steps;
    }
    if (this._invalid !== null) {
      return this._drawn ?? (this._source !== null ? drawnFromSource(this._source) : []);
    }
    return this._description?.steps ?? [];
  }
  /** The steps of a dependency cycle the validation message names, to draw the loop. */
  get cycle(): IStepInfo[] | null {
    // the server's message, else the file check's (it answers first, as the file is typed)
    for (const message of [this._invalid, ...this._issues.map(i => i.message)]) {
      const names = message ? cycleInMessage(message) : null;
      if (names) {
        return cycleSteps(names);
      }
    }
    return null;
  }
  /** Read and validate the file (after opening it and after every save). */
  async loadFile(): Promise<void> {
    if (!this._path) {
      return;
    }
    this._loading = true;
    this._emit();
    try {
      this._description = await this.api.describe(this._path);
      this._drawn = null;
      this._invalid = null;
      this._problem = null;
      void this._loadLastRun(this._description.name);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        this._description = null; // what was valid before is not what the file says now
        this._drawn = (error.steps as IStepInfo[] | null) ?? null;
        this._invalid = error.message;
        this._problem = null;
      } else {
        this._problem = errorMessage(error);
      }
    }
    this._loading = false;
    this._emit();
  }

  private async _loadLastRun(name: string): Promise<void> {
    try {
      // the list, not GET /pipelines/{name}: a pipeline never shipped is no error
      const shipped = (await this.api.pipelines()).find(p => p.name === name);
      this._lastRun = shipped?.last_run ?? null;
      this._pipeline = shipped ?? null;
    } catch {
      this._lastRun = null;
      this._pipeline = null;
    }
    this._emit();
  }

  private async _loadPipeline(name: string): Promise<void> {
    try {
      this._pipeline = await this.api.pipeline(name);
    } catch {
      this._pipeline = null;
    }
    this._emit();
  }

  /** Show a run by id (the side panel, a restored tab). */
  async loadRun(id: string): Promise<void> {
    this._loading = true;
    this._emit();
    try {
      const run = await this.api.run(id);
      this.showRun(run);
      void this._loadPipeline(run.pipeline);
    } catch (error) {
      this._problem = errorMessage(error);
    }
    this._loading = false;
    this._emit();
  }

  /** Show this run's live statuses on the graph. */
  showRun(run: IPipelineRunInfo): void {
    const previous = this._run;
    this._run = run;
    this._problem = null;
    if (this._lastRun && this._lastRun.id <= run.id) {
      this._lastRun = run;
    }
    if (
      previous &&
      previous.id === run.id &&
      !isPipelineDone(previous.status) &&
      isPipelineDone(run.status)
    ) {
      this._runEnded.emit(run);
    }
    this._updatePoll();
    this._emit();
  }

  /** Back to the file's own graph (no run). */
  showFile(): void {
    this._run = null;
    this._updatePoll();
    this._emit();
  }

  /** Ship the file (notebooks and pipeline), then start a run of that version and show it. */
  async start(choices: IRunChoices): Promise<IPipelineRunInfo> {
    const trans = getTrans();
    if (!this._path) {
      throw new Error(trans.__('This view shows no pipeline file to run.'));
    }
    this._busy = true;
    this._emit();
    try {
      const shipped = await this.api.ship({ path: this._path });
      this._pipeline = shipped.pipeline;
      if (shipped.trigger_token) {
        // the file's webhook was made by this ship: its URL is shown this once
        void showTriggerToken(shipped.pipeline.name, shipped.trigger_token);
      }
      const run = await this.api.startRun(shipped.pipeline.name, {
        version: shipped.version.number,
        parameters: choices.parameters,
        backend: choices.backend || null,
        use_cache: choices.useCache ?? true
      });
      this.showRun(run);
      return run;
    } finally {
      this._busy = false;
      this._emit();
    }
  }

  async cancel(): Promise<void> {
    if (!this._run) {
      return;
    }
    this.showRun(await this.api.cancel(this._run.id));
  }

  /** Ask the server for the shown run now. */
  async refreshRun(): Promise<void> {
    const id = this._run?.id;
    if (!id) {
      return;
    }
    try {
      const run = await this.api.run(id);
      if (this._run?.id === id && !this.isDisposed) {
        this.showRun(run);
      }
    } catch (error) {
      this._problem = errorMessage(error);
      this._emit();
    }
  }

  // ---- events and polling ---------------------------------------------------------------

  protected _onEvent(_: Event.IManager, emission: Event.Emission): void {
    const run = this._run;
    if (!run) {
      return;
    }
    if (emission.schema_id === PIPELINE_RUN_STATUS_SCHEMA_ID) {
      const event = emission as unknown as IPipelineRunStatusEvent;
      if (event.pipeline_run_id !== run.id) {
        return;
      }
      const updated = applyStatusEvent(run, event);
      if (updated !== run) {
        this.showRun(updated);
      }
      this._scheduleFetch(); // run ids, outputs and times come with the full run
    } else if (emission.schema_id === RUN_STATUS_SCHEMA_ID) {
      const event = emission as unknown as IRunStatusEvent;
      if (event.pipeline_run_id === run.id) {
        this._scheduleFetch();
      }
    }
  }

  private _scheduleFetch(): void {
    this._coalesce(200, () => void this.refreshRun());
  }

  private _updatePoll(): void {
    const run = this._run;
    // a finished run is still asked while its notifications may change
    const active =
      !!run &&
      !this.isDisposed &&
      (!isPipelineDone(run.status) ||
        deliveriesDue(run.notifications, true, run.ended_at));
    if (active && this._pollTimer === null) {
      this._pollTimer = setInterval(() => void this.refreshRun(), this._pollInterval);
    } else if (!active && this._pollTimer !== null) {
      clearInterval(this._pollTimer);
      this._pollTimer = null;
    }
  }

  dispose(): void {
    super.dispose();
    this._updatePoll(); // disposed: stops the poll
  }
}
