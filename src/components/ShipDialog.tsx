/** The body of the Ship dialog: job name, parameters, run settings, version message. */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import type {
  IHealthInfo,
  INotifyTestRequest,
  INotifyTestResponse,
  IParameterSpec,
  IProjectPreview
} from '../api/types';
import { folderOfRoot, rootOfFolder } from '../core/projectFolder';
import { collectParameters, initialText, jobNameError } from '../core/params';
import { BackendSelect } from './BackendSelect';
import { Field, Notice } from './common';
import { ParameterForm, useDialogValidation } from './ParameterForm';
import { NotifyFields } from './NotifyFields';
import { notifyErrors, type INotifyTexts } from '../core/notifyConfig';
import { ProjectFolder, type IFolderProposal } from './ProjectFolder';
import { ProjectPreview } from './ProjectPreview';
import { ShipScheduleFields } from './ShipSchedule';
import {
  runSettingsErrors,
  shipExtrasErrors,
  type IRunSettingsTexts,
  type IShipExtrasTexts
} from './settingsFields';
import { useTrans } from '../core/i18n';

export interface IShipDialogOptions {
  path: string;
  name: string;
  parameters: IParameterSpec[];
  /** why the parameters could not be read, if they could not */
  parametersError?: string | null;
  settings: IRunSettingsTexts;
  /** schedule, env, secrets, requirements as `metadata.ml_ship` has them */
  extras: IShipExtrasTexts;
  health: IHealthInfo | null;
  /** what shipping would take along (GET /project), asked when the dialog opens and again
   * for the project folder chosen (`root` as `metadata.ml_ship.root` has it) */
  loadProject?: (root?: string | null) => Promise<IProjectPreview>;
  /** `metadata.ml_ship.root` as the notebook has it (undefined: not set) */
  root?: string | null;
  /** opens JupyterLab's folder picker in `host`: the folder chosen, or null */
  pickFolder?: (current: string, host: HTMLElement) => Promise<string | null>;
  /** `metadata.ml_ship.notify` as the fields show it */
  notify: INotifyTexts;
  /** "Send a test": POST /notify/test */
  sendTest?: (request: INotifyTestRequest) => Promise<INotifyTestResponse>;
}

/** What the user chose. */
export interface IShipChoices {
  name: string;
  message: string;
  parameters: Record<string, unknown>;
  settings: IRunSettingsTexts;
  extras: IShipExtrasTexts;
  /** `metadata.ml_ship.root` for the project folder chosen ('' the notebook's own); null:
   * not a valid choice (the dialog's Ship buttons are disabled then) */
  root: string | null;
  notify: INotifyTexts;
  /** "Ship anyway" ticked for a project folder over the server's limits */
  shipAnyway?: boolean;
}

/** Environment variables as rows of name and value, one more row to add. */
function EnvRows(props: {
  rows: [string, string][];
  errors: Record<number, string>;
  onChange: (rows: [string, string][]) => void;
}): JSX.Element {
  const trans = useTrans();
  const { rows, errors, onChange } = props;
  const set = (i: number, j: 0 | 1, text: string) =>
    onChange(rows.map((row, k) => (k === i ? ((j === 0 ? [text, row[1]] : [row[0], text]) as [string, string]) : row)));
  return (
    <div className="jp-MlShip-field jp-MlShip-envRows">
      <label>{trans.__('Environment variables')}</label>
      {rows.map(([key, value], i) => (
        <div key={i} className="jp-MlShip-envRow" data-env-row={i}>
          <input
            aria-label={trans.__('Variable %1 name', i + 1)}
            className={`jp-mod-styled jp-MlShip-input jp-MlShip-code${errors[i] ? ' jp-mod-error' : ''}`}
            value={key}
            placeholder="NAME"
            spellCheck={false}
            autoComplete="off"
            onChange={e => set(i, 0, e.currentTarget.value)}
          />
          <span className="jp-MlShip-muted">=</span>
          <input
            aria-label={trans.__('Variable %1 value', i + 1)}
            className="jp-mod-styled jp-MlShip-input jp-MlShip-code"
            value={value}
            placeholder="value"
            spellCheck={false}
            autoComplete="off"
            onChange={e => set(i, 1, e.currentTarget.value)}
          />
          <button
            type="button"
            className="jp-Button jp-mod-minimal jp-MlShip-envRemove"
            title={trans.__('Remove %1', key || 'this variable')}
            aria-label={trans.__('Remove variable %1', i + 1)}
            onClick={() => onChange(rows.filter((_, k) => k !== i))}
          >
            ×
          </button>
          {errors[i] && <div className="jp-MlShip-field-error jp-MlShip-envError">{errors[i]}</div>}
        </div>
      ))}
      <button
        type="button"
        className="jp-MlShip-linkButton jp-MlShip-envAdd"
        onClick={() => onChange([...rows, ['', '']])}
      >
        {trans.__('+ Add a variable')}
      </button>
    </div>
  );
}

