/** Small display helpers shared by the views. */
import type { IRunInfo, RunStatus } from '../api/types';

export const STATUS_LABELS: Record<RunStatus, string> = {
  queued: 'queued',
  building: 'building',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  timed_out: 'timed out',
  skipped: 'skipped'
};

/** "850 ms", "12 s", "3 min 05 s", "2 h 01 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '—';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h
    ? `${h} h ${String(m).padStart(2, '0')} min`
    : `${m} min ${String(rest).padStart(2, '0')} s`;
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
  if (!iso) {
    return '—';
  }
  const time = Date.parse(iso);
  if (Number.isNaN(time)) {
    return iso;
  }
  const s = Math.round((now - time) / 1000);
  if (s < 45) {
    return 'just now';
  }
  if (s < 3600) {
    return `${Math.round(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.round(s / 3600)} h ago`;
  }
  return new Date(time).toLocaleDateString();
}

/** Full local date and time, for tooltips. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toLocaleString();
}

/** A value as one short line (outputs and parameters in lists). */
export function formatValue(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function shortId(id: string): string {
  return id.slice(-6);
}
