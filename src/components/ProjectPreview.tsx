/**
 * "What will be shipped": the Ship dialog's look at the notebook's project folder (the files a
 * version takes along), its largest files and what was left out and why. When the server says
 * shipping would be refused, the reason is shown and the dialog's Ship buttons are disabled;
 * for a folder over the limits that this user may ship anyway (an ml-ship admin, or anyone
 * with `MlShip.allow_big_ship`), a "Ship anyway" box enables them again.
 */
import * as React from 'react';

import { ApiError, errorMessage } from '../api/client';
import type { IProjectPreview } from '../api/types';
import { formatBytes, groupExcluded, projectSummaryText } from '../core/files';
import { Notice } from './common';
import { useDialogValidation } from './ParameterForm';
import { serverText, useTrans } from '../core/i18n';

/** Excluded paths listed before "and N more". */
const MAX_EXCLUDED_SHOWN = 8;
/** Largest files listed. */
const MAX_LARGEST_SHOWN = 5;

type State =
  | { kind: 'loading' }
  | { kind: 'failed'; message: string }
  | { kind: 'refused'; message: string }
  | { kind: 'ready'; preview: IProjectPreview };

/** Why shipping would be refused, if the preview says it would (its `error`, or the server
 * refusing to look at the folder at all, e.g. for a link out of it). */
function refusal(state: State): string | null {
  if (state.kind === 'refused') {
    return state.message;
  }
  return state.kind === 'ready' ? state.preview.error : null;
}

