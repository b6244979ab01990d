import type { IParameterSpec } from '../api/types';
import {
  collectParameters,
  toggleParametersTag,
  initialText,
  jobNameError,
  jobNameFromPath,
  paramKind,
  parseParameter,
  parsePythonLiteral
} from '../core/params';

function spec(name: string, type: string, def: string | null): IParameterSpec {
  return { name, type, default: def, help: '' };
}

describe('parsePythonLiteral', () => {
  it.each([
    ['3', 3],
    ['-2', -2],
    ['1_000', 1000],
    ['0.5', 0.5],
    ['1e-3', 0.001],
    ["'hello'", 'hello'],
    ['"it\'s"', "it's"],
    ["'a\\nb'", 'a\nb'],
    ["r'C:\\temp'", 'C:\\temp'],
    ['True', true],
    ['False', false],
    ['None', null],
    ['[1, 2, 3]', [1, 2, 3]],
    ["(1, 'a',)", [1, 'a']],
    ["{'a': 1, 'b': [True, None]}", { a: 1, b: [true, null] }],
    ['  42  ', 42]
  ])('reads %s', (src, value) => {
    expect(parsePythonLiteral(src)).toEqual({ ok: true, value });
  });

  it.each(['date.today()', 'x + 1', "'unterminated", '[1, 2', 'os.environ["X"]', ''])(
    'refuses the expression %s',
    src => {
      expect(parsePythonLiteral(src).ok).toBe(false);
    }
  );
});

describe('paramKind', () => {
  it('uses the declared type', () => {
    expect(paramKind(spec('n', 'int', '3'))).toBe('int');
    expect(paramKind(spec('x', 'float', '3'))).toBe('float');
    expect(paramKind(spec('s', 'str', "'a'"))).toBe('str');
    expect(paramKind(spec('l', 'list', '[]'))).toBe('json');
    expect(paramKind(spec('d', 'dict', '{}'))).toBe('json');
  });

  it("infers from the default when the type is '' or None", () => {
    expect(paramKind(spec('n', '', '3'))).toBe('int');
    expect(paramKind(spec('x', 'None', '0.1'))).toBe('float');
    expect(paramKind(spec('b', '', 'True'))).toBe('bool');
    expect(paramKind(spec('s', '', '"x"'))).toBe('str');
    expect(paramKind(spec('l', '', '[1]'))).toBe('json');
    expect(paramKind(spec('e', '', 'date.today()'))).toBe('any');
    expect(paramKind(spec('z', 'None', 'None'))).toBe('any');
  });
});

describe('initialText', () => {
  it('shows defaults the way the inputs take them', () => {
    expect(initialText(spec('n', 'int', '3'))).toBe('3');
    expect(initialText(spec('s', 'str', "'hello'"))).toBe('hello');
    expect(initialText(spec('b', 'bool', 'False'))).toBe('false');
    expect(initialText(spec('d', 'dict', "{'a': 1}"))).toBe('{"a":1}');
    expect(initialText(spec('e', '', 'date.today()'))).toBe('');
  });

  it('prefers an override such as a past run value', () => {
    expect(initialText(spec('n', 'int', '3'), 7)).toBe('7');
    expect(initialText(spec('s', 'str', "'a'"), 'b')).toBe('b');
  });
});

describe('parseParameter', () => {
  it('parses integers and says what it wants otherwise', () => {
    expect(parseParameter(spec('n', 'int', '3'), ' 12 ')).toEqual({ ok: true, value: 12 });
    expect(parseParameter(spec('n', 'int', '3'), '1.5')).toEqual({
      ok: false,
      error: 'An integer, e.g. 42'
    });
  });

  it('parses floats', () => {
    expect(parseParameter(spec('x', 'float', '0.1'), '2.5e3')).toEqual({ ok: true, value: 2500 });
    expect(parseParameter(spec('x', 'float', '0.1'), 'abc').ok).toBe(false);
  });

  it('parses booleans', () => {
    expect(parseParameter(spec('b', 'bool', 'True'), 'false')).toEqual({ ok: true, value: false });
  });

  it('keeps strings as typed, including spaces and empty ones', () => {
    expect(parseParameter(spec('s', 'str', "'a'"), ' two words ')).toEqual({
      ok: true,
      value: ' two words '
    });
    expect(parseParameter(spec('s', 'str', "'a'"), '')).toEqual({ ok: true, value: '' });
  });

  it('checks JSON lists and dicts', () => {
    expect(parseParameter(spec('l', 'list', '[]'), '[1, "a"]')).toEqual({
      ok: true,
      value: [1, 'a']
    });
    expect(parseParameter(spec('l', 'list', '[]'), '{"a": 1}')).toEqual({
      ok: false,
      error: 'A JSON list, e.g. [1, 2]'
    });
    expect(parseParameter(spec('d', 'dict', '{}'), '[1]').ok).toBe(false);
    const bad = parseParameter(spec('d', 'dict', '{}'), '{"a": }');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^Invalid JSON/);
  });

  it('keeps the notebook default when an input is emptied', () => {
    expect(parseParameter(spec('n', 'int', '3'), '')).toEqual({ ok: true, useDefault: true });
    expect(parseParameter(spec('e', '', 'date.today()'), '')).toEqual({
      ok: true,
      useDefault: true
    });
  });

  it('reads untyped values as JSON, else as text', () => {
    expect(parseParameter(spec('e', '', 'f()'), '[1]')).toEqual({ ok: true, value: [1] });
    expect(parseParameter(spec('e', '', 'f()'), 'plain')).toEqual({ ok: true, value: 'plain' });
  });
});

describe('collectParameters', () => {
  const specs = [
    spec('n', 'int', '3'),
    spec('s', 'str', "'a'"),
    spec('l', 'list', '[1]'),
    spec('when', '', 'date.today()')
  ];

  it('sends only the values that differ from the defaults', () => {
    const texts = { n: '3', s: 'b', l: '[1]', when: '' };
    expect(collectParameters(specs, texts)).toEqual({ values: { s: 'b' }, errors: {} });
  });

  it('sends a value for an expression default once one is typed', () => {
    const texts = { n: '4', s: 'a', l: '[1, 2]', when: '"2024-01-01"' };
    expect(collectParameters(specs, texts).values).toEqual({
      n: 4,
      l: [1, 2],
      when: '2024-01-01'
    });
  });

  it('reports every invalid field by name', () => {
    const result = collectParameters(specs, { n: 'x', s: 'a', l: 'nope', when: '' });
    expect(Object.keys(result.errors).sort()).toEqual(['l', 'n']);
  });
});

describe('job names', () => {
  it('accepts the server pattern and explains refusals', () => {
    expect(jobNameError('churn-train2')).toBeNull();
    expect(jobNameError('')).toMatch(/required/);
    expect(jobNameError('Train')).toMatch(/lowercase/);
    expect(jobNameError('-x')).toMatch(/starting/);
    expect(jobNameError('a'.repeat(64))).toMatch(/63/);
  });

  it('derives a name from the path like the server', () => {
    expect(jobNameFromPath('work/Churn Model (v2).ipynb')).toBe('churn-model-v2');
    expect(jobNameFromPath('daily.pipeline.yaml')).toBe('daily');
  });
});

describe('toggleParametersTag', () => {
  it('adds the tag after the others and removes only it', () => {
    expect(toggleParametersTag([])).toEqual(['parameters']);
    expect(toggleParametersTag(['keep'])).toEqual(['keep', 'parameters']);
    expect(toggleParametersTag(['keep', 'parameters'])).toEqual(['keep']);
  });
});
