/**
 * The run view's Files section: the artifacts a run created or changed (with sizes, download
 * links and a preview on click), those not kept for their size, and the files a pipeline step
 * took from an upstream step's run.
 */
import { closeIcon, downloadIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, type MlShipClient } from '../api/client';
import { isTerminal, type IProjectFile, type IRunFiles, type IRunInfo } from '../api/types';
import { formatBytes, previewKind } from '../core/files';
import { shortId } from '../core/format';
import { FilePreview } from './FilePreview';
import { useTrans } from '../core/i18n';

export interface IRunFilesProps {
  client: MlShipClient;
  run: IRunInfo;
  onOpenRun: (id: string) => void;
}

type State =
  | { kind: 'loading' }
  | { kind: 'failed'; message: string }
  | { kind: 'ready'; files: IRunFiles };

/** The run's files, asked again when the run ends (artifacts are collected at its end). */
function useRunFiles(client: MlShipClient, run: IRunInfo): [State, () => void] {
  const [state, setState] = React.useState<State>({ kind: 'loading' });
  const [asked, setAsked] = React.useState(0);
  const ended = isTerminal(run.status);
  React.useEffect(() => {
    let live = true;
    client.runFiles(run.id).then(
      files => live && setState({ kind: 'ready', files }),
      error => live && setState({ kind: 'failed', message: errorMessage(error) })
    );
    return () => {
      live = false;
    };
  }, [client, run.id, ended, asked]);
  return [state, () => setAsked(n => n + 1)];
}

function FileRow(props: {
  file: IProjectFile;
  href: string;
  selected: boolean;
  onSelect: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { file } = props;
  const previewable = previewKind(file.path) !== null;
  return (
    <li
      className={`jp-MlShip-fileRow${props.selected ? ' jp-mod-selected' : ''}`}
      data-file={file.path}
    >
      <button
        className="jp-MlShip-fileName"
        onClick={props.onSelect}
        aria-pressed={props.selected}
        title={previewable ? trans.__('Preview %1', file.path) : trans.__('%1: no preview, download it', file.path)}
      >
        {file.path}
      </button>
      <span className="jp-MlShip-size" data-size={file.size}>
        {formatBytes(file.size)}
      </span>
      <a
        className="jp-MlShip-iconButton"
        href={props.href}
        download={file.path.split('/').pop()}
        title={trans.__('Download %1', file.path)}
        aria-label={trans.__('Download %1', file.path)}
      >
        <downloadIcon.react tag="span" />
      </a>
    </li>
  );
}

function Inputs(props: { files: IRunFiles; onOpenRun: (id: string) => void }): JSX.Element | null {
  const trans = useTrans();
  const { inputs } = props.files;
  if (!inputs.length) {
    return null;
  }
  return (
    <div className="jp-MlShip-runInputs">
      <h3>{trans.__('Input files')}</h3>
      <ul className="jp-MlShip-fileLines">
        {inputs.map(input => (
          <li key={`${input.parameter}:${input.path}`} data-input={input.parameter}>
            <code>{input.parameter}</code> ← <code title={trans.__('read from %1', input.path)}>{input.file}</code>{' '}
            <span className="jp-MlShip-muted">
              {trans.__('from')}{' '}{input.step ? trans.__('step %1', input.step) : input.job} (
              <button
                className="jp-MlShip-linkButton"
                onClick={() => props.onOpenRun(input.run_id)}
                title={trans.__('Open run %1 of %2', input.run_id, input.job)}
              >
                {trans.__('run #')}{shortId(input.run_id)}
              </button>
              )
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function RunFiles(props: IRunFilesProps): JSX.Element {
  const trans = useTrans();
  const { client, run } = props;
  const [state, reload] = useRunFiles(client, run);
  const [selected, setSelected] = React.useState<string | null>(null);
  const ended = isTerminal(run.status);

  if (state.kind !== 'ready') {
    return (
      <section className="jp-MlShip-runFiles" data-state={state.kind}>
        <h3>{trans.__('Files')}</h3>
        {state.kind === 'loading' ? (
          <div className="jp-MlShip-muted">{trans.__('Loading…')}</div>
        ) : (
          <div className="jp-MlShip-muted">
            {trans.__('Cannot list the run’s files:')}{' '}{state.message}{' '}
            <button className="jp-MlShip-linkButton" onClick={reload}>
              {trans.__('Retry')}
            </button>
          </div>
        )}
      </section>
    );
  }
  const { files, not_kept } = state.files;
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const shown = files.find(f => f.path === selected) ?? null;
  return (
    <section className="jp-MlShip-runFiles" data-state="ready">
      <h3>
        {trans.__('Files')}{' '}
        {files.length > 0 && (
          <span className="jp-MlShip-count">
            {trans._n('%1 file', '%1 files', files.length)}, {formatBytes(total)}
          </span>
        )}
      </h3>
      {files.length === 0 ? (
        <div className="jp-MlShip-muted">
          {ended
            ? trans.__('The run created or changed no file in its project folder.')
            : trans.__('Files the run creates are listed when it ends.')}
        </div>
      ) : (
        <ul className="jp-MlShip-fileList" aria-label={trans.__('Files the run created or changed')}>
          {files.map(file => (
            <FileRow
              key={file.path}
              file={file}
              href={client.runFileUrl(run.id, file.path, true)}
              selected={file.path === selected}
              onSelect={() => setSelected(file.path === selected ? null : file.path)}
            />
          ))}
        </ul>
      )}
      {not_kept.length > 0 && (
        <div className="jp-MlShip-notKept">
          {trans.__('Not kept, over the size limit for artifacts:')}{' '}
          {not_kept.map((file, i) => (
            <React.Fragment key={file.path}>
              {i > 0 && ', '}
              <code>{file.path}</code> ({formatBytes(file.size)})
            </React.Fragment>
          ))}
        </div>
      )}
      <Inputs files={state.files} onOpenRun={props.onOpenRun} />
      {shown && (
        <div className="jp-MlShip-preview" data-preview={shown.path}>
          <div className="jp-MlShip-previewHeader">
            <code className="jp-MlShip-ellipsis">{shown.path}</code>
            <span className="jp-MlShip-muted">{formatBytes(shown.size)}</span>
            <span className="jp-MlShip-grow" />
            <a
              className="jp-MlShip-iconButton"
              href={client.runFileUrl(run.id, shown.path, true)}
              download={shown.path.split('/').pop()}
              title={trans.__('Download %1', shown.path)}
            >
              <downloadIcon.react tag="span" />
            </a>
            <button
              className="jp-MlShip-iconButton"
              onClick={() => setSelected(null)}
              title={trans.__('Close the preview')}
              aria-label={trans.__('Close the preview')}
            >
              <closeIcon.react tag="span" />
            </button>
          </div>
          <div className="jp-MlShip-previewBody">
            <FilePreview client={client} runId={run.id} file={shown} />
          </div>
        </div>
      )}
    </section>
  );
}
