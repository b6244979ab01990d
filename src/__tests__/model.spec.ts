import { RUN_STATUS_SCHEMA_ID, type IRunInfo } from '../api/types';
import { MlShipModel } from '../core/model';
import { FRONTEND_VERSION } from '../core/version';
import { fakeEvents, FakeServer, makeJob, makeRun, makeVersion } from './fakeServer';

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

function health(version = FRONTEND_VERSION) {
  return {
    body: {
      version,
      store: 'sqlite',
      backends: [{ name: 'local', available: true, reason: '' }],
      default_backend: 'local'
    }
  };
}

describe('MlShipModel', () => {
  let server: FakeServer;
  let model: MlShipModel;
  let events: ReturnType<typeof fakeEvents>;

  beforeEach(() => {
    server = new FakeServer().on('GET', 'health', health());
    events = fakeEvents();
    model = new MlShipModel({ client: server.client(), events: events.manager });
  });

  afterEach(() => model.dispose());

  it('is ok with a server of its own version', async () => {
    await model.checkHealth();
    expect(model.compatibility.state).toBe('ok');
    expect(model.health?.default_backend).toBe('local');
  });

  it('says clearly when the server extension is of another version', async () => {
    server.on('GET', 'health', health('9.9.9'));
    await model.checkHealth();
    expect(model.compatibility.state).toBe('mismatch');
    expect(model.compatibility.message).toContain('9.9.9');
    expect(model.compatibility.message).toContain(FRONTEND_VERSION);
  });

  it('says clearly when the server extension is missing', async () => {
    server.routes.clear();
    await model.checkHealth();
    expect(model.compatibility.state).toBe('missing');
    expect(model.compatibility.message).toMatch(/server extension is not running/);
    await model.refresh();
    expect(server.calls.filter(c => c.startsWith('GET jobs'))).toEqual([]);
  });

  it('loads jobs, then a job’s versions and runs', async () => {
    server
      .on('GET', 'jobs', { body: { jobs: [makeJob()] } })
      .on('GET', 'jobs/train/versions', {
        body: {
          versions: [makeVersion({ number: 2, is_current: true }), makeVersion({ number: 1 })]
        }
      })
      .on('GET', 'runs', ({ query }) => {
        expect(query.get('job')).toBe('train');
        return { body: { runs: [makeRun()], next_cursor: 'abc' } };
      });
    await model.checkHealth();
    await model.refresh();
    expect(model.jobs.map(j => j.name)).toEqual(['train']);
    await model.selectJob('train');
    expect(model.selectedJob?.name).toBe('train');
    expect(model.versions.map(v => v.number)).toEqual([2, 1]);
    expect(model.runs).toHaveLength(1);
    expect(model.hasMoreRuns).toBe(true);
  });

  it('updates a run and its job from a run-status event, without polling', async () => {
    const running = makeRun({ status: 'running' });
    const done = makeRun({ status: 'succeeded', outputs: { accuracy: 0.93 }, has_output: true });
    let current: IRunInfo = running;
    server
      .on('GET', 'jobs', { body: { jobs: [makeJob({ last_run: running })] } })
      .on('GET', 'jobs/train/versions', { body: { versions: [] } })
      .on('GET', 'runs', () => ({ body: { runs: [current], next_cursor: null } }))
      .on('GET', `runs/${running.id}`, () => ({ body: current }));
    await model.checkHealth();
    await model.refresh();
    await model.selectJob('train');
    expect(model.hasActiveRuns).toBe(true);

    const finished: IRunInfo[] = [];
    model.runFinished.connect((_, run) => finished.push(run));
    let changes = 0;
    model.changed.connect(() => changes++);
    current = done;
    events.emit({
      schema_id: RUN_STATUS_SCHEMA_ID,
      run_id: running.id,
      job: 'train',
      version: 1,
      status: 'succeeded',
      pipeline_run_id: null,
      step: null
    });
    await flush();
    await flush();
    expect(model.runs[0].status).toBe('succeeded');
    expect(model.runs[0].outputs).toEqual({ accuracy: 0.93 });
    expect(model.jobs[0].last_run?.status).toBe('succeeded');
    expect(finished.map(r => r.id)).toEqual([running.id]);
    expect(changes).toBeGreaterThan(0);
    expect(model.hasActiveRuns).toBe(false);
  });

  it('tells run views what a refresh found when an event was missed', async () => {
    let current = makeRun({ status: 'running' });
    server
      .on('GET', 'jobs', { body: { jobs: [makeJob()] } })
      .on('GET', 'jobs/train/versions', { body: { versions: [] } })
      .on('GET', 'runs', () => ({ body: { runs: [current], next_cursor: null } }));
    await model.checkHealth();
    await model.refresh();
    await model.selectJob('train');
    const changed: string[] = [];
    const finished: string[] = [];
    model.runChanged.connect((_, run) => changed.push(run.status));
    model.runFinished.connect((_, run) => finished.push(run.id));
    current = makeRun({ status: 'failed' });
    await model.refresh();
    expect(changed).toEqual(['failed']);
    expect(finished).toEqual([current.id]);
  });

  it('ignores events of other schemas', async () => {
    await model.checkHealth();
    events.emit({ schema_id: 'https://events.jupyter.org/jupyter_server/contents_service/v1' });
    await flush();
    expect(server.calls.filter(c => c.startsWith('GET runs/'))).toEqual([]);
  });

  it('adds a new run of the selected job at the top', async () => {
    server
      .on('GET', 'jobs', { body: { jobs: [makeJob()] } })
      .on('GET', 'jobs/train/versions', { body: { versions: [] } })
      .on('GET', 'runs', { body: { runs: [makeRun({ id: '01900000000000aa', status: 'failed' })], next_cursor: null } });
    await model.checkHealth();
    await model.refresh();
    await model.selectJob('train');
    model.updateRun(makeRun({ id: '01900000000000bb', status: 'queued' }));
    expect(model.runs.map(r => r.id)).toEqual(['01900000000000bb', '01900000000000aa']);
  });

  it('moves the current marker on rollback', async () => {
    server
      .on('GET', 'jobs', { body: { jobs: [makeJob({ current_version: 2 })] } })
      .on('GET', 'jobs/train/versions', {
        body: {
          versions: [makeVersion({ number: 2, is_current: true }), makeVersion({ number: 1 })]
        }
      })
      .on('GET', 'runs', { body: { runs: [], next_cursor: null } })
      .on('POST', 'jobs/train/rollback', ({ body }) => {
        expect(body).toEqual({ version: 1 });
        return { body: makeJob({ current_version: 1 }) };
      });
    await model.checkHealth();
    await model.refresh();
    await model.selectJob('train');
    await model.rollback('train', 1);
    expect(model.jobs[0].current_version).toBe(1);
    expect(model.versions.filter(v => v.is_current).map(v => v.number)).toEqual([1]);
  });

  it('keeps the server’s error message when an action fails', async () => {
    server.on('POST', 'runs', {
      status: 400,
      body: { error: 'bad_request', message: "job train v2: parameter 'n' must be int" }
    });
    await expect(model.startRun('train', 2, { n: 'x' })).rejects.toMatchObject({
      code: 'bad_request',
      status: 400,
      message: "job train v2: parameter 'n' must be int"
    });
  });

  it('reports a failed load and recovers on the next refresh', async () => {
    server.on('GET', 'jobs', { status: 503, body: { error: 'unavailable', message: 'store is locked' } });
    await model.checkHealth();
    await model.refresh();
    expect(model.loadError).toBe('store is locked');
    server.on('GET', 'jobs', { body: { jobs: [] } });
    await model.refresh();
    expect(model.loadError).toBeNull();
  });

  it('tries a failed load again within seconds, not at the next slow poll', async () => {
    jest.useFakeTimers();
    try {
      server.on('GET', 'jobs', { status: 503, body: { error: 'unavailable', message: 'busy' } });
      await model.checkHealth();
      await model.refresh();
      expect(model.loadError).toBe('busy');
      server.on('GET', 'jobs', { body: { jobs: [makeJob({ name: 'late' })] } });
      await jest.advanceTimersByTimeAsync(1100);
      expect(model.loadError).toBeNull();
      expect(model.jobs.map(j => j.name)).toEqual(['late']);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('MlShipModel watching the newest runs (runs from the CLI, no event)', () => {
  it('shows a run that ended just after the first load, at the next look', async () => {
    const run = makeRun({ id: 'cli-run', job: 'quick', status: 'succeeded' });
    let ended = false;
    const server = new FakeServer()
      .on('GET', 'health', health())
      .on('GET', 'jobs', () => {
        const jobs = ended ? [makeJob({ name: 'quick' })] : [];
        ended = true; // the CLI run ends right after the lab loaded its list
        return { body: { jobs } };
      })
      .on('GET', 'runs', () => ({ body: { runs: ended ? [run] : [], next_cursor: null } }));
    const model = new MlShipModel({
      client: server.client(),
      events: fakeEvents().manager,
      watchInterval: 600000 // one look at start, the next one only if the test waits 10 min
    });
    try {
      await model.start();
      for (let i = 0; i < 50 && !model.jobs.length; i++) {
        await flush();
      }
      expect(model.jobs.map(j => j.name)).toEqual(['quick']);
    } finally {
      model.dispose();
    }
  });
});

describe('MlShipModel refreshed while something changes in the lab', () => {
  it('keeps a ship made while the list was fetched, and fetches the list again', async () => {
    let model: MlShipModel | null = null;
    let asked = 0;
    const server = new FakeServer()
      .on('GET', 'health', health())
      .on('GET', 'jobs', () => {
        asked++;
        if (asked === 1) {
          // the server answers with the list as it was; the ship's answer reaches the lab first
          model!.noteShipped(makeJob({ name: 'train', current_version: 2 }));
          return { body: { jobs: [makeJob({ name: 'train', current_version: 1 })] } };
        }
        return { body: { jobs: [makeJob({ name: 'train', current_version: 2 })] } };
      });
    model = new MlShipModel({ client: server.client(), events: fakeEvents().manager });
    try {
      await model.checkHealth();
      await model.refresh();
      expect(model.jobs.map(j => j.current_version)).toEqual([2]);
      for (let i = 0; i < 100 && asked < 2; i++) {
        await new Promise(resolve => setTimeout(resolve, 10));
      }
      expect(asked).toBe(2); // fetched again, shown
      await flush();
      expect(model.jobs.map(j => j.current_version)).toEqual([2]);
    } finally {
      model.dispose();
    }
  });
});
