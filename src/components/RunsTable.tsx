/**
 * A job's runs at a glance: a chart of a chosen numeric output (or duration) over runs, and a
 * sortable, filterable table with every parameter and output as a column; select two runs to
 * compare them. A pipeline's runs (IPipelineHistory) get the same table with one column group
 * per step: its status, duration, parameters and recorded outputs.
 */
import * as React from 'react';

import {
  RUN_STATUSES,
  type IHistoryRow,
  type IPipelineHistory,
  type IPipelineHistoryRow,
  type IRunHistory,
  type RunStatus
} from '../api/types';
import { formatDate, formatDuration, formatValue, shortId } from '../core/format';
import { StatusChip } from './common';
import { DURATION, RunsChart, versionColor } from './RunsChart';
import { useTrans } from '../core/i18n';

const PAGE = 100;

type StepField = 'status' | 'duration' | 'param' | 'output';
type SortKey =
  | { kind: 'run' | 'version' | 'status' | 'started' | 'duration' }
  | { kind: 'param' | 'output'; name: string }
  | { kind: 'step'; name: string; field: StepField; key?: string };

export interface IRunsTableProps {
  history: IRunHistory | IPipelineHistory;
  onOpenRun: (id: string) => void;
  /** no Compare button without it (a pipeline's runs) */
  onCompare?: (a: string, b: string) => void;
  /** a pipeline's runs: open the run of a step */
  onOpenStepRun?: (id: string) => void;
  /** each version's parameter names: a run without a value says "default" (its version had
   * the parameter) or "not a parameter then" (it did not) */
  versionParameters?: Record<number, string[]>;
}

function isPipeline(history: IRunHistory | IPipelineHistory): history is IPipelineHistory {
  return 'step_groups' in history;
}

function stepValue(run: IHistoryRow, step: string, field: StepField, key = ''): unknown {
  const cell = (run as IPipelineHistoryRow).steps?.[step];
  if (!cell) {
    return undefined;
  }
  switch (field) {
    case 'status':
      return cell.status;
    case 'duration':
      return cell.duration;
    case 'param':
      return cell.parameters[key];
    case 'output':
      return cell.outputs[key];
  }
}

function valueOf(run: IHistoryRow, key: SortKey): unknown {
  switch (key.kind) {
    case 'run':
      return run.id;
    case 'version':
      return run.version;
    case 'status':
      return run.status;
    case 'started':
      return run.started_at ?? run.created_at;
    case 'duration':
      return run.duration;
    case 'param':
      return run.parameters[key.name];
    case 'output':
      return run.outputs[key.name];
    case 'step':
      return stepValue(run, key.name, key.field, key.key);
  }
}

