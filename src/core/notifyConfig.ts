/** The Ship dialog's notification fields: `metadata.ml_ship.notify` as typed, and back. */
import type { IShipConfig } from '../api/types';
import { getTrans, translated } from './i18n';

/** The events the dialog offers (those of a job's runs and versions), in the order shown. */
export const NOTIFY_EVENTS: { value: string; label: string }[] = translated(trans => [
  { value: 'failed', label: trans.__('failed') },
  { value: 'timed_out', label: trans.__('timed out') },
  { value: 'degraded', label: trans.__('degraded (a check failed)') },
  { value: 'succeeded', label: trans.__('succeeded') },
  { value: 'started', label: trans.__('started') },
  { value: 'drift', label: trans.__('drift') },
  { value: 'promoted', label: trans.__('promoted') },
  { value: 'rejected', label: trans.__('rejected') },
  { value: 'rolled_back', label: trans.__('rolled back') }
]);
/** What a rule without `on` hears about (notify_spec.DEFAULT_EVENTS). */
export const DEFAULT_NOTIFY_EVENTS = ['failed', 'timed_out', 'degraded'];

export interface INotifyTexts {
  /** addresses, by comma or space */
  email: string;
  /** names of the server's environment variables holding webhook URLs */
  webhook: string;
  events: string[];
  /** seconds for "still running after"; empty: not asked */
  longerThan: string;
  /** a `notify` the fields cannot show (several rules): kept as it is */
  advanced: unknown;
}

const ADDRESS_RE = /^[^@\s<>,;"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const SECRET_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function splitList(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

function strings(value: unknown): string[] {
  return (Array.isArray(value) ? value : value ? [value] : []).map(String);
}

export function notifyFromConfig(config: IShipConfig): INotifyTexts {
  const raw = (config as Record<string, unknown>).notify;
  const empty: INotifyTexts = {
    email: '', webhook: '', events: [...DEFAULT_NOTIFY_EVENTS], longerThan: '', advanced: null
  };
  if (raw === undefined || raw === null) {
    return empty;
  }
  const rules = Array.isArray(raw) ? raw : [raw];
  if (rules.length !== 1 || typeof rules[0] !== 'object' || rules[0] === null) {
    return { ...empty, advanced: raw };
  }
  const rule = rules[0] as Record<string, unknown>;
  const on = rule.on === undefined ? DEFAULT_NOTIFY_EVENTS : Array.isArray(rule.on) ? rule.on : [rule.on];
  let longerThan = '';
  const events: string[] = [];
  for (const item of on) {
    if (item && typeof item === 'object' && 'longer_than' in (item as object)) {
      longerThan = String((item as Record<string, unknown>).longer_than);
    } else {
      events.push(String(item));
    }
  }
  return {
    email: strings(rule.email).join(', '),
    webhook: strings(rule.webhook).join(', '),
    events,
    longerThan,
    advanced: null
  };
}

/** Per field, what is wrong with it. */
export function notifyErrors(texts: INotifyTexts): {
  email?: string;
  webhook?: string;
  events?: string;
  longerThan?: string;
} {
  const trans = getTrans();
  const errors: ReturnType<typeof notifyErrors> = {};
  const badMail = splitList(texts.email).filter(a => !ADDRESS_RE.test(a));
  if (badMail.length) {
    errors.email = trans.__('Not an email address: %1', badMail.join(', '));
  }
  const badHook = splitList(texts.webhook).filter(n => !SECRET_RE.test(n));
  if (badHook.length) {
    errors.webhook = trans.__('Not a secret name (the NAME of a server environment variable holding the URL): %1', badHook.join(', '));
  }
  const longer = texts.longerThan.trim();
  if (longer && !(Number(longer) > 0)) {
    errors.longerThan = trans.__('Seconds, e.g. 3600');
  }
  const targets = splitList(texts.email).length + splitList(texts.webhook).length;
  if (targets && !texts.events.length && !longer) {
    errors.events = trans.__('Choose at least one event');
  }
  return errors;
}

/** `previous` with the notification fields applied: no target removes `notify`. */
export function applyNotify(previous: IShipConfig, texts: INotifyTexts): IShipConfig {
  const config = { ...previous } as Record<string, unknown>;
  if (texts.advanced !== null) {
    return config as IShipConfig;
  }
  const email = splitList(texts.email);
  const webhook = splitList(texts.webhook);
  if (!email.length && !webhook.length) {
    delete config.notify;
    return config as IShipConfig;
  }
  const on: unknown[] = NOTIFY_EVENTS.map(e => e.value).filter(e => texts.events.includes(e));
  const longer = texts.longerThan.trim();
  if (longer) {
    on.push({ longer_than: Number(longer) });
  }
  config.notify = {
    on,
    ...(email.length ? { email } : {}),
    ...(webhook.length ? { webhook } : {})
  };
  return config as IShipConfig;
}
