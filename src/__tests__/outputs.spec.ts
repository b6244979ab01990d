import { joinMultiline, outputPath } from '../outputs';
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

  it('live in the read-only drive under the run id', () => {
    expect(outputPath(makeRun({ id: '0190000000aabbcc', job: 'train', version: 3 }))).toBe(
      'MlShipOutput:0190000000aabbcc/train-v3-aabbcc.ipynb'
    );
  });
});
