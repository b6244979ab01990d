/**
 * The Ship dialog's project folder: the folder a version takes along (the notebook's, or one
 * above it for a project with `src/` and `data/` beside `notebooks/`), typed or chosen with
 * JupyterLab's folder picker, and the server's proposal with its reasons when the notebook
 * reaches outside the folder it would ship.
 */
import * as React from 'react';

import { folderError, showFolder } from '../core/projectFolder';
import { useTrans } from '../core/i18n';

export interface IFolderProposal {
  folder: string;
  reasons: string[];
}

export function ProjectFolder(props: {
  notebookPath: string;
  folder: string;
  /** the server's proposal (shown while it is the folder chosen, or offered when it is not) */
  proposal: IFolderProposal | null;
  onChange: (folder: string) => void;
  /** opens the folder picker in `host`; the folder chosen, or null */
  pickFolder?: (current: string, host: HTMLElement) => Promise<string | null>;
}): JSX.Element {
  const trans = useTrans();
  const { proposal, folder } = props;
  const host = React.useRef<HTMLDivElement>(null);
  const error = folderError(props.notebookPath, folder);
  const pick = async () => {
    if (!props.pickFolder || !host.current) {
      return;
    }
    const chosen = await props.pickFolder(folder, host.current);
    if (chosen !== null) {
      props.onChange(chosen);
    }
  };
  const proposed = proposal !== null && proposal.folder === folder.trim();
  return (
    <div className={`jp-MlShip-field jp-MlShip-projectFolder${error ? ' jp-MlShip-field-invalid' : ''}`}>
      <label htmlFor="jp-MlShip-root">{trans.__('Project folder')}</label>
      <div className="jp-MlShip-folderRow">
        <input
          id="jp-MlShip-root"
          name="root"
          className={`jp-mod-styled jp-MlShip-input jp-MlShip-code${error ? ' jp-mod-error' : ''}`}
          value={folder}
          placeholder={trans.__('(the server root)')}
          spellCheck={false}
          autoComplete="off"
          onChange={e => props.onChange(e.currentTarget.value)}
        />
        {props.pickFolder && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-MlShip-folderPick"
            title={trans.__('Choose the project folder')}
            onClick={() => void pick()}
          >
            {trans.__('Choose…')}
          </button>
        )}
      </div>
      {error ? (
        <div className="jp-MlShip-field-error">{error}</div>
      ) : proposal && proposed ? (
        <div className="jp-MlShip-field-help jp-MlShip-folderProposal" data-proposed={proposal.folder}>
          {trans.__('Proposed: the notebook reaches outside its folder —')}{' '}{proposal.reasons.join('; ')}.
        </div>
      ) : proposal ? (
        <div className="jp-MlShip-field-help jp-MlShip-folderProposal" data-offered={proposal.folder}>
          {trans.__('The notebook reaches outside this folder (')}{proposal.reasons.join('; ')}).{' '}
          <button
            type="button"
            className="jp-MlShip-linkButton jp-MlShip-folderUse"
            onClick={() => props.onChange(proposal.folder)}
          >
            {trans.__('Ship')}{' '}{showFolder(proposal.folder)}{' '}{trans.__('instead')}
          </button>
        </div>
      ) : (
        <div className="jp-MlShip-field-help">
          {trans.__('The folder shipped with the notebook: its files, with sub-folders')}
        </div>
      )}
      <div ref={host} className="jp-MlShip-pickerHost" />
    </div>
  );
}
