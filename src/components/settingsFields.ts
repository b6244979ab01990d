/** Run settings of the ship dialog (backend, resources, timeout, retries): parse and check. */
import type { IShipConfig } from '../api/types';
import { getTrans } from '../core/i18n';

export interface IRunSettingsTexts {
  backend: string;
  cpu: string;
  memory: string;
  timeout: string;
  retries: string;
}

export const MEMORY_RE = /^\d+(\.\d+)?\s*([kKmMgGtT]i?[bB]?)?$/;

/** Per field, what is wrong with it. */
export function runSettingsErrors(texts: IRunSettingsTexts): Partial<Record<keyof IRunSettingsTexts, string>> {
  const trans = getTrans();
  const errors: Partial<Record<keyof IRunSettingsTexts, string>> = {};
  const cpu = texts.cpu.trim();
  if (cpu && !(Number(cpu) > 0 && /^\d*\.?\d+$/.test(cpu))) {
    errors.cpu = trans.__('A number of CPUs, e.g. 2 or 0.5');
  }
  const memory = texts.memory.trim();
  if (memory && !MEMORY_RE.test(memory)) {
    errors.memory = trans.__('A size, e.g. 512m or 4g');
  }
  const timeout = texts.timeout.trim();
  if (timeout && !(/^\d+$/.test(timeout) && Number(timeout) > 0)) {
    errors.timeout = trans.__('Whole seconds, e.g. 600');
  }
  const retries = texts.retries.trim();
  if (retries && !(/^\d+$/.test(retries) && Number(retries) <= 20)) {
    errors.retries = trans.__('A count from 0 to 20');
  }
  return errors;
}

/** The texts the fields start with, from a notebook's `metadata.ml_ship`. */
export function runSettingsFromConfig(config: IShipConfig, backend: string): IRunSettingsTexts {
  const resources = (config.resources ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return {
    backend,
    cpu: text(resources.cpu),
    memory: text(resources.memory),
    timeout: text(config.timeout),
    retries: text(config.retries ?? '')
  };
}

/**
 * The `metadata.ml_ship` to write back: `previous` with these choices applied
 * (an emptied field removes its key; unknown keys are kept).
 */
export function applyRunSettings(
  previous: IShipConfig,
  name: string,
  texts: IRunSettingsTexts
): IShipConfig {
  const config: IShipConfig = { ...previous, name };
  const set = (key: string, value: unknown, target: Record<string, unknown>) => {
    if (value === '' || value === undefined) {
      delete target[key];
    } else {
      target[key] = value;
    }
  };
  set('backend', texts.backend, config);
  const resources: Record<string, unknown> = { ...(previous.resources ?? {}) };
  const cpu = texts.cpu.trim();
  set('cpu', cpu === '' ? '' : Number(cpu), resources);
  set('memory', texts.memory.trim(), resources);
  if (Object.keys(resources).length) {
    config.resources = resources as IShipConfig['resources'];
  } else {
    delete config.resources;
  }
  const timeout = texts.timeout.trim();
  set('timeout', timeout === '' ? '' : Number(timeout), config);
  const retries = texts.retries.trim();
  set('retries', retries === '' ? '' : Number(retries), config);
  return config;
}

// ---- schedule, environment, secrets, requirements ---------------------------------------

/** The Ship dialog's fields for what else `metadata.ml_ship` holds, as typed. */
export interface IShipExtrasTexts {
  /** cron or a preset; empty: no schedule */
  schedule: string;
  /** the IANA time zone the schedule is read in (`metadata.ml_ship.timezone`; UTC: unset) */
  timezone: string;
  /** environment variables, one row each (rows with an empty name are dropped) */
  env: [string, string][];
  /** names of secrets (environment variables of the server handed to the run), by comma or space */
  secrets: string;
  /** where the environment comes from: a requirements file beside the notebook, or a list */
  requirementsMode: 'auto' | 'file' | 'list';
  /** a path (`file`) or one requirement a line (`list`) */
  requirements: string;
}

const VARIABLE_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function shipExtrasFromConfig(config: IShipConfig): IShipExtrasTexts {
  const env = config.env && typeof config.env === 'object' ? (config.env as Record<string, unknown>) : {};
  const secrets = Array.isArray(config.secrets) ? (config.secrets as unknown[]).map(String) : [];
  const requirements = config.requirements;
  return {
    schedule: typeof config.schedule === 'string' ? config.schedule : '',
    timezone: typeof config.timezone === 'string' && config.timezone ? config.timezone : 'UTC',
    env: Object.entries(env).map(([k, v]) => [k, String(v)]),
    secrets: secrets.join(', '),
    requirementsMode: Array.isArray(requirements) ? 'list' : typeof requirements === 'string' && requirements ? 'file' : 'auto',
    requirements: Array.isArray(requirements)
      ? (requirements as unknown[]).map(String).join('\n')
      : typeof requirements === 'string'
        ? requirements
        : ''
  };
}

export function secretNames(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** Per field (and env row), what is wrong; the schedule is checked by `scheduleHint`. */
export function shipExtrasErrors(texts: IShipExtrasTexts): {
  env?: string;
  envRows: Record<number, string>;
  secrets?: string;
  requirements?: string;
} {
  const trans = getTrans();
  const envRows: Record<number, string> = {};
  const seen = new Set<string>();
  texts.env.forEach(([key, value], i) => {
    const name = key.trim();
    if (!name) {
      if (value) {
        envRows[i] = trans.__('A name for this value');
      }
    } else if (!VARIABLE_RE.test(name)) {
      envRows[i] = trans.__('%1: letters, digits and _, not starting with a digit', name);
    } else if (seen.has(name)) {
      envRows[i] = trans.__('%1 is set twice', name);
    }
    seen.add(name);
  });
  const errors: ReturnType<typeof shipExtrasErrors> = { envRows };
  const bad = secretNames(texts.secrets).filter(n => !VARIABLE_RE.test(n));
  if (bad.length) {
    errors.secrets = trans.__('Not a variable name: %1', bad.join(', '));
  }
  if (texts.requirementsMode === 'file' && !texts.requirements.trim()) {
    errors.requirements = trans.__('A path relative to the notebook, e.g. requirements.txt');
  }
  return errors;
}

/** `config` with these choices applied (an emptied field removes its key). */
export function applyShipExtras(previous: IShipConfig, texts: IShipExtrasTexts): IShipConfig {
  const config: IShipConfig = { ...previous };
  const schedule = texts.schedule.trim().split(/\s+/).join(' ');
  if (schedule) {
    config.schedule = schedule;
  } else {
    delete config.schedule;
  }
  const zone = (texts.timezone ?? '').trim();
  if (schedule && zone && zone !== 'UTC') {
    config.timezone = zone;
  } else {
    delete config.timezone; // UTC, the default, is not written
  }
  const env = Object.fromEntries(
    texts.env.filter(([k]) => k.trim()).map(([k, v]) => [k.trim(), v])
  );
  if (Object.keys(env).length) {
    config.env = env;
  } else {
    delete config.env;
  }
  const secrets = secretNames(texts.secrets);
  if (secrets.length) {
    config.secrets = secrets;
  } else {
    delete config.secrets;
  }
  const lines = texts.requirements.split('\n').map(l => l.trim()).filter(Boolean);
  if (texts.requirementsMode === 'file' && texts.requirements.trim()) {
    config.requirements = texts.requirements.trim();
  } else if (texts.requirementsMode === 'list' && lines.length) {
    config.requirements = lines;
  } else {
    delete config.requirements;
  }
  return config;
}
