/** Schedules in the side panel: a section listing every schedule, edited in place. */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { IMlShip, IMlShipPanel } from '../tokens';
import { SchedulesModel } from './model';
import { schedulesSection } from './SchedulesSection';

export const schedulesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-ml-ship:schedules',
  description: 'The Schedules section of the panel: edit, pause and resume schedules.',
  autoStart: true,
  requires: [IMlShip, IMlShipPanel],
  activate: (app: JupyterFrontEnd, core: IMlShip, panel: IMlShipPanel): void => {
    const model = new SchedulesModel(core.model.client);
    model.openJob = name => core.actions.showJob(name);
    panel.addSection(schedulesSection(model));
    void model.refresh();
    // a ship (a new schedule) or a run that ends (a last run): the list again
    let timer = 0;
    core.model.changed.connect(() => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void model.refresh(), 500);
    });
  }
};
