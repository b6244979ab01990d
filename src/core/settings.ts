/** User settings of the extension (schema/plugin.json), with their defaults. */
import type { ISettingRegistry } from '@jupyterlab/settingregistry';

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
