/**
 * A run's notifications (mails, webhook posts, MLflow logs: core/notifications/) as the lab reads
 * them, for job runs and pipeline runs alike.
 */
import type { IDeliveryInfo } from '../api/types';

/** While a delivery is due (or a run just ended and none is planned yet), ask this often. */
export const DELIVERY_POLL_MS = 3000;
/** How long after a run's end deliveries may still be planned. */
const PLANNING_MS = 60000;

export type DeliveryState = 'sent' | 'pending' | 'sending' | 'failing' | 'failed';

/** What the user reads: `failing` is a delivery whose last attempt failed and that is retried. */
export function deliveryState(d: IDeliveryInfo): DeliveryState {
  if (d.status === 'pending' && (d.attempts > 0 || d.error)) {
    return 'failing';
  }
  return d.status;
}

/** Whether a finished run's deliveries may still change: one is due, or the run ended a moment
 * ago and none is planned yet. A run that has not finished has none due. */
export function deliveriesDue(
  deliveries: IDeliveryInfo[] | undefined,
  done: boolean,
  endedAt: string | null,
  now = Date.now()
): boolean {
  if (!done || !deliveries) {
    return false; // not finished, or not known (ask once to know)
  }
  if (!deliveries.length) {
    const ended = endedAt ? Date.parse(endedAt) : now;
    return now - ended < PLANNING_MS;
  }
  return deliveries.some(d => d.status === 'pending' || d.status === 'sending');
}
