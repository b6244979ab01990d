/** The panel plugin: the ML Ship side panel (IMlShipPanel), to which other plugins add sections. */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { MlShipPanel } from '../components/Panel';
import { shipIcon } from '../core/icons';
import { IMlShip, IMlShipPanel, PluginIDs } from '../tokens';
import { getTrans } from '../core/i18n';

export const panelPlugin: JupyterFrontEndPlugin<IMlShipPanel> = {
  id: PluginIDs.panel,
  description: 'The ML Ship side panel: jobs, a job, and sections other plugins add.',
  autoStart: true,
  requires: [IMlShip],
  optional: [ICommandPalette, ILayoutRestorer],
  provides: IMlShipPanel,
  activate: (
    app: JupyterFrontEnd,
    core: IMlShip,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): IMlShipPanel => {
    const trans = getTrans();
    const panel = new MlShipPanel(core.model, core.actions);
    app.shell.add(panel.widget, 'left', { rank: 850 });
    const { openPanel } = core.commandIds;
    app.commands.addCommand(openPanel, {
      label: trans.__('Show ML Ship Jobs and Runs'),
      caption: trans.__('Open the ML Ship side panel'),
      icon: args => (args.isPalette ? undefined : shipIcon),
      execute: () => app.shell.activateById(panel.widget.id)
    });
    palette?.addItem({ command: openPanel, category: trans.__('ML Ship') });
    restorer?.add(panel.widget, 'ml-ship-panel');
    return panel;
  }
};
