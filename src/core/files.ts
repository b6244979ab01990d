/**
 * Pure helpers for project files and run artifacts: sizes, what kind of preview a file gets,
 * a CSV head parsed into rows, the first lines of a text, and reading only the start of a
 * response body (an artifact may be large; a preview needs its first rows).
 */
import Papa from 'papaparse';

import type { IExcludedFile, IProjectSummary } from '../api/types';
import { getTrans } from './i18n';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/**
 * "0 B", "812 B", "3.4 MB", "12 MB", "1.2 GB": powers of 1024, like JupyterLab's file browser
 * and the server's messages (a limit of 200 MB reads the same in both).
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) {
    return '—';
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) {
    return `${bytes} B`;
  }
  // 1023.96 KB would round to "1024 KB": show it as the next unit instead
  if (value >= 1023.5 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/** "1 file", "12 files". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export type PreviewKind = 'image' | 'csv' | 'text';

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp'
};

const TEXT_EXTENSIONS = new Set([
  'txt', 'json', 'jsonl', 'ndjson', 'log', 'md', 'py', 'yaml', 'yml', 'toml', 'ini', 'cfg',
  'sql', 'sh', 'r', 'html', 'xml', 'ipynb', 'out', 'err'
]);

/** The lower-case extension of a path ("" when it has none). */
export function extensionOf(path: string): string {
  const name = path.split('/').pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** How a file is previewed in the lab, or null when it is not (binary, unknown). */
export function previewKind(path: string): PreviewKind | null {
  const ext = extensionOf(path);
  if (ext in IMAGE_TYPES) {
    return 'image';
  }
  if (ext === 'csv' || ext === 'tsv') {
    return 'csv';
  }
  return TEXT_EXTENSIONS.has(ext) ? 'text' : null;
}

/** The MIME type an image preview is shown with (the server's may be generic). */
export function imageType(path: string): string {
  return IMAGE_TYPES[extensionOf(path)] ?? 'application/octet-stream';
}

export interface ICsvPreview {
  header: string[];
  rows: string[][];
  /** more rows follow the ones shown (or the text was cut before its end) */
  more: boolean;
  /** the widest row's number of columns */
  columns: number;
}

/**
 * The first `maxRows` data rows of a CSV text (its first row taken as the header).
 *
 * `complete` is false when `text` is only the start of the file: then a last line that may
 * have been cut in the middle is dropped. Quotes, escaped quotes, separators and newlines
 * inside quoted fields are papaparse's job; the delimiter is guessed (`,` `;` tab `|`).
 */
export function parseCsvPreview(
  text: string,
  maxRows = 20,
  complete = true,
  delimiter?: string
): ICsvPreview {
  let body = text.startsWith('\ufeff') ? text.slice(1) : text;
  let cut = false;
  if (!complete) {
    const lastNewline = body.lastIndexOf('\n');
    if (lastNewline >= 0 && lastNewline < body.length - 1) {
      body = body.slice(0, lastNewline + 1);
    }
    cut = true;
  }
  const parsed = Papa.parse<string[]>(body, {
    delimiter: delimiter ?? '',
    skipEmptyLines: true,
    preview: maxRows + 2
  });
  const all = parsed.data.filter(row => Array.isArray(row));
  const [header = [], ...rest] = all;
  const rows = rest.slice(0, maxRows);
  const columns = Math.max(header.length, ...rows.map(r => r.length), 0);
  return { header, rows, more: rest.length > maxRows || cut, columns };
}

/** The first `maxLines` lines of a text, and whether there was more. */
export function firstLines(
  text: string,
  maxLines = 200,
  complete = true
): { text: string; more: boolean } {
  let count = 0;
  let index = -1;
  while (count < maxLines) {
    index = text.indexOf('\n', index + 1);
    if (index < 0) {
      return { text, more: !complete };
    }
    count++;
  }
  const more = index < text.length - 1 || !complete;
  return { text: text.slice(0, index), more };
}

/**
 * Read at most `maxBytes` of a response body, then stop the download.
 *
 * Returns the bytes decoded as UTF-8 (a character cut at the end is dropped) and whether the
 * whole body was read.
 */
export async function readStart(
  response: Response,
  maxBytes: number
): Promise<{ text: string; complete: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) {
    const text = await response.text();
    return text.length > maxBytes
      ? { text: text.slice(0, maxBytes), complete: false }
      : { text, complete: true };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  while (size < maxBytes) {
    const { done, value } = await reader.read();
    if (done) {
      complete = true;
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  if (!complete) {
    void reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
  }
  const whole = complete && size <= maxBytes;
  // stream: true keeps a multi-byte character cut at the end out of the text
  const text = new TextDecoder('utf-8').decode(bytes, { stream: !whole });
  return { text, complete: whole };
}

/** "12 files, 3.4 MB from notebooks/ (project folder)". */
export function projectSummaryText(project: IProjectSummary): string {
  const trans = getTrans();
  const root = project.root ? `${project.root.replace(/\/+$/, '')}/` : trans.__('the server root');
  return trans.__('%1, %2 from %3', trans._n('%1 file', '%1 files', project.files), formatBytes(project.bytes), root);
}

/** Excluded files grouped by reason, most common first (a long list stays readable). */
export function groupExcluded(
  excluded: readonly IExcludedFile[]
): { reason: string; paths: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const item of excluded) {
    const paths = groups.get(item.reason) ?? [];
    paths.push(item.path);
    groups.set(item.reason, paths);
  }
  return [...groups.entries()]
    .map(([reason, paths]) => ({ reason, paths }))
    .sort((a, b) => b.paths.length - a.paths.length || a.reason.localeCompare(b.reason));
}
