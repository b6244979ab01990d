/** The Promote dialog's body: which environment a version goes to (production: the current
 * version), with where each environment is now. */
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { useTrans } from '../core/i18n';

/** Environments offered when the server names none (MlShip.environments' default). */
export const DEFAULT_ENVIRONMENTS = ['staging', 'production'];

/** The environments to offer: the server's (in promotion order), then any a job points with. */
export function environmentChoices(
  configured: readonly string[] | undefined,
  pointers: Record<string, number> | undefined
): string[] {
  const out = [...(configured && configured.length ? configured : DEFAULT_ENVIRONMENTS)];
  for (const env of Object.keys(pointers ?? {})) {
    if (!out.includes(env)) {
      out.push(env);
    }
  }
  return out;
}

interface IPromoteOptions {
  job: string;
  version: number;
  environments: string[];
  /** where each environment points now */
  pointers: Record<string, number>;
  /** the version has a promotion gate it has not passed: its validation run decides */
  gated: boolean;
}

function PromoteForm(props: { options: IPromoteOptions; onValue: (env: string) => void }): JSX.Element {
  const trans = useTrans();
  const { options } = props;
  const first = options.environments.find(env => options.pointers[env] !== options.version) ?? options.environments[0];
  const [env, setEnv] = React.useState(first);
  React.useEffect(() => props.onValue(env), [env]);
  const now = options.pointers[env];
  return (
    <div className="jp-MlShip-promoteForm">
      <label className="jp-MlShip-field">
        <span>{trans.__('Environment')}</span>
        <select
          className="jp-mod-styled jp-MlShip-promoteTarget"
          aria-label={trans.__('Environment')}
          value={env}
          onChange={e => setEnv(e.currentTarget.value)}
        >
          {options.environments.map(name => (
            <option key={name} value={name}>
              {options.pointers[name] !== undefined ? trans.__('%1 (now v%2)', name, options.pointers[name]) : name}
            </option>
          ))}
        </select>
      </label>
      <p className="jp-MlShip-muted">
        {env === 'production'
          ? trans.__('Production is the current version: new runs and the schedule use it.')
          : trans.__('Runs started for %1 (ml-ship run --env %1, a schedule naming it) use it.', env)}{' '}
        {now === options.version
          ? trans.__('v%1 is already there.', options.version)
          : now !== undefined
            ? trans.__('It points at v%1 now.', now)
            : trans.__('It points at no version yet.')}
      </p>
      {options.gated && (
        <p className="jp-MlShip-promoteGate">
          {trans.__('This job has a promotion gate: v%1 gets its validation run first and moves to %2 only if that run passes.', options.version, env)}
        </p>
      )}
    </div>
  );
}

export class PromoteDialogBody extends ReactWidget {
  private _value: string;

  constructor(private readonly _options: IPromoteOptions) {
    super();
    this.addClass('jp-MlShip-dialogBody');
    this._value = _options.environments[0] ?? 'production';
  }

  getValue(): string {
    return this._value;
  }

  protected render(): JSX.Element {
    return <PromoteForm options={this._options} onValue={v => (this._value = v)} />;
  }
}
