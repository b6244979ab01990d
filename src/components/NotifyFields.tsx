/**
 * The Ship dialog's notifications: mail addresses, webhook secret names and the events they
 * hear about (written to `metadata.ml_ship.notify`), and "Send a test", which sends a real
 * message through the server's channels (SMTP, the webhook) and says how each one went.
 */
import * as React from 'react';

import { errorMessage } from '../api/client';
import type { INotifyTestRequest, INotifyTestResponse, INotifyTestResult } from '../api/types';
import { Field, Notice } from './common';
import { NOTIFY_EVENTS, notifyErrors, splitList, type INotifyTexts } from '../core/notifyConfig';
import { useTrans } from '../core/i18n';

type TestState =
  | { kind: 'idle' }
  | { kind: 'sending' }
  | { kind: 'done'; results: INotifyTestResult[] }
  | { kind: 'failed'; message: string };

export function NotifyFields(props: {
  texts: INotifyTexts;
  onChange: (texts: INotifyTexts) => void;
  job: string;
  sendTest?: (request: INotifyTestRequest) => Promise<INotifyTestResponse>;
}): JSX.Element {
  const trans = useTrans();
  const { texts } = props;
  const errors = notifyErrors(texts);
  const [test, setTest] = React.useState<TestState>({ kind: 'idle' });
  const email = splitList(texts.email);
  const webhook = splitList(texts.webhook);
  const set = (patch: Partial<INotifyTexts>) => props.onChange({ ...texts, ...patch });
  const toggle = (event: string, on: boolean) =>
    set({
      events: on ? [...texts.events.filter(e => e !== event), event] : texts.events.filter(e => e !== event)
    });
  const send = async () => {
    if (!props.sendTest) {
      return;
    }
    setTest({ kind: 'sending' });
    try {
      const answer = await props.sendTest({ email, webhook, job: props.job || null });
      setTest({ kind: 'done', results: answer.results });
    } catch (error) {
      setTest({ kind: 'failed', message: errorMessage(error) });
    }
  };
  if (texts.advanced !== null) {
    return (
      <Notice kind="info">
        {trans.__('This notebook’s')}{' '}<code>{trans.__('metadata.ml_ship.notify')}</code>{' '}{trans.__('has several rules: it is kept as it is (edit it in the notebook’s metadata).')}
      </Notice>
    );
  }
  return (
    <div className="jp-MlShip-notifyFields">
      <Field
        label={trans.__('Email')}
        htmlFor="jp-MlShip-notifyEmail"
        error={errors.email}
        hint={trans.__('Sent through the server’s SMTP server')}
      >
        <input
          id="jp-MlShip-notifyEmail"
          name="notify-email"
          className={`jp-mod-styled jp-MlShip-input${errors.email ? ' jp-mod-error' : ''}`}
          value={texts.email}
          placeholder={trans.__('e.g. oncall@example.com, ds@example.com')}
          spellCheck={false}
          autoComplete="off"
          onChange={e => set({ email: e.currentTarget.value })}
        />
      </Field>
      <Field
        label={trans.__('Webhooks')}
        htmlFor="jp-MlShip-notifyWebhook"
        error={errors.webhook}
        hint={trans.__(
          'Names of the server’s environment variables holding the URLs (a Slack-compatible JSON post), never the URLs'
        )}
      >
        <input
          id="jp-MlShip-notifyWebhook"
          name="notify-webhook"
          className={`jp-mod-styled jp-MlShip-input jp-MlShip-code${errors.webhook ? ' jp-mod-error' : ''}`}
          value={texts.webhook}
          placeholder={trans.__('e.g. SLACK_WEBHOOK_URL')}
          spellCheck={false}
          autoComplete="off"
          onChange={e => set({ webhook: e.currentTarget.value })}
        />
      </Field>
      <div
        className={`jp-MlShip-field jp-MlShip-notifyEvents${errors.events ? ' jp-MlShip-field-invalid' : ''}`}
        role="group"
        aria-label={trans.__('Events')}
      >
        <label>{trans.__('When a run or version is')}</label>
        <div className="jp-MlShip-checks">
          {NOTIFY_EVENTS.map(e => (
            <label key={e.value} className="jp-MlShip-check">
              <input
                type="checkbox"
                name={`notify-on-${e.value}`}
                checked={texts.events.includes(e.value)}
                onChange={ev => toggle(e.value, ev.currentTarget.checked)}
              />
              {e.label}
            </label>
          ))}
          <label className="jp-MlShip-check">
            {trans.__('still running after')}
            <input
              name="notify-longer-than"
              aria-label={trans.__('Still running after (seconds)')}
              className={`jp-mod-styled jp-MlShip-input jp-MlShip-seconds${errors.longerThan ? ' jp-mod-error' : ''}`}
              value={texts.longerThan}
              placeholder="—"
              onChange={e => set({ longerThan: e.currentTarget.value })}
            />
            s
          </label>
        </div>
        {(errors.events || errors.longerThan) && (
          <div className="jp-MlShip-field-error">{errors.events ?? errors.longerThan}</div>
        )}
      </div>
      {props.sendTest && (
        <div className="jp-MlShip-notifyTest">
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-MlShip-notifySend"
            disabled={
              test.kind === 'sending' || !(email.length + webhook.length) || !!errors.email || !!errors.webhook
            }
            onClick={() => void send()}
          >
            {test.kind === 'sending' ? trans.__('Sending…') : trans.__('Send a test')}
          </button>
          <TestOutcome state={test} />
        </div>
      )}
    </div>
  );
}

function TestOutcome(props: { state: TestState }): JSX.Element | null {
  const trans = useTrans();
  const { state } = props;
  if (state.kind === 'failed') {
    return <div className="jp-MlShip-field-error">{trans.__('The test could not be sent:')}{' '}{state.message}</div>;
  }
  if (state.kind !== 'done') {
    return null;
  }
  return (
    <ul className="jp-MlShip-notifyResults" aria-label={trans.__('Test results')}>
      {state.results.map(r => (
        <li
          key={`${r.channel}:${r.target}`}
          data-channel={r.channel}
          data-sent={r.sent ? 'yes' : 'no'}
          className={r.sent ? 'jp-MlShip-notifySent' : 'jp-MlShip-notifyFailed'}
        >
          {r.sent ? '✓ ' : '✗ '}
          {r.channel === 'email' ? trans.__('mail to ') : trans.__('webhook ')}
          <code>{r.target}</code>: {r.sent ? trans.__('sent') : r.error}
        </li>
      ))}
    </ul>
  );
}
