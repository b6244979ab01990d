/**
 * New pipeline: a `*.pipeline.yaml` made in the file browser's folder and opened in its graph
 * (then Edit: drop notebooks on the canvas), from the launcher, File › New, the file browser's
 * New menu (its context menu) and the command palette.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';

import { getTrans } from '../core/i18n';
import { shipIcon } from '../core/icons';
import { PIPELINE_FACTORY } from './widgets';

export const NEW_PIPELINE = 'ml-ship:new-pipeline';

/** A new pipeline file's text: its name (from the file's) and no steps yet. */
export function newPipelineText(fileName: string): string {
  const base = fileName.replace(/\.pipeline\.ya?ml$/, '');
  const name = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'pipeline';
  return [
    '# A pipeline: each step runs a notebook; depends_on orders them.',
    '# Edit (toolbar) and drop notebooks from the file browser on the canvas.',
    `name: ${name}`,
    'parameters: {}',
    'steps: {}',
    ''
  ].join('\n');
}

export const newPipelinePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-ml-ship:new-pipeline',
  description: 'New pipeline: in the launcher, File › New, the file browser and the palette.',
  autoStart: true,
  optional: [ILauncher, IMainMenu, ICommandPalette, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    launcher: ILauncher | null,
    mainMenu: IMainMenu | null,
    palette: ICommandPalette | null,
    browser: IDefaultFileBrowser | null
  ): void => {
    const trans = getTrans();
    const { commands, serviceManager } = app;
    commands.addCommand(NEW_PIPELINE, {
      label: args => (args.isPalette ? trans.__('New Pipeline') : trans.__('Pipeline')),
      caption: trans.__('A new pipeline file, opened in its graph'),
      icon: args => (args.isPalette ? undefined : shipIcon),
      execute: async args => {
        const cwd = (args.cwd as string) ?? browser?.model.path ?? '';
        const made = await serviceManager.contents.newUntitled({
          path: cwd,
          type: 'file',
          ext: '.pipeline.yaml'
        });
        await serviceManager.contents.save(made.path, {
          type: 'file',
          format: 'text',
          content: newPipelineText(made.name)
        });
        return commands.execute('docmanager:open', { path: made.path, factory: PIPELINE_FACTORY });
      }
    });
    launcher?.add({ command: NEW_PIPELINE, category: trans.__('Other'), rank: 10 });
    mainMenu?.fileMenu.newMenu.addGroup([{ command: NEW_PIPELINE }], 40);
    palette?.addItem({ command: NEW_PIPELINE, category: trans.__('ML Ship'), args: { isPalette: true } });
    app.contextMenu.addItem({
      command: NEW_PIPELINE,
      selector: '.jp-DirListing-content',
      rank: 53
    });
  }
};
