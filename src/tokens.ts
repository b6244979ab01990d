/**
 * The extension's plugins and what they give each other: the core (model, actions, settings),
 * the side panel (sections other plugins add), pipelines, and the run history.
 */
import type { SidePanel } from '@jupyterlab/ui-components';
import { Token } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type * as React from 'react';

import type { IActions } from './core/actions';
import type { MlShipModel } from './core/model';
import type { PipelineListModel } from './pipeline/listModel';
import type { IMlShipSettings } from './core/settings';

export namespace CommandIDs {
  export const ship = 'ml-ship:ship';
  export const shipFile = 'ml-ship:ship-file';
  export const openPanel = 'ml-ship:open-panel';
  export const openRun = 'ml-ship:open-run';
  export const refresh = 'ml-ship:refresh';
  export const compare = 'ml-ship:compare-versions';
  export const tagParameters = 'ml-ship:tag-parameters';
  /** the run history plugin's: a job's runs as a chart and a table */
  export const runHistory = 'ml-ship:run-history';
  /** the run history plugin's: a pipeline's runs, a column group per step */
  export const pipelineRunHistory = 'ml-ship:pipeline-run-history';
}

export namespace PipelineCommandIDs {
  export const openRun = 'ml-ship:open-pipeline-run';
  export const run = 'ml-ship:run-pipeline';
  export const cancel = 'ml-ship:cancel-pipeline';
}

/** The plugins' ids (the core's is bound to schema/plugin.json). */
export namespace PluginIDs {
  export const core = 'jupyter-ml-ship:plugin';
  export const panel = 'jupyter-ml-ship:panel';
  export const pipelines = 'jupyter-ml-ship:pipelines';
  export const history = 'jupyter-ml-ship:run-history';
}

/** The side panel's widget id (`shell.activateById` shows it). */
export const PANEL_ID = 'jp-MlShip-panel';

/** The core: the jobs and runs model, the shared user actions, the settings. */
export interface IMlShip {
  readonly model: MlShipModel;
  /** the actions the panel, the run views and the commands share */
  readonly actions: IActions;
  /** the user settings now (they change when the user edits them) */
  settings(): IMlShipSettings;
  readonly commandIds: typeof CommandIDs;
}

export const IMlShip = new Token<IMlShip>(
  'jupyter-ml-ship:IMlShip',
  'The ML Ship core: the jobs and runs model, the shared actions and the settings.'
);

/** A section of the side panel, shown below the jobs list (by rank, lowest first). */
export interface IMlShipPanelSection {
  id: string;
  rank: number;
  /** the section's element (its own component subscribes to what it shows) */
  render: () => React.ReactElement;
  /** called by the panel's Refresh button, after the health check */
  refresh?: () => Promise<unknown>;
}

/** Jobs the jobs list shows under a heading of their own (e.g. the steps of a pipeline). */
export interface IMlShipJobGroups {
  /** heading → the names of its jobs */
  groups(): ReadonlyMap<string, readonly string[]>;
  /** the groups changed: the jobs list is drawn again */
  readonly changed: ISignal<unknown, unknown>;
}

/** The side panel: jobs, one job, and sections other plugins add. */
export interface IMlShipPanel {
  readonly widget: SidePanel;
  /** add a section (ids are unique); dispose the result to remove it */
  addSection(section: IMlShipPanelSection): IDisposable;
  /** the groups of the jobs list (null: none) */
  setJobGroups(groups: IMlShipJobGroups | null): void;
}

export const IMlShipPanel = new Token<IMlShipPanel>(
  'jupyter-ml-ship:IMlShipPanel',
  'The ML Ship side panel, to which plugins add sections.'
);

/** Pipelines in the lab: the side panel's list and the graph views of files and runs. */
export interface IMlShipPipelines {
  readonly list: PipelineListModel;
  /** open (or reveal) the live graph of a pipeline run */
  readonly openRun: (id: string) => void;
  /** open a pipeline file (a path on the server) in the graph view, if under the root */
  readonly openFile: (serverPath: string) => void;
  /** the server path as a path of the lab, or null when it is outside the server root */
  readonly labPath: (serverPath: string) => string | null;
}

export const IMlShipPipelines = new Token<IMlShipPipelines>(
  'jupyter-ml-ship:IMlShipPipelines',
  'ML Ship pipelines: their list and the graph views of pipeline files and runs.'
);
