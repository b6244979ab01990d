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
