/** The whole-number field of the schedule builder and the pipeline editor: what a user types. */
import * as React from 'react';

// react-dom ships no types here (@types/react-dom is not a dependency)
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { createRoot } = require('react-dom/client') as {
  createRoot: (el: Element) => { render: (e: React.ReactElement) => void; unmount: () => void };
};
// React 18.3's act (its types here are older than the package)
const act = (React as any).act as (f: () => void) => void;

import { isWholeNumberIn, NumberField } from '../components/NumberField';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

/** Types `text` into the input as a user would (React reads the native value on `input`). */
function type(input: HTMLInputElement, text: string): void {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  act(() => {
    setter.call(input, text);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

/** A field holding `value` in a parent that keeps what `onValid` hands on. */
function mount(props: { value: number | string; min: number; max?: number; optional?: boolean }) {
  const handed: string[] = [];
  const host = document.createElement('div');
  document.body.appendChild(host);
  const root = createRoot(host);
  function Parent(): JSX.Element {
    const [value, setValue] = React.useState(props.value);
    return (
      <NumberField
        {...props}
        value={value}
        label="Hours apart"
        onValid={v => {
          handed.push(v);
          setValue(v);
        }}
      />
    );
  }
  act(() => root.render(<Parent />));
  const input = host.querySelector('input') as HTMLInputElement;
  const error = () => host.querySelector('[role="alert"]')?.textContent ?? null;
  return { input, handed, error, unmount: () => act(() => root.unmount()) };
}

describe('isWholeNumberIn', () => {
  it('takes whole numbers within the bounds, and empty only when optional', () => {
    expect(isWholeNumberIn('23', 1, 23)).toBe(true);
    expect(isWholeNumberIn(' 1 ', 1, 23)).toBe(true);
    expect(isWholeNumberIn('24', 1, 23)).toBe(false);
    expect(isWholeNumberIn('0', 1, 23)).toBe(false);
    expect(isWholeNumberIn('2.5', 1, 23)).toBe(false);
    expect(isWholeNumberIn('-1', 0)).toBe(false);
    expect(isWholeNumberIn('100000', 1)).toBe(true);
    expect(isWholeNumberIn('', 1, 23)).toBe(false);
    expect(isWholeNumberIn('', 1, 23, true)).toBe(true);
  });
});

describe('NumberField', () => {
  it('hands on a valid value and says nothing', () => {
    const f = mount({ value: 4, min: 1, max: 23 });
    expect(f.input.value).toBe('4');
    expect(f.input.getAttribute('aria-label')).toBe('Hours apart');
    type(f.input, '12');
    expect(f.handed).toEqual(['12']);
    expect(f.input.value).toBe('12');
    expect(f.error()).toBeNull();
    expect(f.input.getAttribute('aria-invalid')).toBeNull();
    f.unmount();
  });

  it('keeps an out-of-range value in the field, says why, and hands nothing on', () => {
    const f = mount({ value: 4, min: 1, max: 23 });
    type(f.input, '99');
    expect(f.input.value).toBe('99');
    expect(f.handed).toEqual([]);
    expect(f.error()).toBe('Hours apart: a whole number from 1 to 23');
    expect(f.input.getAttribute('aria-invalid')).toBe('true');
    type(f.input, '23');
    expect(f.handed).toEqual(['23']);
    expect(f.error()).toBeNull();
    f.unmount();
  });

  it('refuses an empty field unless optional', () => {
    const required = mount({ value: 0, min: 0, max: 59 });
    type(required.input, '');
    expect(required.handed).toEqual([]);
    expect(required.error()).toBe('Hours apart: a whole number from 0 to 59');
    required.unmount();
    const optional = mount({ value: '3', min: 0, max: 20, optional: true });
    type(optional.input, '');
    expect(optional.handed).toEqual(['']);
    expect(optional.error()).toBeNull();
    optional.unmount();
  });

  it('follows a new value from its parent (another kind of schedule chosen)', () => {
    const host = document.createElement('div');
    const root = createRoot(host);
    act(() => root.render(<NumberField value={4} min={1} max={23} onValid={() => undefined} />));
    const input = host.querySelector('input') as HTMLInputElement;
    type(input, '99');
    act(() => root.render(<NumberField value={6} min={1} max={23} onValid={() => undefined} />));
    expect(input.value).toBe('6');
    expect(host.querySelector('[role="alert"]')).toBeNull();
    act(() => root.unmount());
  });
});
