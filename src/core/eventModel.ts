/**
 * What the lab's models share: a `changed` signal, a subscription to the Jupyter server's
 * events, a coalesced refresh (events come in bursts: one fetch per burst), and a `dispose`
 * that ends all of it.
 */
import type { Event } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { Signal, type ISignal } from '@lumino/signaling';

export abstract class EventDrivenModel implements IDisposable {
  protected readonly _events: Event.IManager | null;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
  private _soon: ReturnType<typeof setTimeout> | null = null;

  constructor(events: Event.IManager | null) {
    this._events = events;
    events?.stream.connect(this._onEvent, this);
  }

  /** The model's state changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get isDisposed(): boolean {
    return this._disposed;
  }

  /** One event of the server (subclasses pick theirs by schema id). */
  protected abstract _onEvent(events: Event.IManager, emission: Event.Emission): void;

  protected _emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  /** Call `fn` once, `delay` ms from the first call; calls until then are folded into it. */
  protected _coalesce(delay: number, fn: () => void): void {
    if (this._soon === null && !this._disposed) {
      this._soon = setTimeout(() => {
        this._soon = null;
        fn();
      }, delay);
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._events?.stream.disconnect(this._onEvent, this);
    if (this._soon !== null) {
      clearTimeout(this._soon);
      this._soon = null;
    }
    Signal.clearData(this);
  }
}
