/**
 * The run view's "Notifications" section: each mail, webhook post and MLflow log of the run
 * (core/notifications/) and how it went — a delivery that keeps failing shows here, never a silent
 * drop — and the link to the run in MLflow.
 */
import * as React from 'react';

import type { MlShipClient } from '../api/client';
import { isTerminal, type IDeliveryInfo, type IRunInfo } from '../api/types';
import { DELIVERY_POLL_MS, deliveriesDue, deliveryState } from '../core/deliveries';
import { formatDate } from '../core/format';
import { getTrans, useTrans } from '../core/i18n';

function stateText(d: IDeliveryInfo): string {
  const trans = getTrans();
  const state = deliveryState(d);
  const tries = trans.__('%1 attempt%2', d.attempts, d.attempts === 1 ? '' : 's');
  switch (state) {
    case 'sent':
      return d.sent_at ? trans.__('sent %1', formatDate(d.sent_at)) : 'sent';
    case 'failing':
      return d.next_attempt_at
        ? trans.__('failing (%1, next %2)', tries, formatDate(d.next_attempt_at))
        : trans.__('failing (%1)', tries);
    case 'failed':
      return trans.__('failed: gave up after %1', tries);
    default:
      return state;
  }
}

/** One line per delivery; the MLflow one links to the run in the tracking server. */
export function DeliveryList(props: { deliveries: IDeliveryInfo[] }): JSX.Element {
  const trans = useTrans();
  return (
    <ul className="jp-MlShip-deliveries">
      {props.deliveries.map((d, i) => {
        const state = deliveryState(d);
        return (
          <li
            key={`${d.channel}-${d.target}-${d.event}-${i}`}
            className="jp-MlShip-delivery"
            data-channel={d.channel}
            data-state={state}
          >
            <span className="jp-MlShip-deliveryWhat">
              {d.channel === 'mlflow' ? trans.__('MLflow') : d.channel === 'email' ? trans.__('mail to %1', d.target) : d.target}
              {d.channel !== 'mlflow' && <span className="jp-MlShip-muted">{' '}{trans.__('· on')}{' '}{d.event}</span>}
            </span>
            <span className={`jp-MlShip-deliveryState jp-MlShip-deliveryState-${state}`}>
              {stateText(d)}
            </span>
            {d.channel === 'mlflow' && d.url && state === 'sent' && (
              <a
                className="jp-MlShip-mlflowLink"
                href={d.url}
                target="_blank"
                rel="noopener noreferrer"
              >
                {trans.__('Open in MLflow')}
              </a>
            )}
            {d.error && state !== 'sent' && (
              <div className="jp-MlShip-deliveryError" title={d.error}>
                {d.error}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The section of the run view; reads GET /runs/{id} itself (the run events carry no
 * notifications) when the run ends and while a delivery is due.
 */
export function RunNotifications(props: { client: MlShipClient; run: IRunInfo }): JSX.Element {
  const trans = useTrans();
  const { client, run } = props;
  const [deliveries, setDeliveries] = React.useState<IDeliveryInfo[] | undefined>(
    run.notifications
  );
  React.useEffect(() => {
    if (run.notifications) {
      setDeliveries(run.notifications);
    }
  }, [run.notifications]);
  const pending = deliveriesDue(deliveries, isTerminal(run.status), run.ended_at);
  React.useEffect(() => {
    if (!isTerminal(run.status)) {
      return;
    }
    let stopped = false;
    const ask = () =>
      client
        .run(run.id)
        .then(r => !stopped && setDeliveries(r.notifications ?? []))
        .catch(() => undefined);
    if (!pending && deliveries !== undefined) {
      return;
    }
    const timer = setInterval(() => void ask(), DELIVERY_POLL_MS);
    void ask();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [client, run.id, run.status, pending]);
  if (!deliveries || !deliveries.length) {
    return <></>;
  }
  return (
    <section className="jp-MlShip-runNotifications">
      <h3>{deliveries.some(d => d.channel === 'mlflow') ? trans.__('Notifications and MLflow') : trans.__('Notifications')}</h3>
      <DeliveryList deliveries={deliveries} />
    </section>
  );
}
