/** Two runs side by side: parameters, outputs and durations, and the diff of their notebooks. */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import type { ICompareRow, IRunComparison } from '../api/types';
import { cellChanges, cellChangesText } from '../core/diff';
import { createNotebookDiff } from '../core/nbdiff';
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

/** nbdime's rendered diff of the two output notebooks, as the version Compare view shows it;
 * `onFailed`: nbdime could not render it (the text diff is shown instead). */
function RenderedDiff(props: {
  cmp: IRunComparison;
  rendermime: IRenderMimeRegistry;
  onFailed: (why: string) => void;
  hidden: boolean;
}): JSX.Element {
  const trans = useTrans();
  const host = React.useRef<HTMLDivElement>(null);
  const [ready, setReady] = React.useState(false);
  // a layout effect: its cleanup runs while the host is still in the page (Lumino detaches
  // only a widget the document holds)
  React.useLayoutEffect(() => {
    let widget: Widget | null = null;
    let alive = true;
    setReady(false);
    createNotebookDiff({
      base: props.cmp.notebook_a ?? {},
      diff: props.cmp.notebook_diff,
      rendermime: props.rendermime
    })
      .then(w => {
        if (!alive || !host.current) {
          w.dispose();
          return;
        }
        widget = w;
        Widget.attach(w, host.current);
        setReady(true);
      })
      .catch(error => alive && props.onFailed(String(error?.message ?? error)));
    return () => {
      alive = false;
      try {
        if (widget?.isAttached) {
          Widget.detach(widget);
        }
      } finally {
        widget?.dispose();
      }
    };
  }, [props.cmp, props.rendermime]);
  return (
    <>
      {!ready && !props.hidden && (
        <div className="jp-MlShip-muted">{trans.__('Rendering the notebook diff…')}</div>
      )}
      <div
        className="jp-MlShip-compareNotebook jp-MlShip-runsNbdiff"
        ref={host}
        style={props.hidden ? { display: 'none' } : undefined}
      />
    </>
  );
}

/** The text diff of the two notebooks, its added and removed lines coloured. */
function TextLines(props: { lines: string[] }): JSX.Element {
  const trans = useTrans();
  const { lines } = props;
  return (
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
  );
}

export function CompareRuns(props: {
  cmp: IRunComparison;
  onOpenRun: (id: string) => void;
  onClose: () => void;
  /** the app's rendermime: the notebooks' diff rendered by nbdime (none: as text) */
  rendermime?: IRenderMimeRegistry | null;
}): JSX.Element {
  const trans = useTrans();
  const { cmp } = props;
  const lines = cmp.notebook_text ? cmp.notebook_text.split('\n') : [];
  const [renderError, setRenderError] = React.useState<string | null>(null);
  const [mode, setMode] = React.useState<'rendered' | 'text'>('rendered');
  const canRender = !!props.rendermime && !renderError && !!cmp.notebook_a && cmp.notebook_diff.length > 0;
  const cells = cmp.notebook_diff.length ? cellChanges(cmp.notebook_diff) : null;
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
      <div className="jp-MlShip-compareNotebookBar">
        <h3 className="jp-MlShip-compareTitle">{trans.__('Output notebooks (sources)')}</h3>
        <span className="jp-MlShip-muted" data-cells>
          {cells && cellChangesText(cells)}
        </span>
        <span className="jp-MlShip-grow" />
        {canRender && lines.length > 0 && (
          <div className="jp-MlShip-segmented" role="group" aria-label={trans.__('Diff view')}>
            {(['rendered', 'text'] as const).map(m => (
              <button
                key={m}
                className={mode === m ? 'jp-mod-active' : ''}
                aria-pressed={mode === m}
                onClick={() => setMode(m)}
              >
                {m === 'rendered' ? trans.__('Cells') : trans.__('Text')}
              </button>
            ))}
          </div>
        )}
      </div>
      {renderError && (
        <div className="jp-MlShip-muted">
          {trans.__('The cell view is not available (')}{renderError}{trans.__('): the text diff is shown.')}
        </div>
      )}
      {cmp.missing.length ? (
        <div className="jp-MlShip-empty">{trans.__('No output notebook for')}{' '}{cmp.missing.map(shortId).join(', ')}{trans.__(': nothing to diff.')}</div>
      ) : canRender && props.rendermime ? (
        <>
          <RenderedDiff
            cmp={cmp}
            rendermime={props.rendermime}
            onFailed={setRenderError}
            hidden={mode !== 'rendered'}
          />
          {mode === 'text' && <TextLines lines={lines} />}
        </>
      ) : lines.length ? (
        <TextLines lines={lines} />
      ) : (
        <div className="jp-MlShip-empty">{trans.__('The two output notebooks have the same sources.')}</div>
      )}
    </section>
  );
}
