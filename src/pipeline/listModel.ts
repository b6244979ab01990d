/**
 * Pipelines for the side panel: every shipped pipeline with its last run, and the recent runs
 * of the one opened in the list. Refreshed on pipeline-run-status events, else slowly polled.
 */
import type { Event } from '@jupyterlab/services';
import { Poll } from '@lumino/polling';

import { errorMessage } from '../api/client';
import { EventDrivenModel } from '../core/eventModel';
import {
  PIPELINE_RUN_STATUS_SCHEMA_ID,
  type IPipelineInfo,
  type IPipelineRunInfo,
  type IPipelineVersionInfo
} from '../api/pipelines';
import type { PipelineApi } from './api';
import { isPipelineDone } from './status';

export const RECENT_RUNS = 8;

export class PipelineListModel extends EventDrivenModel {
  private _pipelines: IPipelineInfo[] = [];
  private _expanded: string | null = null;
  private _runs: IPipelineRunInfo[] = [];
  private _error: string | null = null;
  private _loaded = false;
  private _poll: Poll;
  /** per pipeline: its versions (newest first), fetched again when its version pointers move */
  private _versions = new Map<string, { key: string; versions: IPipelineVersionInfo[] }>();

  constructor(
    readonly api: PipelineApi,
    events: Event.IManager | null,
    private readonly _interval = 15000
  ) {
    super(events);
    this._poll = new Poll({
      auto: false,
      factory: () => this.refresh(),
      frequency: { interval: this._interval * 4, backoff: true, max: 300000 },
      name: 'ml-ship:pipelines',
      standby: 'when-hidden'
    });
  }

  get pipelines(): readonly IPipelineInfo[] {
    return this._pipelines;
  }
  /** The pipeline whose runs are listed. */
  get expanded(): string | null {
    return this._expanded;
  }
  /** Recent runs of the expanded pipeline, newest first. */
  get runs(): readonly IPipelineRunInfo[] {
    return this._runs;
  }
  /** Versions of a pipeline, newest first (empty until fetched). */
  versionsOf(name: string): readonly IPipelineVersionInfo[] {
    return this._versions.get(name)?.versions ?? [];
  }
  /** pipeline → the jobs of its current version's steps, to group jobs under their pipeline */
  get stepJobs(): ReadonlyMap<string, readonly string[]> {
    const map = new Map<string, string[]>();
    for (const p of this._pipelines) {
      const current = this.versionsOf(p.name).find(v => v.number === p.current_version);
      if (current) {
        map.set(p.name, current.steps.map(s => s.job));
      }
    }
    return map;
  }
  /** Make a version of a pipeline current; the list is refreshed. */
  async rollback(name: string, version: number): Promise<void> {
    await this.api.rollback(name, version);
    await this.refresh();
  }
  get error(): string | null {
    return this._error;
  }
  get loaded(): boolean {
    return this._loaded;
  }
  get hasActiveRuns(): boolean {
    return (
      this._pipelines.some(p => p.last_run && !isPipelineDone(p.last_run.status)) ||
      this._runs.some(r => !isPipelineDone(r.status))
    );
  }

  async start(): Promise<void> {
    await this._poll.start();
  }

  async refresh(): Promise<void> {
    const name = this._expanded;
    try {
      const [pipelines, runs] = await Promise.all([
        this.api.pipelines(),
        name ? this.api.runsOf(name, { limit: RECENT_RUNS }) : Promise.resolve(null)
      ]);
      this._pipelines = pipelines;
      await Promise.all(
        pipelines.map(async p => {
          const key = `${p.current_version}:${p.latest_version}`;
          if (this._versions.get(p.name)?.key !== key) {
            // the versions only group jobs and list roll backs: the list shows without them
            const versions = await this.api.versions(p.name).catch(() => null);
            if (versions) {
              this._versions.set(p.name, { key, versions });
            }
          }
        })
      );
      if (runs && name === this._expanded) {
        this._runs = runs.runs;
      }
      this._error = null;
    } catch (error) {
      this._error = errorMessage(error);
    }
    this._loaded = true;
    const interval = this.hasActiveRuns ? this._interval : this._interval * 4;
    if (!this._poll.isDisposed && this._poll.frequency.interval !== interval) {
      this._poll.frequency = { ...this._poll.frequency, interval };
    }
    this._emit();
  }

  /** List a pipeline's recent runs (again: close the list). */
  async toggle(name: string): Promise<void> {
    this._expanded = this._expanded === name ? null : name;
    this._runs = [];
    this._emit();
    if (this._expanded) {
      await this.refresh();
    }
  }

  protected _onEvent(_: Event.IManager, emission: Event.Emission): void {
    if (emission.schema_id === PIPELINE_RUN_STATUS_SCHEMA_ID) {
      this._scheduleRefresh();
    }
  }

  private _scheduleRefresh(): void {
    this._coalesce(500, () => void this.refresh());
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }
}
