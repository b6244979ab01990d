/**
 * A run's log in the lab: a bounded buffer of parsed lines, and a follower that streams
 * new bytes over the server's WebSocket (falling back to HTTP polling of `/logs?offset=`).
 */
import type { IDisposable } from '@lumino/disposable';
import { Signal, type ISignal } from '@lumino/signaling';

import { ansiSegments, initialAnsiState, type IAnsiState, type ISegment } from './ansi';
import { errorMessage, type MlShipClient } from '../api/client';
import { isTerminal, type LogMessage, type RunStatus } from '../api/types';

export interface ILogLine {
  /** the line's number since the start of the log (stable even when older lines are dropped) */
  index: number;
  segments: ISegment[];
  /** characters, used for the memory cap */
  size: number;
}

/** `\r` rewrites the line (progress bars): keep what is shown last. */
function resolveCarriageReturns(line: string): string {
  if (!line.includes('\r')) {
    return line;
  }
  const parts = line.split('\r').filter(p => p !== '');
  return parts.length ? parts[parts.length - 1] : '';
}

/**
 * The last `maxChars` characters of a log, as complete lines of styled segments.
 * Older lines are dropped (and counted) when the cap is passed.
 */
export class LogBuffer {
  readonly maxChars: number;
  private _lines: ILogLine[] = [];
  private _partial = '';
  private _size = 0;
  private _dropped = 0;
  private _next = 0;
  private _state: IAnsiState = initialAnsiState();
  private _partialState: IAnsiState = initialAnsiState();

  constructor(maxChars = 2 * 1024 * 1024) {
    this.maxChars = Math.max(1024, maxChars);
  }

  /** Complete lines kept, oldest first. */
  get lines(): readonly ILogLine[] {
    return this._lines;
  }

  /** The unfinished last line (no newline yet), already styled. */
  get partial(): ILogLine | null {
    if (!this._partial) {
      return null;
    }
    const text = resolveCarriageReturns(this._partial);
    const state = { ...this._partialState };
    return { index: this._next, segments: ansiSegments(text, state), size: text.length };
  }

  /** Characters dropped from the start to respect the cap. */
  get droppedChars(): number {
    return this._dropped;
  }

  get size(): number {
    return this._size + this._partial.length;
  }

  append(text: string): void {
    if (!text) {
      return;
    }
    const pieces = (this._partial + text).split('\n');
    this._partial = pieces.pop() ?? '';
    for (const raw of pieces) {
      const line = resolveCarriageReturns(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
      const segments = ansiSegments(line, this._state);
      const size = line.length + 1;
      this._lines.push({ index: this._next++, segments, size });
      this._size += size;
    }
    this._partialState = { ...this._state };
    this._trim();
  }

  /** Count text that was never received (a log opened at its end) as dropped. */
  skip(chars: number): void {
    this._dropped += Math.max(0, chars);
  }

  clear(): void {
    this._lines = [];
    this._partial = '';
    this._size = 0;
    this._dropped = 0;
    this._next = 0;
    this._state = initialAnsiState();
    this._partialState = initialAnsiState();
  }

  private _trim(): void {
    let drop = 0;
    while (this._size > this.maxChars && drop < this._lines.length - 1) {
      this._size -= this._lines[drop].size;
      this._dropped += this._lines[drop].size;
      drop++;
    }
    if (drop) {
      this._lines = this._lines.slice(drop);
    }
    if (this._partial.length > this.maxChars) {
      // one endless line (no newline at all): keep its end
      const cut = this._partial.length - this.maxChars;
      this._partial = this._partial.slice(cut);
      this._dropped += cut;
    }
  }
}

export interface ILogFollowerOptions {
  client: MlShipClient;
  runId: string;
  /** byte offset to start from */
  offset?: number;
  /** start at most this many bytes before the end of the log instead (a long log opens at
   * its end); `skipped` tells how many bytes were left out */
  tail?: number;
  /** milliseconds between HTTP polls when the WebSocket is not available */
  pollInterval?: number;
  /** a WebSocket constructor (tests pass a fake) */
  WebSocket?: typeof WebSocket;
}

/**
 * Follows a run's log from a byte offset until the run ends.
 *
 * Emits `data` for each new piece of text and `done` once with the final status. Uses the
 * WebSocket; if it cannot be opened or drops before the end, reconnects once from the last
 * offset and then falls back to polling over HTTP.
 */
export class LogFollower implements IDisposable {
  private _offset: number;
  private _socket: WebSocket | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _disposed = false;
  private _done = false;
  private _socketFailures = 0;
  private _data = new Signal<this, string>(this);
  private _finished = new Signal<this, RunStatus | null>(this);
  private _error = new Signal<this, string>(this);
  private _skipped = new Signal<this, number>(this);
  private _received = false;

