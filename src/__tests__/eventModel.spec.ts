import type { Event } from '@jupyterlab/services';

import { EventDrivenModel } from '../core/eventModel';
import { fakeEvents } from './fakeServer';

class Counter extends EventDrivenModel {
  seen = 0;
  refreshed = 0;

  protected _onEvent(_: Event.IManager, emission: Event.Emission): void {
    this.seen += 1;
    if (emission.schema_id === 'wanted') {
      this._coalesce(300, () => {
        this.refreshed += 1;
        this._emit();
      });
    }
  }
}

describe('EventDrivenModel', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('folds a burst of events into one refresh and signals the change once', () => {
    const events = fakeEvents();
    const model = new Counter(events.manager);
    let changed = 0;
    model.changed.connect(() => (changed += 1));
    for (let i = 0; i < 5; i++) {
      events.emit({ schema_id: 'wanted' });
    }
    events.emit({ schema_id: 'other' });
    expect(model.seen).toBe(6);
    expect(model.refreshed).toBe(0);
    jest.advanceTimersByTime(300);
    expect(model.refreshed).toBe(1);
    expect(changed).toBe(1);
    events.emit({ schema_id: 'wanted' }); // a new burst, a new refresh
    jest.advanceTimersByTime(300);
    expect(model.refreshed).toBe(2);
    model.dispose();
  });

  it('after dispose: no events, no pending refresh, no signal', () => {
    const events = fakeEvents();
    const model = new Counter(events.manager);
    let changed = 0;
    model.changed.connect(() => (changed += 1));
    events.emit({ schema_id: 'wanted' });
    model.dispose();
    expect(model.isDisposed).toBe(true);
    jest.advanceTimersByTime(1000);
    events.emit({ schema_id: 'wanted' });
    jest.advanceTimersByTime(1000);
    expect(model.refreshed).toBe(0);
    expect(model.seen).toBe(1);
    expect(changed).toBe(0);
    model.dispose(); // twice is harmless
  });

  it('works without an event manager', () => {
    const model = new Counter(null);
    expect(model.isDisposed).toBe(false);
    model.dispose();
    expect(model.isDisposed).toBe(true);
  });
});
