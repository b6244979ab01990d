/** Two runs side by side: parameters, outputs and durations, and the diff of their notebooks. */
import * as React from 'react';

import type { ICompareRow, IRunComparison } from '../api/types';
import { formatDuration, formatValue, shortId } from '../core/format';
import { StatusChip } from './common';
import { useTrans } from '../core/i18n';

function delta(a: unknown, b: unknown): string {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) {
    const d = b - a;
    return `${d > 0 ? '+' : ''}${Number(d.toPrecision(3))}`;
  }
  return '';
}

function Rows(props: { title: string; rows: ICompareRow[] }): JSX.Element | null {
  if (!props.rows.length) {
    return null;
  }
  return (
    <>
      <tr className="jp-MlShip-compareGroup">
        <th colSpan={4}>{props.title}</th>
      </tr>
      {props.rows.map(r => (
        <tr key={`${props.title}:${r.name}`} className={r.same ? '' : 'jp-MlShip-changed'} data-name={r.name}>
          <th scope="row">{r.name}</th>
          <td>{r.a === undefined || r.a === null ? '–' : formatValue(r.a, 60)}</td>
          <td>{r.b === undefined || r.b === null ? '–' : formatValue(r.b, 60)}</td>
          <td className="jp-MlShip-num">{r.same ? '' : delta(r.a, r.b) || '≠'}</td>
        </tr>
      ))}
    </>
  );
}

export function CompareRuns(props: { cmp: IRunComparison; onOpenRun: (id: string) => void; onClose: () => void }): JSX.Element {
  const trans = useTrans();
  const { cmp } = props;
  const lines = cmp.notebook_text ? cmp.notebook_text.split('\n') : [];
  return (
    <section className="jp-MlShip-compareRuns" aria-label={trans.__('Compare runs')}>
      <div className="jp-MlShip-historyBar">
        <strong>
          {trans.__('Compare #')}{shortId(cmp.a.id)}{' '}{trans.__('and #')}{shortId(cmp.b.id)}
        </strong>
        <span className="jp-MlShip-grow" />
        <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={props.onClose}>
          {trans.__('Close')}
        </button>
      </div>
      <table className="jp-MlShip-runsTable jp-MlShip-compareTable">
        <thead>
          <tr>
            <th />
            {[cmp.a, cmp.b].map(r => (
              <th key={r.id}>
                <button className="jp-MlShip-link" onClick={() => props.onOpenRun(r.id)}>
                  #{shortId(r.id)}
                </button>{' '}
                v{r.version} <StatusChip status={r.status} />
              </th>
            ))}
            <th>Δ</th>
          </tr>
        </thead>
        <tbody>
          <tr data-name="duration">
            <th scope="row">{trans.__('duration')}</th>
            <td>{formatDuration(cmp.duration_a)}</td>
            <td>{formatDuration(cmp.duration_b)}</td>
            <td className="jp-MlShip-num">{delta(cmp.duration_a, cmp.duration_b) && `${delta(cmp.duration_a, cmp.duration_b)} s`}</td>
          </tr>
          <Rows title={trans.__('Parameters')} rows={cmp.parameters} />
          <Rows title={trans.__('Outputs')} rows={cmp.outputs} />
        </tbody>
      </table>
      <h3 className="jp-MlShip-compareTitle">{trans.__('Output notebooks (sources)')}</h3>
      {cmp.missing.length ? (
        <div className="jp-MlShip-empty">{trans.__('No output notebook for')}{' '}{cmp.missing.map(shortId).join(', ')}{trans.__(': nothing to diff.')}</div>
      ) : lines.length ? (
        <pre className="jp-MlShip-textDiff" aria-label={trans.__('Notebook diff')}>
          {lines.map((line, i) => (
            <div
              key={i}
              className={
                /^\s*[+>]/.test(line) && !line.startsWith('+++')
                  ? 'jp-MlShip-add'
                  : /^\s*[-<]/.test(line) && !line.startsWith('---')
                    ? 'jp-MlShip-del'
                    : ''
              }
            >
              {line || ' '}
            </div>
          ))}
        </pre>
      ) : (
        <div className="jp-MlShip-empty">{trans.__('The two output notebooks have the same sources.')}</div>
      )}
    </section>
  );
}
