import {
  extensionOf,
  firstLines,
  formatBytes,
  groupExcluded,
  imageType,
  parseCsvPreview,
  previewKind,
  projectSummaryText,
  readStart
} from '../core/files';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [812, '812 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1260, '1.2 KB'],
    [12_345, '12 KB'],
    [3_565_158, '3.4 MB'],
    [1_048_575, '1.0 MB'],
    [200 * 1024 * 1024, '200 MB'],
    [1_288_490_189, '1.2 GB']
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('shows a dash for what is not a size', () => {
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(NaN)).toBe('—');
  });
});

describe('previewKind', () => {
  it.each([
    ['plot.png', 'image'],
    ['out/Photo.JPG', 'image'],
    ['chart.svg', 'image'],
    ['out.csv', 'csv'],
    ['table.tsv', 'csv'],
    ['notes.txt', 'text'],
    ['metrics.json', 'text'],
    ['run.log', 'text'],
    ['README.md', 'text'],
    ['helper.py', 'text'],
    ['conf.yaml', 'text'],
    ['model.pkl', null],
    ['Makefile', null],
    ['.env', null]
  ])('%s → %s', (path, kind) => {
    expect(previewKind(path)).toBe(kind);
  });

  it('reads the extension of the last path segment only', () => {
    expect(extensionOf('data.v2/blob')).toBe('');
    expect(extensionOf('a/b.tar.gz')).toBe('gz');
    expect(imageType('x/y.svg')).toBe('image/svg+xml');
  });
});

describe('parseCsvPreview', () => {
  it('takes the first row as the header', () => {
    const table = parseCsvPreview('a,b\n1,2\n3,4\n');
    expect(table.header).toEqual(['a', 'b']);
    expect(table.rows).toEqual([['1', '2'], ['3', '4']]);
    expect(table.more).toBe(false);
    expect(table.columns).toBe(2);
  });

  it('handles quotes, escaped quotes, separators and newlines in fields', () => {
    const text = 'name,comment\n"Smith, J","said ""hi""\nthen left"\nplain,x\n';
    const table = parseCsvPreview(text);
    expect(table.rows).toEqual([
      ['Smith, J', 'said "hi"\nthen left'],
      ['plain', 'x']
    ]);
  });

  it('keeps to the first rows and says there are more', () => {
    const text = 'n\n' + Array.from({ length: 50 }, (_, i) => `${i}`).join('\n');
    const table = parseCsvPreview(text, 20);
    expect(table.rows).toHaveLength(20);
    expect(table.rows[19]).toEqual(['19']);
    expect(table.more).toBe(true);
  });

  it('drops a last line cut in the middle when the text is only the start of the file', () => {
    const table = parseCsvPreview('a,b\n1,2\n3,4', 20, false);
    expect(table.rows).toEqual([['1', '2']]);
    expect(table.more).toBe(true);
  });

  it('guesses the delimiter, or takes the one given', () => {
    expect(parseCsvPreview('a;b\n1;2\n').rows).toEqual([['1', '2']]);
    expect(parseCsvPreview('a\tb\n1\t2\n', 20, true, '\t').header).toEqual(['a', 'b']);
  });

  it('skips a byte order mark and empty lines; counts the widest row', () => {
    const table = parseCsvPreview('\ufeffx,y\n\n1,2,3\n');
    expect(table.header).toEqual(['x', 'y']);
    expect(table.columns).toBe(3);
  });

  it('is empty for an empty file', () => {
    expect(parseCsvPreview('')).toEqual({ header: [], rows: [], more: false, columns: 0 });
  });
});

describe('firstLines', () => {
  it('keeps the first lines', () => {
    expect(firstLines('a\nb\nc\nd', 2)).toEqual({ text: 'a\nb', more: true });
  });
  it('keeps everything when short', () => {
    expect(firstLines('a\nb\n', 2)).toEqual({ text: 'a\nb', more: false });
    expect(firstLines('a\nb', 5)).toEqual({ text: 'a\nb', more: false });
  });
  it('says there is more when the text was cut', () => {
    expect(firstLines('a\nb', 5, false).more).toBe(true);
  });
});

describe('readStart', () => {
  function streamed(chunks: Uint8Array[]): { response: Response; cancelled: () => boolean } {
    let cancelled = false;
    let i = 0;
    const reader = {
      read: async () =>
        i < chunks.length ? { done: false, value: chunks[i++] } : { done: true, value: undefined },
      cancel: async () => {
        cancelled = true;
      }
    };
    const response = { body: { getReader: () => reader } } as unknown as Response;
    return { response, cancelled: () => cancelled };
  }
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('reads a small body whole', async () => {
    const { response, cancelled } = streamed([bytes('ab'), bytes('cd')]);
    expect(await readStart(response, 100)).toEqual({ text: 'abcd', complete: true });
    expect(cancelled()).toBe(false);
  });

  it('stops after the limit and cancels the download', async () => {
    const { response, cancelled } = streamed([bytes('abcdef'), bytes('ghij'), bytes('klm')]);
    expect(await readStart(response, 8)).toEqual({ text: 'abcdefgh', complete: false });
    expect(cancelled()).toBe(true);
  });

  it('drops a multi-byte character cut at the limit', async () => {
    const { response } = streamed([bytes('aé')]); // é is two bytes
    expect(await readStart(response, 2)).toEqual({ text: 'a', complete: false });
  });
});

describe('project summaries', () => {
  it('says how many files and bytes from which folder', () => {
    expect(projectSummaryText({ root: 'notebooks', notebook: 'nb.ipynb', files: 12, bytes: 3_565_158 }))
      .toBe('12 files, 3.4 MB from notebooks/');
    expect(projectSummaryText({ root: '', notebook: 'nb.ipynb', files: 1, bytes: 10 }))
      .toBe('1 file, 10 B from the server root');
  });

  it('groups what was left out by reason, the most common first', () => {
    const groups = groupExcluded([
      { path: '.env', reason: 'hidden' },
      { path: 'data/big.bin', reason: '.shipignore' },
      { path: '.git', reason: 'hidden' }
    ]);
    expect(groups).toEqual([
      { reason: 'hidden', paths: ['.env', '.git'] },
      { reason: '.shipignore', paths: ['data/big.bin'] }
    ]);
  });
});
