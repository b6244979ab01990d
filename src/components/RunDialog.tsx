/** The body of the Run dialog: a version's parameters and the backend. */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import type { IHealthInfo, IParameterSpec } from '../api/types';
import { collectParameters } from '../core/params';
import { BackendSelect } from './BackendSelect';
import {
  InitialFromHint,
  ParameterForm,
  useDialogValidation,
  useParameterTexts
} from './ParameterForm';
import { useTrans } from '../core/i18n';

export interface IRunDialogOptions {
  parameters: IParameterSpec[];
  /** values to start from instead of the defaults (e.g. "Re-run with these parameters") */
  initial?: Record<string, unknown>;
  /** where `initial` comes from when the user did not choose it (e.g. "run #abc123 (v2)"):
   * said in the dialog, with a button back to the defaults */
  initialFrom?: string;
  health: IHealthInfo | null;
  backend: string;
}

export interface IRunChoices {
  parameters: Record<string, unknown>;
  backend: string;
}

function RunForm(props: {
  options: IRunDialogOptions;
  onValue: (value: IRunChoices) => void;
}): JSX.Element {
  const trans = useTrans();
  const { options } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const { texts, setTexts, initial, reset } = useParameterTexts(
    options.parameters,
    options.initial
  );
  const [backend, setBackend] = React.useState(options.backend);
  const collected = collectParameters(options.parameters, texts);

  // a layout effect: the dialog reads the value on its button's click, which may come
  // before a passive effect of the last keystroke has run
  React.useLayoutEffect(() => {
    props.onValue({ parameters: collected.values, backend });
  });
  useDialogValidation(ref, [texts, backend]);

  const unknown = Object.keys(initial ?? {}).filter(
    k => !options.parameters.some(p => p.name === k)
  );
  return (
    <div className="jp-MlShip-form jp-MlShip-runForm" ref={ref}>
      <fieldset className="jp-MlShip-section">
        <legend>{trans.__('Parameters')}</legend>
        {initial && options.initialFrom && (
          <InitialFromHint from={options.initialFrom} onReset={reset} />
        )}
        <ParameterForm
          specs={options.parameters}
          texts={texts}
          errors={collected.errors}
          onChange={(key, text) => setTexts({ ...texts, [key]: text })}
        />
        {unknown.length > 0 && (
          <div className="jp-MlShip-field-help">
            {trans.__('Not in this version, left out:')}{' '}{unknown.join(', ')}
          </div>
        )}
      </fieldset>
      <div className="jp-MlShip-field">
        <label htmlFor="jp-MlShip-run-backend">{trans.__('Backend')}</label>
        <BackendSelect
          id="jp-MlShip-run-backend"
          health={options.health}
          value={backend}
          onChange={setBackend}
        />
      </div>
    </div>
  );
}

export class RunDialogBody extends ReactWidget {
  private _value: IRunChoices;

  constructor(private readonly _options: IRunDialogOptions) {
    super();
    this.addClass('jp-MlShip-dialogBody');
    this._value = { parameters: {}, backend: _options.backend };
  }

  getValue(): IRunChoices {
    return this._value;
  }

  protected render(): JSX.Element {
    return <RunForm options={this._options} onValue={v => (this._value = v)} />;
  }
}
