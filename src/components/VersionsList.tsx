/**
 * A job's versions in the side panel: Open (its notebook, read-only), Run, Roll back, Compare
 * with the current version, two versions picked with their checkboxes and compared, and each
 * version's project files.
 */
import {
  caretDownIcon,
  caretRightIcon,
  historyIcon,
  notebookIcon,
  runIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../api/client';
import type { IVersionFiles, IVersionInfo } from '../api/types';
import { comparePair } from '../core/diff';
import { formatBytes, plural } from '../core/files';
import { formatDate, formatRelative } from '../core/format';
import { compareIcon } from '../core/icons';
import type { IVersionFocus } from '../core/model';

/** Files listed before "Show all". */
const FILES_SHOWN = 50;

export interface IVersionsListProps {
  versions: readonly IVersionInfo[];
  now: number;
  /** the version to bring into view and unfold (from the run view's version link) */
  focus: IVersionFocus | null;
  onRun: (version: number | null) => void;
  onRollback: (version: IVersionInfo) => void;
  /** team mode: why the user may not roll back (the button is greyed with it as tooltip) */
  rollbackRefused?: string;
  /** team mode: why the user may not run it */
  runRefused?: string;
  /** compare version `a` with `b` (null: the current version) */
  onCompare: (a: number, b: number | null) => void;
  loadFiles: (version: number) => Promise<IVersionFiles>;
  /** open the version's notebook read-only */
  onOpen?: (version: number) => void;
}

type FilesState =
  | { kind: 'loading' }
  | { kind: 'failed'; message: string }
  | { kind: 'ready'; files: IVersionFiles };

function VersionFiles(props: { version: number; load: (v: number) => Promise<IVersionFiles> }): JSX.Element {
  const [state, setState] = React.useState<FilesState>({ kind: 'loading' });
  const [all, setAll] = React.useState(false);
  React.useEffect(() => {
    let live = true;
    props.load(props.version).then(
      files => live && setState({ kind: 'ready', files }),
      error => live && setState({ kind: 'failed', message: errorMessage(error) })
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.version]);
  if (state.kind === 'loading') {
    return <div className="jp-MlShip-muted jp-MlShip-versionFiles">Loading…</div>;
  }
  if (state.kind === 'failed') {
    return <div className="jp-MlShip-field-error jp-MlShip-versionFiles">{state.message}</div>;
  }
  const { files, project } = state.files;
  const shown = all ? files : files.slice(0, FILES_SHOWN);
  return (
    <div className="jp-MlShip-versionFiles">
      {project && (
        <div className="jp-MlShip-muted" title={`shipped from ${project.root || 'the server root'}`}>
          notebook <code>{project.notebook}</code>
        </div>
      )}
      <ul className="jp-MlShip-fileLines" aria-label={`Files of v${props.version}`}>
        {shown.map(file => (
          <li key={file.path} data-file={file.path}>
            <code className="jp-MlShip-ellipsis" title={file.sha256 ? `sha256 ${file.sha256}` : file.path}>
              {file.path}
            </code>
            <span className="jp-MlShip-size">{formatBytes(file.size)}</span>
          </li>
        ))}
      </ul>
      {files.length > shown.length && (
        <button className="jp-MlShip-linkButton" onClick={() => setAll(true)}>
          Show all {files.length} files
        </button>
      )}
    </div>
  );
}

/** A gated version's way: candidate → validating → promoted / rejected, with the reason; and
 * a roll back by rollback_on. */
function PromotionLine(props: { version: IVersionInfo }): JSX.Element | null {
  const { promotion, promotion_reason: reason, auto_rollback: rolled } = props.version;
  if (!promotion && !rolled) {
    return null;
  }
  return (
    <div className="jp-MlShip-promotion" data-promotion={promotion ?? ''}>
      {promotion && (
        <div className="jp-MlShip-item-sub">
          <span
            className={`jp-MlShip-healthBadge jp-MlShip-promotion-${promotion}`}
            data-promotion-state={promotion}
            title="Gated promotion (metadata.ml_ship.promote): candidate → validating → promoted or rejected"
          >
            {promotion}
          </span>
          {reason && <span className="jp-MlShip-promotionReason">{reason}</span>}
        </div>
      )}
      {rolled && (
        <div className="jp-MlShip-item-sub" data-auto-rollback={rolled.to}>
          <span className="jp-MlShip-healthBadge jp-MlShip-health-failing">rolled back</span>
          <span className="jp-MlShip-promotionReason" title={formatDate(rolled.at)}>
            to v{rolled.to}: {rolled.reason}
          </span>
        </div>
      )}
    </div>
  );
}

function VersionRow(props: {
  version: IVersionInfo;
  props: IVersionsListProps;
  checked: boolean;
  onCheck: (checked: boolean) => void;
  open: boolean;
  onToggleFiles: () => void;
  focused: boolean;
}): JSX.Element {
  const { version: v, props: list } = props;
  const ref = React.useRef<HTMLLIElement>(null);
  React.useEffect(() => {
    if (props.focused) {
      ref.current?.scrollIntoView({ block: 'nearest' });
    }
  }, [props.focused, list.focus?.seq]);
  const project = v.project;
  // a version newer than the current one (after a roll back) is made current, not rolled back to
  const current = list.versions.find(x => x.is_current)?.number;
  const newer = current !== undefined && v.number > current;
  return (
    <li
      ref={ref}
      data-version={v.number}
      className={`jp-MlShip-version${v.is_current ? ' jp-mod-current' : ''}${
        props.focused ? ' jp-mod-focused' : ''
      }`}
    >
      <div className="jp-MlShip-item-main">
        <input
          type="checkbox"
          className="jp-MlShip-compareCheck"
          checked={props.checked}
          onChange={e => props.onCheck(e.currentTarget.checked)}
          aria-label={`Select v${v.number} to compare`}
          title="Select two versions, then press Compare"
        />
        <span className="jp-MlShip-item-title">v{v.number}</span>
        {v.is_current && <span className="jp-MlShip-current">current</span>}
        <span className="jp-MlShip-grow" />
        {list.onOpen && (
          <button
            className="jp-MlShip-iconButton jp-MlShip-openVersion"
            title={`Open v${v.number}'s notebook (read-only)`}
            aria-label={`Open v${v.number}`}
            onClick={() => list.onOpen?.(v.number)}
          >
            <notebookIcon.react tag="span" />
          </button>
        )}
        {!v.is_current && (
          <button
            className="jp-MlShip-iconButton jp-MlShip-compareCurrent"
            title={`Compare v${v.number} with the current version`}
            aria-label={`Compare v${v.number} with the current version`}
            onClick={() => list.onCompare(v.number, null)}
          >
            <compareIcon.react tag="span" />
          </button>
        )}
        <button
          className="jp-MlShip-iconButton"
          title={list.runRefused ?? `Run v${v.number}`}
          aria-label={`Run v${v.number}`}
          disabled={list.runRefused !== undefined}
          onClick={() => list.onRun(v.number)}
        >
          <runIcon.react tag="span" />
        </button>
        {!v.is_current && (
          <button
            className="jp-MlShip-iconButton jp-MlShip-rollback"
            title={
              list.rollbackRefused ??
              (newer
                ? `Make current: new runs use v${v.number}`
                : `Roll back to v${v.number}: make it the current version`)
            }
            aria-label={newer ? `Make v${v.number} current` : `Roll back to v${v.number}`}
            disabled={list.rollbackRefused !== undefined}
            onClick={() => list.onRollback(v)}
          >
            <historyIcon.react tag="span" />
          </button>
        )}
      </div>
      <PromotionLine version={v} />
      <div className={`jp-MlShip-message${v.message ? '' : ' jp-MlShip-muted'}`}>
        {v.message || 'no message'}
      </div>
      <div className="jp-MlShip-item-sub">
        <span title={formatDate(v.created_at)}>{formatRelative(v.created_at, list.now)}</span>
        {v.author && (
          <>
            <span className="jp-MlShip-dot">·</span>
            <span>{v.author}</span>
          </>
        )}
        <span className="jp-MlShip-dot">·</span>
        <code title={v.digest}>{v.digest.slice(0, 8)}</code>
      </div>
      {project && (
        <button
          className="jp-MlShip-filesToggle"
          aria-expanded={props.open}
          onClick={props.onToggleFiles}
          title={`The files shipped with the notebook, from ${project.root || 'the server root'}/`}
        >
          {props.open ? <caretDownIcon.react tag="span" /> : <caretRightIcon.react tag="span" />}
          {project.files === 0
            ? 'the notebook alone'
            : `${plural(project.files, 'file')}, ${formatBytes(project.bytes)} beside the notebook`}
        </button>
      )}
      {props.open && <VersionFiles version={v.number} load={list.loadFiles} />}
    </li>
  );
}

export function VersionsList(props: IVersionsListProps): JSX.Element {
  const [checked, setChecked] = React.useState<ReadonlySet<number>>(new Set());
  const [open, setOpen] = React.useState<ReadonlySet<number>>(new Set());
  const focused = props.focus?.number ?? null;
  React.useEffect(() => {
    if (focused !== null) {
      setOpen(previous => new Set(previous).add(focused));
    }
  }, [focused, props.focus?.seq]);
  const toggle = (set: ReadonlySet<number>, n: number, on: boolean) => {
    const next = new Set(set);
    if (on) {
      next.add(n);
    } else {
      next.delete(n);
    }
    return next;
  };
  const known = new Set(props.versions.map(v => v.number));
  const picked = [...checked].filter(n => known.has(n));
  const pair = comparePair(picked);
  return (
    <>
      {props.versions.length > 1 && (
        <div className="jp-MlShip-versionsBar">
          <span className="jp-MlShip-muted">
            {picked.length === 0
              ? 'Tick two versions to compare them'
              : pair
                ? `v${pair[0]} and v${pair[1]} selected`
                : picked.length === 1
                  ? `v${picked[0]} selected: tick one more`
                  : `${picked.length} selected: tick only two`}
          </span>
          <span className="jp-MlShip-grow" />
          <button
            className={`jp-Button jp-mod-styled ${
              pair ? 'jp-mod-accept' : 'jp-mod-reject'
            } jp-MlShip-smallButton jp-MlShip-compareSelected`}
            disabled={!pair}
            onClick={() => pair && props.onCompare(pair[0], pair[1])}
            title={pair ? `Compare v${pair[0]} with v${pair[1]}` : 'Tick two versions first'}
          >
            Compare
          </button>
        </div>
      )}
      <ul className="jp-MlShip-list jp-MlShip-versions" aria-label="Versions">
        {props.versions.map(v => (
          <VersionRow
            key={v.number}
            version={v}
            props={props}
            checked={checked.has(v.number)}
            onCheck={on => setChecked(toggle(checked, v.number, on))}
            open={open.has(v.number)}
            onToggleFiles={() => setOpen(toggle(open, v.number, !open.has(v.number)))}
            focused={focused === v.number}
          />
        ))}
      </ul>
    </>
  );
}
