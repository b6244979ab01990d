import { nextRun, parseSchedule, scheduleHint } from '../core/cron';
import { applyShipExtras, shipExtrasErrors, shipExtrasFromConfig } from '../components/settingsFields';

const at = (iso: string) => new Date(iso);

describe('schedules as the Ship dialog checks them', () => {
  it('finds the next tick in UTC', () => {
    const after = at('2024-06-03T07:10:30Z'); // a Monday
    expect(nextRun(parseSchedule('0 6 * * *'), after)?.toISOString()).toBe('2024-06-04T06:00:00.000Z');
    expect(nextRun(parseSchedule('*/15 * * * *'), after)?.toISOString()).toBe('2024-06-03T07:15:00.000Z');
    expect(nextRun(parseSchedule('0 9 * * mon-fri'), at('2024-06-07T10:00:00Z'))?.toISOString()).toBe(
      '2024-06-10T09:00:00.000Z'
    );
    expect(nextRun(parseSchedule('@monthly'), after)?.toISOString()).toBe('2024-07-01T00:00:00.000Z');
    // day of month OR day of week when both are given (as croniter)
    expect(nextRun(parseSchedule('0 0 15 * 0'), after)?.toISOString()).toBe('2024-06-09T00:00:00.000Z');
    expect(nextRun(parseSchedule('0 0 30 2 *'), after)).toBeNull();
  });

  it('says what is wrong as the user types', () => {
    expect(scheduleHint('0 6 * *').error).toMatch(/five fields/);
    expect(scheduleHint('61 * * * *').error).toMatch(/minute: 61 is not within 0–59/);
    expect(scheduleHint('0 0 32 * *').error).toMatch(/day of month: 32 is not within 1–31/);
    expect(scheduleHint('5-1 * * * *').error).toMatch(/Not a schedule: .*5-1/); // croner's words
    expect(scheduleHint('@sometimes').error).toMatch(/not one of/);
    expect(scheduleHint('0 6 * * *', at('2024-06-03T07:00:00Z')).hint).toMatch(/^Next run: 2024-06-04 06:00 UTC/);
    // in words, by cronstrue; croner knows L and # (the old parser left them to the server)
    expect(scheduleHint('30 7 * * 1-5', at('2024-06-03T07:00:00Z')).hint).toMatch(/At 07:30, Monday through Friday$/);
    expect(nextRun(parseSchedule('0 0 L * *'), at('2024-06-03T07:00:00Z'))?.toISOString()).toBe('2024-06-30T00:00:00.000Z');
    expect(scheduleHint('').error).toBeUndefined();
  });
});

describe('schedule, env, secrets and requirements in metadata.ml_ship', () => {
  it('round-trips and drops emptied fields', () => {
    const config = { name: 'a', schedule: '0 6 * * *', env: { A: '1' }, secrets: ['TOKEN'], requirements: ['pandas'] };
    const texts = shipExtrasFromConfig(config);
    expect(texts).toEqual({
      schedule: '0 6 * * *',
      timezone: 'UTC',
      env: [['A', '1']],
      secrets: 'TOKEN',
      requirementsMode: 'list',
      requirements: 'pandas'
    });
    expect(applyShipExtras(config, texts)).toEqual(config);
    expect(
      applyShipExtras(config, { schedule: ' ', timezone: 'Europe/Paris', env: [['', '']], secrets: '', requirementsMode: 'auto', requirements: 'x' })
    ).toEqual({ name: 'a' });
    expect(
      applyShipExtras({}, { schedule: '0  6 * * *', timezone: 'UTC', env: [[' B ', 'x y']], secrets: 'S1, S2', requirementsMode: 'file', requirements: 'req.txt' })
    ).toEqual({ schedule: '0 6 * * *', env: { B: 'x y' }, secrets: ['S1', 'S2'], requirements: 'req.txt' });
  });

  it('keeps a time zone other than UTC with its schedule', () => {
    const config = { schedule: '0 6 * * *', timezone: 'Europe/Paris' };
    const texts = shipExtrasFromConfig(config);
    expect(texts.timezone).toBe('Europe/Paris');
    expect(applyShipExtras({}, texts)).toEqual(config);
    expect(applyShipExtras(config, { ...texts, timezone: 'UTC' })).toEqual({ schedule: '0 6 * * *' });
  });

  it('flags bad names', () => {
    const errors = shipExtrasErrors({
      schedule: '',
      timezone: 'UTC',
      env: [['1A', 'x'], ['B', '1'], ['B', '2']],
      secrets: 'ok, not-ok',
      requirementsMode: 'file',
      requirements: ''
    });
    expect(Object.keys(errors.envRows)).toEqual(['0', '2']);
    expect(errors.secrets).toMatch(/not-ok/);
    expect(errors.requirements).toBeDefined();
  });
});
