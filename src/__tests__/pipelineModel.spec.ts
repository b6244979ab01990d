import type { Event } from '@jupyterlab/services';
import { Stream } from '@lumino/signaling';

import {
  PIPELINE_RUN_STATUS_SCHEMA_ID,
  type IPipelineRunInfo,
  type IStepInfo
} from '../api/pipelines';
import { RUN_STATUS_SCHEMA_ID, type IDeliveryInfo } from '../api/types';
import { collectParameters, initialText } from '../core/params';
import { PipelineApi } from '../pipeline/api';
import { PipelineGraphModel } from '../pipeline/graphModel';
import { PipelineListModel } from '../pipeline/listModel';
import {
  applyStatusEvent,
  cycleInMessage,
  pipelineParameterSpecs,
  pythonLiteral,
  statusSummary
} from '../pipeline/status';
import { FakeServer } from './fakeServer';

const T0 = '2026-11-25T10:00:00+00:00';

function step(id: string, depends_on: string[] = [], extra: Partial<IStepInfo> = {}): IStepInfo {
  return {
    id, job: id, version: null, notebook: `${id}.ipynb`, depends_on, parameters: {},
    retries: null, timeout: null, backend: null, cache: true, declared_outputs: null,
    status: null, run_id: null, cached: false, outputs: {}, error: null, started_at: null,
    ended_at: null, duration: null, ...extra
  };
}

function pipelineRun(overrides: Partial<IPipelineRunInfo> = {}): IPipelineRunInfo {
  return {
    id: 'p0190000000aabbcc', pipeline: 'churn', version: 1, status: 'running',
    parameters: {}, backend: null, parallelism: 2, use_cache: true, created_at: T0,
    started_at: T0, ended_at: null, duration: null, error: null,
    steps: [
      step('prepare', [], { status: 'running', version: 1 }),
      step('train', ['prepare'], { status: 'pending', version: 1 })
    ],
    ...overrides
  };
}

const DESCRIPTION = {
  name: 'churn',
  path: 'churn.pipeline.yaml',
  parameters: { day: '2024-01-01', rows: 500 },
  steps: [step('prepare'), step('train', ['prepare'])]
};

function fakeEvents(): { manager: Event.IManager; emit: (e: Record<string, unknown>) => void } {
  const stream = new Stream<unknown, Event.Emission>({});
  return {
    manager: { stream } as unknown as Event.IManager,
    emit: e => stream.emit(e as unknown as Event.Emission)
  };
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out');
    }
    await sleep(10);
  }
}

