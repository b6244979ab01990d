/**
 * What the lab shows of a job's health (no React here, tested in health.spec.ts): the badge of a
 * job in the jobs list, the overview of all jobs in the panel header, and the drift of a
 * recorded data set per column across runs (from the `<data>.drift.<column>` outputs the drift
 * check records, and its message naming the columns that drifted).
 */
import type { ICheckResult, IJobInfo, IRunInfo, IVersionInfo } from '../api/types';
import { getTrans, translated } from './i18n';

/** A job's badge: its last run failed, its latest checked run was degraded, a candidate is
 * being validated, or all is well. */
export type JobBadge = 'healthy' | 'degraded' | 'failing' | 'validating';

export const BADGE_LABELS: Record<JobBadge, string> = translated(trans => ({
  healthy: trans.__('healthy'),
  degraded: trans.__('degraded'),
  failing: trans.__('failing'),
  validating: trans.__('validating')
}));

const ACTIVE = new Set(['queued', 'building', 'running']);

/**
 * The badge of a job, or null when it never ran. `versions`: the job's versions when they are
 * loaded (the selected job): a version in `validating` says so exactly. Without them, a run
 * of a version newer than the current one that is still going is taken as the candidate's
 * validation run (a version made current by hand is current at once, so its runs are not;
 * a first version with no current one yet is validated or not run at all).
 */
export function jobBadge(job: IJobInfo, versions?: readonly IVersionInfo[]): JobBadge | null {
  const validating = versions
    ? versions.some(v => v.promotion === 'validating')
    : !!job.last_run &&
      ACTIVE.has(job.last_run.status) &&
      (job.current_version === null || job.last_run.version > job.current_version);
  if (validating) {
    return 'validating';
  }
  const last = job.last_run;
  if (!last) {
    return null;
  }
  if (last.status === 'failed' || last.status === 'timed_out') {
    return 'failing';
  }
  if (last.health === 'degraded') {
    return 'degraded';
  }
  if (last.status === 'succeeded') {
    return 'healthy';
  }
  return null;
}

/**
 * The badge beside a job's status chip in the jobs list: `failing` is left out (the chip says
 * failed; the header's overview still counts it), and `healthy` is shown only when the last run
 * had checks to pass (a job with none is not known to be healthy, only to have succeeded).
 */
export function listBadge(job: IJobInfo): JobBadge | null {
  const badge = jobBadge(job);
  if (badge === 'failing') {
    return null;
  }
  if (badge === 'healthy' && !(job.last_run?.checks ?? []).length) {
    return null;
  }
  return badge;
}

export function badgeTitle(badge: JobBadge, job: IJobInfo): string {
  const trans = getTrans();
  const last = job.last_run;
  switch (badge) {
    case 'failing':
      return trans.__('Its last run failed%1', last?.error?.ename ? ` (${last.error.ename})` : '');
    case 'degraded': {
      const failed = (last?.checks ?? []).filter(c => !c.passed).map(c => c.message);
      return trans.__('Its last run succeeded but a check failed%1', failed.length ? `: ${failed.join('; ')}` : '');
    }
    case 'validating':
      return trans.__('A candidate version is being validated before it becomes current');
    default:
      return trans.__('Its last run succeeded and passed its checks');
  }
}

export interface IHealthOverview {
  healthy: number;
  degraded: number;
  failing: number;
  validating: number;
  /** never ran, or its last run is still going / was cancelled */
  other: number;
}

/** How many jobs have each badge (the panel header's overview). */
export function healthOverview(jobs: readonly IJobInfo[]): IHealthOverview {
  const out: IHealthOverview = { healthy: 0, degraded: 0, failing: 0, validating: 0, other: 0 };
  for (const job of jobs) {
    const badge = jobBadge(job);
    if (badge) {
      out[badge]++;
    } else {
      out.other++;
    }
  }
  return out;
}

// ---- drift across runs --------------------------------------------------------------------

export interface IDriftRun {
  run: IRunInfo;
  /** the column (as in the output name) → its drift score, for this run */
  scores: Record<string, number>;
  /** the columns the drift check named as drifted */
  drifted: Set<string>;
  share: number | null;
  /** the drift check of this data in this run */
  check: ICheckResult | null;
  /** the report among the run's artifacts, when the check kept one */
  report: string | null;
}

export interface IDriftTable {
  /** the recorded data set (record_data's name) */
  data: string;
  columns: string[];
  /** oldest first */
  runs: IDriftRun[];
}

/** The way the drift check names a column in its outputs (drift.py `_output_name`). */
export function driftColumnName(column: string): string {
  return column.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || '_';
}

/** The columns a drift check's message names as drifted ("…against run X: b (Wasserstein
 * distance (normed) 0.5, threshold 0.1), c (vanished)"), in their output spelling. */
