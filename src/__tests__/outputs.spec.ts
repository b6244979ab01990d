import { PageConfig } from '@jupyterlab/coreutils';

import {
  describeStored,
  dropStoredTreePath,
  joinMultiline,
  outputPath,
  storedNotebookAt,
  versionPath
} from '../core/outputs';
import { makeRun } from './fakeServer';

describe('output notebooks', () => {
  it('join nbformat line lists the way the contents API does', () => {
    const nb = {
      nbformat: 4,
      cells: [
        {
          cell_type: 'code',
          source: ['a = 1\n', 'print(a)'],
          outputs: [
            { output_type: 'stream', name: 'stdout', text: ['1\n', '2\n'] },
            {
              output_type: 'display_data',
              data: { 'text/plain': ['x', 'y'], 'application/json': ['kept'] }
            }
          ]
        },
        { cell_type: 'markdown', source: ['# T\n', 'text'] }
      ]
    };
    const cells = joinMultiline(nb).cells as any[];
    expect(cells[0].source).toBe('a = 1\nprint(a)');
    expect(cells[0].outputs[0].text).toBe('1\n2\n');
    expect(cells[0].outputs[1].data['text/plain']).toBe('xy');
    expect(cells[0].outputs[1].data['application/json']).toEqual(['kept']);
    expect(cells[1].source).toBe('# T\ntext');
  });

  it('of versions live in the same drive, apart from runs, and read back', () => {
    expect(versionPath('train', 2)).toBe('MlShipOutput:versions/train@2/train-v2.ipynb');
    expect(storedNotebookAt(versionPath('train', 2))).toEqual({
      kind: 'version',
      job: 'train',
      version: 2
    });
    expect(storedNotebookAt('versions/my-job@12/my-job-v12.ipynb')).toEqual({
      kind: 'version',
      job: 'my-job',
      version: 12
    });
    const run = makeRun({ id: '0190000000aabbcc', job: 'train', version: 3 });
    expect(storedNotebookAt(outputPath(run))).toEqual({ kind: 'output', runId: run.id });
    // folders of the drive and other drives' paths are no stored notebook
    expect(storedNotebookAt('versions/train@2')).toBeNull();
    expect(storedNotebookAt('versions')).toBeNull();
    expect(storedNotebookAt('0190000000aabbcc')).toBeNull();
    expect(storedNotebookAt('versions/train/train-v2.ipynb')).toBeNull();
    expect(storedNotebookAt('RTC:work/a.ipynb')).toBeNull();
    expect(describeStored({ kind: 'version', job: 'train', version: 2 })).toBe(
      'Version v2 of train'
    );
    expect(describeStored({ kind: 'output', runId: run.id })).toBe('The output of run #aabbcc');
  });

  it('live in the read-only drive under the run id', () => {
    expect(outputPath(makeRun({ id: '0190000000aabbcc', job: 'train', version: 3 }))).toBe(
      'MlShipOutput:0190000000aabbcc/train-v3-aabbcc.ipynb'
    );
  });

  it("drop a stored notebook's tree path (a reloaded lab's URL), keep any other", () => {
    PageConfig.setOption('treePath', 'MlShipOutput:0190000000aabbcc/train-v3-aabbcc.ipynb');
    expect(dropStoredTreePath()).toBe(true);
    expect(PageConfig.getOption('treePath')).toBe('');
    PageConfig.setOption('treePath', 'notebooks/train.ipynb');
    expect(dropStoredTreePath()).toBe(false);
    expect(PageConfig.getOption('treePath')).toBe('notebooks/train.ipynb');
  });
});