  constructor(private readonly _options: ILogFollowerOptions) {
    this._offset = _options.offset ?? 0;
  }

  get data(): ISignal<this, string> {
    return this._data;
  }
  /** The run ended (with its status) and the whole log was delivered. */
  get finished(): ISignal<this, RunStatus | null> {
    return this._finished;
  }
  /** A problem worth showing (the follower keeps trying). */
  get error(): ISignal<this, string> {
    return this._error;
  }
  /** Bytes at the start of the log that a `tail` follow left out. */
  get skipped(): ISignal<this, number> {
    return this._skipped;
  }
  get offset(): number {
    return this._offset;
  }
  get isDone(): boolean {
    return this._done;
  }
  get isDisposed(): boolean {
    return this._disposed;
  }

  start(): void {
    const Socket = this._options.WebSocket ?? this._options.client.serverSettings.WebSocket;
    if (!Socket) {
      this._poll();
      return;
    }
    let socket: WebSocket;
    try {
      // the tail only on the first connection: a reconnection goes on from where it was
      const tail = this._received ? undefined : this._options.tail;
      socket = new Socket(
        this._options.client.logSocketUrl(this._options.runId, this._offset, tail)
      );
    } catch {
      this._poll();
      return;
    }
    this._socket = socket;
    socket.onmessage = event => this._onMessage(event.data);
    socket.onclose = () => {
      if (this._socket !== socket) {
        return;
      }
      this._socket = null;
      if (!this._done && !this._disposed) {
        this._socketFailures++;
        if (this._socketFailures < 2) {
          this._timer = setTimeout(() => this.start(), 1000);
        } else {
          this._poll();
        }
      }
    };
  }

  private _onMessage(raw: unknown): void {
    let message: LogMessage;
    try {
      message = JSON.parse(String(raw));
    } catch {
      return;
    }
    if ('error' in message) {
      // the server could not stream (e.g. the run is gone): say so; onclose falls back
      this._error.emit(String((message as { message?: string }).message ?? message.error));
      return;
    }
    if ('done' in message && message.done) {
      this._finish(message.status ?? null);
      return;
    }
    if ('data' in message) {
      this._received = true;
      if (typeof message.offset === 'number') {
        this._offset = message.offset;
      }
      if (typeof message.skipped === 'number' && message.skipped > 0) {
        this._skipped.emit(message.skipped);
      }
      if (message.data) {
        this._data.emit(message.data);
      }
    }
  }

  private _poll(): void {
    if (this._done || this._disposed) {
      return;
    }
    const { client, runId } = this._options;
    const interval = this._options.pollInterval ?? 2000;
    const step = async () => {
      try {
        const { text, nextOffset } = await client.logs(runId, this._offset);
        if (this._disposed) {
          return;
        }
        this._offset = nextOffset;
        if (text) {
          this._data.emit(text);
          this._timer = setTimeout(step, 0); // there may be more
          return;
        }
        const run = await client.run(runId);
        if (isTerminal(run.status)) {
          // read once more: the last lines may have landed meanwhile
          const tail = await client.logs(runId, this._offset);
          this._offset = tail.nextOffset;
          if (tail.text) {
            this._data.emit(tail.text);
          }
          this._finish(run.status);
          return;
        }
      } catch (error) {
        this._error.emit(errorMessage(error));
      }
      if (!this._disposed) {
        this._timer = setTimeout(step, interval);
      }
    };
    void step();
  }

  private _finish(status: RunStatus | null): void {
    if (this._done) {
      return;
    }
    this._done = true;
    this._closeSocket();
    this._finished.emit(status);
  }

  private _closeSocket(): void {
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      socket.close();
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._closeSocket();
    if (this._timer) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }
}
