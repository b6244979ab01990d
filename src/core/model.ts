/**
 * The state of the ml-ship panel: jobs, the selected job's versions and runs, server health.
 *
 * Updates come from the server's run-status events (Jupyter event bus); a slow poll (15 s
 * while runs are active, a minute otherwise) only makes up for missed events.
 */
import type { Event } from '@jupyterlab/services';
import { Poll } from '@lumino/polling';
import { Signal, type ISignal } from '@lumino/signaling';

import { ApiError, errorMessage, MlShipClient } from '../api/client';
import {
  isTerminal,
  RUN_STATUS_SCHEMA_ID,
  type IHealthInfo,
  type IJobInfo,
  type IRunInfo,
  type IRunStatusEvent,
  type IVersionInfo
} from '../api/types';
import { EventDrivenModel } from './eventModel';
import { FRONTEND_VERSION } from './version';
import { getTrans } from './i18n';

/** Whether the lab can talk to a server extension of its own version. */
export interface ICompatibility {
  state: 'unknown' | 'ok' | 'missing' | 'mismatch' | 'unreachable';
  message: string;
}

export interface IVersionFocus {
  job: string;
  number: number;
  seq: number;
}

export interface IModelOptions {
  client: MlShipClient;
  /** the server's event bus (`app.serviceManager.events`); polling only when absent */
  events?: Event.IManager | null;
  /** fallback poll while runs are active, in ms (a minute when none is) */
  pollInterval?: number;
  pageSize?: number;
  /**
   * how often to look at the newest runs, in ms (0: never): runs started elsewhere (the CLI,
   * another lab) that end before the server sends any event still show up
   */
  watchInterval?: number;
}

function isRunStatusEvent(emission: Event.Emission): boolean {
  return emission.schema_id === RUN_STATUS_SCHEMA_ID;
}

export class MlShipModel extends EventDrivenModel {
  readonly client: MlShipClient;
  private _jobs: IJobInfo[] = [];
  private _versions: IVersionInfo[] = [];
  private _runs: IRunInfo[] = [];
  private _nextCursor: string | null = null;
  private _selectedJob: string | null = null;
  private _selectedRun: string | null = null;
  private _focusedVersion: IVersionFocus | null = null;
  private _health: IHealthInfo | null = null;
  private _compat: ICompatibility = { state: 'unknown', message: '' };
  private _loadError: string | null = null;
  private _poll: Poll;
  private _pageSize: number;
  private _pollInterval: number;
  private _watch: Poll | null = null;
  private _newest: string | null = null;
  // a failed load is tried again soon (1 s, 2 s, 4 s ... up to the poll interval), not at the
  // next slow poll a minute later: a busy server must not leave the panel empty
  private _retryDelay = 0;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  // changes made here (a ship, a roll back, a run's news), counted: a refresh fetched while one
  // came in may predate it, and is fetched again instead of shown (at most a few times running)
  private _localChanges = 0;
  private _staleRefreshes = 0;

  private _runChanged = new Signal<this, IRunInfo>(this);
  private _runFinished = new Signal<this, IRunInfo>(this);

  constructor(options: IModelOptions) {
    super(options.events ?? null);
    this.client = options.client;
    this._pageSize = options.pageSize ?? 50;
    this._pollInterval = options.pollInterval ?? 15000;
    this._poll = new Poll({
      auto: false,
      factory: () => this.refresh(),
      frequency: { interval: this._slowInterval(), backoff: true, max: 300000 },
      name: 'ml-ship:refresh',
      standby: 'when-hidden'
    });
    if (options.watchInterval) {
      this._watch = new Poll({
        auto: false,
        factory: () => this._lookAtNewest(),
        frequency: { interval: options.watchInterval, backoff: false },
        name: 'ml-ship:newest-runs',
        standby: 'when-hidden'
      });
    }
  }

