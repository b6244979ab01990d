/**
 * Why a run failed, as the user knows the notebook: "In cell N, line L", the exception, the
 * failing cell's source with the line marked, the traceback in colour, and a link that opens
 * the output notebook at that cell.
 */
import * as React from 'react';

import { ansiSegments } from '../core/ansi';
import type { IRunError } from '../api/types';
import { useTrans } from '../core/i18n';

/** Styled spans of a text with ANSI colours (JupyterLab's own `ansi-*` classes). */
export function AnsiText(props: { text: string }): JSX.Element {
  return (
    <>
      {ansiSegments(props.text).map((s, i) =>
        s.classes || s.style ? (
          <span key={i} className={s.classes || undefined} style={s.style}>
            {s.text}
          </span>
        ) : (
          <React.Fragment key={i}>{s.text}</React.Fragment>
        )
      )}
    </>
  );
}

/** The failing cell's lines, numbered, the one that raised marked. */
function CellSource(props: { source: string; line: number | null }): JSX.Element {
  const trans = useTrans();
  const lines = props.source.split('\n');
  return (
    <pre className="jp-MlShip-errorCell" aria-label={trans.__('The failing cell')}>
      {lines.map((text, i) => {
        const failing = i + 1 === props.line;
        return (
          <span
            key={i}
            className={`jp-MlShip-errorCell-line${failing ? ' jp-mod-failing' : ''}`}
            data-line={i + 1}
            aria-current={failing ? 'true' : undefined}
          >
            <span className="jp-MlShip-errorCell-arrow">{failing ? '→' : ' '}</span>
            <span className="jp-MlShip-errorCell-no">{i + 1}</span>
            {text || ' '}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}

export function RunErrorBox(props: {
  error: IRunError;
  /** opens the output notebook at the failing cell */
  onOpenCell?: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { cell_index, ename, evalue, message } = props.error;
  const number = props.error.cell_number ?? (cell_index ?? null);
  const line = props.error.line ?? null;
  const [traceback, setTraceback] = React.useState(true);
  const where =
    number !== null ? trans.__('In cell %1%2', number, line ? trans.__(', line %1', line) : '') : null;
  return (
    <div className="jp-MlShip-error" role="alert">
      {where && (
        <div className="jp-MlShip-error-where">
          <span data-where>{where}</span>
          {props.onOpenCell && cell_index !== null && (
            <button
              className="jp-MlShip-linkButton jp-MlShip-error-open"
              onClick={props.onOpenCell}
              title={trans.__('Open the output notebook at cell %1 (read-only)', number)}
            >
              {trans.__('Open the notebook at cell')}{' '}{number}
            </button>
          )}
        </div>
      )}
      {ename ? (
        <div className="jp-MlShip-error-exc">
          <span className="jp-MlShip-error-ename">{ename}</span>
          {evalue ? `: ${evalue}` : ''}
        </div>
      ) : null}
      {message &&
        !(ename && message.includes(`${ename}: ${evalue ?? ''}`)) && (
          <div className="jp-MlShip-error-message">{message}</div>
        )}
      {props.error.hint ? (
        <div className="jp-MlShip-error-hint" data-hint>
          <strong>{trans.__('How to fix it:')}</strong> {props.error.hint}
        </div>
      ) : null}
      {props.error.cell_source ? (
        <CellSource source={props.error.cell_source} line={line} />
      ) : null}
      {props.error.traceback ? (
        <details
          className="jp-MlShip-traceback"
          open={traceback}
          onToggle={e => setTraceback((e.target as HTMLDetailsElement).open)}
        >
          <summary>{trans.__('Traceback')}</summary>
          <div
            className="jp-RenderedText jp-MlShip-traceback-text"
            data-mime-type="application/vnd.jupyter.stdout"
          >
            <pre>
              <AnsiText text={props.error.traceback} />
            </pre>
          </div>
        </details>
      ) : null}
    </div>
  );
}
