/**
 * Schedules as the Ship dialog checks them while the user types: five-field cron (UTC) and
 * Airflow's presets, as `jupyter_ml_ship/cron.py` accepts them, with the next tick for a hint.
 * The server checks again at ship time; what this parser does not know (L, W, #) it leaves to it.
 */

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
const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

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
  const names = NAMES[index];
  const lower = text.toLowerCase();
  if (names && names.includes(lower)) {
    return names.indexOf(lower) + (index === 3 ? 1 : 0);
  }
  if (!/^\d+$/.test(text)) {
    throw new CronError(`${FIELD_NAMES[index]}: “${text}” is not a number`);
  }
  const value = Number(text);
  const [lo, hi] = RANGES[index];
  if (value < lo || value > hi) {
    throw new CronError(`${FIELD_NAMES[index]}: ${value} is not within ${lo}–${hi}`);
  }
  return value;
}

function parseField(text: string, index: number): Set<number> {
  const [lo, hi] = RANGES[index];
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') {
      throw new CronError(`${FIELD_NAMES[index]}: “${part}” is not a value, range or step`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(`${FIELD_NAMES[index]}: the step “${stepText}” is not a positive number`);
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
        throw new CronError(`${FIELD_NAMES[index]}: the range ${range} runs backwards`);
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
  const parts = value.trim().split(/\s+/).filter(Boolean);
  const text = parts.join(' ');
  if (parts.length === 1 && text.startsWith('@')) {
    if (!(text in PRESETS)) {
      throw new CronError(`${text} is not one of ${Object.keys(PRESETS).join(', ')}`);
    }
    const cron = PRESETS[text];
    return cron ? { ...parseSchedule(cron), text } : { text, fields: null, dayOr: false };
  }
  if (parts.length !== 5) {
    throw new CronError(
      `five fields (minute hour day month weekday, UTC), e.g. “0 6 * * *”; this has ${parts.length}`
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
  if (!value.trim()) {
    return { hint: 'Empty: runs only when started. Cron (UTC), e.g. 0 6 * * *, or @daily' };
  }
  let schedule: ISchedule;
  try {
    schedule = parseSchedule(value);
  } catch (error) {
    return { error: `Not a schedule: ${(error as Error).message}` };
  }
  if (!schedule.fields) {
    return {
      hint: PRESETS[schedule.text] === null ? `${schedule.text}: only Airflow runs this` : 'The server checks this one'
    };
  }
  const next = nextRun(schedule, now);
  if (!next) {
    return { error: 'This schedule never runs' };
  }
  const utc = next.toISOString().slice(0, 16).replace('T', ' ');
  return { hint: `Next run: ${utc} UTC (${next.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} here)` };
}
