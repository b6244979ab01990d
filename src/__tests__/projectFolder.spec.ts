/** The project folder as the Ship dialog shows it and as metadata.ml_ship.root holds it. */
import { folderError, folderOfRoot, rootOfFolder } from '../core/projectFolder';

describe('project folder', () => {
  const nb = 'loans/notebooks/train.ipynb';

  it('turns a folder above the notebook into a root relative to its folder', () => {
    expect(rootOfFolder(nb, 'loans/notebooks')).toBe('');
    expect(rootOfFolder(nb, 'loans')).toBe('..');
    expect(rootOfFolder(nb, '/loans/')).toBe('..');
    expect(rootOfFolder(nb, '')).toBe('../..');
    expect(rootOfFolder('train.ipynb', '')).toBe('');
  });

  it('refuses a folder that does not hold the notebook', () => {
    expect(rootOfFolder(nb, 'other')).toBeNull();
    expect(rootOfFolder(nb, 'loans/note')).toBeNull();
    expect(rootOfFolder(nb, 'loans/notebooks/sub')).toBeNull();
    expect(folderError(nb, 'other')).toContain('loans/notebooks or a folder above it');
    expect(folderError(nb, 'loans')).toBeUndefined();
  });

  it('reads a root back as a folder', () => {
    expect(folderOfRoot(nb, undefined)).toBe('loans/notebooks');
    expect(folderOfRoot(nb, '..')).toBe('loans');
    expect(folderOfRoot(nb, '../..')).toBe('');
    for (const folder of ['loans', 'loans/notebooks', '']) {
      expect(folderOfRoot(nb, rootOfFolder(nb, folder))).toBe(folder);
    }
  });
});
