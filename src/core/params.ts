/**
 * Parameter form values: from papermill's parameter specs to typed inputs and back.
 *
 * A spec's `default` is the Python expression written in the notebook's `parameters` cell,
 * so it is read with a small Python-literal parser; an expression that is not a literal
 * (e.g. `date.today()`) stays the notebook's business: its field starts empty and an empty
 * field is not sent.
 */
import type { IParameterSpec } from '../api/types';
import { getTrans } from './i18n';

/** How a parameter is edited. */
export type ParamKind = 'int' | 'float' | 'bool' | 'str' | 'json' | 'any';

export type ParseResult =
  | { ok: true; value: unknown }
  | { ok: true; useDefault: true }
  | { ok: false; error: string };

export const JOB_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Why a job name is not allowed, or null when it is fine. */
export function jobNameError(name: string): string | null {
  const trans = getTrans();
  if (!name) {
    return trans.__('A job name is required');
  }
  if (name.length > 63) {
    return trans.__('At most 63 characters');
  }
  if (!JOB_NAME_RE.test(name)) {
    return trans.__('Use lowercase letters, digits and \'-\', starting with a letter or digit');
  }
  return null;
}

/** The job name the server derives from a notebook path (mirrors `jupyter_ml_ship/naming.py`). */
export function jobNameFromPath(path: string): string {
  let stem = path.split('/').pop() || '';
  for (const suffix of ['.pipeline.yaml', '.pipeline.yml', '.ipynb']) {
    if (stem.endsWith(suffix)) {
      stem = stem.slice(0, -suffix.length);
    }
  }
  return stem
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
}

// ---- Python literals -----------------------------------------------------------------

class LiteralParser {
  private _pos = 0;
  constructor(private readonly _src: string) {}

  parse(): unknown {
    const value = this._value();
    this._ws();
    if (this._pos !== this._src.length) {
      throw new Error('trailing text');
    }
    return value;
  }

  private _ws(): void {
    while (/\s/.test(this._src[this._pos] ?? '')) {
      this._pos++;
    }
  }

