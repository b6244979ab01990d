/** The Ship dialog's notification fields and metadata.ml_ship.notify, both ways. */
import { applyNotify, notifyErrors, notifyFromConfig } from '../core/notifyConfig';

describe('notification fields', () => {
  it('writes one rule with the events, addresses and secret names', () => {
    const texts = {
      ...notifyFromConfig({}),
      email: 'oncall@example.com, ds@example.com',
      webhook: 'SLACK_WEBHOOK_URL',
      events: ['failed', 'succeeded'],
      longerThan: '3600'
    };
    expect(notifyErrors(texts)).toEqual({});
    const config = applyNotify({ name: 'train', schedule: '0 6 * * *' }, texts);
    expect(config).toEqual({
      name: 'train',
      schedule: '0 6 * * *',
      notify: {
        on: ['failed', 'succeeded', { longer_than: 3600 }],
        email: ['oncall@example.com', 'ds@example.com'],
        webhook: ['SLACK_WEBHOOK_URL']
      }
    });
    const back = notifyFromConfig(config);
    expect(back.email).toBe('oncall@example.com, ds@example.com');
    expect(back.events).toEqual(['failed', 'succeeded']);
    expect(back.longerThan).toBe('3600');
  });

  it('starts from the default events and removes notify when no target is left', () => {
    const texts = notifyFromConfig({ notify: { email: ['a@example.com'] } });
    expect(texts.events).toEqual(['failed', 'timed_out', 'degraded']);
    expect(applyNotify({ notify: { email: ['a@example.com'] } }, { ...texts, email: '' })).toEqual({});
  });

  it('names what is wrong, and keeps rules it cannot show', () => {
    const texts = { ...notifyFromConfig({}), email: 'nope', webhook: 'https://hooks.example/x' };
    const errors = notifyErrors(texts);
    expect(errors.email).toContain('nope');
    expect(errors.webhook).toContain('Not a secret name');
    expect(notifyErrors({ ...notifyFromConfig({}), email: 'a@example.com', events: [] }).events)
      .toBe('Choose at least one event');
    const rules = [{ on: ['failed'], email: ['a@example.com'] }, { on: ['succeeded'], webhook: ['X'] }];
    const several = notifyFromConfig({ notify: rules });
    expect(several.advanced).toEqual(rules);
    expect(applyNotify({ notify: rules }, several)).toEqual({ notify: rules });
  });
});
