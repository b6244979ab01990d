/** Editing a pipeline file keeps the user's comments, key order and styles; the checks find every problem. */
import * as fs from 'fs';
import * as path from 'path';

import {
  keepCommentSpacing,
  PipelineDoc,
  pipelineIssues,
  stepsInMessage,
  upstreamOf
} from '../pipeline/pipelineDoc';

const CHURN = fs.readFileSync(
  path.join(__dirname, '..', '..', 'examples', 'churn.pipeline.yaml'),
  'utf8'
);

describe('PipelineDoc', () => {
  it('round-trips a file unchanged', () => {
    expect(new PipelineDoc(CHURN).toString()).toBe(CHURN);
  });

  it('keeps comments and key order through edits', () => {
    const text =
      '# top comment\nname: demo   # the name\nsteps:\n  # the first step\n  prep:\n    notebook: prepare.ipynb\n' +
      '    retries: 1  # flaky source\n    parameters: {day: "{{ params.day }}"}\n  train:\n' +
      '    timeout: 60\n    notebook: train.ipynb\n';
    const doc = new PipelineDoc(text);
    doc.addEdge('prep', 'train');
    doc.setField('prep', 'retries', 3);
    doc.setField('train', 'backend', 'docker');
    doc.setParameter('train', 'rows', '{{ steps.prep.outputs.rows }}');
    const id = doc.addStep('evaluate.ipynb');
    doc.addEdge('train', id);
    const out = doc.toString();
    // the user's spacing before an inline comment, on a line the edits did not touch
    expect(out).toContain('# top comment\nname: demo   # the name\n');
    expect(out).toContain('  # the first step\n  prep:\n');
    expect(out).toContain('retries: 3 # flaky source');
    expect(out).toContain('parameters: {day: "{{ params.day }}"}');
    // train keeps its own key order; new keys come after
    expect(out).toMatch(/train:\n {4}timeout: 60\n {4}notebook: train.ipynb\n {4}depends_on: \[prep\]\n {4}backend: docker\n/);
    expect(out).toContain('rows: "{{ steps.prep.outputs.rows }}"');
    expect(out).toMatch(/evaluate:\n {4}notebook: evaluate.ipynb\n {4}depends_on: \[train\]/);
    const again = new PipelineDoc(out);
    expect(again.steps.map(s => s.id)).toEqual(['prep', 'train', 'evaluate']);
    expect(again.step('train')!.depends_on).toEqual(['prep']);
  });

  it('keeps the spacing before inline comments only on the lines it did not change', () => {
    const text = 'name: demo      # aligned\nparameters:\n  day: "2024-01-01"   # the day\n  rows: 5   # rows\nsteps: {}\n';
    const doc = new PipelineDoc(text);
    doc.doc.setIn(['parameters', 'rows'], 7);
    const out = doc.toString();
    expect(out).toContain('name: demo      # aligned\n');
    expect(out).toContain('  day: "2024-01-01"   # the day\n');
    expect(out).toContain('  rows: 7 # rows\n'); // changed: written afresh
    expect(keepCommentSpacing('a: "x  #y"  # c\n', 'a: "x  #y" # c\n')).toBe('a: "x  #y" # c\n');
  });

  it('edits the example file keeping its comments', () => {
    const doc = new PipelineDoc(CHURN);
    doc.removeEdge('prepare', 'evaluate');
    doc.setField('train', 'retries', 2);
    const out = doc.toString();
    expect(out.startsWith('# A three-step pipeline')).toBe(true);
    expect(out).toContain('# Run it: ml-ship pipeline run');
    expect(out).toContain('depends_on: [train]');
    expect(out).toContain('retries: 2');
    expect(out.indexOf('prepare:')).toBeLessThan(out.indexOf('train:'));
  });

  it('removes a step and the edges to it', () => {
    const doc = new PipelineDoc(CHURN);
    doc.removeStep('train');
    expect(doc.steps.map(s => s.id)).toEqual(['prepare', 'evaluate']);
    expect(doc.step('evaluate')!.depends_on).toEqual(['prepare']);
  });

  it('names new steps after their notebook, never twice the same', () => {
    const doc = new PipelineDoc(CHURN);
    expect(doc.freeId('sub/Prepare.ipynb')).toBe('prepare_2');
    expect(doc.freeId('Load Data.ipynb')).toBe('load_data');
    const empty = new PipelineDoc('');
    expect(empty.addStep('a.ipynb')).toBe('a');
    expect(new PipelineDoc(empty.toString()).steps.map(s => s.id)).toEqual(['a']);
  });
});

describe('pipelineIssues', () => {
  it('finds every problem, each with its step', () => {
    const issues = pipelineIssues(
      'name: bad\nsteps:\n  a: {notebook: a.ipynb}\n  b: {depends_on: [zz]}\n' +
        '  c: {notebook: c.ipynb, retries: -1, parameters: {x: "{{ steps.d.outputs.y }}"}}\n' +
        '  d: {notebook: d.ipynb, depends_on: [e]}\n  e: {notebook: e.ipynb, depends_on: [d]}\n'
    );
    const steps = issues.map(i => i.step);
    expect(steps).toEqual(expect.arrayContaining(['b', 'c', 'e']));
    expect(issues.map(i => i.message)).toEqual(
      expect.arrayContaining([
        'steps.b: needs a notebook (or a job)',
        'steps.b: depends on zz, which is not a step',
        'steps.c: retries: must be an integer from 0 to 20',
        'steps.c: a parameter uses steps.d, which does not run before it (add an edge)'
      ])
    );
    expect(issues.map(i => i.message)).toContain('steps.e.depends_on: dependency cycle: d -> e -> d');
    expect(steps).not.toContain('a');
  });

  it('words a cycle as the server does, once, in data-flow order', () => {
    const issues = pipelineIssues(
      [
        'name: loop',
        'steps:',
        '  a: {notebook: hello.ipynb, depends_on: [c]}',
        '  b: {notebook: hello.ipynb, depends_on: [a]}',
        '  c: {notebook: hello.ipynb, depends_on: [b]}'
      ].join('\n')
    );
    expect(issues).toEqual([
      { step: 'b', message: 'steps.b.depends_on: dependency cycle: a -> b -> c -> a' }
    ]);
  });

  it('finds nothing in a valid file', () => {
    expect(pipelineIssues(CHURN)).toEqual([]);
  });

  it('reads the steps a server message names', () => {
    expect(stepsInMessage('x.yaml, line 5: steps.c.retries: must be…')).toEqual(['c']);
  });

  it('knows what runs upstream', () => {
    expect([...upstreamOf(new PipelineDoc(CHURN).steps, 'evaluate')].sort()).toEqual(['prepare', 'train']);
  });
});
