/** A fake ml-ship server for tests: a `fetch` that answers from route handlers. */
import { ServerConnection, type Event } from '@jupyterlab/services';
import { Stream } from '@lumino/signaling';

import { MlShipClient } from '../api/client';
import type { IJobInfo, IRunInfo, IVersionInfo } from '../api/types';

export interface IFakeResponse {
  status?: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export type Handler = (request: {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}) => IFakeResponse;

export class FakeServer {
  routes = new Map<string, Handler>();
  calls: string[] = [];

  on(method: string, path: string, handler: Handler | IFakeResponse): this {
    this.routes.set(
      `${method} ${path}`,
      typeof handler === 'function' ? handler : () => handler
    );
    return this;
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input.toString(), init);
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/ml-ship\/api\//, '');
    const method = request.method;
    this.calls.push(`${method} ${path}${url.search}`);
    const handler = this.routes.get(`${method} ${path}`);
    if (!handler) {
      return new Response('<html><body>404: Not Found</body></html>', {
        status: 404,
        statusText: 'Not Found',
        headers: { 'Content-Type': 'text/html' }
      });
    }
    const text = await request.text();
    const answer = handler({
      method,
      path,
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined
    });
    const isText = answer.text !== undefined;
    return new Response(isText ? answer.text : JSON.stringify(answer.body ?? null), {
      status: answer.status ?? 200,
      headers: {
        'Content-Type': isText ? 'text/plain' : 'application/json',
        ...(answer.headers ?? {})
      }
    });
  };

  client(): MlShipClient {
    return new MlShipClient(
      ServerConnection.makeSettings({
        baseUrl: 'http://localhost/',
        wsUrl: 'ws://localhost/',
        token: '',
        init: { cache: 'no-store', credentials: 'same-origin' },
        fetch: this.fetch,
        Request,
        Headers
      })
    );
  }
}

const T0 = '2026-11-25T10:00:00+00:00';

export function makeRun(overrides: Partial<IRunInfo> = {}): IRunInfo {
  return {
    id: '0190000000aabbcc',
    job: 'train',
    version: 1,
    backend: 'local',
    status: 'running',
    parameters: {},
    attempts: 1,
    max_attempts: 1,
    created_at: T0,
    started_at: T0,
    ended_at: null,
    duration: null,
    error: null,
    outputs: {},
    pipeline_run_id: null,
    step: null,
    has_output: false,
    ...overrides
  };
}

export function makeJob(overrides: Partial<IJobInfo> = {}): IJobInfo {
  return {
    name: 'train',
    current_version: 2,
    latest_version: 2,
    created_at: T0,
    updated_at: T0,
    source_path: 'train.ipynb',
    last_run: null,
    schedule: null,
    next_run: null,
    ...overrides
  };
}

export function makeVersion(overrides: Partial<IVersionInfo> = {}): IVersionInfo {
  return {
    job: 'train',
    number: 1,
    digest: 'ab'.repeat(32),
    message: '',
    author: 'ada',
    created_at: T0,
    parameters: [],
    environment: '',
    config: {},
    source_path: 'train.ipynb',
    is_current: false,
    project: null,
    promotion: null,
    promotion_reason: null,
    validation_run_id: null,
    reference_run_id: null,
    auto_rollback: null,
    ...overrides
  };
}

/** An event manager whose stream the test feeds. */
export function fakeEvents(): { manager: Event.IManager; emit: (e: Event.Emission) => void } {
  const owner = {};
  const stream = new Stream<unknown, Event.Emission>(owner);
  return {
    manager: { stream } as unknown as Event.IManager,
    emit: e => stream.emit(e)
  };
}
