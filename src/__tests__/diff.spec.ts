import { cellChanges, cellChangesText, comparePair, diffLines, fileChangeRows } from '../core/diff';

describe('fileChangeRows', () => {
  it('lists added, removed and changed files in one table sorted by path', () => {
    const rows = fileChangeRows({
      added: [{ path: 'data/new.csv', size: 20 }],
      removed: [{ path: 'old.py', size: 5 }],
      changed: [{ path: 'helper.py', size_a: 100, size_b: 120 }]
    });
    expect(rows).toEqual([
      { path: 'data/new.csv', kind: 'added', sizeA: null, sizeB: 20 },
      { path: 'helper.py', kind: 'changed', sizeA: 100, sizeB: 120 },
      { path: 'old.py', kind: 'removed', sizeA: 5, sizeB: null }
    ]);
  });
});

describe('cellChanges', () => {
  // the shape nbdime's diff_notebooks gives: a patch of "cells" with its own entries
  const diff = [
    {
      op: 'patch',
      key: 'cells',
      diff: [
        { op: 'patch', key: 1, diff: [{ op: 'patch', key: 'source', diff: [] }] },
        { op: 'addrange', key: 3, valuelist: [{ cell_type: 'code' }, { cell_type: 'markdown' }] },
        { op: 'removerange', key: 4, length: 1 }
      ]
    }
  ];

  it('counts changed, added and removed cells', () => {
    expect(cellChanges(diff)).toEqual({ changed: 1, added: 2, removed: 1 });
    expect(cellChangesText(cellChanges(diff))).toBe('1 cell changed, 2 added, 1 removed');
  });

  it('finds nothing in an empty diff or one without cells', () => {
    expect(cellChanges([])).toEqual({ changed: 0, added: 0, removed: 0 });
    expect(cellChanges([{ op: 'patch', key: 'metadata', diff: [] }])).toEqual({
      changed: 0,
      added: 0,
      removed: 0
    });
    expect(cellChangesText({ changed: 0, added: 0, removed: 0 })).toBe('no changes to the notebook');
    expect(cellChangesText({ changed: 0, added: 3, removed: 0 })).toBe('3 cells added');
  });
});

describe('diffLines', () => {
  it('tells added, removed, hunk, header and context lines apart', () => {
    const text = [
      '--- v1/nb.ipynb',
      '+++ v2/nb.ipynb',
      '## modified /cells/1/source:',
      '@@ -1,2 +1,2 @@',
      ' import helper',
      '-x = 1',
      '+x = 2',
      ''
    ].join('\n');
    expect(diffLines(text).map(l => l.kind)).toEqual([
      'header',
      'header',
      'header',
      'hunk',
      'context',
      'removed',
      'added'
    ]);
    expect(diffLines(text)[6].text).toBe('+x = 2');
  });

  it('reads the normal diffs nbdime prints', () => {
    const text = [
      '--- train v1',
      '+++ train v2',
      '## modified nb/cells/2/source:',
      '6c6,7',
      "< print('done')",
      '---',
      "> print('done')",
      "> print('second version')"
    ].join('\n');
    expect(diffLines(text).map(l => l.kind)).toEqual([
      'header',
      'header',
      'header',
      'hunk',
      'removed',
      'hunk',
      'added',
      'added'
    ]);
  });

  it('is empty for no text', () => {
    expect(diffLines('')).toEqual([]);
  });
});

describe('comparePair', () => {
  it('puts the older version first and needs exactly two', () => {
    expect(comparePair([3, 1])).toEqual([1, 3]);
    expect(comparePair([2])).toBeNull();
    expect(comparePair([1, 2, 3])).toBeNull();
    expect(comparePair([2, 2])).toBeNull();
  });
});

describe('withLanguage', () => {
  // nbdime is loaded lazily by the view; its helper is pure
  const { withLanguage } = jest.requireActual('../core/nbdiff') as typeof import('../core/nbdiff');

  it('adds the MIME type of the kernelspec language when language_info has none', () => {
    const nb = { cells: [], metadata: { kernelspec: { name: 'python3', language: 'python' } } };
    const out = withLanguage(nb) as { metadata: Record<string, any> };
    expect(out.metadata.language_info).toEqual({ name: 'python', mimetype: 'text/x-python' });
    expect(out.metadata.kernelspec).toEqual(nb.metadata.kernelspec);
    expect(nb.metadata).not.toHaveProperty('language_info'); // not changed in place
  });

  it('keeps a MIME type the notebook has, and asks for other languages', () => {
    const nb = { metadata: { language_info: { name: 'python', mimetype: 'text/x-ipython' } } };
    expect(withLanguage(nb)).toBe(nb);
    const r = withLanguage({ metadata: { kernelspec: { language: 'R' } } }, l => `text/x-${l.toLowerCase()}`);
    expect((r.metadata as any).language_info.mimetype).toBe('text/x-r');
  });
});
