/** The run view's notifications: states a user reads, the MLflow link, no silent drop. */
import * as React from 'react';

// react-dom ships no types here (@types/react-dom is not a dependency)
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { renderToStaticMarkup } = require('react-dom/server') as {
  renderToStaticMarkup: (element: React.ReactElement) => string;
};

import type { IDeliveryInfo } from '../api/types';
import { DeliveryList } from '../components/RunNotifications';
import { deliveriesDue, deliveryState } from '../core/deliveries';

function delivery(over: Partial<IDeliveryInfo>): IDeliveryInfo {
  return {
    channel: 'webhook',
    target: 'webhook TEAM_HOOK',
    event: 'failed',
    status: 'sent',
    attempts: 1,
    error: null,
    sent_at: '2025-01-02T03:04:05Z',
    next_attempt_at: null,
    url: null,
    ...over
  };
}

function html(deliveries: IDeliveryInfo[]): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = renderToStaticMarkup(<DeliveryList deliveries={deliveries} />);
  return div;
}

describe('deliveriesDue', () => {
  const now = Date.parse('2026-12-03T10:00:00Z');
  it('is due while a delivery is pending or sending, and a moment after the end', () => {
    expect(deliveriesDue([delivery({ status: 'pending' })], true, null, now)).toBe(true);
    expect(deliveriesDue([delivery({ status: 'sending' })], true, null, now)).toBe(true);
    expect(deliveriesDue([delivery({})], true, null, now)).toBe(false);
    expect(deliveriesDue([], true, '2026-12-03T09:59:50Z', now)).toBe(true);
    expect(deliveriesDue([], true, '2026-12-03T09:50:00Z', now)).toBe(false);
  });
  it('is never due for a run that has not finished, nor when the run says nothing of them', () => {
    expect(deliveriesDue([delivery({ status: 'pending' })], false, null, now)).toBe(false);
    expect(deliveriesDue(undefined, true, '2026-12-03T09:59:50Z', now)).toBe(false);
  });
});

describe('deliveryState', () => {
  it('calls a retried delivery failing and a given-up one failed', () => {
    expect(deliveryState(delivery({ status: 'pending', attempts: 0 }))).toBe('pending');
    expect(deliveryState(delivery({ status: 'pending', attempts: 2, error: 'HTTP 500' }))).toBe(
      'failing'
    );
    expect(deliveryState(delivery({ status: 'failed', attempts: 5 }))).toBe('failed');
    expect(deliveryState(delivery({}))).toBe('sent');
  });
});

describe('DeliveryList', () => {
  it('shows a failing webhook with its error and attempts', () => {
    const el = html([
      delivery({
        status: 'pending',
        attempts: 2,
        error: 'webhook TEAM_HOOK: HTTP 500 Internal Server Error',
        next_attempt_at: '2025-01-02T03:05:00Z'
      })
    ]);
    const li = el.querySelector('[data-channel="webhook"]')!;
    expect(li.getAttribute('data-state')).toBe('failing');
    expect(li.textContent).toContain('webhook TEAM_HOOK · on failed');
    expect(li.textContent).toContain('failing (2 attempts');
    expect(li.querySelector('.jp-MlShip-deliveryError')!.textContent).toBe(
      'webhook TEAM_HOOK: HTTP 500 Internal Server Error'
    );
  });

  it('says when it gave up', () => {
    const el = html([delivery({ status: 'failed', attempts: 5, error: 'HTTP 500' })]);
    expect(el.textContent).toContain('failed: gave up after 5 attempts');
  });

  it('links a logged run to MLflow, and shows a pending log without a link', () => {
    const url = 'http://127.0.0.1:5000/#/experiments/1/runs/abc';
    const sent = html([delivery({ channel: 'mlflow', target: 'MLflow', event: 'finished', url })]);
    const link = sent.querySelector('a.jp-MlShip-mlflowLink') as HTMLAnchorElement;
    expect(link.textContent).toBe('Open in MLflow');
    expect(link.getAttribute('href')).toBe(url);
    expect(link.getAttribute('target')).toBe('_blank');
    const down = html([
      delivery({
        channel: 'mlflow',
        target: 'MLflow',
        event: 'finished',
        status: 'pending',
        attempts: 1,
        error: 'MLflow http://127.0.0.1:9/: connection refused',
        sent_at: null
      })
    ]);
    expect(down.querySelector('a')).toBeNull();
    expect(down.querySelector('[data-channel="mlflow"]')!.getAttribute('data-state')).toBe(
      'failing'
    );
  });
});
