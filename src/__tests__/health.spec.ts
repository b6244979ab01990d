/** The health the lab shows: job badges, the overview, drift per column across runs. */
import type { ICheckResult } from '../api/types';
import {
  driftedColumns,
  driftReport,
  driftTables,
  healthOverview,
  jobBadge,
  listBadge,
  latestDriftReport,
  ruleBounds
} from '../core/health';
import { makeJob, makeRun, makeVersion } from './fakeServer';

function check(overrides: Partial<ICheckResult>): ICheckResult {
  return {
    name: 'accuracy', rule: 'min', value: 0.9, baseline: null, bound: 0.8, passed: true,
    message: 'accuracy 0.9 >= min 0.8', ...overrides
  };
}

// the drift check's message as core/checks/drift.py writes it (a method name with parentheses)
const DRIFTED =
  'features: 2 of 3 columns drifted (67% > max_share 30%) against previous run 1a2b: ' +
  'income (Wasserstein distance (normed) 2, threshold 0.1), home city (vanished); ' +
  'not counted: new (new column); report drift-features.html';

describe('listBadge', () => {
  it('says only what the status chip does not: no failing, healthy only with checks', () => {
    const passed = check({});
    expect(listBadge(makeJob({ last_run: makeRun({ status: 'failed' }) }))).toBeNull();
    expect(listBadge(makeJob({ last_run: makeRun({ status: 'succeeded', health: 'healthy' }) }))).toBeNull();
    expect(
      listBadge(makeJob({ last_run: makeRun({ status: 'succeeded', health: 'healthy', checks: [passed] }) }))
    ).toBe('healthy');
    expect(listBadge(makeJob({ last_run: makeRun({ status: 'succeeded', health: 'degraded' }) }))).toBe(
      'degraded'
    );
  });
});

describe('jobBadge', () => {
  it('tells failing, degraded and healthy from the last run', () => {
    expect(jobBadge(makeJob({ last_run: null }))).toBeNull();
    expect(jobBadge(makeJob({ last_run: makeRun({ status: 'failed' }) }))).toBe('failing');
    expect(jobBadge(makeJob({ last_run: makeRun({ status: 'timed_out' }) }))).toBe('failing');
    expect(jobBadge(makeJob({ last_run: makeRun({ status: 'succeeded', health: 'degraded' }) }))).toBe(
      'degraded'
    );
    expect(jobBadge(makeJob({ last_run: makeRun({ status: 'succeeded', health: 'healthy' }) }))).toBe(
      'healthy'
    );
    expect(jobBadge(makeJob({ last_run: makeRun({ status: 'cancelled' }) }))).toBeNull();
  });

  it('says validating while a newer version than the current one runs, or a version says so', () => {
    const running = makeRun({ status: 'running', version: 3 });
    expect(jobBadge(makeJob({ current_version: 1, last_run: running }))).toBe('validating');
    expect(jobBadge(makeJob({ current_version: null, last_run: { ...running, version: 1 } }))).toBe(
      'validating'
    );
    // a run of the current (or an older) version is not a validation
    expect(jobBadge(makeJob({ current_version: 3, last_run: running }))).toBeNull();
    // the versions, when loaded, say it exactly
    const job = makeJob({ current_version: 1, last_run: makeRun({ status: 'succeeded', version: 1 }) });
    expect(jobBadge(job, [makeVersion({ number: 2, promotion: 'validating' })])).toBe('validating');
    expect(jobBadge(job, [makeVersion({ number: 2, promotion: 'rejected' })])).toBe('healthy');
  });

  it('counts the jobs of each badge for the panel header', () => {
    expect(
      healthOverview([
        makeJob({ name: 'a', last_run: makeRun({ status: 'failed' }) }),
        makeJob({ name: 'b', last_run: makeRun({ status: 'succeeded', health: 'degraded' }) }),
        makeJob({ name: 'c', last_run: makeRun({ status: 'succeeded' }) }),
        makeJob({ name: 'd', last_run: null })
      ])
    ).toEqual({ healthy: 1, degraded: 1, failing: 1, validating: 0, other: 1 });
  });
});

describe('drift across runs', () => {
  it('reads the drifted columns and the report from the check message', () => {
    expect([...driftedColumns(DRIFTED)]).toEqual(['income', 'home_city']);
    expect([...driftedColumns('features: 0 of 3 columns drifted (0% <= max_share 30%) against run x')]).toEqual(
      []
    );
    expect(driftReport(check({ rule: 'drift', message: DRIFTED }))).toBe('drift-features.html');
    expect(driftReport(check({ rule: 'drift', message: 'features: no reference yet (drift passes)' }))).toBeNull();
  });

  it('makes a table per data set: a column per run, oldest first, drifted cells marked', () => {
    const older = makeRun({
      id: 'r1',
      outputs: { accuracy: 0.9, 'features.drift.income': 0.02, 'features.drift.age': 0.01, 'features.drift_share': 0 },
      checks: [check({ name: 'features', rule: 'drift', passed: true, bound: 0.3, message: 'features: 0 of 2 columns drifted (0% <= max_share 30%) against previous run r0; report drift-features.html' })]
    });
    const newer = makeRun({
      id: 'r2',
      outputs: { 'features.drift.income': 2, 'features.drift.age': 0.01, 'features.drift_share': 0.5 },
      checks: [check({ name: 'features', rule: 'drift', passed: false, bound: 0.3, message: DRIFTED })]
    });
    const plain = makeRun({ id: 'r3', outputs: { accuracy: 0.8 } });
    const [table, ...others] = driftTables([plain, newer, older]);
    expect(others).toEqual([]);
    expect(table.data).toBe('features');
    expect(table.columns).toEqual(['income', 'age']);
    expect(table.runs.map(r => r.run.id)).toEqual(['r1', 'r2']);
    expect(table.runs.map(r => [...r.drifted])).toEqual([[], ['income', 'home_city']]);
    expect(table.runs.map(r => r.share)).toEqual([0, 0.5]);
    expect(latestDriftReport(table)).toEqual({ run: newer, path: 'drift-features.html' });
  });

  it('draws min, max and a drift max_share as flat bounds, not the other rules', () => {
    expect(ruleBounds({ min: 0.8, max: 1, max_drop: 0.1, required: true })).toEqual([
      { label: 'min', value: 0.8 },
      { label: 'max', value: 1 }
    ]);
    expect(ruleBounds({ drift: { max_share: 0.3 } })).toEqual([{ label: 'max_share', value: 0.3 }]);
  });
});
