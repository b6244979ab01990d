/**
 * The extension's plugins: their ids, who provides each token, what the pipelines plugin needs,
 * and the side panel drawing the sections other plugins add (the Pipelines section among them).
 */
import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import type { IActions } from '../core/actions';
import plugins, { CommandIDs, IMlShip, IMlShipPanel, IMlShipPipelines, PANEL_ID } from '../index';
import { MlShipModel } from '../core/model';
import { DEFAULT_SETTINGS } from '../core/settings';
import { FakeServer, makeJob } from './fakeServer';
import { FRONTEND_VERSION } from '../core/version';

/** `check()` true within 5 s (React draws on a later task; its first draw is slow in jsdom). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) {
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  expect(check()).toBe(true);
}

function plugin(id: string) {
  const found = plugins.find(p => p.id === id);
  if (!found) {
    throw new Error(`no plugin ${id}`);
  }
  return found;
}

describe('the plugin list', () => {
  it('has the core, the panel, pipelines, the run history, schedules and New pipeline', () => {
    expect(plugins.map(p => p.id)).toEqual([
      'jupyter-ml-ship:plugin',
      'jupyter-ml-ship:panel',
      'jupyter-ml-ship:pipelines',
      'jupyter-ml-ship:run-history',
      'jupyter-ml-ship:schedules',
      'jupyter-ml-ship:new-pipeline'
    ]);
    expect(plugins.every(p => p.autoStart === true)).toBe(true);
  });

  it('has each token provided by exactly one plugin', () => {
    const providers = (token: unknown) => plugins.filter(p => p.provides === token).map(p => p.id);
    expect(providers(IMlShip)).toEqual(['jupyter-ml-ship:plugin']);
    expect(providers(IMlShipPanel)).toEqual(['jupyter-ml-ship:panel']);
    expect(providers(IMlShipPipelines)).toEqual(['jupyter-ml-ship:pipelines']);
  });

  it('has pipelines require the core and the panel; the panel and the history the core', () => {
    expect(plugin('jupyter-ml-ship:pipelines').requires).toEqual(
      expect.arrayContaining([IMlShip, IMlShipPanel])
    );
    expect(plugin('jupyter-ml-ship:panel').requires).toEqual([IMlShip]);
    expect(plugin('jupyter-ml-ship:run-history').requires).toEqual([IMlShip]);
    expect(plugin('jupyter-ml-ship:plugin').requires ?? []).toEqual([]);
  });
});

describe('the side panel', () => {
  let server: FakeServer;
  let model: MlShipModel;
  let core: IMlShip;
  let app: JupyterFrontEnd;
  let shell: { add: jest.Mock; activateById: jest.Mock; currentWidget: null };
  let restorer: { add: jest.Mock; restore: jest.Mock };
  let panel: IMlShipPanel;

  beforeEach(async () => {
    server = new FakeServer()
      .on('GET', 'health', {
        body: {
          version: FRONTEND_VERSION,
          store: 'sqlite',
          backends: [{ name: 'local', available: true, reason: '' }],
          default_backend: 'local',
          agent: null,
          periodic: 'jupyter server',
          warnings: []
        }
      })
      .on('GET', 'jobs', { body: { jobs: [] } })
      .on('GET', 'pipelines', { body: { pipelines: [] } })
      .on('GET', 'pipeline-runs', { body: { runs: [] } });
    model = new MlShipModel({ client: server.client(), events: null, watchInterval: 0 });
    await model.checkHealth();
    await model.refresh();
    const actions: IActions = {
      model,
      settings: () => DEFAULT_SETTINGS,
      docManager: null,
      watched: new Set(),
      openRun: jest.fn(),
      showJob: jest.fn(),
      showVersion: jest.fn(),
      openCompare: jest.fn()
    };
    core = { model, actions, settings: () => DEFAULT_SETTINGS, commandIds: CommandIDs };
    shell = { add: jest.fn(), activateById: jest.fn(), currentWidget: null };
    restorer = { add: jest.fn(), restore: jest.fn(() => Promise.resolve()) };
    app = {
      commands: new CommandRegistry(),
      shell,
      docRegistry: new DocumentRegistry(),
      serviceManager: { events: null }
    } as unknown as JupyterFrontEnd;
    panel = plugin('jupyter-ml-ship:panel').activate(
      app,
      core,
      null,
      restorer as unknown as ILayoutRestorer
    ) as IMlShipPanel;
    Widget.attach(panel.widget, document.body);
  });

  afterEach(() => {
    panel.widget.dispose();
    model.dispose();
  });

  it('is the side panel of before: id, class, rank, restorer name and its command', async () => {
    expect(panel.widget.id).toBe(PANEL_ID);
    expect(PANEL_ID).toBe('jp-MlShip-panel');
    expect(panel.widget.hasClass('jp-MlShip-panel')).toBe(true);
    expect(panel.widget.title.caption).toBe('ML Ship: jobs and runs');
    expect(shell.add).toHaveBeenCalledWith(panel.widget, 'left', { rank: 850 });
    expect(restorer.add).toHaveBeenCalledWith(panel.widget, 'ml-ship-panel');
    await app.commands.execute('ml-ship:open-panel');
    expect(shell.activateById).toHaveBeenCalledWith('jp-MlShip-panel');
  });

  it('draws a section added through addSection, by rank, and drops it when disposed', async () => {
    const body = () => panel.widget.node.querySelector('.jp-MlShip-panelBody');
    await until(() => !!body()?.textContent?.includes('No jobs yet.'));
    const late = panel.addSection({
      id: 'late',
      rank: 200,
      render: () => React.createElement('section', { className: 'test-late' }, 'Late')
    });
    const early = panel.addSection({
      id: 'early',
      rank: 10,
      render: () => React.createElement('section', { className: 'test-early' }, 'Early')
    });
    await until(
      () => !!body()?.querySelector('.test-late') && !!body()?.querySelector('.test-early')
    );
    const order = [...body()!.querySelectorAll('section')].map(s => s.className);
    expect(order).toEqual(['test-early', 'test-late']);
    expect(() =>
      panel.addSection({ id: 'early', rank: 1, render: () => React.createElement('i') })
    ).toThrow(/early/);
    early.dispose();
    await until(() => !body()?.querySelector('.test-early'));
    expect(body()!.querySelector('.test-late')).not.toBeNull();
    late.dispose();
  });

  it('groups the jobs the job groups name, drawn again when they change', async () => {
    server.on('GET', 'jobs', { body: { jobs: [makeJob({ name: 'prep' }), makeJob()] } });
    await model.refresh();
    const owner = {};
    const changed = new Signal<object, void>(owner);
    let groups = new Map<string, string[]>();
    panel.setJobGroups({ groups: () => groups, changed });
    const group = () => panel.widget.node.querySelector('[data-job-group="etl"]');
    await until(() => !!panel.widget.node.querySelector('.jp-MlShip-jobs'));
    expect(group()).toBeNull();
    groups = new Map([['etl', ['prep']]]);
    changed.emit();
    await until(() => !!group());
    expect(group()!.textContent).toContain('prep');
  });

  it('gets the Pipelines section from the pipelines plugin', async () => {
    const pipelines = plugin('jupyter-ml-ship:pipelines').activate(
      app,
      core,
      panel,
      null,
      null
    ) as { list: { dispose: () => void } };
    try {
      await until(() => !!panel.widget.node.querySelector('section.jp-MlShip-pipelines'));
      const section = panel.widget.node.querySelector('section.jp-MlShip-pipelines')!;
      expect(section.getAttribute('aria-label')).toBe('Pipelines');
      await until(() => !!section.textContent?.includes('No pipelines yet.'));
      // the run view's link to its pipeline run goes through the core's actions
      expect(core.actions.openPipelineRun).toBeInstanceOf(Function);
      expect(app.commands.hasCommand('ml-ship:open-pipeline-run')).toBe(true);
    } finally {
      pipelines.list.dispose();
    }
  });
});
