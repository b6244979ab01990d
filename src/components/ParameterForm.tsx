/** One typed input per notebook parameter, validated as you type. */
import * as React from 'react';

import type { IParameterSpec } from '../api/types';
import { defaultValue, initialText, kindHint, paramKind } from '../core/params';
import { useTrans } from '../core/i18n';

export interface IParameterFormProps {
  specs: IParameterSpec[];
  texts: Record<string, string>;
  errors: Record<string, string>;
  onChange: (name: string, text: string) => void;
}

function ParameterInput(props: {
  spec: IParameterSpec;
  text: string;
  invalid: boolean;
  onChange: (text: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { spec, text, invalid, onChange } = props;
  const kind = paramKind(spec);
  const id = `jp-MlShip-param-${spec.name}`;
  const literal = defaultValue(spec) !== undefined;
  const placeholder =
    spec.default !== null && !literal ? trans.__('default: %1', spec.default) : undefined;
  const common = {
    id,
    name: `param-${spec.name}`,
    'data-param': spec.name,
    'aria-invalid': invalid,
    className: `jp-mod-styled jp-MlShip-input${invalid ? ' jp-mod-error' : ''}`
  };
  if (kind === 'bool') {
    return (
      <input
        {...common}
        className="jp-MlShip-checkbox"
        type="checkbox"
        checked={text === 'true'}
        onChange={e => onChange(e.currentTarget.checked ? 'true' : 'false')}
      />
    );
  }
  if (kind === 'json' || kind === 'any') {
    return (
      <textarea
        {...common}
        className={`${common.className} jp-MlShip-json`}
        rows={Math.min(6, Math.max(1, text.split('\n').length))}
        spellCheck={false}
        value={text}
        placeholder={placeholder}
        onChange={e => onChange(e.currentTarget.value)}
      />
    );
  }
  return (
    <input
      {...common}
      type="text"
      inputMode={kind === 'int' ? 'numeric' : kind === 'float' ? 'decimal' : undefined}
      spellCheck={false}
      value={text}
      placeholder={placeholder}
      onChange={e => onChange(e.currentTarget.value)}
    />
  );
}

export function ParameterForm(props: IParameterFormProps): JSX.Element {
  const trans = useTrans();
  if (!props.specs.length) {
    return (
      <div className="jp-MlShip-muted">
        {trans.__('No parameters. Tag a cell')}{' '}<code>{trans.__('parameters')}</code>{' '}{trans.__('to make its variables settable per run.')}
      </div>
    );
  }
  return (
    <div className="jp-MlShip-params">
      {props.specs.map(spec => {
        const error = props.errors[spec.name];
        const text = props.texts[spec.name] ?? '';
        return (
          <div
            key={spec.name}
            className={`jp-MlShip-field${error ? ' jp-MlShip-field-invalid' : ''}`}
          >
            <label htmlFor={`jp-MlShip-param-${spec.name}`}>
              <span className="jp-MlShip-param-name">{spec.name}</span>
              <span className="jp-MlShip-param-type">{kindHint(spec)}</span>
            </label>
            <ParameterInput
              spec={spec}
              text={text}
              invalid={!!error}
              onChange={value => props.onChange(spec.name, value)}
            />
            {error ? (
              <div className="jp-MlShip-field-error">{error}</div>
            ) : spec.help ? (
              <div className="jp-MlShip-field-help">{spec.help}</div>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}

/**
 * Tell an enclosing JupyterLab `Dialog` to re-check validity after React re-rendered:
 * the dialog disables its accept buttons while `.jp-mod-error` or `:invalid` is present,
 * but only looks on `input` events, which fire before React updates the DOM.
 */
export function useDialogValidation(
  ref: React.RefObject<HTMLElement>,
  deps: React.DependencyList
): void {
  React.useEffect(() => {
    ref.current?.dispatchEvent(new Event('input', { bubbles: true }));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}

/** "Filled in from the last run #abc123 (…). Use the defaults": where a form's values came
 * from when the user did not choose them, with the way back to the defaults. */
export function InitialFromHint(props: { from: string; onReset: () => void }): JSX.Element {
  const trans = useTrans();
  return (
    <div className="jp-MlShip-field-help jp-MlShip-initialFrom">
      {trans.__('Filled in from the last')}{' '}{props.from}.{' '}
      <button type="button" className="jp-MlShip-linkButton" onClick={props.onReset}>
        {trans.__('Use the defaults')}
      </button>
    </div>
  );
}

/**
 * A parameter form's texts, started from `initial` values (else the defaults), and `reset` back
 * to the defaults; `initial` is undefined again once reset.
 */
export function useParameterTexts(
  specs: IParameterSpec[],
  start?: Record<string, unknown>
): {
  texts: Record<string, string>;
  setTexts: React.Dispatch<React.SetStateAction<Record<string, string>>>;
  initial: Record<string, unknown> | undefined;
  reset: () => void;
} {
  const textsFrom = (values?: Record<string, unknown>) =>
    Object.fromEntries(specs.map(p => [p.name, initialText(p, values?.[p.name])]));
  const [initial, setInitial] = React.useState(start);
  const [texts, setTexts] = React.useState<Record<string, string>>(() => textsFrom(start));
  const reset = () => {
    setInitial(undefined);
    setTexts(textsFrom(undefined));
  };
  return { texts, setTexts, initial, reset };
}
