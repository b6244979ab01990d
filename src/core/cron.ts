/**
 * Schedules as the Ship dialog checks them while the user types: five-field cron (UTC) and
 * Airflow's presets, as `jupyter_ml_ship/cron.py` accepts them, with the next tick for a hint.
 * The server checks again at ship time; what this parser does not know (L, W, #) it leaves to it.
 */
import { getTrans, translated } from './i18n';

export const PRESETS: Record<string, string | null> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
  '@once': null,
  '@continuous': null
};

const NAMES: Record<number, string[]> = {
  3: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  4: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
};
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

export interface ISchedule {
  /** the schedule with its spaces normalised */
  text: string;
  /** the allowed values of each field; null: a schedule only Airflow (or the server) reads */
  fields: Set<number>[] | null;
  /** whether day of month and day of week were both restricted (then either matches) */
  dayOr: boolean;
}

export class CronError extends Error {}

function parseValue(text: string, index: number): number {
  const trans = getTrans();
  const names = NAMES[index];
  const lower = text.toLowerCase();
  if (names && names.includes(lower)) {
    return names.indexOf(lower) + (index === 3 ? 1 : 0);
  }
  if (!/^\d+$/.test(text)) {
    throw new CronError(trans.__('%1: “%2” is not a number', FIELD_NAMES[index], text));
  }
  const value = Number(text);
  const [lo, hi] = RANGES[index];
  if (value < lo || value > hi) {
    throw new CronError(trans.__('%1: %2 is not within %3–%4', FIELD_NAMES[index], value, lo, hi));
  }
  return value;
}

function parseField(text: string, index: number): Set<number> {
  const trans = getTrans();
  const [lo, hi] = RANGES[index];
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') {
      throw new CronError(trans.__('%1: “%2” is not a value, range or step', FIELD_NAMES[index], part));
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(trans.__('%1: the step “%2” is not a positive number', FIELD_NAMES[index], stepText));
      }
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (range === '*') {
      [start, end] = [lo, hi];
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      start = parseValue(a, index);
      end = parseValue(b, index);
      if (end < start) {
        throw new CronError(trans.__('%1: the range %2 runs backwards', FIELD_NAMES[index], range));
      }
    } else {
      start = parseValue(range, index);
      end = stepText !== undefined ? hi : start;
    }
    for (let v = start; v <= end; v += step) {
      values.add(index === 4 && v === 7 ? 0 : v);
    }
  }
  return values;
}

/** A schedule, or a `CronError` saying what is wrong (as the user wrote it). */
export function parseSchedule(value: string): ISchedule {
  const trans = getTrans();
  const parts = value.trim().split(/\s+/).filter(Boolean);
  const text = parts.join(' ');
  if (parts.length === 1 && text.startsWith('@')) {
    if (!(text in PRESETS)) {
      throw new CronError(trans.__('%1 is not one of %2', text, Object.keys(PRESETS).join(', ')));
    }
    const cron = PRESETS[text];
    return cron ? { ...parseSchedule(cron), text } : { text, fields: null, dayOr: false };
  }
  if (parts.length !== 5) {
    throw new CronError(
      trans.__('five fields (minute hour day month weekday, UTC), e.g. “0 6 * * *”; this has %1', parts.length)
    );
  }
  if (parts.some(p => /[LW#?]/i.test(p) && !/^[a-z]+$/i.test(p))) {
    return { text, fields: null, dayOr: false }; // the server's parser knows these
  }
  const fields = parts.map((p, i) => parseField(p, i));
  return { text, fields, dayOr: parts[2] !== '*' && parts[4] !== '*' };
}

/** The first tick strictly after `after` (UTC), within five years; null if none. */
export function nextRun(schedule: ISchedule, after: Date): Date | null {
  const { fields, dayOr } = schedule;
  if (!fields) {
    return null;
  }
  const [minutes, hours, days, months, weekdays] = fields;
  const restrictedDay = days.size !== 31;
  const restrictedWeekday = weekdays.size !== 7;
  const dayMatches = (d: Date) => {
    const dom = days.has(d.getUTCDate());
    const dow = weekdays.has(d.getUTCDay());
    if (dayOr && restrictedDay && restrictedWeekday) {
      return dom || dow;
    }
    return dom && dow;
  };
  const start = new Date(after.getTime());
  start.setUTCSeconds(0, 0);
  start.setUTCMinutes(start.getUTCMinutes() + 1);
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  for (let i = 0; i < 366 * 5; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    if (!months.has(day.getUTCMonth() + 1) || !dayMatches(day)) {
      continue;
    }
    for (let h = 0; h < 24; h++) {
      if (!hours.has(h)) {
        continue;
      }
      for (let m = 0; m < 60; m++) {
        if (!minutes.has(m)) {
          continue;
        }
        const tick = new Date(day.getTime() + (h * 60 + m) * 60000);
        if (tick >= start) {
          return tick;
        }
      }
    }
  }
  return null;
}

/** What the schedule field says under itself: an error, or when it would run next. */
export function scheduleHint(value: string, now: Date = new Date()): { error?: string; hint?: string } {
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
  if (!schedule.fields) {
    return {
      hint: PRESETS[schedule.text] === null ? trans.__('%1: only Airflow runs this', schedule.text) : trans.__('The server checks this one')
    };
  }
  const next = nextRun(schedule, now);
  if (!next) {
    return { error: trans.__('This schedule never runs') };
  }
  const utc = next.toISOString().slice(0, 16).replace('T', ' ');
  return { hint: trans.__('Next run: %1 UTC (%2 here)', utc, next.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })) };
}