  /** The newest runs (ids and statuses) changed since the last look: refresh. */
  private async _lookAtNewest(): Promise<void> {
    if (!this._serverAnswers()) {
      return;
    }
    let key: string;
    try {
      const { runs } = await this.client.runs({ limit: 5 });
      key = runs.map(r => `${r.id}:${r.status}`).join(',');
    } catch {
      return;
    }
    const known = this._newest;
    this._newest = key;
    if (known !== null && known !== key) {
      await this.refresh();
    }
  }

  /** One run's info was updated (by an event or an action). */
  get runChanged(): ISignal<this, IRunInfo> {
    return this._runChanged;
  }
  /** A run reached a final status while the lab was watching. */
  get runFinished(): ISignal<this, IRunInfo> {
    return this._runFinished;
  }

  get jobs(): readonly IJobInfo[] {
    return this._jobs;
  }
  get versions(): readonly IVersionInfo[] {
    return this._versions;
  }
  get runs(): readonly IRunInfo[] {
    return this._runs;
  }
  get hasMoreRuns(): boolean {
    return this._nextCursor !== null;
  }
  get selectedJob(): IJobInfo | null {
    return this._jobs.find(j => j.name === this._selectedJob) ?? null;
  }
  get selectedJobName(): string | null {
    return this._selectedJob;
  }
  get selectedRunId(): string | null {
    return this._selectedRun;
  }
  /** The version last asked to be shown (`seq` counts the asks, so the same one twice shows). */
  get focusedVersion(): IVersionFocus | null {
    return this._focusedVersion;
  }
  get health(): IHealthInfo | null {
    return this._health;
  }
  get compatibility(): ICompatibility {
    return this._compat;
  }
  /** The last failure to load the lists, if the last refresh failed. */
  get loadError(): string | null {
    return this._loadError;
  }
  /** Runs loaded per page (a setting). */
  set pageSize(value: number) {
    this._pageSize = Math.max(1, Math.min(1000, value));
  }

  /** Check the server, load everything, and start the fallback poll. */
  async start(): Promise<void> {
    await this.checkHealth();
    // the newest runs are looked at before the first load, so that a run that ends (e.g. from
    // the CLI) after that load is news to the next look; looked at after, it was taken as known
    // and shown only at the next slow poll, a minute or more later
    if (this._watch) {
      await this._lookAtNewest();
    }
    await this._poll.start(); // its first tick, at once, is the first refresh
    await this._watch?.start();
  }

  async checkHealth(): Promise<void> {
    const trans = getTrans();
    try {
      this._health = await this.client.health();
      this._compat =
        this._health.version === FRONTEND_VERSION
          ? { state: 'ok', message: '' }
          : {
              state: 'mismatch',
              message:
                trans.__('The lab extension is version %1 but the server extension is %2. Reinstall jupyter_ml_ship so both match, restart Jupyter and reload this page.', FRONTEND_VERSION, this._health.version)
            };
    } catch (error) {
      this._health = null;
      const missing = error instanceof ApiError && (error.status === 404 || error.status === 0);
      this._compat = missing
        ? {
            state: error.status === 0 ? 'unreachable' : 'missing',
            message:
              error.status === 0
                ? trans.__('The Jupyter server cannot be reached (%1).', errorMessage(error))
                : trans.__('The jupyter_ml_ship server extension is not running. Install jupyter_ml_ship in the environment of the Jupyter server, check that `jupyter server extension list` shows it enabled, then restart Jupyter.')
          }
        : { state: 'missing', message: trans.__('The ml-ship server did not answer: %1', errorMessage(error)) };
    }
    this._emit();
  }

