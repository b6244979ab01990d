import * as v8 from 'v8';

// dagre uses structuredClone: every browser JupyterLab 4 supports has it, jsdom does not
if (typeof globalThis.structuredClone !== 'function') {
  globalThis.structuredClone = ((value: unknown) =>
    v8.deserialize(v8.serialize(value))) as typeof structuredClone;
}

import type { IStepInfo } from '../api/pipelines';
import { subtitle } from '../pipeline/GraphView';
import { layoutGraph, LINE_HEIGHT } from '../pipeline/layout';

function step(over: Partial<IStepInfo>): IStepInfo {
  return { id: 'train', job: 'train', version: 3, depends_on: [], outputs: {}, ...over } as IStepInfo;
}

describe('a graph node', () => {
  it('names its step once: the job only when it differs, then the version', () => {
    expect(subtitle(step({}))).toBe('v3');
    expect(subtitle(step({ job: 'train-model' }))).toBe('train-model v3');
    expect(subtitle(step({ version: null }))).toBe('');
    expect(subtitle(step({ job: 'other', version: null }))).toBe('other');
    expect(subtitle(step({ job: '' }))).toBe('');
  });

  it('grows by a line per recorded output', () => {
    const plain = layoutGraph([{ id: 'a', depends_on: [] }]).nodes[0];
    const two = layoutGraph([{ id: 'a', depends_on: [], lines: 2 }]).nodes[0];
    expect(two.height - plain.height).toBe(2 * LINE_HEIGHT);
  });
});
