import { nullTranslator } from '@jupyterlab/translation';

import { DOMAIN, setTranslator } from '../core/i18n';
import {
  builderToCron,
  cronstrueLocale,
  cronToBuilder,
  describeSchedule,
  formatInZone,
  isZone,
  nextRuns,
  scheduleError
} from '../schedules/cronlib';

describe('schedules by croner and cronstrue', () => {
  it('reads a cron in its time zone across the change to summer time', () => {
    // 06:00 in Paris: 05:00 UTC on Saturday 28 March 2026 (CET), 04:00 UTC on Sunday (CEST)
    const runs = nextRuns('0 6 * * *', 'Europe/Paris', new Date('2026-03-27T12:00:00Z'), 3);
    expect(runs.map(d => d.toISOString())).toEqual([
      '2026-03-28T05:00:00.000Z',
      '2026-03-29T04:00:00.000Z',
      '2026-03-30T04:00:00.000Z'
    ]);
    expect(formatInZone(runs[1], 'Europe/Paris')).toBe('2026-03-29 06:00');
    expect(nextRuns('@daily', 'UTC', new Date('2026-03-27T12:00:00Z'), 1)[0].toISOString()).toBe(
      '2026-03-28T00:00:00.000Z'
    );
  });

  it('reads day of month OR day of week when both are set, as cron does', () => {
    // the 13th, or a Friday: Friday 6 November 2026 comes before the 13th
    const [next] = nextRuns('0 0 13 * 5', 'UTC', new Date('2026-11-01T00:00:00Z'), 1);
    expect(next.toISOString()).toBe('2026-11-06T00:00:00.000Z');
  });

  it('says what is wrong: a bad cron, an unknown zone', () => {
    expect(scheduleError('0 6 * * *', 'Europe/Paris')).toBe('');
    expect(scheduleError('61 * * * *')).not.toBe('');
    expect(scheduleError('0 6 * *')).toMatch(/five fields/);
    expect(scheduleError('0 6 * * *', 'Mars/Olympus')).toMatch(/not a known time zone/);
    expect(isZone('America/New_York')).toBe(true);
    expect(isZone('Europe/Atlantis')).toBe(false);
  });

  it('says a schedule in words, in English and in French', () => {
    expect(describeSchedule('30 7 * * 1-5')).toBe('At 07:30, Monday through Friday');
    expect(describeSchedule('30 7 * * 1-5', 'fr')).toMatch(/07:30.*lundi.*vendredi/);
    expect(describeSchedule('@once')).toBe('Once');
  });

  it("says a schedule in the language of the lab's translator, not a fixed one", () => {
    expect(cronstrueLocale('fr-FR')).toBe('fr');
    expect(cronstrueLocale('pt_BR')).toBe('pt_BR');
    expect(cronstrueLocale('zh-CN')).toBe('zh_CN');
    expect(cronstrueLocale('xx-YY')).toBe('en');
    try {
      setTranslator({ languageCode: 'fr-FR', load: () => nullTranslator.load(DOMAIN) });
      expect(describeSchedule('30 7 * * 1-5')).toBe('À 07:30, de lundi à vendredi');
      setTranslator({ languageCode: 'de-DE', load: () => nullTranslator.load(DOMAIN) });
      expect(describeSchedule('30 7 * * 1-5')).toMatch(/Montag.*Freitag/);
    } finally {
      setTranslator(nullTranslator);
    }
    expect(describeSchedule('30 7 * * 1-5')).toBe('At 07:30, Monday through Friday');
  });

  it('builds a cron from the friendly forms and reads back the ones it wrote', () => {
    const forms = [
      { kind: 'daily', hour: 6, minute: 0 },
      { kind: 'hours', every: 4, minute: 15 },
      { kind: 'weekdays', hour: 7, minute: 30 },
      { kind: 'weekly', days: [1, 3, 5], hour: 18, minute: 5 },
      { kind: 'monthly', day: 1, hour: 2, minute: 0 }
    ] as const;
    const crons = forms.map(f => builderToCron(f as any));
    expect(crons).toEqual(['0 6 * * *', '15 */4 * * *', '30 7 * * 1-5', '5 18 * * 1,3,5', '0 2 1 * *']);
    crons.forEach((c, i) => expect(cronToBuilder(c)).toEqual(forms[i]));
    expect(cronToBuilder('0 0 L * *')).toEqual({ kind: 'cron', cron: '0 0 L * *' });
    expect(cronToBuilder('@hourly')).toEqual({ kind: 'hours', every: 1, minute: 0 });
  });
});