describe('PipelineGraphModel', () => {
  let server: FakeServer;
  let events: ReturnType<typeof fakeEvents>;
  let model: PipelineGraphModel;

  beforeEach(() => {
    server = new FakeServer().on('GET', 'pipeline-info', { body: DESCRIPTION });
    server.on('GET', 'pipelines', { body: { pipelines: [] } });
    events = fakeEvents();
    model = new PipelineGraphModel({
      api: new PipelineApi(server.client()),
      events: events.manager,
      path: 'churn.pipeline.yaml'
    });
  });

  afterEach(() => model.dispose());

  it('draws the steps of the file', async () => {
    await model.loadFile();
    expect(server.calls).toContain('GET pipeline-info?path=churn.pipeline.yaml');
    expect(model.steps.map(s => s.id)).toEqual(['prepare', 'train']);
    expect(model.invalid).toBeNull();
    expect(model.name).toBe('churn');
  });

  it('offers the last run of the pipeline once it was shipped', async () => {
    await model.loadFile();
    expect(model.lastRun).toBeNull();
    server.on('GET', 'pipelines', {
      body: { pipelines: [{ name: 'other', last_run: null }, { name: 'churn', last_run: pipelineRun() }] }
    });
    await model.loadFile();
    await until(() => model.lastRun !== null);
    expect(model.lastRun?.id).toBe(pipelineRun().id);
    expect(model.run).toBeNull(); // shown only when asked
  });

  it('shows a validation error and the cycle it names', async () => {
    server.on('GET', 'pipeline-info', {
      status: 400,
      body: {
        error: 'bad_request',
        message: 'loop.pipeline.yaml, line 4: steps.b.depends_on: dependency cycle: a -> b -> a'
      }
    });
    await model.loadFile();
    expect(model.invalid).toContain('line 4');
    expect(model.problem).toBeNull();
    expect(model.cycle?.map(s => [s.id, s.depends_on])).toEqual([
      ['a', ['b']],
      ['b', ['a']]
    ]);
  });

  it('draws an invalid file as written, next to the message, instead of the last valid graph', async () => {
    await model.loadFile();
    expect(model.steps.length).toBeGreaterThan(0);
    server.on('GET', 'pipeline-info', {
      status: 400,
      body: {
        error: 'bad_request',
        message: 'churn.pipeline.yaml, line 7: steps.train: missing.ipynb: no such notebook',
        steps: [
          { id: 'prepare', job: 'prepare', depends_on: [], parameters: {} },
          { id: 'train', job: 'missing', depends_on: ['prepare'], parameters: {} }
        ]
      }
    });
    await model.loadFile();
    expect(model.invalid).toContain('no such notebook');
    expect(model.description).toBeNull();
    expect(model.cycle).toBeNull();
    expect(model.steps.map(s => [s.id, s.depends_on])).toEqual([
      ['prepare', []],
      ['train', ['prepare']]
    ]);
    server.on('GET', 'pipeline-info', {
      status: 400,
      body: { error: 'bad_request', message: 'churn.pipeline.yaml, line 2: invalid YAML: x' }
    });
    await model.loadFile();
    expect(model.steps).toEqual([]); // nothing to draw: no stale graph either
  });

  it('ships the file, starts the run of that version and follows it from events', async () => {
    await model.loadFile();
    server.on('POST', 'pipelines', req => {
      expect(req.body).toEqual({ path: 'churn.pipeline.yaml' });
      return { status: 201, body: { pipeline: { name: 'churn' }, version: { number: 3 }, created: true } };
    });
    let started: unknown;
    server.on('POST', 'pipelines/churn/runs', req => {
      started = req.body;
      return { status: 201, body: pipelineRun({ version: 3 }) };
    });
    const fresh = pipelineRun({
      version: 3,
      steps: [
        step('prepare', [], { status: 'succeeded', run_id: 'r1', outputs: { rows: 300 } }),
        step('train', ['prepare'], { status: 'running', run_id: 'r2' })
      ]
    });
    server.on('GET', `pipeline-runs/${fresh.id}`, { body: fresh });

    await model.start({ parameters: { rows: 300 }, backend: 'local', useCache: false });
    expect(started).toEqual({
      version: 3, parameters: { rows: 300 }, backend: 'local', use_cache: false
    });
    expect(model.run?.version).toBe(3);
    expect(model.steps.map(s => s.status)).toEqual(['running', 'pending']);

    // the event's statuses show at once; the full run (run ids) follows
    events.emit({
      schema_id: PIPELINE_RUN_STATUS_SCHEMA_ID,
      pipeline_run_id: fresh.id,
      pipeline: 'churn',
      status: 'running',
      steps: { prepare: 'succeeded', train: 'starting' }
    });
    expect(model.steps.map(s => s.status)).toEqual(['succeeded', 'starting']);
    await until(() => model.steps[0].run_id === 'r1');
    expect(model.steps[1].status).toBe('running');
    expect(model.steps[0].outputs).toEqual({ rows: 300 });
  });

  it('ignores events of other runs and tells when the shown run ends', async () => {
    const run = pipelineRun();
    model.showRun(run);
    events.emit({
      schema_id: PIPELINE_RUN_STATUS_SCHEMA_ID,
      pipeline_run_id: 'another',
      pipeline: 'churn',
      status: 'failed',
      steps: { prepare: 'failed' }
    });
    expect(model.run).toBe(run);

    const ended: string[] = [];
    model.runEnded.connect((_, r) => ended.push(r.status));
    const done = pipelineRun({
      status: 'succeeded',
      steps: run.steps.map(s => ({ ...s, status: 'succeeded' as const }))
    });
    server.on('GET', `pipeline-runs/${run.id}`, { body: done });
    // a step run's own status event also makes the model ask for the run
    events.emit({
      schema_id: RUN_STATUS_SCHEMA_ID,
      run_id: 'r2',
      job: 'train',
      version: 1,
      status: 'succeeded',
      pipeline_run_id: run.id,
      step: 'train'
    });
    await until(() => model.run?.status === 'succeeded');
    expect(ended).toEqual(['succeeded']);
    expect(model.steps.every(s => s.status === 'succeeded')).toBe(true);
  });

  it('polls an active run when no events come, and stops when it ends', async () => {
    const polled = new PipelineGraphModel({
      api: new PipelineApi(server.client()),
      events: null,
      pollInterval: 20
    });
    const run = pipelineRun();
    let asked = 0;
    server.on('GET', `pipeline-runs/${run.id}`, () => {
      asked++;
      return { body: asked < 3 ? run : pipelineRun({ status: 'failed' }) };
    });
    polled.showRun(run);
    await until(() => polled.run?.status === 'failed');
    await sleep(80);
    expect(asked).toBe(3);
    polled.dispose();
  });

  it('keeps asking a finished run while a notification is due, and shows it sent', async () => {
    const polled = new PipelineGraphModel({
      api: new PipelineApi(server.client()),
      events: null,
      pollInterval: 20
    });
    const mail = (status: 'pending' | 'sent'): IDeliveryInfo => ({
      channel: 'email', target: 'ops@example.com', event: 'failed', status, attempts: status === 'sent' ? 1 : 0,
      error: null, next_attempt_at: null, sent_at: status === 'sent' ? T0 : null, url: null
    });
    const ended = new Date().toISOString();
    let asked = 0;
    const run = pipelineRun({ status: 'failed', ended_at: ended, notifications: [mail('pending')] });
    server.on('GET', `pipeline-runs/${run.id}`, () => {
      asked++;
      return { body: asked < 2 ? run : { ...run, notifications: [mail('sent')] } };
    });
    polled.showRun(run);
    await until(() => polled.run?.notifications?.[0]?.status === 'sent');
    await sleep(80);
    expect(asked).toBe(2); // sent: nothing is due any more
    polled.dispose();
  });

  it('draws a cycle the file check finds before the server answers', () => {
    model.source = 'name: loop\nsteps:\n  a: {notebook: a.ipynb, depends_on: [b]}\n  b: {notebook: b.ipynb, depends_on: [a]}\n';
    expect(model.cycle?.map(s => s.id)).toEqual(['a', 'b']);
    expect([...model.badSteps].sort()).toEqual(['a', 'b']);
    expect(model.issues.map(i => i.message)).toEqual(['steps.b.depends_on: dependency cycle: a -> b -> a']);
  });

  it('cancels the shown run', async () => {
    const run = pipelineRun();
    model.showRun(run);
    server.on('POST', `pipeline-runs/${run.id}/cancel`, {
      body: pipelineRun({ status: 'cancelled' })
    });
    await model.cancel();
    expect(model.run?.status).toBe('cancelled');
  });
});

