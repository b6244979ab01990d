import { ApiError, errorMessage, parseErrorBody } from '../api/client';
import { FakeServer } from './fakeServer';

describe('requestAPI errors', () => {
  it('carries the server’s code and message', async () => {
    const server = new FakeServer().on('GET', 'jobs/nope', {
      status: 404,
      body: { error: 'not_found', message: "no job named 'nope'" }
    });
    const error = await server.client().job('nope').catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('not_found');
    expect(error.message).toBe("no job named 'nope'");
  });

  it('never says "undefined" for an error page without a JSON body', async () => {
    const server = new FakeServer();
    const error = await server.client().health().catch(e => e);
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/server extension installed/);
    expect(errorMessage(error)).not.toMatch(/undefined/);
  });

  it('reads jupyter_server’s own error bodies', () => {
    expect(parseErrorBody('{"message": "", "reason": "Forbidden"}')).toEqual({
      error: 'error',
      message: 'Forbidden'
    });
    expect(parseErrorBody('<html>')).toBeNull();
  });

  it('tells a job’s triggers from a pipeline’s of the same name', async () => {
    const trigger = (target: string | undefined, kind: string) => ({
      job: 'ingest', target, kind, detail: '', environment: 'production', last_fired: null,
      last_run_id: null, root: null, parameter: null, revoked: false
    });
    const server = new FakeServer().on('GET', 'triggers', {
      status: 200,
      body: { triggers: [trigger('job', 'webhook'), trigger('pipeline', 'files'), trigger(undefined, 'after')] }
    });
    const kinds = async (target?: 'job' | 'pipeline') =>
      (await server.client().triggers('ingest', target)).map(t => t.kind);
    expect(await kinds()).toEqual(['webhook', 'after']); // no target: an older server's jobs
    expect(await kinds('pipeline')).toEqual(['files']);
    expect((await server.client().triggers()).length).toBe(3);
  });

  it('sends query parameters and JSON bodies', async () => {
    const server = new FakeServer().on('POST', 'runs', ({ body }) => ({
      status: 201,
      body: { received: body }
    }));
    const answer = await server.client().createRun({ job: 'train', parameters: { n: 1 } });
    expect(answer).toEqual({ received: { job: 'train', parameters: { n: 1 } } });
  });

  it('reads logs with the next offset from the header', async () => {
    const server = new FakeServer().on('GET', 'runs/r1/logs', ({ query }) => ({
      text: 'héllo\n',
      headers: { 'X-Next-Offset': String(Number(query.get('offset')) + 7) }
    }));
    expect(await server.client().logs('r1', 10)).toEqual({ text: 'héllo\n', nextOffset: 17 });
  });

  it('builds the log WebSocket URL with the offset', () => {
    const url = new FakeServer().client().logSocketUrl('r1', 42);
    expect(url).toBe('ws://localhost/ml-ship/api/runs/r1/logs/ws?offset=42');
  });
});

describe('requests', () => {
  it('add no cache-busting parameter to the query string', async () => {
    const server = new FakeServer().on('GET', 'runs', ({ query }) => ({
      body: { runs: [], next_cursor: null, keys: [...query.keys()] }
    }));
    const answer = (await server.client().runs({ job: 'train', limit: 5 })) as unknown as {
      keys: string[];
    };
    expect(answer.keys.sort()).toEqual(['job', 'limit']);
  });
});

describe('project routes', () => {
  it('ask for a preview, a version’s files and a diff (b left out: the current version)', async () => {
    const server = new FakeServer()
      .on('GET', 'project', ({ query }) => ({ body: { path: query.get('path') } }))
      .on('GET', 'jobs/train/versions/3/files', { body: { job: 'train', version: 3 } })
      .on('GET', 'jobs/train/diff', ({ query }) => ({ body: { a: query.get('a'), b: query.get('b') } }));
    const client = server.client();
    expect(await client.project('nb/train.ipynb')).toEqual({ path: 'nb/train.ipynb' });
    expect(await client.versionFiles('train', 3)).toEqual({ job: 'train', version: 3 });
    expect(await client.diff('train', 1)).toEqual({ a: '1', b: null });
    expect(await client.diff('train', 1, 2)).toEqual({ a: '1', b: '2' });
  });

  it('encodes each segment of an artifact path, keeping its slashes', async () => {
    const path = 'out dir/ré sult#1.csv';
    const server = new FakeServer().on(
      'GET',
      'runs/r1/files/out%20dir/r%C3%A9%20sult%231.csv',
      { text: 'a,b\n', headers: { 'Content-Type': 'text/csv' } }
    );
    const response = await server.client().runFile('r1', path);
    expect(await response.text()).toBe('a,b\n');
    expect(server.client().runFileUrl('r1', path, true)).toBe(
      'http://localhost/ml-ship/api/runs/r1/files/out%20dir/r%C3%A9%20sult%231.csv?download=1'
    );
  });
});
