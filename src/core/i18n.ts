/**
 * The extension in the user's language: every user-visible string goes through JupyterLab's
 * ITranslator, domain `jupyter_ml_ship` (the catalogue the Python package ships in
 * jupyter_ml_ship/locale/<locale>/LC_MESSAGES/jupyter_ml_ship.json, found by JupyterLab's
 * translation server through the package's `jupyterlab.locale` entry point).
 *
 * The core plugin sets the lab's translator once at activation (`setTranslator`); code that is no
 * React component takes the bundle with `getTrans()`, components with the `useTrans()` hook
 * (the bundle of the nearest `TransContext.Provider`, else the lab's). Write the calls as
 * `trans.__('Text %1', value)` / `trans._n('%1 run', '%1 runs', n)` on a variable named `trans`:
 * that is what `jupyterlab-translate` extracts into the catalogue (see docs/translations.md).
 */
import { nullTranslator, type ITranslator, type TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

export const DOMAIN = 'jupyter_ml_ship';

let current: TranslationBundle = nullTranslator.load(DOMAIN);
let language = 'en';

/** Use the lab's translator (the core plugin's activation; before it: English). */
export function setTranslator(translator: ITranslator | null): TranslationBundle {
  current = (translator ?? nullTranslator).load(DOMAIN);
  language = translator?.languageCode ?? 'en';
  return current;
}

/** The lab's language, as its translator names it ('en', 'fr_FR'…). */
export function labLanguage(): string {
  return language || 'en';
}

/** The locale for dates and numbers: the lab's language (undefined in English: the browser's). */
export function dateLocale(): string | undefined {
  return language && !language.startsWith('en') ? language.replace('_', '-') : undefined;
}

/** The bundle of the extension's domain, for code that is no React component. */
export function getTrans(): TranslationBundle {
  return current;
}

/** Always the current bundle (the context's default: components rendered before any provider). */
const lab: TranslationBundle = {
  __: (msgid, ...args) => current.__(msgid, ...args),
  _n: (msgid, plural, n, ...args) => current._n(msgid, plural, n, ...args),
  _p: (ctx, msgid, ...args) => current._p(ctx, msgid, ...args),
  _np: (ctx, msgid, plural, n, ...args) => current._np(ctx, msgid, plural, n, ...args),
  gettext: (msgid, ...args) => current.gettext(msgid, ...args),
  ngettext: (msgid, plural, n, ...args) => current.ngettext(msgid, plural, n, ...args),
  pgettext: (ctx, msgid, ...args) => current.pgettext(ctx, msgid, ...args),
  npgettext: (ctx, msgid, plural, n, ...args) => current.npgettext(ctx, msgid, plural, n, ...args),
  dcnpgettext: (domain, ctx, msgid, plural, n, ...args) =>
    current.dcnpgettext(domain, ctx, msgid, plural, n, ...args)
};

export const TransContext = React.createContext<TranslationBundle>(lab);

/** The translation bundle in a React component. */
export function useTrans(): TranslationBundle {
  return React.useContext(TransContext);
}

/**
 * A constant table of texts (labels by key, a list of choices) that is translated when read, in
 * the language of the moment: `translated(trans => ({ queued: trans.__('queued'), … }))`.
 */
export function translated<T extends object>(make: (trans: TranslationBundle) => T): T {
  const now = (): T => make(current);
  const english = make(nullTranslator.load(DOMAIN));
  // an array's proxy needs an array target (its `length` is checked against the target's)
  const target = (Array.isArray(english) ? [...english] : {}) as T;
  return new Proxy(target, {
    get: (_, key) => Reflect.get(now(), key),
    has: (_, key) => Reflect.has(now(), key),
    ownKeys: () => Reflect.ownKeys(now()),
    getOwnPropertyDescriptor: (t, key) => {
      if (key === 'length') {
        return Reflect.getOwnPropertyDescriptor(t, key);
      }
      const d = Reflect.getOwnPropertyDescriptor(now(), key);
      return d ? { ...d, configurable: true } : undefined;
    }
  });
}

/**
 * The server's fixed English texts the lab knows (reasons, labels it sends as text), in the
 * user's language; any other server text is returned as it is (show it with `lang="en"`).
 */
function serverTexts(trans: TranslationBundle): Record<string, string> {
  return {
    hidden: trans.__('hidden'),
    'not in metadata.ml_ship.include': trans.__('not in metadata.ml_ship.include'),
    'another notebook (a job of its own; metadata.ml_ship.include takes it)': trans.__(
      'another notebook (a job of its own; metadata.ml_ship.include takes it)'
    ),
    'a pipeline file (shipped as a pipeline of its own)': trans.__(
      'a pipeline file (shipped as a pipeline of its own)'
    )
  };
}

export function serverText(text: string): string {
  return serverTexts(current)[text] ?? text;
}

