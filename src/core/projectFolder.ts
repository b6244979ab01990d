/**
 * The project folder of a notebook, as the Ship dialog shows it (a folder of the server, e.g.
 * `loans`) and as `metadata.ml_ship.root` holds it (relative to the notebook's folder, `..`).
 */
import { PathExt } from '@jupyterlab/coreutils';
import { getTrans } from './i18n';

/** The notebook's folder ('' at the server root). */
export function notebookFolder(notebookPath: string): string {
  const dir = PathExt.dirname(notebookPath);
  return dir === '.' ? '' : dir;
}

/** The folder a `metadata.ml_ship.root` names, relative to the server root. */
export function folderOfRoot(notebookPath: string, root: string | null | undefined): string {
  const base = notebookFolder(notebookPath);
  if (!root || root === '.') {
    return base;
  }
  const joined = PathExt.normalize(PathExt.join(base, root));
  return joined === '.' ? '' : joined;
}

/** Strip a leading or trailing '/' (the file dialog and a user may add them). */
export function cleanFolder(folder: string): string {
  return folder.trim().replace(/^\/+|\/+$/g, '');
}

/**
 * `metadata.ml_ship.root` for a folder: '' for the notebook's own, `..` for the one above;
 * null when the folder is not the notebook's or one above it (it must hold the notebook).
 */
export function rootOfFolder(notebookPath: string, folder: string): string | null {
  const base = notebookFolder(notebookPath);
  const wanted = cleanFolder(folder);
  if (wanted === base) {
    return '';
  }
  if (wanted !== '' && !(base + '/').startsWith(wanted + '/')) {
    return null;
  }
  const ups = base.split('/').length - (wanted === '' ? 0 : wanted.split('/').length);
  return Array(ups).fill('..').join('/');
}

/** What is wrong with a typed folder, if anything. */
export function folderError(notebookPath: string, folder: string): string | undefined {
  const trans = getTrans();
  if (rootOfFolder(notebookPath, folder) !== null) {
    return undefined;
  }
  const base = notebookFolder(notebookPath) || trans.__('the server root');
  return trans.__('The project folder must hold the notebook: %1 or a folder above it', base);
}

/** "(the server root)" for '', else the folder with a trailing '/'. */
export function showFolder(folder: string): string {
  const trans = getTrans();
  return folder ? `${folder}/` : trans.__('(the server root)');
}
