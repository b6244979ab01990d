/**
 * A whole-number input that hands its value on only once it is valid: what the user types
 * meanwhile stays in the field, is said to be invalid beside it, and the value in force (the
 * file's, the schedule's) stays what it was. Used by the pipeline editor's run settings and the
 * schedule builder.
 */
import * as React from 'react';

import { useTrans } from '../core/i18n';

/** `text` is a whole number in [min, max] (`max` left out: no upper bound), or empty when `optional`. */
export function isWholeNumberIn(text: string, min: number, max?: number, optional = false): boolean {
  const v = text.trim();
  if (v === '') {
    return optional;
  }
  return /^\d+$/.test(v) && +v >= min && (max === undefined || +v <= max);
}

export function NumberField(props: {
  /** the value in force ('' for none, when `optional`) */
  value: string | number;
  min: number;
  max?: number;
  /** an empty field is valid (handed on as '') */
  optional?: boolean;
  /** the field's accessible name, and the subject of the default invalid message */
  label?: string;
  className?: string;
  placeholder?: string;
  /** said while the field holds no valid value (default: "LABEL: a whole number from MIN to MAX") */
  invalid?: string;
  /** a new valid value, as typed (trimmed) */
  onValid: (value: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const value = String(props.value);
  const [draft, setDraft] = React.useState(value);
  React.useEffect(() => setDraft(value), [value]);
  const valid = (v: string) => isWholeNumberIn(v, props.min, props.max, props.optional);
  const bad = !valid(draft);
  const invalid =
    props.invalid ??
    trans.__('%1: a whole number from %2 to %3', props.label ?? '', props.min, props.max ?? '…');
  return (
    <>
      <input
        className={`jp-mod-styled ${props.className ?? ''}`.trim()}
        type="number"
        min={props.min}
        max={props.max}
        aria-label={props.label}
        placeholder={props.placeholder}
        value={draft}
        aria-invalid={bad || undefined}
        onChange={e => {
          const v = e.target.value;
          setDraft(v);
          if (valid(v) && v.trim() !== value) {
            props.onValid(v.trim());
          }
        }}
      />
      {bad && (
        <span className="jp-MlShip-field-error" role="alert">
          {invalid}
        </span>
      )}
    </>
  );
}
