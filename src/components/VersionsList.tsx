/**
 * A job's versions in the side panel: Open (its notebook, read-only), Run, Roll back, Compare
 * with the current version, two versions picked with their checkboxes and compared, and each
 * version's project files.
 */
import {
  caretDownIcon,
  caretRightIcon,
  historyIcon,
  moveUpIcon,
  notebookIcon,
  runIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../api/client';
import type { IGitInfo, IVersionFiles, IVersionInfo } from '../api/types';
import { comparePair } from '../core/diff';
import { formatBytes } from '../core/files';
import { formatDate, formatRelative } from '../core/format';
import { compareIcon } from '../core/icons';
import type { IVersionFocus } from '../core/model';
import { useTrans } from '../core/i18n';

/** Files listed before "Show all". */
const FILES_SHOWN = 50;

export interface IVersionsListProps {
  versions: readonly IVersionInfo[];
  now: number;
  /** the version to bring into view and unfold (from the run view's version link) */
  focus: IVersionFocus | null;
  onRun: (version: number | null) => void;
  onRollback: (version: IVersionInfo) => void;
  /** promote a version to an environment (picked in a dialog); none: no Promote button */
  onPromote?: (version: IVersionInfo) => void;
  /** team mode: why the user may not promote */
  promoteRefused?: string;
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
  const trans = useTrans();
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
    return <div className="jp-MlShip-muted jp-MlShip-versionFiles">{trans.__('Loading…')}</div>;
  }
  if (state.kind === 'failed') {
    return <div className="jp-MlShip-field-error jp-MlShip-versionFiles">{state.message}</div>;
  }
  const { files, project } = state.files;
  const shown = all ? files : files.slice(0, FILES_SHOWN);
  return (
    <div className="jp-MlShip-versionFiles">
      {project && (
        <div className="jp-MlShip-muted" title={trans.__('shipped from %1', project.root || trans.__('the server root'))}>
          {trans.__('notebook')}{' '}<code>{project.notebook}</code>
        </div>
      )}
      <ul className="jp-MlShip-fileLines" aria-label={trans.__('Files of v%1', props.version)}>
        {shown.map(file => (
          <li key={file.path} data-file={file.path}>
            <code className="jp-MlShip-ellipsis" title={file.sha256 ? trans.__('sha256 %1', file.sha256) : file.path}>
              {file.path}
            </code>
            <span className="jp-MlShip-size">{formatBytes(file.size)}</span>
          </li>
        ))}
      </ul>
      {files.length > shown.length && (
        <button className="jp-MlShip-linkButton" onClick={() => setAll(true)}>
          {trans.__('Show all')}{' '}{files.length}{' '}{trans.__('files')}
        </button>
      )}
    </div>
  );
}

/** The environments a version is in, as chips ("staging"); production is the "current" mark. */
export function EnvironmentChips(props: { environments: readonly string[]; versions?: Record<string, number> }): JSX.Element | null {
  const trans = useTrans();
  if (!props.environments.length) {
    return null;
  }
  return (
    <span className="jp-MlShip-envChips">
      {props.environments.map(env => (
        <span
          key={env}
          className={`jp-MlShip-envChip jp-MlShip-env-${env === 'production' ? 'production' : 'other'}`}
          data-environment={env}
          data-version={props.versions?.[env] ?? ''}
          title={
            props.versions
              ? trans.__('%1 runs v%2', env, props.versions[env])
              : trans.__('This version is in %1', env)
          }
        >
          {props.versions ? `${env} v${props.versions[env]}` : env}
        </span>
      ))}
    </span>
  );
}

/** Where a version came from in git: its commit (a link on GitHub / GitLab), branch, dirty. */
function GitCommit(props: { git: IGitInfo }): JSX.Element {
  const trans = useTrans();
  const { git } = props;
  const title = trans.__('git commit %1', git.commit) + (git.remote ? ` (${git.remote})` : '') +
    (git.dirty ? trans.__(': the folder had uncommitted changes when shipped') : '');
  return (
    <span className="jp-MlShip-gitCommit" data-commit={git.commit} data-dirty={git.dirty ? 'true' : 'false'}>
      <span className="jp-MlShip-dot">·</span>
      {git.url ? (
        <a href={git.url} target="_blank" rel="noopener noreferrer" title={title}>
          <code>{git.commit.slice(0, 7)}</code>
        </a>
      ) : (
        <code title={title}>{git.commit.slice(0, 7)}</code>
      )}
      {git.branch && <span className="jp-MlShip-muted">{' '}{git.branch}</span>}
      {git.dirty && <span className="jp-MlShip-gitDirty" title={title}>{' '}{trans.__('dirty')}</span>}
    </span>
  );
}

/** A gated version's way: candidate → validating → promoted / rejected, with the reason; and
 * a roll back by rollback_on. */
