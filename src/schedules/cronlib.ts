/**
 * Schedules in the lab, by the libraries made for them: croner computes the next ticks of a cron
 * in an IANA time zone (daylight saving included, as croniter does on the server), cronstrue says
 * a cron in words (English or French). The friendly builder (every day at, every N hours,
 * weekdays at, weekly on…) writes the five-field cron the server stores, and reads back the
 * ones it wrote, so an edit opens on the form it was made with.
 */
import { Cron } from 'croner';
import cronstrue from 'cronstrue/i18n';

import { getTrans, labLanguage } from '../core/i18n';

/** Airflow's presets and their cron form (as `jupyter_ml_ship/cron.py`); null: Airflow only */
export const PRESET_CRONS: Record<string, string | null> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
  '@once': null,
  '@continuous': null
};

/** Time zones offered first in the picker (any IANA name may be typed). */
export const COMMON_ZONES = [
  'UTC',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Sydney'
];

/** The cron of a schedule (a preset's), null for @once / @continuous. */
export function cronOf(schedule: string): string | null {
  const text = schedule.trim().split(/\s+/).join(' ');
  return text in PRESET_CRONS ? PRESET_CRONS[text] : text;
}

/** Whether `zone` is an IANA time zone this browser knows. */
export function isZone(zone: string): boolean {
  if (!zone || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) {
    return false;
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function cron(schedule: string, zone: string): Cron | null {
  const text = cronOf(schedule);
  if (text === null) {
    return null;
  }
  if (text.split(' ').length !== 5) {
    const trans = getTrans();
    throw new Error(trans.__('five fields: minute hour day-of-month month day-of-week, e.g. “0 6 * * *”'));
  }
  // five fields; day of month OR day of week when both are set, as cron and croniter read them
  return new Cron(text, { timezone: zone || 'UTC', mode: '5-part', domAndDow: false, paused: true });
}

/** What is wrong with a schedule in a zone ('' when nothing). */
export function scheduleError(schedule: string, zone = 'UTC'): string {
  if (!schedule.trim()) {
    const trans = getTrans();
    return trans.__('empty');
  }
  if (!isZone(zone || 'UTC')) {
    const trans = getTrans();
    return trans.__('“%1” is not a known time zone (an IANA name, e.g. Europe/Paris)', zone);
  }
  try {
    const c = cron(schedule, zone);
    if (c && c.nextRuns(1).length === 0) {
      const trans = getTrans();
      return trans.__('never fires');
    }
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The next `count` ticks after `after`, read in `zone`: empty when it has none, or is bad
 * (`strict`: then croner's error is thrown).
 */
export function nextRuns(
  schedule: string,
  zone = 'UTC',
  after: Date = new Date(),
  count = 3,
  strict = false
): Date[] {
  try {
    const c = cron(schedule, zone);
    return c ? c.nextRuns(count, after) : [];
  } catch (error) {
    if (strict) {
      throw error;
    }
    return [];
  }
}

/**
 * cronstrue's locale for a language of the lab's translator ('fr_FR' -> 'fr', 'pt_BR' -> 'pt_BR',
 * 'zh_CN' -> 'zh_CN'); English for a language cronstrue does not have.
 */
export function cronstrueLocale(language: string): string {
  const [lang, region] = language.split(/[-_]/);
  const known = cronstrue.locales ?? {};
  return [`${lang}_${region}`, lang].find(name => name in known) ?? 'en';
}

/**
 * The schedule in words ("At 06:00, Monday through Friday"), in the lab's language (its
 * translator's; cronstrue's own locales), '' when cronstrue cannot say.
 */
export function describeSchedule(schedule: string, language: string = labLanguage()): string {
  const text = cronOf(schedule);
  if (text === null) {
    const trans = getTrans();
    return schedule.trim() === '@once' ? trans.__('Once') : trans.__('Continuously');
  }
  try {
    return cronstrue.toString(text, {
      use24HourTimeFormat: true,
      locale: cronstrueLocale(language),
      throwExceptionOnParseError: true
    });
  } catch {
    return '';
  }
}

/** A date as the zone's wall clock: "2026-03-29 06:00 (Europe/Paris)". */
export function formatInZone(date: Date, zone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone || 'UTC',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23'
  }).formatToParts(date);
  const get = (type: string) => parts.find(p => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** The friendly builder's forms. */
export type Builder =
  | { kind: 'daily'; hour: number; minute: number }
  | { kind: 'hours'; every: number; minute: number }
  | { kind: 'weekdays'; hour: number; minute: number }
  | { kind: 'weekly'; days: number[]; hour: number; minute: number }
  | { kind: 'monthly'; day: number; hour: number; minute: number }
  | { kind: 'cron'; cron: string };

/** The cron a builder form writes. */
export function builderToCron(b: Builder): string {
  switch (b.kind) {
    case 'daily':
      return `${b.minute} ${b.hour} * * *`;
    case 'hours':
      return b.every <= 1 ? `${b.minute} * * * *` : `${b.minute} */${b.every} * * *`;
    case 'weekdays':
      return `${b.minute} ${b.hour} * * 1-5`;
    case 'weekly': {
      const days = [...new Set(b.days)].sort((x, y) => x - y);
      return `${b.minute} ${b.hour} * * ${days.length ? days.join(',') : '*'}`;
    }
    case 'monthly':
      return `${b.minute} ${b.hour} ${b.day} * *`;
    default:
      return b.cron.trim().split(/\s+/).join(' ');
  }
}

const NUM = '([0-9]|[1-5][0-9])';
const HOUR = '([0-9]|1[0-9]|2[0-3])';

/** The builder form that writes `schedule` (the raw cron form when none does). */
export function cronToBuilder(schedule: string): Builder {
  const text = cronOf(schedule) ?? schedule.trim();
  let m = new RegExp(`^${NUM} ${HOUR} \\* \\* \\*$`).exec(text);
  if (m) {
    return { kind: 'daily', minute: +m[1], hour: +m[2] };
  }
  m = new RegExp(`^${NUM} \\*(?:/([1-9]|1[0-9]|2[0-3]))? \\* \\* \\*$`).exec(text);
  if (m) {
    return { kind: 'hours', minute: +m[1], every: m[2] ? +m[2] : 1 };
  }
  m = new RegExp(`^${NUM} ${HOUR} \\* \\* 1-5$`).exec(text);
  if (m) {
    return { kind: 'weekdays', minute: +m[1], hour: +m[2] };
  }
  m = new RegExp(`^${NUM} ${HOUR} \\* \\* ([0-6](?:,[0-6])*)$`).exec(text);
  if (m) {
    return { kind: 'weekly', minute: +m[1], hour: +m[2], days: m[3].split(',').map(Number) };
  }
  m = new RegExp(`^${NUM} ${HOUR} ([1-9]|[12][0-9]|3[01]) \\* \\*$`).exec(text);
  if (m) {
    return { kind: 'monthly', minute: +m[1], hour: +m[2], day: +m[3] };
  }
  return { kind: 'cron', cron: text };
}
