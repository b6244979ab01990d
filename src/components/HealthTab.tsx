/**
 * A job's Health tab: the latest verdict and counts, each checked output over its recent runs
 * with its bound drawn, the drift of each recorded data set per column across runs (a heatmap
 * table, drifted cells marked), and the latest drift report (Evidently's HTML, sandboxed).
 */
import * as React from 'react';

import { errorMessage, type MlShipClient } from '../api/client';
import type { IJobHealth, IRunInfo } from '../api/types';
import { formatDate, shortId } from '../core/format';
import { driftTables, latestDriftReport, type IDriftTable } from '../core/health';
import { HealthChart } from './HealthChart';
import { useTrans } from '../core/i18n';

/** A rule's setting in words: 0.8, or "max_share 0.3" for a mapping. */
function ruleValue(value: unknown): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
  }
  return String(value);
}

export interface IHealthTabProps {
  client: MlShipClient;
  job: string;
  /** the job's runs the panel holds (newest first): the drift table is drawn from them */
  runs: readonly IRunInfo[];
  /** anything that changes when the health may have: it is fetched again */
  refresh: unknown;
  onOpenRun: (id: string) => void;
}

function Counts(props: { health: IJobHealth; onOpen: (id: string) => void }): JSX.Element {
  const trans = useTrans();
  const { health } = props;
  const c = health.counts;
  return (
    <div className="jp-MlShip-healthSummary">
      <div className="jp-MlShip-item-main">
        <span className="jp-MlShip-label">{trans.__('latest')}</span>
        {health.health ? (
          <span
            className={`jp-MlShip-healthBadge jp-MlShip-health-${health.health}`}
            data-health={health.health}
          >
            {health.health}
          </span>
        ) : (
          <span className="jp-MlShip-muted">{trans.__('no succeeded run yet')}</span>
        )}
        {health.latest_run_id && (
          <button className="jp-MlShip-linkButton" onClick={() => props.onOpen(health.latest_run_id!)}>
            #{shortId(health.latest_run_id)}
          </button>
        )}
      </div>
      <div className="jp-MlShip-item-sub" data-health-counts="">
        {c.runs}{' '}{trans.__('runs:')}{' '}{c.healthy}{' '}{trans.__('healthy ·')}{' '}{c.degraded}{' '}{trans.__('degraded ·')}{' '}{c.failed}{' '}{trans.__('failed')}
        {c.active > 0 && trans.__(' · %1 active', c.active)}
      </div>
      {health.failing.length > 0 && (
        <ul className="jp-MlShip-healthFailing" aria-label={trans.__('Failing checks')}>
          {health.failing.map((message, i) => (
            <li key={i}>{message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
/** Drift scores as a heatmap table: a column per run (oldest left), a row per data column. */
export function DriftTable(props: { table: IDriftTable; onOpenRun: (id: string) => void }): JSX.Element {
  const trans = useTrans();
  const { table } = props;
  const runs = table.runs.slice(-12);
  const max = Math.max(1e-9, ...runs.flatMap(r => Object.values(r.scores)));
  return (
    <div className="jp-MlShip-csvScroll">
      <table className="jp-MlShip-driftTable" data-drift={table.data} aria-label={trans.__('Drift of %1 per column', table.data)}>
        <thead>
          <tr>
            <th scope="col">{table.data}</th>
            {runs.map(r => (
              <th key={r.run.id} scope="col">
                <button
                  className="jp-MlShip-linkButton"
                  title={trans.__('Run %1 (v%2), %3', r.run.id, r.run.version, formatDate(r.run.created_at))}
                  onClick={() => props.onOpenRun(r.run.id)}
                >
                  #{shortId(r.run.id).slice(0, 6)}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.columns.map(column => (
            <tr key={column} data-column={column}>
              <th scope="row">{column}</th>
              {runs.map(r => {
                const score = r.scores[column];
                const drifted = r.drifted.has(column);
                const strength = score === undefined ? 0 : Math.round((Math.min(score, max) / max) * 60);
                return (
                  <td
                    key={r.run.id}
                    className={drifted ? 'jp-mod-drifted' : undefined}
                    data-drifted={drifted ? 'true' : 'false'}
                    style={{ ['--jp-MlShip-heat' as string]: `${strength}%` }}
                    title={
                      score === undefined
                        ? trans.__('not measured')
                        : trans.__('%1: score %2%3', column, score.toPrecision(3), drifted ? ' — drifted' : '')
                    }
                  >
                    {score === undefined ? '–' : score.toPrecision(2)}
                  </td>
                );
              })}
            </tr>
          ))}
          <tr className="jp-MlShip-driftShare">
            <th scope="row">{trans.__('drifted share')}</th>
            {runs.map(r => (
              <td
                key={r.run.id}
                className={r.check && !r.check.passed ? 'jp-mod-drifted' : undefined}
                title={r.check?.message ?? ''}
              >
                {r.share === null ? '–' : `${Math.round(r.share * 100)}%`}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function DriftReport(props: { client: MlShipClient; table: IDriftTable; onOpenRun: (id: string) => void }): JSX.Element | null {
  const trans = useTrans();
  const found = latestDriftReport(props.table);
  if (!found) {
    return null;
  }
  const url = props.client.runFileUrl(found.run.id, found.path);
  return (
    <div className="jp-MlShip-driftReport" data-report={found.path}>
      <div className="jp-MlShip-item-sub">
        {trans.__('Latest report:')}{' '}<code>{found.path}</code>{' '}{trans.__('of run')}{' '}
        <button className="jp-MlShip-linkButton" onClick={() => props.onOpenRun(found.run.id)}>
          #{shortId(found.run.id)}
        </button>
        <span className="jp-MlShip-dot">·</span>
        <a href={url} target="_blank" rel="noopener noreferrer">
          {trans.__('open in a new tab')}
        </a>
      </div>
      <iframe
        className="jp-MlShip-driftFrame"
        title={trans.__('Drift report of %1', props.table.data)}
        src={url}
        sandbox="allow-scripts"
      />
    </div>
  );
}

export function HealthTab(props: IHealthTabProps): JSX.Element {
  const trans = useTrans();
  const [health, setHealth] = React.useState<IJobHealth | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let live = true;
    props.client.jobHealth(props.job).then(
      got => {
        if (live) {
          setHealth(got);
          setError(null);
        }
      },
      reason => live && setError(errorMessage(reason))
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.job, props.refresh]);
  const tables = React.useMemo(() => driftTables(props.runs), [props.runs]);
  if (error) {
    return <div className="jp-MlShip-field-error">{trans.__('Cannot load the job’s health:')}{' '}{error}</div>;
  }
  if (!health) {
    return <div className="jp-MlShip-muted">{trans.__('Loading…')}</div>;
  }
  const charted = health.outputs.filter(o => o.points.some(p => p.value !== null));
  return (
    <div className="jp-MlShip-health" data-health-job={health.job}>
      <Counts health={health} onOpen={props.onOpenRun} />
      {!health.outputs.length && !tables.length && (
        <div className="jp-MlShip-empty">
          {trans.__('No checks yet: add')}{' '}<code>{trans.__('checks')}</code>{' '}{trans.__('to the notebook’s')}{' '}<code>{trans.__('metadata.ml_ship')}</code>{' '}{trans.__('(min, max, max_drop, drift…) and ship it.')}
        </div>
      )}
      {charted.map(output => (
        <section key={output.name} className="jp-MlShip-healthOutput" data-output={output.name}>
          <h3>
            {output.name}
            <span className="jp-MlShip-muted jp-MlShip-healthRules">
              {Object.entries(output.rules)
                .map(([k, v]) => `${k} ${ruleValue(v)}`)
                .join(' · ')}
            </span>
            {output.failed > 0 && (
              <span className="jp-MlShip-healthFailedCount">{trans.__('failed in')}{' '}{output.failed}</span>
            )}
          </h3>
          <HealthChart output={output} onOpenRun={props.onOpenRun} />
        </section>
      ))}
      {tables.map(table => (
        <section key={table.data} className="jp-MlShip-healthOutput">
          <h3>{trans.__('Drift of')}{' '}{table.data}</h3>
          <DriftTable table={table} onOpenRun={props.onOpenRun} />
          <DriftReport client={props.client} table={table} onOpenRun={props.onOpenRun} />
        </section>
      ))}
    </div>
  );
}
