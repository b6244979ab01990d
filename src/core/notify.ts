/** Notifications that survive JupyterLab's toast timing. */
import { Notification } from '@jupyterlab/apputils';

/**
 * End an in-progress notification with its outcome: dismiss it and emit the outcome as a new one.
 *
 * `Notification.update` is not safe here: JupyterLab's toast plugin updates a toast only once
 * react-toastify has drawn it, and otherwise re-creates it under the same id, which
 * react-toastify drops while the first one is still queued. When the work ends before the toast
 * is drawn (the first toast of a page loads react-toastify first; a busy machine), the outcome
 * was lost and the spinner stayed up for good. A dismiss and a new id have no such window.
 */
export function settleNotification(
  pending: string,
  message: string,
  type: Notification.TypeOptions,
  options: Notification.IOptions<null> = {}
): string {
  Notification.dismiss(pending);
  return Notification.emit(message, type, options);
}