function ShipForm(props: {
  options: IShipDialogOptions;
  onValue: (value: IShipChoices) => void;
}): JSX.Element {
  const trans = useTrans();
  const { options } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const [name, setName] = React.useState(options.name);
  const [message, setMessage] = React.useState('');
  const [texts, setTexts] = React.useState<Record<string, string>>(() =>
    Object.fromEntries(options.parameters.map(p => [p.name, initialText(p)]))
  );
  const [settings, setSettings] = React.useState<IRunSettingsTexts>(options.settings);
  const [extras, setExtras] = React.useState<IShipExtrasTexts>(options.extras);
  const [folder, setFolder] = React.useState(() => folderOfRoot(options.path, options.root));
  const [proposal, setProposal] = React.useState<IFolderProposal | null>(null);
  const proposalTaken = React.useRef(false);
  const [notify, setNotify] = React.useState<INotifyTexts>(options.notify);
  const [shipAnyway, setShipAnyway] = React.useState(false);
  const root = rootOfFolder(options.path, folder);
  const onPreview = (preview: IProjectPreview) => {
    setShipAnyway(false); // another folder: asked again
    if (preview.proposed_folder === null || preview.proposed_folder === undefined) {
      return;
    }
    const offered = { folder: preview.proposed_folder, reasons: preview.proposed_reasons ?? [] };
    setProposal(offered);
    // a notebook with no root of its own starts from the proposal (once: a choice stays)
    if (!proposalTaken.current && (options.root === undefined || options.root === null)) {
      proposalTaken.current = true;
      setFolder(offered.folder);
    }
  };

  const nameError = jobNameError(name);
  const collected = collectParameters(options.parameters, texts);
  const settingsErrors = runSettingsErrors(settings);
  const extrasErrors = shipExtrasErrors(extras);
  const backendInfo = options.health?.backends.find(b => b.name === settings.backend);

  // a layout effect: the dialog reads the value on its button's click, which may come
  // before a passive effect of the last keystroke has run
  React.useLayoutEffect(() => {
    props.onValue({ name, message, parameters: collected.values, settings, extras, root, notify, shipAnyway });
  });
  useDialogValidation(ref, [name, texts, settings, extras, folder, notify]);
  const notifyInvalid = Object.keys(notifyErrors(notify)).length > 0;

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
      <Field label={trans.__('Job name')} htmlFor="jp-MlShip-name" error={nameError ?? undefined}>
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
        label={trans.__('Version message')}
        htmlFor="jp-MlShip-message"
        hint={trans.__('What changed in this version (optional)')}
      >
        <input
          id="jp-MlShip-message"
          name="message"
          className="jp-mod-styled jp-MlShip-input"
          value={message}
          placeholder={trans.__('e.g. use the new feature table')}
          onChange={e => setMessage(e.currentTarget.value)}
        />
      </Field>
      {options.loadProject && (
        <>
          <ProjectFolder
            notebookPath={options.path}
            folder={folder}
            proposal={proposal}
            onChange={setFolder}
            pickFolder={options.pickFolder}
          />
          <ProjectPreview
            load={options.loadProject}
            root={root ?? ''}
            onLoaded={onPreview}
            shipAnyway={shipAnyway}
            onShipAnyway={setShipAnyway}
          />
        </>
      )}

      <fieldset className="jp-MlShip-section">
        <legend>{trans.__('Parameters for “Ship & run”')}</legend>
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
        <legend>{trans.__('Run settings')}</legend>
        <Field
          label={trans.__('Backend')}
          htmlFor="jp-MlShip-backend"
          error={
            backendInfo && !backendInfo.available
              ? trans.__('%1 is not available: %2', backendInfo.name, backendInfo.reason)
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
          <Field label={trans.__('CPUs')} htmlFor="jp-MlShip-cpu" error={settingsErrors.cpu}>
            {input('cpu', trans.__('no limit (default)'))}
          </Field>
          <Field label={trans.__('Memory')} htmlFor="jp-MlShip-memory" error={settingsErrors.memory}>
            {input('memory', trans.__('no limit (default)'))}
          </Field>
        </div>
        <div className="jp-MlShip-row">
          <Field label={trans.__('Timeout (s)')} htmlFor="jp-MlShip-timeout" error={settingsErrors.timeout}>
            {input('timeout', trans.__('none (default)'))}
          </Field>
          <Field label={trans.__('Retries')} htmlFor="jp-MlShip-retries" error={settingsErrors.retries}>
            {input('retries', trans.__('0 (default)'))}
          </Field>
        </div>
        <div className="jp-MlShip-field-help">
          {trans.__('An empty field means the default shown in it, and removes the setting from the notebook.')}
        </div>
      </fieldset>

      <fieldset className="jp-MlShip-section">
        <legend>{trans.__('Schedule')}</legend>
        <ShipScheduleFields extras={extras} onChange={setExtras} />
      </fieldset>

      <fieldset className="jp-MlShip-section jp-MlShip-notifySection">
        <legend>{trans.__('Notifications')}</legend>
        <NotifyFields texts={notify} onChange={setNotify} job={name} sendTest={options.sendTest} />
        {notifyInvalid && <span className="jp-mod-error" hidden />}
      </fieldset>

      <fieldset className="jp-MlShip-section">
        <legend>{trans.__('Environment')}</legend>
        <EnvRows
          rows={extras.env}
          errors={extrasErrors.envRows}
          onChange={env => setExtras({ ...extras, env })}
        />
        <Field
          label={trans.__('Secrets')}
          htmlFor="jp-MlShip-secrets"
          error={extrasErrors.secrets}
          hint={trans.__('Names of the server’s environment variables handed to the run, never stored')}
        >
          <input
            id="jp-MlShip-secrets"
            name="secrets"
            className={`jp-mod-styled jp-MlShip-input jp-MlShip-code${extrasErrors.secrets ? ' jp-mod-error' : ''}`}
            value={extras.secrets}
            placeholder={trans.__('e.g. DB_PASSWORD, API_TOKEN')}
            spellCheck={false}
            autoComplete="off"
            onChange={e => setExtras({ ...extras, secrets: e.currentTarget.value })}
          />
        </Field>
        <Field
          label={trans.__('Requirements')}
          htmlFor="jp-MlShip-requirementsMode"
          error={extrasErrors.requirements}
          hint={
            extras.requirementsMode === 'auto'
              ? trans.__('requirements.txt beside the notebook if there is one, else the kernel’s packages')
              : extras.requirementsMode === 'file'
                ? trans.__('A file relative to the notebook')
                : trans.__('One requirement a line, e.g. pandas==2.2')
          }
        >
          <select
            id="jp-MlShip-requirementsMode"
            className="jp-mod-styled jp-MlShip-select"
            value={extras.requirementsMode}
            onChange={e =>
              setExtras({
                ...extras,
                requirementsMode: e.currentTarget.value as IShipExtrasTexts['requirementsMode']
              })
            }
          >
            <option value="auto">{trans.__('Found automatically')}</option>
            <option value="file">{trans.__('From a file')}</option>
            <option value="list">{trans.__('This list')}</option>
          </select>
          {extras.requirementsMode === 'file' && (
            <input
              id="jp-MlShip-requirements"
              name="requirements"
              aria-label={trans.__('Requirements file')}
              className={`jp-mod-styled jp-MlShip-input jp-MlShip-code${extrasErrors.requirements ? ' jp-mod-error' : ''}`}
              value={extras.requirements}
              placeholder="requirements.txt"
              spellCheck={false}
              onChange={e => setExtras({ ...extras, requirements: e.currentTarget.value })}
            />
          )}
          {extras.requirementsMode === 'list' && (
            <textarea
              id="jp-MlShip-requirements"
              name="requirements"
              aria-label={trans.__('Requirements, one a line')}
              className="jp-mod-styled jp-MlShip-json"
              rows={3}
              value={extras.requirements}
              placeholder={trans.__('pandas==2.2\nscikit-learn')}
              spellCheck={false}
              onChange={e => setExtras({ ...extras, requirements: e.currentTarget.value })}
            />
          )}
        </Field>
      </fieldset>
      <div className="jp-MlShip-field-help">
        {trans.__('These choices are saved in the notebook’s')}{' '}<code>{trans.__('metadata.ml_ship')}</code>.
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
      settings: _options.settings,
      extras: _options.extras,
      root: rootOfFolder(_options.path, folderOfRoot(_options.path, _options.root)),
      notify: _options.notify
    };
  }

  getValue(): IShipChoices {
    return this._value;
  }

  /** The folder picker opens inside this dialog: its keys (Enter, Escape) go to the picker,
   * not to the Ship dialog, while it is open. */
  private _pickFolder = async (current: string, host: HTMLElement): Promise<string | null> => {
    const pick = this._options.pickFolder;
    if (!pick) {
      return null;
    }
    const outer = this.parent?.parent;
    outer?.node.removeEventListener('keydown', outer as unknown as EventListener, true);
    try {
      return await pick(current, host);
    } finally {
      outer?.node.addEventListener('keydown', outer as unknown as EventListener, true);
    }
  };

  protected render(): JSX.Element {
    const options = { ...this._options, pickFolder: this._options.pickFolder && this._pickFolder };
    return <ShipForm options={options} onValue={v => (this._value = v)} />;
  }
}
