/** Small React pieces shared by the panel, the dialogs and the run view. */
import * as React from 'react';

import type { RunStatus } from '../api/types';
import { formatValue, STATUS_LABELS } from '../core/format';
import { useTrans } from '../core/i18n';

export function StatusChip(props: {
  status: RunStatus;
  title?: string;
  /** the version that ran, said after the status ("succeeded · v3") */
  version?: number | null;
}): JSX.Element {
  const trans = useTrans();
  const label = STATUS_LABELS[props.status];
  const said =
    typeof props.version === 'number' ? trans.__('%1 · v%2', label, props.version) : label;
  return (
    <span
      className={`jp-MlShip-status jp-MlShip-status-${props.status}`}
      data-status={props.status}
      data-version={props.version ?? undefined}
      title={props.title ?? said}
    >
      {said}
    </span>
  );
}

/** A two-column table of names and values (parameters, outputs). */
export function KeyValues(props: {
  values: Record<string, unknown>;
  empty?: string;
  className?: string;
}): JSX.Element {
  const trans = useTrans();
  const entries = Object.entries(props.values);
  if (!entries.length) {
    return <div className="jp-MlShip-muted">{props.empty ?? trans.__('none')}</div>;
  }
  return (
    <table className={`jp-MlShip-kv ${props.className ?? ''}`}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td title={typeof value === 'string' ? value : JSON.stringify(value)}>
              {formatValue(value, 200)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `k=v, k=v` on one line. */
export function inlineValues(values: Record<string, unknown>, max = 80): string {
  return formatValue(
    Object.entries(values)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', '),
    max
  );
}

export { RunErrorBox } from './RunErrorBox';

/** Text where `backquoted` parts are shown as code. */
export function TextWithCode(props: { text: string }): JSX.Element {
  return (
    <>
      {props.text.split('`').map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part))}
    </>
  );
}

/** A notice box (warning or error) with an optional action button. */
export function Notice(props: {
  kind: 'warning' | 'error' | 'info';
  children: React.ReactNode;
  action?: { label: string; onClick: () => void };
}): JSX.Element {
  return (
    <div className={`jp-MlShip-notice jp-MlShip-notice-${props.kind}`} role="status">
      <div className="jp-MlShip-notice-text">{props.children}</div>
      {props.action && (
        <button
          className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-notice-action"
          onClick={props.action.onClick}
        >
          {props.action.label}
        </button>
      )}
    </div>
  );
}

/** A dialog field: its label, the control(s), and its error, or else its hint, below. */
export function Field(props: {
  label: string;
  htmlFor: string;
  error?: string;
  hint?: React.ReactNode;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div className={`jp-MlShip-field${props.error ? ' jp-MlShip-field-invalid' : ''}`}>
      <label htmlFor={props.htmlFor}>{props.label}</label>
      {props.children}
      {props.error ? (
        <div className="jp-MlShip-field-error">{props.error}</div>
      ) : props.hint ? (
        <div className="jp-MlShip-field-help">{props.hint}</div>
      ) : null}
    </div>
  );
}