describe('PipelineListModel', () => {
  it('lists pipelines, the runs of the opened one, and refreshes on events', async () => {
    const server = new FakeServer();
    let listed = 0;
    server.on('GET', 'pipelines', () => {
      listed++;
      return { body: { pipelines: [{ name: 'churn', last_run: pipelineRun() }] } };
    });
    server.on('GET', 'pipelines/churn/runs', { body: { runs: [pipelineRun()], next_cursor: null } });
    const events = fakeEvents();
    const list = new PipelineListModel(new PipelineApi(server.client()), events.manager);
    await list.refresh();
    expect(list.pipelines.map(p => p.name)).toEqual(['churn']);
    expect(list.hasActiveRuns).toBe(true);
    await list.toggle('churn');
    expect(server.calls).toContain('GET pipelines/churn/runs?limit=8');
    expect(list.runs).toHaveLength(1);
    const before = listed;
    events.emit({
      schema_id: PIPELINE_RUN_STATUS_SCHEMA_ID,
      pipeline_run_id: 'x',
      pipeline: 'churn',
      status: 'succeeded',
      steps: {}
    });
    await until(() => listed > before);
    await list.toggle('churn');
    expect(list.expanded).toBeNull();
    list.dispose();
  });
});

describe('pipeline statuses and parameters', () => {
  it('applies an event to a run without touching unknown steps', () => {
    const run = pipelineRun();
    const next = applyStatusEvent(run, {
      pipeline_run_id: run.id,
      pipeline: 'churn',
      status: 'running',
      steps: { prepare: 'succeeded', ghost: 'failed' }
    });
    expect(next).not.toBe(run);
    expect(next.steps.map(s => s.status)).toEqual(['succeeded', 'pending']);
    expect(run.steps[0].status).toBe('running'); // not mutated
    const same = applyStatusEvent(next, {
      pipeline_run_id: run.id,
      pipeline: 'churn',
      status: 'running',
      steps: { prepare: 'succeeded' }
    });
    expect(same).toBe(next);
  });

  it('summarises steps by status', () => {
    expect(statusSummary(pipelineRun().steps)).toBe('1 waiting · 1 running');
  });

  it('turns pipeline parameters into a form that sends only what changed', () => {
    const specs = pipelineParameterSpecs({ day: '2024-01-01', rows: 500, ratio: 0.5, on: true, tags: ['a'], none: null });
    expect(specs.map(s => [s.name, s.type])).toEqual([
      ['day', 'str'], ['rows', 'int'], ['ratio', 'float'], ['on', 'bool'], ['tags', 'list'], ['none', '']
    ]);
    const texts = Object.fromEntries(specs.map(s => [s.name, initialText(s)]));
    expect(texts.day).toBe('2024-01-01');
    expect(texts.rows).toBe('500');
    expect(collectParameters(specs, texts)).toEqual({ values: {}, errors: {} });
    const changed = collectParameters(specs, { ...texts, rows: '300', day: '2024-02-01' });
    expect(changed.values).toEqual({ rows: 300, day: '2024-02-01' });
    expect(collectParameters(specs, { ...texts, rows: 'many' }).errors.rows).toBeTruthy();
  });

  it('writes values as Python literals', () => {
    expect(pythonLiteral({ a: [1, 'x"y', false], b: null })).toBe('{"a": [1, "x\\"y", False], "b": None}');
  });

  it('finds the cycle a validation message names', () => {
    expect(cycleInMessage('x.yaml, line 8: dependency cycle: a -> b -> c -> a')).toEqual(['a', 'b', 'c']);
    expect(cycleInMessage('unknown step "z"')).toBeNull();
  });
});

describe('pathInRoot', () => {
  it('turns a server path under the root into a lab path, and nothing else', () => {
    const { pathInRoot } = jest.requireActual('../pipeline/status');
    expect(pathInRoot('/srv/work/pipes/churn.pipeline.yaml', '/srv/work')).toBe('pipes/churn.pipeline.yaml');
    expect(pathInRoot('/srv/work/churn.pipeline.yaml', '/srv/work/')).toBe('churn.pipeline.yaml');
    expect(pathInRoot('/srv/workshop/a.pipeline.yaml', '/srv/work')).toBeNull();
    expect(pathInRoot('C:\\Users\\ada\\a.pipeline.yaml', 'C:/Users/ada')).toBe('a.pipeline.yaml');
    expect(pathInRoot('/home/ada/a.pipeline.yaml', '~')).toBeNull();
  });
});
