/** An in-progress notification ends in a toast the lab draws whatever its timing. */
import { Notification } from '@jupyterlab/apputils';

import { settleNotification } from '../core/notify';

describe('settleNotification', () => {
  afterEach(() => Notification.manager.dismiss());

  it('replaces the spinner by the outcome as a new notification, never an update', () => {
    const seen: [string, string][] = [];
    const record = (_: unknown, change: Notification.IChange) => {
      seen.push([change.type, change.notification.message]);
    };
    Notification.manager.changed.connect(record);
    try {
      const pending = Notification.emit('Shipping a.ipynb…', 'in-progress', { autoClose: false });
      const done = settleNotification(pending, 'Shipped a v2', 'success', { autoClose: 6000 });
      expect(done).not.toBe(pending);
      // JupyterLab's toast plugin loses an 'updated' whose toast react-toastify has not drawn
      // yet (the spinner then stays up for good): the outcome must come as 'added'
      expect(seen).toEqual([
        ['added', 'Shipping a.ipynb…'],
        ['removed', 'Shipping a.ipynb…'],
        ['added', 'Shipped a v2']
      ]);
      const left = Notification.manager.notifications;
      expect(left.map(n => [n.message, n.type, n.options.autoClose])).toEqual([
        ['Shipped a v2', 'success', 6000]
      ]);
    } finally {
      Notification.manager.changed.disconnect(record);
    }
  });
});
