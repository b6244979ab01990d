/** User settings of the extension (schema/plugin.json), with their defaults. */
import type { ISettingRegistry } from '@jupyterlab/settingregistry';

import type { IHealthInfo } from '../api/types';
import { getTrans } from './i18n';

export interface IMlShipSettings {
  /** backend preselected in the dialogs when the notebook names none ('' = the server's) */
  defaultBackend: string;
  /** keep a run's log scrolled to its end while it grows */
  followLogs: boolean;
  /** open the run view after "Ship & run" and "Run" */
  openRunView: boolean;
  /** the Run dialog starts from the parameters of the job's last run */
  runDialogFromLastRun: boolean;
  /** tell when a run started from this lab ends */
  notifyOnFinish: boolean;
  /** characters of log kept in memory per run view */
  maxLogChars: number;
  /** runs loaded per page in a job's run list */
  runsPageSize: number;
}

export const DEFAULT_SETTINGS: IMlShipSettings = {
  defaultBackend: '',
  followLogs: true,
  openRunView: true,
  runDialogFromLastRun: true,
  notifyOnFinish: true,
  maxLogChars: 2 * 1024 * 1024,
  runsPageSize: 50
};

export function readSettings(settings: ISettingRegistry.ISettings | null): IMlShipSettings {
  if (!settings) {
    return { ...DEFAULT_SETTINGS };
  }
  const get = <K extends keyof IMlShipSettings>(key: K): IMlShipSettings[K] => {
    const value = settings.get(key).composite;
    return (value === undefined || value === null ? DEFAULT_SETTINGS[key] : value) as IMlShipSettings[K];
  };
  return {
    defaultBackend: get('defaultBackend'),
    followLogs: get('followLogs'),
    openRunView: get('openRunView'),
    runDialogFromLastRun: get('runDialogFromLastRun'),
    notifyOnFinish: get('notifyOnFinish'),
    maxLogChars: get('maxLogChars'),
    runsPageSize: get('runsPageSize')
  };
}

/** The plugin's schema with `defaultBackend` an enum of the enabled backends ('' = the server's). */
export function withBackendChoices(
  plugin: ISettingRegistry.IPlugin,
  health: IHealthInfo | null
): ISettingRegistry.IPlugin {
  const trans = getTrans();
  if (!health) {
    return plugin;
  }
  const names = health.backends.filter(b => b.available).map(b => b.name);
  const user = (plugin.data?.user as { defaultBackend?: unknown } | undefined)?.defaultBackend;
  if (typeof user === 'string' && user && !names.includes(user)) {
    names.push(user); // chosen earlier, unavailable now: still a valid setting
  }
  const properties = { ...(plugin.schema.properties ?? {}) };
  properties.defaultBackend = {
    ...properties.defaultBackend,
    enum: ['', ...names],
    description:
      trans.__('%1 Enabled backends: %2; the server\'s default: %3.', properties.defaultBackend?.description ?? '', names.join(', ') || 'none', health.default_backend)
  };
  return { ...plugin, schema: { ...plugin.schema, properties } };
}

/**
 * Load the plugin's settings and call `apply` with them now and on every change. Settings'
 * "Default backend" is a choice of the server's enabled backends (free text if the server cannot
 * be asked; the schema's jupyter.lab.transform: loaded only once the transform is registered).
 */
export function watchSettings(
  registry: ISettingRegistry,
  pluginId: string,
  health: () => Promise<IHealthInfo>,
  apply: (settings: IMlShipSettings) => void
): void {
  void health()
    .catch(() => null)
    .then(info => {
      registry.transform(pluginId, { fetch: plugin => withBackendChoices(plugin, info) });
      return registry.load(pluginId);
    })
    .then(loaded => {
      const update = () => apply(readSettings(loaded));
      update();
      loaded.changed.connect(update);
    })
    .catch(reason => console.error('jupyter-ml-ship: cannot load settings', reason));
}
