/** Edit mode draws the file's steps with the last run's statuses; a new pipeline's text. */
import { drawnFromSource, withRunStatuses } from '../pipeline/graphModel';
import { newPipelineText } from '../pipeline/newPipeline';
import { PipelineDoc } from '../pipeline/pipelineDoc';

describe('edit mode statuses', () => {
  it('shows how each step went in the last run, and "not run" for a new step', () => {
    const drawn = drawnFromSource(
      'name: p\nsteps:\n  prep:\n    notebook: prep.ipynb\n  train:\n    notebook: train.ipynb\n    depends_on: [prep]\n  extra:\n    notebook: extra.ipynb\n'
    );
    const ran = drawnFromSource('name: p\nsteps:\n  prep:\n    notebook: prep.ipynb\n  train:\n    notebook: train.ipynb\n').map(
      s => ({ ...s, status: s.id === 'prep' ? ('succeeded' as const) : ('failed' as const), run_id: `r-${s.id}` })
    );
    const shown = withRunStatuses(drawn, { steps: ran });
    expect(shown.map(s => [s.id, s.status, s.run_id])).toEqual([
      ['prep', 'succeeded', 'r-prep'],
      ['train', 'failed', 'r-train'],
      ['extra', null, null]
    ]);
    expect(shown[1].depends_on).toEqual(['prep']); // the file's edges, not the run's
    expect(withRunStatuses(drawn, null)).toEqual(drawn);
  });
});

describe('new pipeline', () => {
  it('names the pipeline after its file and has no steps yet', () => {
    const text = newPipelineText('untitled1.pipeline.yaml');
    const doc = new PipelineDoc(text);
    expect(doc.doc.get('name')).toBe('untitled1');
    expect(doc.steps).toEqual([]);
    expect(doc.syntaxErrors).toEqual([]);
  });
});
