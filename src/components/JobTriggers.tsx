/** A job's triggers (runs started by events, `metadata.ml_ship.triggers`) in its header, or a
 * pipeline's (its file's `triggers:`) in the pipeline view's, and the one time a webhook's
 * secret is shown (after a ship made it), with a copy button. */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import * as React from 'react';

import type { MlShipClient } from '../api/client';
import type { ITriggerInfo } from '../api/types';
import { formatDate } from '../core/format';
import { getTrans, useTrans } from '../core/i18n';

export function triggerText(t: ITriggerInfo): string {
  const trans = getTrans();
  const where = t.environment && t.environment !== 'production' ? ` (${t.environment})` : '';
  switch (t.kind) {
    case 'webhook':
      return (t.revoked ? trans.__('webhook (revoked)') : trans.__('webhook')) + where;
    case 'files':
      return trans.__('new files %1', t.detail) + where;
    default:
      return trans.__('after %1', t.detail) + where;
  }
}

export function JobTriggers(props: {
  client: MlShipClient;
  job: string;
  /** whose triggers: the job's (default) or the pipeline's of that name */
  target?: 'job' | 'pipeline';
  refresh?: unknown;
}): JSX.Element | null {
  const trans = useTrans();
  const [triggers, setTriggers] = React.useState<ITriggerInfo[]>([]);
  React.useEffect(() => {
    let live = true;
    props.client
      .triggers(props.job, props.target ?? 'job')
      .then(found => live && setTriggers(found))
      .catch(() => live && setTriggers([]));
    return () => {
      live = false;
    };
  }, [props.job, props.target, props.refresh]);
  if (triggers.length === 0) {
    return null;
  }
  return (
    <div className="jp-MlShip-item-sub jp-MlShip-triggers" aria-label={trans.__('Triggers')}>
      {trans.__('started by')}{' '}
      {triggers.map((t, i) => (
        <span
          key={t.kind}
          className="jp-MlShip-trigger"
          data-trigger={t.kind}
          title={t.last_fired ? trans.__('last started a run %1', formatDate(t.last_fired)) : trans.__('has not started a run yet')}
        >
          {i > 0 && <span className="jp-MlShip-dot"> · </span>}
          {triggerText(t)}
        </span>
      ))}
    </div>
  );
}

/** The webhook URL of a job, shown once: only its hash is kept by the server. */
export async function showTriggerToken(job: string, token: string): Promise<void> {
  const trans = getTrans();
  const url = URLExt.join(ServerConnection.makeSettings().baseUrl, 'ml-ship/api/triggers', token);
  const body = (
    <div className="jp-MlShip-triggerToken">
      <p>{trans.__('POST to this URL (JSON body: the run’s parameters) starts a run of %1. It is shown this once: keep it secret.', job)}</p>
      <code data-trigger-url={url}>{url}</code>
    </div>
  );
  const result = await showDialog({
    title: trans.__('Webhook of %1', job),
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Close') }), Dialog.okButton({ label: trans.__('Copy URL') })]
  });
  if (result.button.accept) {
    Clipboard.copyToSystem(url);
  }
}
