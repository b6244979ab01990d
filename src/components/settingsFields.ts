/** Run settings of the ship dialog (backend, resources, timeout, retries): parse and check. */
import type { IShipConfig } from '../api/types';

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
  const errors: Partial<Record<keyof IRunSettingsTexts, string>> = {};
  const cpu = texts.cpu.trim();
  if (cpu && !(Number(cpu) > 0 && /^\d*\.?\d+$/.test(cpu))) {
    errors.cpu = 'A number of CPUs, e.g. 2 or 0.5';
  }
  const memory = texts.memory.trim();
  if (memory && !MEMORY_RE.test(memory)) {
    errors.memory = 'A size, e.g. 512m or 4g';
  }
  const timeout = texts.timeout.trim();
  if (timeout && !(/^\d+$/.test(timeout) && Number(timeout) > 0)) {
    errors.timeout = 'Whole seconds, e.g. 600';
  }
  const retries = texts.retries.trim();
  if (retries && !(/^\d+$/.test(retries) && Number(retries) <= 20)) {
    errors.retries = 'A count from 0 to 20';
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
