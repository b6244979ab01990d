/** Backend choice: unusable backends are shown disabled, with the reason. */
import * as React from 'react';

import type { IHealthInfo } from '../api/types';
import { useTrans } from '../core/i18n';

/** The backend to preselect: `wanted` if usable, else the server's default, else any usable. */
export function pickBackend(health: IHealthInfo | null, wanted: string | undefined): string {
  if (!health) {
    return wanted ?? '';
  }
  const usable = health.backends.filter(b => b.available).map(b => b.name);
  for (const name of [wanted, health.default_backend]) {
    if (name && usable.includes(name)) {
      return name;
    }
  }
  return usable[0] ?? wanted ?? health.default_backend;
}

export function BackendSelect(props: {
  health: IHealthInfo | null;
  value: string;
  onChange: (value: string) => void;
  id?: string;
}): JSX.Element {
  const trans = useTrans();
  const { health, value } = props;
  if (!health) {
    return (
      <input
        id={props.id}
        className="jp-mod-styled jp-MlShip-input"
        name="backend"
        value={value}
        placeholder={trans.__('server default')}
        onChange={e => props.onChange(e.currentTarget.value)}
      />
    );
  }
  const unusable = health.backends.filter(b => !b.available);
  const selected = health.backends.find(b => b.name === value);
  return (
    <>
      <select
        id={props.id}
        name="backend"
        className="jp-mod-styled jp-MlShip-select"
        aria-invalid={!!selected && !selected.available}
        value={value}
        onChange={e => props.onChange(e.currentTarget.value)}
      >
        {health.backends.map(b => (
          <option key={b.name} value={b.name} disabled={!b.available} title={b.reason}>
            {b.name}
            {b.name === health.default_backend ? trans.__(' (default)') : ''}
            {b.available ? '' : trans.__(' — unavailable')}
          </option>
        ))}
      </select>
      {unusable.length > 0 && (
        <ul className="jp-MlShip-backend-reasons">
          {unusable.map(b => (
            <li key={b.name} title={b.reason}>
              <strong>{b.name}</strong>:{' '}
              {b.reason ? <span lang="en">{b.reason}</span> : trans.__('not available')}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
