/**
 * The ml-ship side panel: a notice when the server is not right, jobs (with the sections other
 * plugins add below them), or one job.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { refreshIcon, SidePanel, ToolbarButton, UseSignal } from '@jupyterlab/ui-components';
import { DisposableDelegate, type IDisposable } from '@lumino/disposable';
import { Panel as LuminoPanel, Widget } from '@lumino/widgets';
import * as React from 'react';

import {
  deleteJobWithConfirm,
  openVersionNotebook,
  promoteWithDialog,
  rollbackWithConfirm,
  runWithDialog,
  type IActions
} from '../core/actions';
import { shipIcon } from '../core/icons';
import type { MlShipModel } from '../core/model';
import {
  PANEL_ID,
  type IMlShipJobGroups,
  type IMlShipPanel,
  type IMlShipPanelSection
} from '../tokens';
import { AgentStatus } from './AgentStatus';
import { HealthOverview } from './HealthBadge';
import { Notice, TextWithCode } from './common';
import { JobDetail } from './JobDetail';
import { DEFAULT_JOBS_QUERY, JobsList, type IJobsQuery } from './JobsList';
import { getTrans, useTrans } from '../core/i18n';

/** Re-render every second while something is running (durations), without server calls. */
function useClock(active: boolean): number {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    if (!active) {
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return active ? now : Date.now();
}

interface IPanelBodyProps {
  model: MlShipModel;
  actions: IActions;
  sections: readonly IMlShipPanelSection[];
  jobGroups: IMlShipJobGroups | null;
}

function PanelBody(props: IPanelBodyProps): JSX.Element {
  const trans = useTrans();
  const { model, actions, sections, jobGroups } = props;
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
  // kept here, so that the search survives a visit to a job
  const [jobsQuery, setJobsQuery] = React.useState<IJobsQuery>(DEFAULT_JOBS_QUERY);
  const now = useClock(model.hasActiveRuns);
  const compat = model.compatibility;
  const job = model.selectedJob;

  const retry = () => void model.checkHealth().then(() => model.refresh());
  const loadHealth = React.useCallback(() => model.client.health(), [model]);
  return (
    <div className="jp-MlShip-panelBody">
      {(compat.state === 'missing' ||
        compat.state === 'unreachable' ||
        compat.state === 'mismatch') && (
        <Notice
          kind={compat.state === 'mismatch' ? 'warning' : 'error'}
          action={{ label: trans.__('Retry'), onClick: retry }}
        >
          <span data-compat={compat.state}>
            <TextWithCode text={compat.message} />
          </span>
        </Notice>
      )}
      {model.loadError && compat.state !== 'missing' && compat.state !== 'unreachable' && (
        <Notice kind="error" action={{ label: trans.__('Retry'), onClick: () => void model.refresh() }}>
          {model.loadError}
        </Notice>
      )}
      {compat.state === 'unknown' ? (
        <div className="jp-MlShip-empty">{trans.__('Loading…')}</div>
      ) : compat.state === 'missing' || compat.state === 'unreachable' ? null : job ? (
        <JobDetail
          job={job}
          versions={model.versions}
          runs={model.runs}
          hasMoreRuns={model.hasMoreRuns}
          selectedRunId={model.selectedRunId}
          now={now}
          onBack={() => void model.selectJob(null)}
          onOpenRun={run => actions.openRun(run.id)}
          onRun={version => void runWithDialog(actions, job.name, version)}
          onRollback={version => void rollbackWithConfirm(actions, job.name, version)}
          onPromote={version => void promoteWithDialog(actions, job.name, version)}
          onLoadMore={() => void model.loadMoreRuns()}
          onCompare={(a, b) => actions.openCompare(job.name, a, b)}
          onOpenHistory={() => actions.openHistory?.(job.name)}
          onOpenVersion={n => void openVersionNotebook(actions, job.name, n)}
          loadVersionFiles={n => model.client.versionFiles(job.name, n)}
          focus={model.focusedVersion?.job === job.name ? model.focusedVersion : null}
          client={model.client}
          onOpenRunId={id => actions.openRun(id)}
        />
      ) : (
        <>
          <JobsList
            jobs={model.jobs}
            onSelect={name => void model.selectJob(name)}
            onDelete={name => void deleteJobWithConfirm(actions, name)}
            pipelineJobs={jobGroups?.groups()}
            query={jobsQuery}
            onQuery={setJobsQuery}
            user={model.health?.team_mode ? (model.health.user ?? null) : null}
          />
          <AgentStatus load={loadHealth} initial={model.health} />
          {sections.map(section => (
            <React.Fragment key={section.id}>{section.render()}</React.Fragment>
          ))}
        </>
      )}
    </div>
  );
}

class PanelBodyWidget extends ReactWidget {
  constructor(
    private readonly _model: MlShipModel,
    private readonly _actions: IActions,
    private readonly _parts: () => Pick<IPanelBodyProps, 'sections' | 'jobGroups'>
  ) {
    super();
    this.addClass('jp-MlShip-panelContent');
  }
  protected render(): JSX.Element {
    return <PanelBody model={this._model} actions={this._actions} {...this._parts()} />;
  }
}

/** The side panel: JupyterLab's SidePanel with a title, a toolbar and the body. */
export class MlShipPanel implements IMlShipPanel {
  readonly widget: SidePanel;
  /** by rank (the order they were added in among equal ranks) */
  private _sections: IMlShipPanelSection[] = [];
  private _jobGroups: IMlShipJobGroups | null = null;
  private _body: PanelBodyWidget;

  constructor(model: MlShipModel, actions: IActions) {
    const trans = getTrans();
    const panel = new SidePanel({ content: new LuminoPanel() });
    panel.id = PANEL_ID;
    panel.addClass('jp-MlShip-panel');
    panel.title.icon = shipIcon;
    panel.title.caption = trans.__('ML Ship: jobs and runs');
    const header = new Widget({ node: document.createElement('h2') });
    header.node.textContent = trans.__('ML Ship');
    header.addClass('jp-text-truncated');
    header.addClass('jp-MlShip-title');
    panel.header.addWidget(header);
    // every job's health at a glance, kept up to date with the jobs list
    const overview = ReactWidget.create(
      <UseSignal signal={model.changed}>{() => <HealthOverview jobs={model.jobs} />}</UseSignal>
    );
    overview.addClass('jp-MlShip-headerHealth');
    panel.header.addWidget(overview);
    panel.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Refresh jobs and runs'),
        onClick: () =>
          void model
            .checkHealth()
            .then(() => Promise.all([model.refresh(), ...this._sections.map(s => s.refresh?.())]))
      })
    );
    this._body = new PanelBodyWidget(model, actions, () => ({
      sections: this._sections,
      jobGroups: this._jobGroups
    }));
    panel.addWidget(this._body);
    this.widget = panel;
  }

  addSection(section: IMlShipPanelSection): IDisposable {
    const trans = getTrans();
    if (this._sections.some(s => s.id === section.id)) {
      throw new Error(trans.__('jupyter-ml-ship: the panel has a section %1 already', section.id));
    }
    const at = this._sections.findIndex(s => s.rank > section.rank);
    this._sections.splice(at < 0 ? this._sections.length : at, 0, section);
    this._redraw();
    return new DisposableDelegate(() => {
      this._sections = this._sections.filter(s => s !== section);
      this._redraw();
    });
  }

  setJobGroups(groups: IMlShipJobGroups | null): void {
    this._jobGroups?.changed.disconnect(this._redraw, this);
    this._jobGroups = groups;
    groups?.changed.connect(this._redraw, this);
    this._redraw();
  }

  private _redraw(): void {
    this._body.update();
  }
}
