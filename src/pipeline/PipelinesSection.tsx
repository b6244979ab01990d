/** The side panel's "Pipelines" section: pipelines, their last run, and recent runs. */
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { rollbackPipelineWithConfirm, type IActions } from '../core/actions';
import { StatusChip } from '../components/common';
import { formatDate, formatRelative, shortId } from '../core/format';
import type { IPipelineVersionInfo } from '../api/pipelines';
import type { IPermission } from '../api/types';
import { may, permitted } from '../core/permissions';
import type { IMlShipPanelSection, IMlShipPipelines } from '../tokens';
import type { PipelineListModel } from './listModel';
import { statusSummary } from './status';
import { useTrans } from '../core/i18n';

function useModel(model: PipelineListModel): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
}

/** A pipeline's versions, newest first; any but the current one can be made current. */
function PipelineVersions(props: {
  pipeline: string;
  current: number | null;
  versions: readonly IPipelineVersionInfo[];
  onMakeCurrent: (pipeline: string, version: number, older: boolean) => void;
  /** team mode: may the user roll it back */
  rollback: IPermission;
}): JSX.Element | null {
  const trans = useTrans();
  const { versions, current } = props;
  if (!versions.length) {
    return null;
  }
  return (
    <li className="jp-MlShip-pipelineVersions">
      <div className="jp-MlShip-label">{trans.__('Versions')}</div>
      <ul className="jp-MlShip-list" aria-label={trans.__('Versions of %1', props.pipeline)}>
        {versions.map(v => {
          const older = current !== null && v.number < current;
          return (
            <li key={v.number} className="jp-MlShip-pipelineVersion" data-pipeline-version={v.number}>
              <span className="jp-MlShip-version-badge">v{v.number}</span>
              <span className="jp-MlShip-grow jp-MlShip-muted" title={`${v.message || trans.__('no message')} · ${formatDate(v.created_at)}`}>
                {v.message || formatRelative(v.created_at)}
              </span>
              {v.number === current ? (
                <span className="jp-MlShip-currentMark">{trans.__('current')}</span>
              ) : (
                <button
                  className="jp-Button jp-mod-minimal jp-mod-styled jp-MlShip-smallButton"
                  onClick={() => props.onMakeCurrent(props.pipeline, v.number, older)}
                  {...permitted(props.rollback, trans.__('New runs of %1 use v%2', props.pipeline, v.number))}
                >
                  {older ? trans.__('Roll back to v%1', v.number) : trans.__('Make current')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </li>
  );
}

export function PipelinesSection(props: {
  model: PipelineListModel;
  onOpenRun: (id: string) => void;
  onOpenFile: (serverPath: string) => void;
  labPath: (serverPath: string) => string | null;
  onMakeCurrent: (pipeline: string, version: number, older: boolean) => void;
  /** open the pipeline's runs as a table (a column group per step) */
  onOpenHistory?: (pipeline: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  useModel(model);
  return (
    <section className="jp-MlShip-pipelines" aria-label={trans.__('Pipelines')}>
      <h3 className="jp-MlShip-sectionTitle">{trans.__('Pipelines')}</h3>
      {model.error && <div className="jp-MlShip-empty jp-MlShip-item-error">{model.error}</div>}
      {model.loaded && !model.error && !model.pipelines.length && (
        <div className="jp-MlShip-empty">
          {trans.__('No pipelines yet. Open a')}{' '}<code>{trans.__('*.pipeline.yaml')}</code>{' '}{trans.__('file: it shows the graph, and')}{' '}
          <strong>{trans.__('Run pipeline')}</strong>{' '}{trans.__('ships and runs it.')}
        </div>
      )}
      <ul className="jp-MlShip-list jp-MlShip-pipelineList">
        {model.pipelines.map(p => {
          const open = model.expanded === p.name;
          const Caret = open ? caretDownIcon : caretRightIcon;
          return (
            <li key={p.name} data-pipeline={p.name}>
              <button
                className={`jp-MlShip-item${open ? ' jp-mod-selected' : ''}`}
                aria-expanded={open}
                onClick={() => void model.toggle(p.name)}
                title={p.source_path || p.name}
              >
                <div className="jp-MlShip-item-main">
                  <Caret.react tag="span" className="jp-MlShip-caret" />
                  <span className="jp-MlShip-item-title jp-MlShip-grow">{p.name}</span>
                  {p.last_run && <StatusChip status={p.last_run.status} />}
                </div>
                <div className="jp-MlShip-item-sub">
                  <span className="jp-MlShip-version-badge">v{p.current_version ?? '–'}</span>
                  <span className="jp-MlShip-dot">·</span>
                  <span title={formatDate(p.last_run?.created_at ?? p.updated_at)}>
                    {p.last_run
                      ? trans.__('ran %1', formatRelative(p.last_run.created_at))
                      : trans.__('shipped %1', formatRelative(p.updated_at))}
                  </span>
                </div>
              </button>
              {open && (
                <ul className="jp-MlShip-list jp-MlShip-pipelineRuns" aria-label={trans.__('Runs of %1', p.name)}>
                  {props.labPath(p.source_path) && (
                    <li className="jp-MlShip-pipelineFile">
                      <button
                        className="jp-MlShip-item"
                        onClick={() => props.onOpenFile(p.source_path)}
                        title={trans.__('Open the pipeline file\'s graph (it may have changed since it was shipped)')}
                      >
                        {trans.__('Open')}{' '}{props.labPath(p.source_path)}
                      </button>
                    </li>
                  )}
                  <PipelineVersions
                    pipeline={p.name}
                    current={p.current_version}
                    versions={model.versionsOf(p.name)}
                    onMakeCurrent={props.onMakeCurrent}
                    rollback={may(p.permissions, 'rollback')}
                  />
                  {model.runs.length > 0 && (
                    <li className="jp-MlShip-pipelineHistory">
                      <button
                        className="jp-MlShip-item"
                        onClick={() => props.onOpenHistory?.(p.name)}
                        title={trans.__('Every run of the pipeline as a table: a column group per step')}
                      >
                        {trans.__('All runs as a table')}
                      </button>
                    </li>
                  )}
                  {!model.runs.length && <li className="jp-MlShip-empty">{trans.__('No runs yet.')}</li>}
                  {model.runs.map(run => (
                    <li key={run.id} data-pipeline-run={run.id}>
                      <button
                        className="jp-MlShip-item"
                        onClick={() => props.onOpenRun(run.id)}
                        title={trans.__('Open the graph of this run')}
                      >
                        <div className="jp-MlShip-item-main">
                          <StatusChip status={run.status} />
                          <span>#{shortId(run.id)}</span>
                          <span className="jp-MlShip-version-badge">v{run.version}</span>
                        </div>
                        <div className="jp-MlShip-item-sub">
                          <span title={formatDate(run.created_at)}>
                            {formatRelative(run.created_at)}
                          </span>
                          <span className="jp-MlShip-dot">·</span>
                          <span>{statusSummary(run.steps)}</span>
                        </div>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The side panel's Pipelines section (below the jobs and the agent status). */
export function pipelinesSection(
  pipelines: IMlShipPipelines,
  actions: IActions
): IMlShipPanelSection {
  const { list } = pipelines;
  return {
    id: 'pipelines',
    rank: 100,
    refresh: () => list.refresh(),
    render: () => (
      <PipelinesSection
        model={list}
        onOpenRun={pipelines.openRun}
        onOpenFile={pipelines.openFile}
        labPath={pipelines.labPath}
        onMakeCurrent={(name, version, older) =>
          void rollbackPipelineWithConfirm(list, name, version, older)
        }
        onOpenHistory={name => actions.openPipelineHistory?.(name)}
      />
    )
  };
}