/** Load the preview when the dialog opens, and again when the project folder changes. */
function usePreview(
  load: (root?: string | null) => Promise<IProjectPreview>,
  root: string | null | undefined,
  onLoaded?: (preview: IProjectPreview) => void
): State {
  const [state, setState] = React.useState<State>({ kind: 'loading' });
  React.useEffect(() => {
    let live = true;
    setState({ kind: 'loading' });
    load(root).then(
      preview => {
        if (live) {
          setState({ kind: 'ready', preview });
          onLoaded?.(preview);
        }
      },
      error => {
        if (!live) {
          return;
        }
        // bad input or too large: the ship would be refused for the same reason
        const refused =
          error instanceof ApiError && (error.status === 400 || error.status === 413);
        setState({ kind: refused ? 'refused' : 'failed', message: errorMessage(error) });
      }
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [root]);
  return state;
}

/** What was left out, without the notebook itself (its snapshot is the version's notebook). */
function leftOut(preview: IProjectPreview): IProjectPreview['excluded'] {
  return preview.excluded.filter(e => e.path !== preview.notebook);
}

function Excluded(props: { preview: IProjectPreview }): JSX.Element | null {
  const trans = useTrans();
  const excluded = leftOut(props.preview);
  const groups = groupExcluded(excluded);
  if (!groups.length) {
    return null;
  }
  let budget = MAX_EXCLUDED_SHOWN;
  const total = excluded.length;
  const items: JSX.Element[] = [];
  for (const { reason, paths } of groups) {
    for (const path of paths.slice(0, Math.max(0, budget))) {
      items.push(
        <li key={`${reason}:${path}`} data-excluded={path}>
          <code>{path}</code>{' '}
          <span className="jp-MlShip-muted" lang={serverText(reason) === reason ? 'en' : undefined}>
            — {serverText(reason)}
          </span>
        </li>
      );
    }
    budget -= paths.length;
  }
  return (
    <div className="jp-MlShip-projectPart">
      <div className="jp-MlShip-projectHeading">{trans.__('Left out')}</div>
      <ul className="jp-MlShip-fileLines jp-MlShip-excluded">
        {items}
        {total > items.length && (
          <li className="jp-MlShip-muted">{trans.__('and')}{' '}{total - items.length}{' '}{trans.__('more')}</li>
        )}
      </ul>
    </div>
  );
}

function Largest(props: { preview: IProjectPreview }): JSX.Element | null {
  const trans = useTrans();
  const largest = props.preview.largest.slice(0, MAX_LARGEST_SHOWN);
  if (!largest.length) {
    return null;
  }
  return (
    <div className="jp-MlShip-projectPart">
      <div className="jp-MlShip-projectHeading">{trans.__('Largest files')}</div>
      <ul className="jp-MlShip-fileLines jp-MlShip-largest">
        {largest.map(file => (
          <li key={file.path}>
            <code className="jp-MlShip-ellipsis" title={file.path}>
              {file.path}
            </code>
            <span className="jp-MlShip-size">{formatBytes(file.size)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The one line shown while folded: "12 files, 3.4 MB from notebooks/ · 2 left out". */
function SummaryLine(props: { preview: IProjectPreview }): JSX.Element {
  const trans = useTrans();
  const { preview } = props;
  return (
    <span className="jp-MlShip-projectSummary" data-files={preview.files}>
      {preview.files === 0 ? (
        <>{trans.__('only the notebook (its folder holds no other file)')}</>
      ) : (
        <>
          {projectSummaryText(preview)}{' '}
          <span className="jp-MlShip-muted">{trans.__('(project folder)')}</span>
        </>
      )}
      {leftOut(preview).length > 0 && (
        <>
          <span className="jp-MlShip-dot"> · </span>
          <span className="jp-MlShip-muted">{leftOut(preview).length}{' '}{trans.__('left out')}</span>
        </>
      )}
    </span>
  );
}

export function ProjectPreview(props: {
  load: (root?: string | null) => Promise<IProjectPreview>;
  /** the project folder to preview (`metadata.ml_ship.root`); undefined: the notebook's */
  root?: string | null;
  onLoaded?: (preview: IProjectPreview) => void;
  /** "Ship anyway" ticked: a folder over the limits ships (for who may: `may_ship_anyway`) */
  shipAnyway?: boolean;
  onShipAnyway?: (anyway: boolean) => void;
}): JSX.Element {
  const trans = useTrans();
  const state = usePreview(props.load, props.root, props.onLoaded);
  const ref = React.useRef<HTMLDivElement>(null);
  const refused = refusal(state);
  const mayOverride =
    !!refused && state.kind === 'ready' && !!state.preview.may_ship_anyway && !!props.onShipAnyway;
  const overridden = mayOverride && !!props.shipAnyway;
  // a refusal carries .jp-mod-error: the dialog disables Ship and Ship & run while it is there
  useDialogValidation(ref, [state, overridden]);

  return (
    <div
      className="jp-MlShip-project"
      ref={ref}
      data-state={refused ? 'refused' : state.kind}
    >
      {refused && (
        <div
          className={`jp-MlShip-projectError${overridden ? ' jp-MlShip-shipAnyway' : ' jp-mod-error'}`}
          role="alert"
        >
          <strong>{overridden ? trans.__('Over the limits:') : trans.__('Cannot ship:')}</strong> {refused}
          {mayOverride && state.kind === 'ready' && (
            <label className="jp-MlShip-shipAnywayBox">
              <input
                type="checkbox"
                name="ship_anyway"
                checked={overridden}
                onChange={e => props.onShipAnyway?.(e.currentTarget.checked)}
              />{' '}
              {trans.__('Ship anyway')}{' '}
              <span className="jp-MlShip-muted">
                {trans.__(
                  '(allowed for you up to %1 files, %2; recorded in the audit trail)',
                  state.preview.anyway_max_files ?? '',
                  formatBytes(state.preview.anyway_max_bytes ?? 0)
                )}
              </span>
            </label>
          )}
        </div>
      )}
      <details className="jp-MlShip-projectDetails">
        <summary>
          <span className="jp-MlShip-projectTitle">{trans.__('What will be shipped')}</span>
          {state.kind === 'loading' ? (
            <span className="jp-MlShip-muted">{trans.__('looking at the notebook’s folder…')}</span>
          ) : state.kind === 'failed' || state.kind === 'refused' ? (
            <span className="jp-MlShip-muted">{trans.__('cannot tell')}</span>
          ) : refused && state.preview.files === 0 ? (
            <span className="jp-MlShip-muted">{trans.__('nothing, until the problem above is solved')}</span>
          ) : (
            <SummaryLine preview={state.preview} />
          )}
        </summary>
        {state.kind === 'failed' && (
          <Notice kind="warning">{trans.__('What the version would hold is unknown:')}{' '}{state.message}</Notice>
        )}
        {state.kind === 'ready' && (
          <div className="jp-MlShip-projectBody">
            <div className="jp-MlShip-field-help">
              {trans.__('The notebook')}{' '}<code>{state.preview.notebook}</code>{' '}{trans.__('and the files of its folder')}
              {state.preview.root ? (
                <>
                  {' '}
                  <code>{state.preview.root}</code>
                </>
              ) : null}
              {trans.__(', with sub-folders. Hidden files,')}{' '}<code>{trans.__('__pycache__')}</code>{' '}{trans.__('and what')}{' '}
              <code>{trans.__('.shipignore')}</code>{' '}{trans.__('lists stay out. Limit:')}{' '}
              {trans._n('%1 file', '%1 files', state.preview.max_files)}, {formatBytes(state.preview.max_bytes)}.
            </div>
            <Largest preview={state.preview} />
            <Excluded preview={state.preview} />
          </div>
        )}
      </details>
    </div>
  );
}
