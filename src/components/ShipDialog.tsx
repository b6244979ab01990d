/** The body of the Ship dialog: job name, parameters, run settings, version message. */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import type { IHealthInfo, IParameterSpec, IProjectPreview } from '../api/types';
import { collectParameters, initialText, jobNameError } from '../params';
import { BackendSelect } from './BackendSelect';
import { Notice } from './common';
import { ParameterForm, useDialogValidation } from './ParameterForm';
import { ProjectPreview } from './ProjectPreview';
import {
  runSettingsErrors,
  type IRunSettingsTexts
} from './settingsFields';

export interface IShipDialogOptions {
  path: string;
  name: string;
  parameters: IParameterSpec[];
  /** why the parameters could not be read, if they could not */
  parametersError?: string | null;
  settings: IRunSettingsTexts;
  health: IHealthInfo | null;
  /** what shipping would take along (GET /project), asked when the dialog opens */
  loadProject?: () => Promise<IProjectPreview>;
}

/** What the user chose. */
export interface IShipChoices {
  name: string;
  message: string;
  parameters: Record<string, unknown>;
  settings: IRunSettingsTexts;
}

function Field(props: {
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

function ShipForm(props: {
  options: IShipDialogOptions;
  onValue: (value: IShipChoices) => void;
}): JSX.Element {
  const { options } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const [name, setName] = React.useState(options.name);
  const [message, setMessage] = React.useState('');
  const [texts, setTexts] = React.useState<Record<string, string>>(() =>
    Object.fromEntries(options.parameters.map(p => [p.name, initialText(p)]))
  );
  const [settings, setSettings] = React.useState<IRunSettingsTexts>(options.settings);

  const nameError = jobNameError(name);
  const collected = collectParameters(options.parameters, texts);
  const settingsErrors = runSettingsErrors(settings);
  const backendInfo = options.health?.backends.find(b => b.name === settings.backend);

  // a layout effect: the dialog reads the value on its button's click, which may come
  // before a passive effect of the last keystroke has run
  React.useLayoutEffect(() => {
    props.onValue({ name, message, parameters: collected.values, settings });
  });
  useDialogValidation(ref, [name, texts, settings]);

  const set = (key: keyof IRunSettingsTexts) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setSettings({ ...settings, [key]: e.currentTarget.value });
  const input = (key: keyof IRunSettingsTexts, placeholder: string) => (
    <input
      id={`jp-MlShip-${key}`}
      name={key}
      className={`jp-mod-styled jp-MlShip-input${settingsErrors[key] ? ' jp-mod-error' : ''}`}
      value={settings[key]}
      placeholder={placeholder}
      spellCheck={false}
      onChange={set(key)}
    />
  );

  return (
    <div className="jp-MlShip-form jp-MlShip-shipForm" ref={ref}>
      <div className="jp-MlShip-path" title={options.path}>
        {options.path}
      </div>
      <Field label="Job name" htmlFor="jp-MlShip-name" error={nameError ?? undefined}>
        <input
          id="jp-MlShip-name"
          name="name"
          className={`jp-mod-styled jp-MlShip-input${nameError ? ' jp-mod-error' : ''}`}
          value={name}
          spellCheck={false}
          autoComplete="off"
          onChange={e => setName(e.currentTarget.value)}
        />
      </Field>
      <Field
        label="Version message"
        htmlFor="jp-MlShip-message"
        hint="What changed in this version (optional)"
      >
        <input
          id="jp-MlShip-message"
          name="message"
          className="jp-mod-styled jp-MlShip-input"
          value={message}
          placeholder="e.g. use the new feature table"
          onChange={e => setMessage(e.currentTarget.value)}
        />
      </Field>
      {options.loadProject && <ProjectPreview load={options.loadProject} />}

      <fieldset className="jp-MlShip-section">
        <legend>Parameters for “Ship &amp; run”</legend>
        {options.parametersError ? (
          <Notice kind="warning">{options.parametersError}</Notice>
        ) : (
          <ParameterForm
            specs={options.parameters}
            texts={texts}
            errors={collected.errors}
            onChange={(key, text) => setTexts({ ...texts, [key]: text })}
          />
        )}
      </fieldset>

      <fieldset className="jp-MlShip-section">
        <legend>Run settings</legend>
        <Field
          label="Backend"
          htmlFor="jp-MlShip-backend"
          error={
            backendInfo && !backendInfo.available
              ? `${backendInfo.name} is not available: ${backendInfo.reason}`
              : undefined
          }
        >
          <BackendSelect
            id="jp-MlShip-backend"
            health={options.health}
            value={settings.backend}
            onChange={backend => setSettings({ ...settings, backend })}
          />
        </Field>
        <div className="jp-MlShip-row">
          <Field label="CPUs" htmlFor="jp-MlShip-cpu" error={settingsErrors.cpu}>
            {input('cpu', 'no limit')}
          </Field>
          <Field label="Memory" htmlFor="jp-MlShip-memory" error={settingsErrors.memory}>
            {input('memory', 'e.g. 4g')}
          </Field>
        </div>
        <div className="jp-MlShip-row">
          <Field label="Timeout (s)" htmlFor="jp-MlShip-timeout" error={settingsErrors.timeout}>
            {input('timeout', 'none')}
          </Field>
          <Field label="Retries" htmlFor="jp-MlShip-retries" error={settingsErrors.retries}>
            {input('retries', '0')}
          </Field>
        </div>
      </fieldset>
      <div className="jp-MlShip-field-help">
        These choices are saved in the notebook’s <code>metadata.ml_ship</code>.
      </div>
    </div>
  );
}

export class ShipDialogBody extends ReactWidget {
  private _value: IShipChoices;

  constructor(private readonly _options: IShipDialogOptions) {
    super();
    this.addClass('jp-MlShip-dialogBody');
    this._value = {
      name: _options.name,
      message: '',
      parameters: {},
      settings: _options.settings
    };
  }

  getValue(): IShipChoices {
    return this._value;
  }

  protected render(): JSX.Element {
    return <ShipForm options={this._options} onValue={v => (this._value = v)} />;
  }
}