function compare(a: unknown, b: unknown): number {
  if (a === undefined || a === null) {
    return b === undefined || b === null ? 0 : 1; // empty cells last
  }
  if (b === undefined || b === null) {
    return -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  return String(a).localeCompare(String(b));
}

function sameKey(a: SortKey, b: SortKey): boolean {
  const extra = (k: SortKey) => (k.kind === 'step' ? `${k.field}:${k.key ?? ''}` : '');
  return (
    a.kind === b.kind && ('name' in a ? a.name : '') === ('name' in b ? b.name : '') && extra(a) === extra(b)
  );
}

export function RunsTable(props: IRunsTableProps): JSX.Element {
  const trans = useTrans();
  const { history } = props;
  const numeric = history.outputs.filter(c => c.numeric).map(c => c.name);
  const [metric, setMetric] = React.useState<string>(numeric[0] ?? DURATION);
  const [status, setStatus] = React.useState<RunStatus | ''>('');
  const [version, setVersion] = React.useState<number | 0>(0);
  const [sort, setSort] = React.useState<{ key: SortKey; desc: boolean }>({ key: { kind: 'run' }, desc: true });
  const [selected, setSelected] = React.useState<string[]>([]);
  const [shown, setShown] = React.useState(PAGE);

  const filtered = React.useMemo(
    () => history.runs.filter(r => (!status || r.status === status) && (!version || r.version === version)),
    [history, status, version]
  );
  const sorted = React.useMemo(() => {
    const rows = [...filtered];
    rows.sort((a, b) => {
      const c = compare(valueOf(a, sort.key), valueOf(b, sort.key));
      const empty = valueOf(a, sort.key) == null || valueOf(b, sort.key) == null;
      return sort.desc && !empty ? -c : c;
    });
    return rows;
  }, [filtered, sort]);
  const statuses = [...new Set(history.runs.map(r => r.status))].sort();

  const groups = isPipeline(history) ? history.step_groups : null;
  // every parameter a run was given, and every parameter a version had (a run that used all
  // the defaults still shows them: "default")
  const paramColumns = React.useMemo(() => {
    const seen = new Map(history.parameters.map(c => [c.name, c]));
    for (const names of Object.values(props.versionParameters ?? {})) {
      for (const name of names) {
        if (!seen.has(name)) {
          seen.set(name, { name, numeric: false });
        }
      }
    }
    return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
  }, [history, props.versionParameters]);
  const header = (label: string, key: SortKey, title?: string, className = '') => {
    const active = sameKey(sort.key, key);
    return (
      <th
        key={JSON.stringify(key)}
        rowSpan={groups && key.kind !== 'step' ? 2 : undefined}
        className={className}
        title={title ?? trans.__('Sort by %1', label)}
        aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}
        onClick={() => setSort({ key, desc: active ? !sort.desc : key.kind !== 'run' ? false : true })}
      >
        {label}
        <span className="jp-MlShip-sortMark">{active ? (sort.desc ? ' ▾' : ' ▴') : ''}</span>
      </th>
    );
  };
  const toggle = (id: string) =>
    setSelected(sel => (sel.includes(id) ? sel.filter(s => s !== id) : [...sel.slice(-1), id]));

  return (
    <div className="jp-MlShip-history" data-job={history.job}>
      <div className="jp-MlShip-historyBar">
        <label>
          {trans.__('Chart')}{' '}
          <select aria-label={trans.__('Chart value')} value={metric} onChange={e => setMetric(e.target.value)}>
            {numeric.map(n => (
              <option key={n} value={n}>{n}</option>
            ))}
            <option value={DURATION}>{trans.__('duration')}</option>
          </select>
        </label>
        <label>
          {trans.__('Status')}{' '}
          <select aria-label={trans.__('Filter by status')} value={status} onChange={e => setStatus(e.target.value as RunStatus | '')}>
            <option value="">{trans.__('all')}</option>
            {statuses.map(s => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          {trans.__('Version')}{' '}
          <select aria-label={trans.__('Filter by version')} value={version} onChange={e => setVersion(Number(e.target.value))}>
            <option value={0}>{trans.__('all')}</option>
            {history.versions.map(v => (
              <option key={v.number} value={v.number}>
                v{v.number}{v.is_current ? trans.__(' (current)') : ''}
              </option>
            ))}
          </select>
        </label>
        <span className="jp-MlShip-grow" />
        <span className="jp-MlShip-muted">
          {filtered.length}{' '}{trans.__('of')}{' '}{history.runs.length}{' '}{trans.__('runs')}{history.truncated ? trans.__(' (the newest)') : ''}
        </span>
        {props.onCompare && (
          <button
            className="jp-Button jp-mod-styled jp-mod-accept"
            disabled={selected.length !== 2}
            title={selected.length === 2 ? trans.__('Compare the two selected runs') : trans.__('Select two runs to compare them')}
            onClick={() => props.onCompare?.(selected[0], selected[1])}
          >
            {trans.__('Compare')}
          </button>
        )}
      </div>
      <RunsChart history={history} runs={filtered} metric={metric} onOpenRun={props.onOpenRun} />
      <div className="jp-MlShip-tableWrap">
        <table className="jp-MlShip-runsTable" aria-label={trans.__('Runs table')}>
          <thead>
            <tr>
              {props.onCompare && <th aria-label={trans.__('Select')} rowSpan={groups ? 2 : undefined} />}
              {header('Run', { kind: 'run' })}
              {header('Status', { kind: 'status' })}
              {header('Version', { kind: 'version' })}
              {header('Started', { kind: 'started' })}
              {header('Duration', { kind: 'duration' })}
              {paramColumns.map(c => header(c.name, { kind: 'param', name: c.name }, trans.__('parameter %1', c.name), 'jp-MlShip-paramCol'))}
              {!groups &&
                history.outputs.map(c => header(c.name, { kind: 'output', name: c.name }, trans.__('output %1', c.name), 'jp-MlShip-outputCol'))}
              {groups?.map(g => (
                <th
                  key={`g:${g.id}`}
                  colSpan={2 + g.parameters.length + g.outputs.length}
                  className="jp-MlShip-stepGroup"
                  data-step={g.id}
                  title={trans.__('step %1 (job %2)', g.id, g.job)}
                >
                  {g.id}
                </th>
              ))}
            </tr>
            {groups && (
              <tr>
                {groups.map(g => [
                  header('Status', { kind: 'step', name: g.id, field: 'status' }, trans.__('Sort by the status of %1', g.id), 'jp-MlShip-stepStart'),
                  header('Duration', { kind: 'step', name: g.id, field: 'duration' }, trans.__('Sort by the duration of %1', g.id)),
                  ...g.parameters.map(c =>
                    header(c.name, { kind: 'step', name: g.id, field: 'param', key: c.name }, trans.__('parameter %1 of %2', c.name, g.id), 'jp-MlShip-paramCol')
                  ),
                  ...g.outputs.map(c =>
                    header(c.name, { kind: 'step', name: g.id, field: 'output', key: c.name }, trans.__('output %1 of %2', c.name, g.id), 'jp-MlShip-outputCol')
                  )
                ])}
              </tr>
            )}
          </thead>
          <tbody>
            {sorted.slice(0, shown).map(run => (
              <tr key={run.id} data-run={run.id} className={selected.includes(run.id) ? 'jp-mod-selected' : ''}>
                {props.onCompare && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={trans.__('Select run %1', run.id)}
                      checked={selected.includes(run.id)}
                      onChange={() => toggle(run.id)}
                    />
                  </td>
                )}
                <td>
                  <button className="jp-MlShip-link" onClick={() => props.onOpenRun(run.id)} title={trans.__('Open run %1', run.id)}>
                    #{shortId(run.id)}
                  </button>
                </td>
                <td title={run.error ?? undefined}>
                  <StatusChip status={run.status} />
                </td>
                <td>
                  <span className="jp-MlShip-versionDot" style={{ background: versionColor(run.version) }} />v{run.version}
                  {run.version === history.current_version && <span className="jp-MlShip-muted"> ★</span>}
                </td>
                <td title={formatDate(run.started_at ?? run.created_at)}>{formatDate(run.started_at ?? run.created_at)}</td>
                <td className="jp-MlShip-num">{formatDuration(run.duration)}</td>
                {paramColumns.map(c => {
                  const given = c.name in run.parameters;
                  const had = props.versionParameters?.[run.version]?.includes(c.name);
                  const blank = given || had === undefined ? null : had ? 'default' : 'absent';
                  return (
                    <td
                      key={`p:${c.name}`}
                      className={c.numeric ? 'jp-MlShip-num jp-MlShip-paramCol' : 'jp-MlShip-paramCol'}
                      data-blank={blank ?? undefined}
                    >
                      {given ? (
                        formatValue(run.parameters[c.name], 30)
                      ) : blank === 'default' ? (
                        <span className="jp-MlShip-muted" title={trans.__('v%1 had %2: its default was used', run.version, c.name)}>
                          {trans.__('default')}
                        </span>
                      ) : blank === 'absent' ? (
                        <span className="jp-MlShip-muted" title={trans.__('v%1 had no parameter %2', run.version, c.name)}>
                          {trans.__('not a parameter then')}
                        </span>
                      ) : (
                        ''
                      )}
                    </td>
                  );
                })}
                {!groups &&
                  history.outputs.map(c => (
                    <td key={`o:${c.name}`} className={c.numeric ? 'jp-MlShip-num jp-MlShip-outputCol' : 'jp-MlShip-outputCol'}>
                      {c.name in run.outputs ? formatValue(run.outputs[c.name], 30) : ''}
                    </td>
                  ))}
                {groups?.map(g => {
                  const cell = (run as IPipelineHistoryRow).steps?.[g.id];
                  const status = cell?.status;
                  const chip =
                    status && (RUN_STATUSES as readonly string[]).includes(status) ? (
                      <StatusChip status={status as RunStatus} />
                    ) : (
                      <span className="jp-MlShip-muted">{status ?? ''}</span>
                    );
                  return [
                    <td key={`s:${g.id}`} className="jp-MlShip-stepStart" data-step={g.id} data-step-status={status ?? ''}>
                      {cell?.run_id && props.onOpenStepRun ? (
                        <button
                          className="jp-MlShip-link"
                          onClick={() => props.onOpenStepRun?.(cell.run_id as string)}
                          title={trans.__('Open the run of %1%2', g.id, cell.cached ? trans.__(' (cached: an earlier run reused)') : '')}
                        >
                          {chip}
                          {cell.cached && <span className="jp-MlShip-muted">{' '}{trans.__('cached')}</span>}
                        </button>
                      ) : (
                        chip
                      )}
                    </td>,
                    <td key={`d:${g.id}`} className="jp-MlShip-num">
                      {cell ? formatDuration(cell.duration) : ''}
                    </td>,
                    ...g.parameters.map(c => (
                      <td key={`p:${g.id}:${c.name}`} className={c.numeric ? 'jp-MlShip-num jp-MlShip-paramCol' : 'jp-MlShip-paramCol'}>
                        {cell && c.name in cell.parameters ? formatValue(cell.parameters[c.name], 30) : ''}
                      </td>
                    )),
                    ...g.outputs.map(c => (
                      <td key={`o:${g.id}:${c.name}`} className={c.numeric ? 'jp-MlShip-num jp-MlShip-outputCol' : 'jp-MlShip-outputCol'}>
                        {cell && c.name in cell.outputs ? formatValue(cell.outputs[c.name], 30) : ''}
                      </td>
                    ))
                  ];
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sorted.length > shown && (
        <button className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-more" onClick={() => setShown(n => n + PAGE * 5)}>
          {trans.__('Show more (')}{sorted.length - shown}{' '}{trans.__('left)')}
        </button>
      )}
    </div>
  );
}
