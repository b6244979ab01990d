/**
 * jupyter-ml-ship: the Ship button, the ship dialog, the jobs, runs and pipelines side panel,
 * run views and pipeline graphs — as plugins that share what they provide through tokens
 * (src/tokens.ts): the core (IMlShip), the side panel (IMlShipPanel), pipelines
 * (IMlShipPipelines) and the run history.
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { corePlugin } from './core/plugin';
import { historyPlugin } from './history/plugin';
import { panelPlugin } from './panel/plugin';
import { newPipelinePlugin } from './pipeline/newPipeline';
import { pipelinesPlugin } from './pipeline/plugin';
import { schedulesPlugin } from './schedules/plugin';

export * from './tokens';

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  corePlugin,
  panelPlugin,
  pipelinesPlugin,
  historyPlugin,
  schedulesPlugin,
  newPipelinePlugin
];

export default plugins;