function PromotionLine(props: { version: IVersionInfo }): JSX.Element | null {
  const trans = useTrans();
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
            title={trans.__('Gated promotion (metadata.ml_ship.promote): candidate → validating → promoted or rejected')}
          >
            {promotion}
          </span>
          {promotion === 'validating' && props.version.promotion_target && (
            <span className="jp-MlShip-promotionTarget" data-promotion-target={props.version.promotion_target}>
              {trans.__('→ %1', props.version.promotion_target)}
            </span>
          )}
          {reason && <span className="jp-MlShip-promotionReason">{reason}</span>}
        </div>
      )}
      {rolled && (
        <div className="jp-MlShip-item-sub" data-auto-rollback={rolled.to}>
          <span className="jp-MlShip-healthBadge jp-MlShip-health-failing">{trans.__('rolled back')}</span>
          <span className="jp-MlShip-promotionReason" title={formatDate(rolled.at)}>
            {trans.__('to v')}{rolled.to}: {rolled.reason}
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
  const trans = useTrans();
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
          aria-label={trans.__('Select v%1 to compare', v.number)}
          title={trans.__('Select two versions, then press Compare')}
        />
        <span className="jp-MlShip-item-title">v{v.number}</span>
        {v.is_current && <span className="jp-MlShip-current">{trans.__('current')}</span>}
        <EnvironmentChips environments={(v.environments ?? []).filter(env => env !== 'production')} />
        <span className="jp-MlShip-grow" />
        {list.onOpen && (
          <button
            className="jp-MlShip-iconButton jp-MlShip-openVersion"
            title={trans.__('Open v%1\'s notebook (read-only)', v.number)}
            aria-label={trans.__('Open v%1', v.number)}
            onClick={() => list.onOpen?.(v.number)}
          >
            <notebookIcon.react tag="span" />
          </button>
        )}
        {!v.is_current && (
          <button
            className="jp-MlShip-iconButton jp-MlShip-compareCurrent"
            title={trans.__('Compare v%1 with the current version', v.number)}
            aria-label={trans.__('Compare v%1 with the current version', v.number)}
            onClick={() => list.onCompare(v.number, null)}
          >
            <compareIcon.react tag="span" />
          </button>
        )}
        <button
          className="jp-MlShip-iconButton"
          title={list.runRefused ?? trans.__('Run v%1', v.number)}
          aria-label={trans.__('Run v%1', v.number)}
          disabled={list.runRefused !== undefined}
          onClick={() => list.onRun(v.number)}
        >
          <runIcon.react tag="span" />
        </button>
        {list.onPromote && (
          <button
            className="jp-MlShip-iconButton jp-MlShip-promote"
            title={list.promoteRefused ?? trans.__('Promote v%1 to an environment (staging, production…)', v.number)}
            aria-label={trans.__('Promote v%1', v.number)}
            disabled={list.promoteRefused !== undefined}
            onClick={() => list.onPromote?.(v)}
          >
            <moveUpIcon.react tag="span" />
          </button>
        )}
        {!v.is_current && (
          <button
            className="jp-MlShip-iconButton jp-MlShip-rollback"
            title={
              list.rollbackRefused ??
              (newer
                ? trans.__('Make current: new runs use v%1', v.number)
                : trans.__('Roll back to v%1: make it the current version', v.number))
            }
            aria-label={newer ? trans.__('Make v%1 current', v.number) : trans.__('Roll back to v%1', v.number)}
            disabled={list.rollbackRefused !== undefined}
            onClick={() => list.onRollback(v)}
          >
            <historyIcon.react tag="span" />
          </button>
        )}
      </div>
      <PromotionLine version={v} />
      <div className={`jp-MlShip-message${v.message ? '' : ' jp-MlShip-muted'}`}>
        {v.message || trans.__('no message')}
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
        {v.git && <GitCommit git={v.git} />}
      </div>
      {project && (
        <button
          className="jp-MlShip-filesToggle"
          aria-expanded={props.open}
          onClick={props.onToggleFiles}
          title={trans.__('The files shipped with the notebook, from %1/', project.root || trans.__('the server root'))}
        >
          {props.open ? <caretDownIcon.react tag="span" /> : <caretRightIcon.react tag="span" />}
          {project.files === 0
            ? trans.__('the notebook alone')
            : trans.__(
                '%1, %2 from %3',
                trans._n('%1 file', '%1 files', project.files),
                formatBytes(project.bytes),
                project.root ? `${project.root}/` : trans.__('the server root')
              )}
        </button>
      )}
      {props.open && <VersionFiles version={v.number} load={list.loadFiles} />}
    </li>
  );
}

export function VersionsList(props: IVersionsListProps): JSX.Element {
  const trans = useTrans();
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
              ? trans.__('Tick two versions to compare them')
              : pair
                ? trans.__('v%1 and v%2 selected', pair[0], pair[1])
                : picked.length === 1
                  ? trans.__('v%1 selected: tick one more', picked[0])
                  : trans.__('%1 selected: tick only two', picked.length)}
          </span>
          <span className="jp-MlShip-grow" />
          <button
            className={`jp-Button jp-mod-styled ${
              pair ? 'jp-mod-accept' : 'jp-mod-reject'
            } jp-MlShip-smallButton jp-MlShip-compareSelected`}
            disabled={!pair}
            onClick={() => pair && props.onCompare(pair[0], pair[1])}
            title={pair ? trans.__('Compare v%1 with v%2', pair[0], pair[1]) : trans.__('Tick two versions first')}
          >
            {trans.__('Compare')}
          </button>
        </div>
      )}
      <ul className="jp-MlShip-list jp-MlShip-versions" aria-label={trans.__('Versions')}>
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
