/** The "Run pipeline" dialog: the pipeline's parameters (with its defaults), backend, cache. */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import type { IHealthInfo } from '../api/types';
import { BackendSelect } from '../components/BackendSelect';
import {
  InitialFromHint,
  ParameterForm,
  useDialogValidation,
  useParameterTexts
} from '../components/ParameterForm';
import { collectParameters } from '../core/params';
import type { IRunChoices } from './graphModel';
import { pipelineParameterSpecs } from './status';
import { getTrans, useTrans } from '../core/i18n';

export interface IRunPipelineOptions {
  name: string;
  /** the pipeline's parameters and their defaults */
  parameters: Record<string, unknown>;
  steps: number;
  /** values to start from instead of the defaults, and where they come from (said, with a
   * button back to the defaults) */
  initial?: { parameters: Record<string, unknown>; from: string };
  health: IHealthInfo | null;
  backend: string;
}

function RunPipelineForm(props: {
  options: IRunPipelineOptions;
  onValue: (value: IRunChoices) => void;
}): JSX.Element {
  const trans = useTrans();
  const { options } = props;
  const specs = React.useMemo(() => pipelineParameterSpecs(options.parameters), [options]);
  const ref = React.useRef<HTMLDivElement>(null);
  const { texts, setTexts, initial, reset } = useParameterTexts(
    specs,
    options.initial?.parameters
  );
  const [backend, setBackend] = React.useState(options.backend);
  const [useCache, setUseCache] = React.useState(true);
  const collected = collectParameters(specs, texts);

  // a layout effect: the dialog reads the value on its button's click, which may come
  // before a passive effect of the last keystroke has run
  React.useLayoutEffect(() => {
    props.onValue({ parameters: collected.values, backend, useCache });
  });
  useDialogValidation(ref, [texts, backend]);

  return (
    <div className="jp-MlShip-form jp-MlShip-pipelineRunForm" ref={ref}>
      <p className="jp-MlShip-muted jp-MlShip-formIntro">
        {trans.__('Ships the file’s notebooks (unchanged ones keep their version), then runs its')}{' '}
        {options.steps}{' '}{trans.__('step')}{options.steps === 1 ? '' : 's'}{trans.__(', in parallel where the graph allows.')}
      </p>
      <fieldset className="jp-MlShip-section">
        <legend>{trans.__('Pipeline parameters')}</legend>
        {initial && options.initial && specs.length > 0 && (
          <InitialFromHint from={options.initial.from} onReset={reset} />
        )}
        {specs.length ? (
          <ParameterForm
            specs={specs}
            texts={texts}
            errors={collected.errors}
            onChange={(key, text) => setTexts(t => ({ ...t, [key]: text }))}
          />
        ) : (
          <div className="jp-MlShip-muted">
            {trans.__('No parameters: add a')}{' '}<code>{trans.__('parameters:')}</code>{' '}{trans.__('mapping to the file to set values per run.')}
          </div>
        )}
      </fieldset>
      <div className="jp-MlShip-field">
        <label htmlFor="jp-MlShip-pipeline-backend">{trans.__('Backend (for steps that name none)')}</label>
        <BackendSelect
          id="jp-MlShip-pipeline-backend"
          health={options.health}
          value={backend}
          onChange={setBackend}
        />
      </div>
      <label className="jp-MlShip-check">
        <input
          type="checkbox"
          name="use-cache"
          checked={useCache}
          onChange={e => setUseCache(e.currentTarget.checked)}
        />{' '}
        {trans.__('Reuse the results of unchanged steps (cache)')}
      </label>
    </div>
  );
}

class RunPipelineBody extends ReactWidget {
  private _value: IRunChoices;

  constructor(private readonly _options: IRunPipelineOptions) {
    super();
    this.addClass('jp-MlShip-dialogBody');
    this._value = { parameters: {}, backend: _options.backend, useCache: true };
  }

  getValue(): IRunChoices {
    return this._value;
  }

  protected render(): JSX.Element {
    return <RunPipelineForm options={this._options} onValue={v => (this._value = v)} />;
  }
}

/** Ask for a run's parameters; null when the user cancels. */
export async function askRunChoices(options: IRunPipelineOptions): Promise<IRunChoices | null> {
  const trans = getTrans();
  const result = await showDialog<IRunChoices>({
    title: trans.__('Run pipeline %1', options.name),
    body: new RunPipelineBody(options),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Run pipeline') })],
    focusNodeSelector: 'input, textarea, select'
  });
  return result.button.accept && result.value ? result.value : null;
}
