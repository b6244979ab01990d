/**
 * The preview of one run artifact: an image inline, the first rows of a CSV as a table, the
 * first lines of a text file. Only the start of a large file is downloaded.
 */
import * as React from 'react';

import { errorMessage, type MlShipClient } from '../api/client';
import type { IProjectFile } from '../api/types';
import {
  extensionOf,
  firstLines,
  formatBytes,
  imageType,
  parseCsvPreview,
  previewKind,
  readStart,
  type ICsvPreview
} from '../core/files';
import { getTrans, useTrans } from '../core/i18n';

/** Rows of a CSV shown. */
export const CSV_ROWS = 20;
/** Lines of a text file shown. */
export const TEXT_LINES = 200;
/** Bytes read at most for a CSV or text preview. */
const TEXT_BYTES = 256 * 1024;
/** Images larger than this are not previewed. */
const MAX_IMAGE_BYTES = 20 * 1000 * 1000;

type Content =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'none'; message: string }
  | { kind: 'image'; url: string }
  | { kind: 'csv'; table: ICsvPreview }
  | { kind: 'text'; text: string; more: boolean };

async function loadContent(
  client: MlShipClient,
  runId: string,
  file: IProjectFile,
  signal: AbortSignal
): Promise<Content> {
  const trans = getTrans();
  const kind = previewKind(file.path);
  if (!kind) {
    return { kind: 'none', message: trans.__('No preview for this kind of file: download it.') };
  }
  if (kind === 'image' && file.size > MAX_IMAGE_BYTES) {
    return { kind: 'none', message: trans.__('Too large to preview (%1).', formatBytes(file.size)) };
  }
  const response = await client.runFile(runId, file.path, { signal });
  if (kind === 'image') {
    const blob = new Blob([await response.arrayBuffer()], { type: imageType(file.path) });
    return { kind: 'image', url: URL.createObjectURL(blob) };
  }
  const { text, complete } = await readStart(response, TEXT_BYTES);
  if (kind === 'csv') {
    const delimiter = extensionOf(file.path) === 'tsv' ? '\t' : undefined;
    return { kind: 'csv', table: parseCsvPreview(text, CSV_ROWS, complete, delimiter) };
  }
  if (text.includes('\u0000')) {
    return { kind: 'none', message: trans.__('This file is binary: download it.') };
  }
  const head = firstLines(text, TEXT_LINES, complete);
  return { kind: 'text', text: head.text, more: head.more };
}

function CsvTable(props: { table: ICsvPreview }): JSX.Element {
  const trans = useTrans();
  const { header, rows, more, columns } = props.table;
  const pad = (row: string[]) =>
    row.length < columns ? [...row, ...Array(columns - row.length).fill('')] : row;
  if (!header.length) {
    return <div className="jp-MlShip-muted">{trans.__('The file is empty.')}</div>;
  }
  return (
    <>
      <div className="jp-MlShip-csvScroll">
        <table className="jp-MlShip-csv">
          <thead>
            <tr>
              {pad(header).map((cell, i) => (
                <th key={i} scope="col">
                  {cell}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, r) => (
              <tr key={r}>
                {pad(row).map((cell, i) => (
                  <td key={i}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="jp-MlShip-field-help">
        {more
          ? trans.__('The first %1 rows; download the file for the rest.', rows.length)
          : `${rows.length} ${rows.length === 1 ? 'row' : 'rows'}.`}
      </div>
    </>
  );
}

export function FilePreview(props: {
  client: MlShipClient;
  runId: string;
  file: IProjectFile;
}): JSX.Element {
  const trans = useTrans();
  const { client, runId, file } = props;
  const [content, setContent] = React.useState<Content>({ kind: 'loading' });
  React.useEffect(() => {
    const abort = new AbortController();
    let url: string | null = null;
    setContent({ kind: 'loading' });
    loadContent(client, runId, file, abort.signal).then(
      loaded => {
        if (abort.signal.aborted) {
          if (loaded.kind === 'image') {
            URL.revokeObjectURL(loaded.url);
          }
          return;
        }
        if (loaded.kind === 'image') {
          url = loaded.url;
        }
        setContent(loaded);
      },
      error =>
        !abort.signal.aborted && setContent({ kind: 'error', message: errorMessage(error) })
    );
    return () => {
      abort.abort();
      if (url) {
        URL.revokeObjectURL(url);
      }
    };
  }, [client, runId, file.path, file.size]);

  switch (content.kind) {
    case 'loading':
      return <div className="jp-MlShip-muted">{trans.__('Loading')}{' '}{file.path}…</div>;
    case 'error':
      return <div className="jp-MlShip-field-error">{trans.__('Cannot preview:')}{' '}{content.message}</div>;
    case 'none':
      return <div className="jp-MlShip-muted">{content.message}</div>;
    case 'image':
      return (
        <div className="jp-MlShip-imagePreview">
          <img src={content.url} alt={file.path} />
        </div>
      );
    case 'csv':
      return <CsvTable table={content.table} />;
    case 'text':
      return (
        <>
          <pre className="jp-MlShip-textPreview">{content.text}</pre>
          {content.more && (
            <div className="jp-MlShip-field-help">
              {trans.__('The first lines only; download the file for the rest.')}
            </div>
          )}
        </>
      );
  }
}