export function driftedColumns(message: string): Set<string> {
  const head = message.split('; ')[0];
  const found = new Set<string>();
  // "<data>: 1 of 3 columns drifted (33% > max_share 30%) against <origin>: <the columns>"
  const at = head.indexOf(' drifted (');
  const against = at < 0 ? -1 : head.indexOf(') against ', at);
  const start = against < 0 ? -1 : head.indexOf(': ', against);
  if (start < 0) {
    return found;
  }
  // "name (method (detail) score, threshold t), other (vanished)": split at the commas
  // outside parentheses, the name is what comes before the first parenthesis
  let depth = 0;
  let part = '';
  const parts: string[] = [];
  for (const ch of head.slice(start + 2)) {
    depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    if (ch === ',' && depth === 0) {
      parts.push(part);
      part = '';
    } else {
      part += ch;
    }
  }
  parts.push(part);
  for (const item of parts) {
    const name = item.split(' (')[0].trim();
    if (name) {
      found.add(driftColumnName(name));
    }
  }
  return found;
}

/** The drift report a check's message names ("…; report drift-X.html"). */
export function driftReport(check: ICheckResult): string | null {
  const match = /(?:^|; )report (\S+\.html)$/.exec(check.message);
  return match ? match[1] : null;
}

/** The data sets whose drift was measured in `runs`, each with its per-column scores, oldest
 * run first (`runs` as the panel holds them: newest first). */
export function driftTables(runs: readonly IRunInfo[]): IDriftTable[] {
  const tables = new Map<string, IDriftTable>();
  for (const run of [...runs].reverse()) {
    const checks = (run.checks ?? []).filter(c => c.rule === 'drift');
    const perData = new Map<string, IDriftRun>();
    const entry = (data: string): IDriftRun => {
      let got = perData.get(data);
      if (!got) {
        const check = checks.find(c => c.name === data) ?? null;
        got = {
          run,
          scores: {},
          drifted: check && !check.passed ? driftedColumns(check.message) : new Set(),
          share: null,
          check,
          report: check ? driftReport(check) : null
        };
        perData.set(data, got);
      }
      return got;
    };
    for (const [key, value] of Object.entries(run.outputs)) {
      if (typeof value !== 'number') {
        continue;
      }
      const share = /^(.+)\.drift_share$/.exec(key);
      if (share) {
        entry(share[1]).share = value;
        continue;
      }
      const column = /^(.+)\.drift\.([^.]+)$/.exec(key);
      if (column) {
        entry(column[1]).scores[column[2]] = value;
      }
    }
    for (const [data, got] of perData) {
      const table = tables.get(data) ?? { data, columns: [], runs: [] };
      for (const column of Object.keys(got.scores)) {
        if (!table.columns.includes(column)) {
          table.columns.push(column);
        }
      }
      table.runs.push(got);
      tables.set(data, table);
    }
  }
  return [...tables.values()];
}

/** The newest run whose drift check of `data` kept a report, and the report's path. */
export function latestDriftReport(table: IDriftTable): { run: IRunInfo; path: string } | null {
  for (let i = table.runs.length - 1; i >= 0; i--) {
    const got = table.runs[i];
    if (got.report) {
      return { run: got.run, path: got.report };
    }
  }
  return null;
}

/** A check's rule and limit in words: "min 0.8", "max_drop 0.05 of 0.91". */
export function ruleText(check: ICheckResult): string {
  const trans = getTrans();
  if (check.bound === null || check.bound === undefined) {
    return check.rule;
  }
  const bound = check.rule === 'drift' ? trans.__('%1% of columns', Math.round(check.bound * 100)) : String(check.bound);
  return `${check.rule} ${bound}`;
}

/** The drift check's share of drifted columns allowed when not set (drift.py DEFAULT_MAX_SHARE). */
const DEFAULT_MAX_SHARE = 0.5;

/** The horizontal bounds to draw on an output's chart: min and max of its rules, and a drift
 * rule's max_share (the chart of a data set is its share of drifted columns). */
export function ruleBounds(rules: Record<string, unknown>): { label: string; value: number }[] {
  const out: { label: string; value: number }[] = [];
  for (const key of ['min', 'max'] as const) {
    const value = rules[key];
    if (typeof value === 'number' && isFinite(value)) {
      out.push({ label: key, value });
    }
  }
  const drift = rules.drift;
  if (drift !== undefined && drift !== null && drift !== false) {
    const share = typeof drift === 'object' ? (drift as Record<string, unknown>).max_share : undefined;
    out.push({ label: 'max_share', value: typeof share === 'number' ? share : DEFAULT_MAX_SHARE });
  }
  return out;
}