  private _value(): unknown {
    const trans = getTrans();
    this._ws();
    const ch = this._src[this._pos];
    if (ch === '[' || ch === '(') {
      return this._sequence(ch === '[' ? ']' : ')');
    }
    if (ch === '{') {
      return this._dict();
    }
    const str = /^([rRbBuU]?)('''|"""|'|")/.exec(this._src.slice(this._pos));
    if (str) {
      return this._string(str[1].toLowerCase() === 'r', str[2], str[0].length);
    }
    const rest = this._src.slice(this._pos);
    const word = /^(True|False|None)\b/.exec(rest);
    if (word) {
      this._pos += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : null;
    }
    const num = /^[+-]?(\d[\d_]*\.?[\d_]*(e[+-]?\d+)?|\.\d[\d_]*(e[+-]?\d+)?)/i.exec(rest);
    if (num) {
      this._pos += num[0].length;
      const value = Number(num[0].replace(/_/g, ''));
      if (!Number.isFinite(value)) {
        throw new Error('bad number');
      }
      return value;
    }
    throw new Error(trans.__('not a literal'));
  }

  private _sequence(close: string): unknown[] {
    this._pos++;
    const items: unknown[] = [];
    for (;;) {
      this._ws();
      if (this._src[this._pos] === close) {
        this._pos++;
        return items;
      }
      items.push(this._value());
      this._ws();
      if (this._src[this._pos] === ',') {
        this._pos++;
      } else if (this._src[this._pos] !== close) {
        throw new Error('expected , or ' + close);
      }
    }
  }

  private _dict(): Record<string, unknown> {
    this._pos++;
    const out: Record<string, unknown> = {};
    for (;;) {
      this._ws();
      if (this._src[this._pos] === '}') {
        this._pos++;
        return out;
      }
      const key = this._value();
      this._ws();
      if (this._src[this._pos] !== ':') {
        throw new Error('expected :');
      }
      this._pos++;
      out[typeof key === 'string' ? key : JSON.stringify(key)] = this._value();
      this._ws();
      if (this._src[this._pos] === ',') {
        this._pos++;
      } else if (this._src[this._pos] !== '}') {
        throw new Error('expected , or }');
      }
    }
  }

  private _string(raw: boolean, quote: string, skip: number): string {
    this._pos += skip;
    let out = '';
    const escapes: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '0': '\0',
      '\\': '\\',
      "'": "'",
      '"': '"'
    };
    while (this._pos < this._src.length) {
      if (this._src.startsWith(quote, this._pos)) {
        this._pos += quote.length;
        return out;
      }
      const ch = this._src[this._pos++];
      if (ch === '\\' && !raw) {
        const next = this._src[this._pos++] ?? '';
        if (next === 'u' || next === 'x') {
          const len = next === 'u' ? 4 : 2;
          out += String.fromCharCode(parseInt(this._src.substr(this._pos, len), 16));
          this._pos += len;
        } else {
          out += escapes[next] ?? '\\' + next;
        }
      } else if (ch === '\n' && quote.length === 1) {
        throw new Error('unterminated string');
      } else {
        out += ch;
      }
    }
    throw new Error('unterminated string');
  }
}

/** The value of a Python literal (numbers, strings, True/False/None, lists, tuples, dicts). */
export function parsePythonLiteral(
  src: string
): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: new LiteralParser(src.trim()).parse() };
  } catch {
    return { ok: false };
  }
}

// ---- kinds, texts and values ----------------------------------------------------------

/** How to edit a parameter: from its declared type, else from its default's value. */
export function paramKind(spec: IParameterSpec): ParamKind {
  const declared = (spec.type || '').trim();
  switch (declared) {
    case 'int':
    case 'float':
    case 'bool':
    case 'str':
      return declared;
    case 'list':
    case 'dict':
    case 'tuple':
      return 'json';
  }
  const parsed = spec.default === null ? { ok: false } : parsePythonLiteral(spec.default);
  if (!parsed.ok || !('value' in parsed)) {
    return 'any';
  }
  return kindOfValue(parsed.value);
}

function kindOfValue(value: unknown): ParamKind {
  if (typeof value === 'boolean') {
    return 'bool';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'int' : 'float';
  }
  if (typeof value === 'string') {
    return 'str';
  }
  return value === null ? 'any' : 'json';
}

/** The default's value, or undefined when it is an expression rather than a literal. */
export function defaultValue(spec: IParameterSpec): unknown {
  if (spec.default === null) {
    return undefined;
  }
  const parsed = parsePythonLiteral(spec.default);
  return parsed.ok ? parsed.value : undefined;
}

/** The text an input shows for a value of a kind. */
export function valueToText(kind: ParamKind, value: unknown): string {
  if (value === undefined) {
    return '';
  }
  if (kind === 'str' && typeof value === 'string') {
    return value;
  }
  if (kind === 'bool') {
    return value ? 'true' : 'false';
  }
  if ((kind === 'int' || kind === 'float') && typeof value === 'number') {
    return String(value);
  }
  return JSON.stringify(value);
}

/** The initial text of a parameter's input: `override` (e.g. a past run's value) or the default. */
export function initialText(spec: IParameterSpec, override?: unknown): string {
  const kind = paramKind(spec);
  return valueToText(kind, override !== undefined ? override : defaultValue(spec));
}

const expectedJson: Record<string, (v: unknown) => boolean> = {
  list: v => Array.isArray(v),
  tuple: v => Array.isArray(v),
  dict: v => v !== null && typeof v === 'object' && !Array.isArray(v)
};

/** Read an input's text as the parameter's value, or say what is wrong with it. */
export function parseParameter(spec: IParameterSpec, text: string): ParseResult {
  const trans = getTrans();
  const kind = paramKind(spec);
  const trimmed = text.trim();
  if (trimmed === '' && (kind !== 'str' || defaultValue(spec) === undefined)) {
    // an empty input keeps the notebook's own default
    return spec.default !== null
      ? { ok: true, useDefault: true }
      : { ok: false, error: trans.__('A value is required') };
  }
  switch (kind) {
    case 'int':
      return /^[+-]?\d+$/.test(trimmed)
        ? { ok: true, value: parseInt(trimmed, 10) }
        : { ok: false, error: trans.__('An integer, e.g. 42') };
    case 'float': {
      const value = Number(trimmed);
      return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, error: trans.__('A number, e.g. 0.5') };
    }
    case 'bool':
      return trimmed === 'true' || trimmed === 'false'
        ? { ok: true, value: trimmed === 'true' }
        : { ok: false, error: trans.__('true or false') };
    case 'str':
      return { ok: true, value: text };
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (error) {
        return { ok: false, error: trans.__('Invalid JSON: %1', (error as Error).message) };
      }
      const check = expectedJson[spec.type];
      if (check && !check(value)) {
        return {
          ok: false,
          error: spec.type === 'dict' ? trans.__('A JSON object, e.g. {"a": 1}') : trans.__('A JSON list, e.g. [1, 2]')
        };
      }
      return { ok: true, value };
    }
    default:
      // an untyped parameter: JSON when it parses, else the text itself
      try {
        return { ok: true, value: JSON.parse(trimmed) };
      } catch {
        return { ok: true, value: text };
      }
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface ICollected {
  /** the values to send: only those that differ from the notebook's defaults */
  values: Record<string, unknown>;
  /** per parameter name, what is wrong with its input */
  errors: Record<string, string>;
}

/** Values and errors of a whole parameter form (`texts` by parameter name). */
export function collectParameters(
  specs: IParameterSpec[],
  texts: Record<string, string>
): ICollected {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const spec of specs) {
    const text = texts[spec.name] ?? initialText(spec);
    const result = parseParameter(spec, text);
    if (!result.ok) {
      errors[spec.name] = result.error;
    } else if ('value' in result) {
      const fallback = defaultValue(spec);
      if (fallback === undefined || !sameValue(result.value, fallback)) {
        values[spec.name] = result.value;
      }
    }
  }
  return { values, errors };
}

/** A short human hint of what a kind accepts. */
export function kindHint(spec: IParameterSpec): string {
  const trans = getTrans();
  switch (paramKind(spec)) {
    case 'int':
      return trans.__('integer');
    case 'float':
      return trans.__('number');
    case 'bool':
      return trans.__('true / false');
    case 'str':
      return trans.__('text');
    case 'json':
      return spec.type === 'dict' ? trans.__('JSON object') : spec.type === 'list' || spec.type === 'tuple' ? trans.__('JSON list') : 'JSON';
    default:
      return trans.__('JSON or text');
  }
}

/** papermill's tag of the cell whose variables a run's parameters override. */
export const PARAMETERS_TAG = 'parameters';

/** The cell's tags with papermill's `parameters` tag toggled. */
export function toggleParametersTag(tags: readonly string[]): string[] {
  return tags.includes(PARAMETERS_TAG)
    ? tags.filter(tag => tag !== PARAMETERS_TAG)
    : [...tags, PARAMETERS_TAG];
}
