import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-ml-ship:plugin',
  description: 'Ship notebooks as versioned jobs and follow their runs.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    console.debug('jupyter-ml-ship activated');
  }
};

export default plugin;
