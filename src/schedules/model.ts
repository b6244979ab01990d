/** The Schedules section's model: every job and pipeline schedule, edited in place. */
import { Signal } from '@lumino/signaling';

import type { MlShipClient } from '../api/client';
import { seg } from '../api/client';
import type { RunStatus } from '../api/types';

/** `GET /schedules`: one schedule (jupyter_ml_ship.models.ScheduleInfo). */
export interface IScheduleInfo {
  kind: 'job' | 'pipeline';
  name: string;
  version: number;
  /** the cron that runs, read in `timezone` (as edited, or as shipped) */
  schedule: string;
  backend: string;
  runner: 'ml-ship' | 'airflow';
  next_run: string | null;
  schedule_error?: string | null;
  last_fired?: string | null;
  timezone: string;
  paused: boolean;
  description: string;
  shipped_schedule: string | null;
  edited: boolean;
  edited_by?: string | null;
  edited_at?: string | null;
  last_run_id?: string | null;
  last_run_status?: RunStatus | null;
  last_run_at?: string | null;
}

/** `PATCH /schedules/{kind}/{name}`: what changes (absent: stays). */
export interface IScheduleEdit {
  cron?: string;
  timezone?: string;
  paused?: boolean;
}

export class SchedulesModel {
  readonly changed = new Signal<this, void>(this);
  schedules: IScheduleInfo[] = [];
  loaded = false;
  error = '';
  /** `kind:name` of the schedule being edited */
  editing: string | null = null;
  /** show a job in the panel (its name is a link) */
  openJob: ((name: string) => void) | null = null;

  constructor(readonly client: MlShipClient) {}

  async refresh(): Promise<void> {
    try {
      const answer = await this.client.call<{ schedules: IScheduleInfo[] }>('schedules');
      this.schedules = answer.schedules;
      this.error = '';
    } catch (error) {
      this.error = (error as Error).message;
    }
    this.loaded = true;
    this.changed.emit();
  }

  edit(key: string | null): void {
    this.editing = key;
    this.changed.emit();
  }

  /** Change a schedule; the error's message (the server's) when refused. */
  async update(s: IScheduleInfo, change: IScheduleEdit): Promise<string> {
    try {
      const updated = await this.client.call<IScheduleInfo>(`schedules/${seg(s.kind)}/${seg(s.name)}`, {
        method: 'PATCH',
        body: JSON.stringify(change),
        headers: { 'Content-Type': 'application/json' }
      });
      this.schedules = this.schedules.map(x => (x.kind === s.kind && x.name === s.name ? updated : x));
      this.changed.emit();
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  }
}
