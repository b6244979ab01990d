/**
 * Schedules as the Ship dialog checks them while the user types: five-field cron and Airflow's
 * presets, as `jupyter_ml_ship/cron.py` accepts them, with the next tick and the schedule in
 * words for a hint. Parsed and computed by croner, said by cronstrue (src/schedules/cronlib.ts);
 * the server checks again at ship time.
 */
import { cronOf, describeSchedule, nextRuns, PRESET_CRONS } from '../schedules/cronlib';
import { getTrans, translated } from './i18n';

export const PRESETS: Record<string, string | null> = PRESET_CRONS;

export interface ISchedule {
  /** the schedule with its spaces normalised */
  text: string;
  /** its cron (a preset's); null: a schedule only Airflow reads (@once, @continuous) */
  cron: string | null;
}

export class CronError extends Error {}

const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7]
];
const FIELD_NAMES = translated(trans => [
  trans.__('minute'),
  trans.__('hour'),
  trans.__('day of month'),
  trans.__('month'),
  trans.__('day of week')
]);

/** A schedule, or a `CronError` saying what is wrong (croner's words). */
export function parseSchedule(value: string): ISchedule {
  const trans = getTrans();
  const parts = value.trim().split(/\s+/).filter(Boolean);
  const text = parts.join(' ');
  if (parts.length === 1 && text.startsWith('@')) {
    if (!(text in PRESETS)) {
      throw new CronError(trans.__('%1 is not one of %2', text, Object.keys(PRESETS).join(', ')));
    }
    return { text, cron: cronOf(text) };
  }
  if (parts.length !== 5) {
    throw new CronError(
      trans.__('five fields (minute hour day month weekday, UTC), e.g. “0 6 * * *”; this has %1', parts.length)
    );
  }
  // a number out of its field's range, said as before (croner counts days and months from 0)
  parts.forEach((part, i) => {
    const [lo, hi] = RANGES[i];
    for (const item of part.split(',')) {
      for (const value of item.split('/')[0].split('-')) {
        if (/^\d+$/.test(value) && (+value < lo || +value > hi)) {
          throw new CronError(trans.__('%1: %2 is not within %3–%4', FIELD_NAMES[i], +value, lo, hi));
        }
      }
    }
  });
  try {
    nextRuns(text, 'UTC', new Date(), 1, true);
  } catch (error) {
    throw new CronError((error as Error).message.replace(/^CronPattern: /, ''));
  }
  return { text, cron: text };
}

/** The first tick strictly after `after` (in `zone`, UTC by default); null if none. */
export function nextRun(schedule: ISchedule, after: Date, zone = 'UTC'): Date | null {
  if (!schedule.cron) {
    return null;
  }
  return nextRuns(schedule.cron, zone, after, 1)[0] ?? null;
}

/** What the schedule field says under itself: an error, or when it would run next. */
export function scheduleHint(
  value: string,
  now: Date = new Date(),
  zone = 'UTC'
): { error?: string; hint?: string } {
  const trans = getTrans();
  if (!value.trim()) {
    return { hint: trans.__('Empty: runs only when started. Cron (UTC), e.g. 0 6 * * *, or @daily') };
  }
  let schedule: ISchedule;
  try {
    schedule = parseSchedule(value);
  } catch (error) {
    return { error: trans.__('Not a schedule: %1', (error as Error).message) };
  }
  if (!schedule.cron) {
    return { hint: trans.__('%1: only Airflow runs this', schedule.text) };
  }
  const next = nextRun(schedule, now, zone);
  if (!next) {
    return { error: trans.__('This schedule never runs') };
  }
  const utc = next.toISOString().slice(0, 16).replace('T', ' ');
  const words = describeSchedule(schedule.text);
  return {
    hint:
      trans.__('Next run: %1 UTC (%2 here)', utc, next.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })) +
      (words ? ` · ${words}` : '')
  };
}