  /** Reload jobs, and the selected job's versions and runs. */
  async refresh(): Promise<void> {
    if (!this._serverAnswers()) {
      await this.checkHealth();
      if (!this._serverAnswers()) {
        this._retrySoon();
        return;
      }
    }
    try {
      const job = this._selectedJob;
      const changes = this._localChanges;
      const [jobs, details] = await Promise.all([
        this.client.jobs(),
        job ? this._loadJob(job) : Promise.resolve(null)
      ]);
      if (changes !== this._localChanges && this._staleRefreshes < 3) {
        this._staleRefreshes++;
        this._scheduleRefresh();
        return;
      }
      this._staleRefreshes = 0;
      this._jobs = jobs;
      if (details && job === this._selectedJob) {
        const before = new Map(this._runs.map(r => [r.id, r]));
        [this._versions, this._runs, this._nextCursor] = details;
        this._announceChanges(before, this._runs);
      }
      this._loadError = null;
      this._retryDelay = 0;
    } catch (error) {
      this._loadError = errorMessage(error);
      this._retrySoon();
    }
    this._updatePollRate();
    this._emit();
  }

  private _retrySoon(): void {
    if (this._retryTimer !== null || this._poll.isDisposed) {
      return;
    }
    this._retryDelay = Math.min(this._retryDelay ? this._retryDelay * 2 : 1000, this._pollInterval);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      void this.refresh();
    }, this._retryDelay);
  }

  /** Tell run views about runs a refresh found changed (an event may have been missed). */
  private _announceChanges(before: Map<string, IRunInfo>, after: readonly IRunInfo[]): void {
    for (const run of after) {
      const previous = before.get(run.id);
      if (previous && JSON.stringify(previous) !== JSON.stringify(run)) {
        this._runChanged.emit(run);
        if (isTerminal(run.status) && !isTerminal(previous.status)) {
          this._runFinished.emit(run);
        }
      }
    }
  }

  private _serverAnswers(): boolean {
    return this._compat.state === 'ok' || this._compat.state === 'mismatch';
  }

  private async _loadJob(
    name: string
  ): Promise<[IVersionInfo[], IRunInfo[], string | null]> {
    const [versions, page] = await Promise.all([
      this.client.versions(name),
      this.client.runs({ job: name, limit: this._pageSize })
    ]);
    return [versions, page.runs, page.next_cursor];
  }

  /** Show a job's versions and runs (null: back to the list of jobs). */
  async selectJob(name: string | null): Promise<void> {
    if (name === this._selectedJob) {
      return;
    }
    this._selectedJob = name;
    this._versions = [];
    this._runs = [];
    this._nextCursor = null;
    this._emit();
    if (name) {
      try {
        const details = await this._loadJob(name);
        if (name === this._selectedJob) {
          [this._versions, this._runs, this._nextCursor] = details;
          this._loadError = null;
        }
      } catch (error) {
        this._loadError = errorMessage(error);
      }
      this._emit();
    }
  }

  /** Show one version of a job: the panel opens its Versions tab there. */
  async focusVersion(job: string, number: number): Promise<void> {
    const seq = (this._focusedVersion?.seq ?? 0) + 1;
    this._focusedVersion = { job, number, seq };
    await this.selectJob(job);
    this._emit();
  }

  selectRun(id: string | null): void {
    if (id !== this._selectedRun) {
      this._selectedRun = id;
      this._emit();
    }
  }

  async loadMoreRuns(): Promise<void> {
    const job = this._selectedJob;
    if (!job || !this._nextCursor) {
      return;
    }
    const page = await this.client.runs({
      job,
      limit: this._pageSize,
      cursor: this._nextCursor
    });
    if (job === this._selectedJob) {
      const known = new Set(this._runs.map(r => r.id));
      this._runs = [...this._runs, ...page.runs.filter(r => !known.has(r.id))];
      this._nextCursor = page.next_cursor;
      this._emit();
    }
  }

  // ---- actions ------------------------------------------------------------------------

  async rollback(job: string, version: number): Promise<IJobInfo> {
    const info = await this.client.rollback(job, version);
    this._upsertJob(info);
    if (job === this._selectedJob) {
      this._versions = this._versions.map(v => ({ ...v, is_current: v.number === version }));
    }
    this._emit();
    return info;
  }

  /** Point an environment at a version (the job's promotion gate decides when it has one);
   * the job and its versions are read again: pointers moved, or a validation run started. */
  async promote(job: string, version: number, to: string): Promise<IVersionInfo> {
    const info = await this.client.promote(job, version, { to });
    const [jobInfo, versions] = await Promise.all([this.client.job(job), this.client.versions(job)]);
    this._upsertJob(jobInfo);
    if (job === this._selectedJob) {
      this._versions = versions;
    }
    this._emit();
    return info;
  }

  async startRun(
    job: string,
    version: number | null,
    parameters: Record<string, unknown>,
    backend?: string | null
  ): Promise<IRunInfo> {
    const run = await this.client.createRun({ job, version, parameters, backend: backend || null });
    this.updateRun(run);
    return run;
  }

  /** Delete an ended run: gone from the lists at once, then everything reloaded. */
  async deleteRun(id: string): Promise<void> {
    await this.client.deleteRun(id);
    this._localChanges++;
    this._runs = this._runs.filter(r => r.id !== id);
    if (this._selectedRun === id) {
      this._selectedRun = null;
    }
    this._emit();
    await this.refresh();
  }

  async cancelRun(id: string): Promise<IRunInfo> {
    const run = await this.client.cancel(id);
    this.updateRun(run);
    return run;
  }

  /** Take a fresher RunInfo into the lists and tell the views. */
  updateRun(run: IRunInfo): void {
    this._localChanges++;
    const previous = this._runs.find(r => r.id === run.id);
    if (run.job === this._selectedJob) {
      this._runs = previous
        ? this._runs.map(r => (r.id === run.id ? run : r))
        : [run, ...this._runs].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    }
    const job = this._jobs.find(j => j.name === run.job);
    if (job && (!job.last_run || job.last_run.id <= run.id)) {
      this._jobs = this._jobs.map(j => (j === job ? { ...j, last_run: run } : j));
    } else if (!job) {
      this._scheduleRefresh();
    }
    const wasActive = previous ? !isTerminal(previous.status) : true;
    this._runChanged.emit(run);
    if (isTerminal(run.status) && wasActive) {
      this._runFinished.emit(run);
    }
    this._updatePollRate();
    this._emit();
  }

  private _upsertJob(info: IJobInfo): void {
    this._localChanges++;
    const index = this._jobs.findIndex(j => j.name === info.name);
    this._jobs =
      index < 0
        ? [...this._jobs, info].sort((a, b) => a.name.localeCompare(b.name))
        : this._jobs.map((j, i) => (i === index ? info : j));
  }

  /** A job was shipped from this lab: show it without waiting for the next refresh. */
  noteShipped(job: IJobInfo, run?: IRunInfo | null): void {
    this._upsertJob(job);
    if (job.name === this._selectedJob) {
      this._scheduleRefresh();
    }
    if (run) {
      this.updateRun(run);
    } else {
      this._emit();
    }
  }

  // ---- events and polling -------------------------------------------------------------

  protected _onEvent(_: Event.IManager, emission: Event.Emission): void {
    if (!isRunStatusEvent(emission)) {
      return;
    }
    const event = emission as unknown as IRunStatusEvent;
    void this.client
      .run(event.run_id)
      .then(run => this.updateRun(run))
      .catch(() => this._scheduleRefresh());
  }

  private _scheduleRefresh(): void {
    this._coalesce(300, () => void this.refresh());
  }

  /** Runs that may still change: fast fallback poll; otherwise a slow one. */
  get hasActiveRuns(): boolean {
    return (
      this._runs.some(r => !isTerminal(r.status)) ||
      this._jobs.some(j => j.last_run !== null && !isTerminal(j.last_run.status))
    );
  }

  private _slowInterval(): number {
    return this.hasActiveRuns || !this._events ? this._pollInterval : this._pollInterval * 4;
  }

  private _updatePollRate(): void {
    if (!this._poll || this._poll.isDisposed) {
      return;
    }
    const interval = this._slowInterval();
    if (this._poll.frequency.interval !== interval) {
      this._poll.frequency = { ...this._poll.frequency, interval };
    }
  }

  dispose(): void {
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
    }
    this._poll.dispose();
    this._watch?.dispose();
    super.dispose();
  }
}
