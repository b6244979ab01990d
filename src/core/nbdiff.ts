/**
 * nbdime's notebook diff widget, loaded on first use (a chunk of its own, so the lab does not
 * load nbdime and its editors at start-up) and built with the app's rendermime and editors.
 */
import type { CodeEditor } from '@jupyterlab/codeeditor';
import type * as nbformat from '@jupyterlab/nbformat';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Widget } from '@lumino/widgets';

export interface INotebookDiffOptions {
  /** version a's notebook */
  base: Record<string, unknown>;
  /** nbdime's diff of a to b */
  diff: Record<string, unknown>[];
  rendermime: IRenderMimeRegistry;
  /** the app's editor factory; nbdime makes its own CodeMirror editors without one */
  editorFactory?: CodeEditor.Factory;
  /** the MIME type of a kernel language, for the editors' syntax highlighting */
  mimeTypeOf?: (language: string) => string;
}

/**
 * The notebook with `metadata.language_info.mimetype` set, from its kernelspec's language when
 * it has none (a notebook shipped before its kernel answered): without it nbdime's editors
 * fall back to a MIME type CodeMirror does not know, and show no syntax highlighting.
 */
export function withLanguage(
  notebook: Record<string, unknown>,
  mimeTypeOf: (language: string) => string = language =>
    language.toLowerCase() === 'python' ? 'text/x-python' : 'text/plain'
): Record<string, unknown> {
  const metadata = (notebook.metadata ?? {}) as Record<string, any>;
  if (metadata.language_info?.mimetype) {
    return notebook;
  }
  const language: string =
    metadata.language_info?.name || metadata.kernelspec?.language || 'python';
  return {
    ...notebook,
    metadata: {
      ...metadata,
      language_info: { ...(metadata.language_info ?? {}), name: language, mimetype: mimeTypeOf(language) }
    }
  };
}

/** The rendered diff (its cells are added as it initialises; wait for the promise). */
export async function createNotebookDiff(options: INotebookDiffOptions): Promise<Widget> {
  const [{ NotebookDiffModel }, { NotebookDiffWidget }] = await Promise.all([
    import('nbdime/lib/diff/model'),
    import('nbdime/lib/diff/widget')
  ]);
  const model = new NotebookDiffModel(
    withLanguage(options.base, options.mimeTypeOf) as unknown as nbformat.INotebookContent,
    options.diff as never
  );
  // cells of an nbformat 4.4 notebook have no id: nbdime would head each with "Cell ID:
  // undefined" (its model holds an id pair even when both sides are missing)
  for (const cell of model.cells as unknown as { cellId: { base?: unknown; remote?: unknown } | null }[]) {
    if (cell.cellId && cell.cellId.base == null && cell.cellId.remote == null) {
      cell.cellId = null;
    }
  }
  const widget = new NotebookDiffWidget({
    model,
    rendermime: options.rendermime,
    editorFactory: options.editorFactory
  });
  widget.addClass('nbdime-root');
  await widget.init();
  return widget;
}
