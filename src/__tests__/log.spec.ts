import { ansiSegments, stripAnsi } from '../core/ansi';
import { LogBuffer, LogFollower } from '../core/log';
import { FakeServer } from './fakeServer';

const text = (buffer: LogBuffer) =>
  buffer.lines.map(l => l.segments.map(s => s.text).join('')).join('\n');

describe('ANSI colours', () => {
  it('maps SGR codes to JupyterLab’s ansi classes and carries state', () => {
    const segments = ansiSegments('a\x1b[31mred\x1b[1;42m bold\x1b[0m plain');
    expect(segments).toEqual([
      { text: 'a', classes: '' },
      { text: 'red', classes: 'ansi-red-fg' },
      { text: ' bold', classes: 'ansi-red-fg ansi-green-bg ansi-bold' },
      { text: ' plain', classes: '' }
    ]);
  });

  it('renders 256 and true colours inline and drops other escapes', () => {
    const [s] = ansiSegments('\x1b[38;2;1;2;3mx\x1b[K');
    expect(s).toEqual({ text: 'x', classes: '', style: { color: 'rgb(1, 2, 3)' } });
    expect(stripAnsi('\x1b[2J\x1b[1mok\x1b[0m')).toBe('ok');
  });
});

describe('LogBuffer', () => {
  it('splits lines across chunks and keeps the partial last line', () => {
    const buffer = new LogBuffer();
    buffer.append('one\ntw');
    buffer.append('o\nthr');
    expect(text(buffer)).toBe('one\ntwo');
    expect(buffer.partial?.segments[0].text).toBe('thr');
  });

  it('keeps colours across lines', () => {
    const buffer = new LogBuffer();
    buffer.append('\x1b[32mgreen\nstill green\x1b[0m\n');
    expect(buffer.lines[1].segments[0].classes).toBe('ansi-green-fg');
  });

  it('shows what a progress bar printed last', () => {
    const buffer = new LogBuffer();
    buffer.append('10%\r50%\r100%\r\n');
    expect(text(buffer)).toBe('100%');
  });

  it('drops the oldest lines past its cap and counts them', () => {
    const buffer = new LogBuffer(2048);
    for (let i = 0; i < 1000; i++) {
      buffer.append(`line ${i}\n`);
    }
    expect(buffer.size).toBeLessThanOrEqual(2048);
    expect(buffer.droppedChars).toBeGreaterThan(0);
    expect(buffer.lines[buffer.lines.length - 1].segments[0].text).toBe('line 999');
    expect(buffer.lines[0].index).toBeGreaterThan(0);
  });
});

class FakeSocket {
  static last: FakeSocket;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  close() {
    this.closed = true;
  }
}

describe('LogFollower', () => {
  it('streams data from the WebSocket and stops at done', () => {
    const follower = new LogFollower({
      client: new FakeServer().client(),
      runId: 'r1',
      WebSocket: FakeSocket as unknown as typeof WebSocket
    });
    const got: string[] = [];
    let status: string | null = null;
    follower.data.connect((_, t) => got.push(t));
    follower.finished.connect((_, s) => (status = s));
    follower.start();
    expect(FakeSocket.last.url).toContain('runs/r1/logs/ws?offset=0');
    FakeSocket.last.send({ offset: 6, data: 'hello\n' });
    FakeSocket.last.send({ done: true, status: 'succeeded' });
    expect(got).toEqual(['hello\n']);
    expect(follower.offset).toBe(6);
    expect(status).toBe('succeeded');
    expect(FakeSocket.last.closed).toBe(true);
    follower.dispose();
  });

  it('opens a long log at its end and counts what it left out', () => {
    const follower = new LogFollower({
      client: new FakeServer().client(),
      runId: 'r1',
      tail: 1024,
      WebSocket: FakeSocket as unknown as typeof WebSocket
    });
    const skipped: number[] = [];
    const got: string[] = [];
    follower.skipped.connect((_, n) => skipped.push(n));
    follower.data.connect((_, t) => got.push(t));
    follower.start();
    expect(FakeSocket.last.url).toContain('offset=0');
    expect(FakeSocket.last.url).toContain('tail=1024');
    FakeSocket.last.send({ offset: 50000, data: '', skipped: 50000 });
    FakeSocket.last.send({ offset: 50006, data: 'last\n' });
    expect(skipped).toEqual([50000]);
    expect(got).toEqual(['last\n']);
    const buffer = new LogBuffer(4096);
    buffer.skip(skipped[0]);
    buffer.append(got[0]);
    expect(buffer.droppedChars).toBe(50000);
    // the socket drops: the reconnection goes on from the offset, with no tail
    const first = FakeSocket.last;
    jest.useFakeTimers();
    first.onclose?.();
    jest.advanceTimersByTime(1000);
    jest.useRealTimers();
    expect(FakeSocket.last).not.toBe(first);
    expect(FakeSocket.last.url).toContain('offset=50006');
    expect(FakeSocket.last.url).not.toContain('tail');
    follower.dispose();
  });

  it('reports a server error sent over the socket', () => {
    const follower = new LogFollower({
      client: new FakeServer().client(),
      runId: 'gone',
      WebSocket: FakeSocket as unknown as typeof WebSocket
    });
    const errors: string[] = [];
    follower.error.connect((_, m) => errors.push(m));
    follower.start();
    FakeSocket.last.send({ error: 'not_found', message: "no run with id 'gone'" });
    expect(errors).toEqual(["no run with id 'gone'"]);
    follower.dispose();
  });

  it('falls back to HTTP when there is no WebSocket', async () => {
    let served = false;
    const server = new FakeServer()
      .on('GET', 'runs/r1/logs', ({ query }) => {
        const first = !served && query.get('offset') === '0';
        served = true;
        return first
          ? { text: 'abc\n', headers: { 'X-Next-Offset': '4' } }
          : { text: '', headers: { 'X-Next-Offset': query.get('offset') ?? '0' } };
      })
      .on('GET', 'runs/r1', { body: { id: 'r1', status: 'failed' } });
    const client = server.client();
    (client.serverSettings as { WebSocket: unknown }).WebSocket = undefined;
    const follower = new LogFollower({ client, runId: 'r1', pollInterval: 5 });
    const got: string[] = [];
    const done = new Promise(resolve => follower.finished.connect((_, s) => resolve(s)));
    follower.data.connect((_, t) => got.push(t));
    follower.start();
    expect(await done).toBe('failed');
    expect(got).toEqual(['abc\n']);
    follower.dispose();
  });
});
