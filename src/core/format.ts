/** Small display helpers shared by the views. */
import type { IRunInfo, RunStatus } from '../api/types';
import { dateLocale, getTrans, translated } from './i18n';

export const STATUS_LABELS: Record<RunStatus, string> = translated(trans => ({
  queued: trans.__('queued'),
  building: trans.__('building'),
  running: trans.__('running'),
  succeeded: trans.__('succeeded'),
  failed: trans.__('failed'),
  cancelled: trans.__('cancelled'),
  timed_out: trans.__('timed out'),
  skipped: trans.__('skipped')
}));

/** "850 ms", "12 s", "3 min 05 s", "2 h 01 min". */
export function formatDuration(seconds: number | null | undefined): string {
  const trans = getTrans();
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '—';
  }
  if (seconds < 1) {
    return trans.__('%1 ms', Math.round(seconds * 1000));
  }
  if (seconds < 60) {
    return trans.__('%1 s', seconds < 10 ? seconds.toFixed(1) : Math.round(seconds));
  }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h
    ? trans.__('%1 h %2 min', h, String(m).padStart(2, '0'))
    : trans.__('%1 min %2 s', m, String(rest).padStart(2, '0'));
}

/** Seconds a run has taken so far (or in all), from the server's duration or its times. */
export function runDuration(run: IRunInfo, now = Date.now()): number | null {
  if (run.started_at && !run.ended_at) {
    return (now - Date.parse(run.started_at)) / 1000;
  }
  return run.duration;
}

/** "just now", "5 min ago", "3 h ago", or the date for older times. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  const trans = getTrans();
  if (!iso) {
    return '—';
  }
  const time = Date.parse(iso);
  if (Number.isNaN(time)) {
    return iso;
  }
  const s = Math.round((now - time) / 1000);
  if (s < 45) {
    return trans.__('just now');
  }
  if (s < 3600) {
    return trans.__('%1 min ago', Math.round(s / 60));
  }
  if (s < 86400) {
    return trans.__('%1 h ago', Math.round(s / 3600));
  }
  return new Date(time).toLocaleDateString(dateLocale());
}

/** Full local date and time, for tooltips. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toLocaleString(dateLocale());
}

/** A value as one short line (outputs and parameters in lists). */
export function formatValue(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function shortId(id: string): string {
  return id.slice(-6);
}
