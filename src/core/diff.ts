/**
 * Pure helpers of the Compare view: the project files that differ between two versions as one
 * sorted table, a count of the notebook's changed cells from nbdime's diff JSON, and the
 * text diff split into lines that can be coloured (the view's "Text" mode and its fallback).
 */
import type { IVersionDiff } from '../api/types';
import { getTrans } from './i18n';

export type FileChangeKind = 'added' | 'removed' | 'changed';

export interface IFileChangeRow {
  path: string;
  kind: FileChangeKind;
  /** size in version a (null: not there) */
  sizeA: number | null;
  /** size in version b (null: not there) */
  sizeB: number | null;
}

/** Added, removed and changed files in one list, sorted by path. */
export function fileChangeRows(
  diff: Pick<IVersionDiff, 'added' | 'removed' | 'changed'>
): IFileChangeRow[] {
  const rows: IFileChangeRow[] = [
    ...diff.added.map(f => ({ path: f.path, kind: 'added' as const, sizeA: null, sizeB: f.size })),
    ...diff.removed.map(f => ({
      path: f.path,
      kind: 'removed' as const,
      sizeA: f.size,
      sizeB: null
    })),
    ...diff.changed.map(f => ({
      path: f.path,
      kind: 'changed' as const,
      sizeA: f.size_a ?? null,
      sizeB: f.size_b ?? null
    }))
  ];
  return rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface ICellChanges {
  added: number;
  removed: number;
  changed: number;
}

interface IDiffEntryLike {
  op?: unknown;
  key?: unknown;
  valuelist?: unknown;
  length?: unknown;
  diff?: unknown;
}

/**
 * How many cells the notebook diff adds, removes and changes (nbdime's format: a `patch` of
 * the `cells` key holding `addrange` / `removerange` / `patch` entries).
 */
export function cellChanges(notebookDiff: readonly Record<string, unknown>[]): ICellChanges {
  const counts: ICellChanges = { added: 0, removed: 0, changed: 0 };
  const cells = (notebookDiff as readonly IDiffEntryLike[]).find(
    e => e.key === 'cells' && e.op === 'patch'
  );
  if (!cells || !Array.isArray(cells.diff)) {
    return counts;
  }
  for (const entry of cells.diff as IDiffEntryLike[]) {
    if (entry.op === 'addrange') {
      counts.added += Array.isArray(entry.valuelist) ? entry.valuelist.length : 1;
    } else if (entry.op === 'removerange') {
      counts.removed += typeof entry.length === 'number' ? entry.length : 1;
    } else if (entry.op === 'patch') {
      counts.changed += 1;
    }
  }
  return counts;
}

/** "2 cells changed, 1 added" / "no changes to the notebook". */
export function cellChangesText(counts: ICellChanges): string {
  const trans = getTrans();
  const parts: string[] = [];
  if (counts.changed) {
    parts.push(`${counts.changed} ${counts.changed === 1 ? 'cell' : 'cells'} changed`);
  }
  if (counts.added) {
    parts.push(parts.length ? `${counts.added} added` : `${counts.added} ${counts.added === 1 ? 'cell' : 'cells'} added`);
  }
  if (counts.removed) {
    parts.push(
      parts.length
        ? `${counts.removed} removed`
        : `${counts.removed} ${counts.removed === 1 ? 'cell' : 'cells'} removed`
    );
  }
  return parts.length ? parts.join(', ') : trans.__('no changes to the notebook');
}

export type DiffLineKind = 'added' | 'removed' | 'hunk' | 'header' | 'context';

export interface IDiffLine {
  kind: DiffLineKind;
  text: string;
}

/**
 * A text diff split into lines, each with its kind. Both unified diffs (`+`/`-` lines, `@@`
 * hunks) and the "normal" diffs nbdime prints (`<`/`>` lines, `6c6,7` hunks, `---` between
 * the old and new lines) are understood; `---`/`+++ name`, `## …`, `diff `, `index ` lines
 * are headers, the rest context.
 */
export function diffLines(text: string): IDiffLine[] {
  if (!text) {
    return [];
  }
  const lines = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  return lines.map(line => ({ kind: lineKind(line), text: line }));
}

const NORMAL_HUNK = /^\d+(,\d+)?[acd]\d+(,\d+)?$/;

function lineKind(line: string): DiffLineKind {
  if (/^(---|\+\+\+) /.test(line) || /^(diff |index |## |=== )/.test(line)) {
    return 'header';
  }
  if (line.startsWith('@@') || line === '---' || NORMAL_HUNK.test(line)) {
    return 'hunk';
  }
  if (line.startsWith('+') || line.startsWith('>')) {
    return 'added';
  }
  if (line.startsWith('-') || line.startsWith('<')) {
    return 'removed';
  }
  return 'context';
}

/** The two versions to compare, the older first (`b` null: the current version). */
export function comparePair(selected: Iterable<number>): [number, number] | null {
  const numbers = [...new Set(selected)].sort((x, y) => x - y);
  return numbers.length === 2 ? [numbers[0], numbers[1]] : null;
}
