/** A job's History tab: the audit trail (who shipped, ran, rolled back, cancelled, and when). */
import {
  checkIcon,
  deleteIcon,
  historyIcon,
  type LabIcon,
  runIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { requestAPI } from '../api/client';
import type { IAuditEvent, IAuditTrail } from '../api/types';
import { formatDate, formatRelative, shortId } from '../core/format';
import { shipIcon } from '../core/icons';
import { getTrans, translated, useTrans } from '../core/i18n';

const VERBS: Record<string, string> = translated(trans => ({
  ship: trans.__('shipped'),
  current: trans.__('made current'),
  rollback: trans.__('rolled back'),
  run: trans.__('started a run'),
  cancel: trans.__('cancelled'),
  delete: trans.__('deleted'),
  'delete-run': trans.__('deleted the run'),
  'pipeline-ship': trans.__('shipped the pipeline'),
  'pipeline-run': trans.__('started a pipeline run'),
  'pipeline-cancel': trans.__('cancelled a pipeline run'),
  'pipeline-rollback': trans.__('rolled the pipeline back'),
  'pipeline-delete': trans.__('deleted the pipeline')
}));

/** The icon of an entry, the same as the action's button (pipeline-… as the job's). */
const ICONS: Record<string, LabIcon> = {
  ship: shipIcon,
  current: checkIcon,
  rollback: historyIcon,
  run: runIcon,
  cancel: stopIcon,
  delete: deleteIcon,
  'delete-run': deleteIcon
};

function detail(e: IAuditEvent): string {
  const trans = getTrans();
  const d = e.data as Record<string, unknown>;
  if (d.from !== undefined && d.to !== undefined) {
    return `v${d.from} → v${d.to}`;
  }
  const run = (d.run_id ?? d.pipeline_run_id) as string | undefined;
  if (run) {
    return `#${shortId(run)}${d.version !== undefined ? ` (v${d.version})` : ''}${d.queued_for ? trans.__(', queued for the agent') : ''}`;
  }
  return d.version !== undefined ? `v${d.version}` : '';
}

export function JobAudit(props: { name: string; refresh?: unknown }): JSX.Element {
  const trans = useTrans();
  const [events, setEvents] = React.useState<IAuditEvent[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let live = true;
    requestAPI<IAuditTrail>(`jobs/${encodeURIComponent(props.name)}/audit`)
      .then(t => live && setEvents(t.events))
      .catch(e => live && setError(String((e as Error).message ?? e)));
    return () => {
      live = false;
    };
  }, [props.name, props.refresh]);
  if (error) {
    return (
      <div className="jp-MlShip-audit-state">
        <div className="jp-MlShip-error">{trans.__('Cannot load the history:')}{' '}{error}</div>
      </div>
    );
  }
  if (events === null) {
    return <div className="jp-MlShip-empty">{trans.__('Loading…')}</div>;
  }
  if (events.length === 0) {
    return <div className="jp-MlShip-empty">{trans.__('Nothing recorded yet: ships, runs and roll backs show here.')}</div>;
  }
  return (
    <ul className="jp-MlShip-list jp-MlShip-audit" aria-label={trans.__('History')}>
      {events.map(e => {
        const Icon = ICONS[e.kind.replace(/^pipeline-/, '')] ?? historyIcon;
        const what = detail(e);
        return (
          <li key={e.id} className="jp-MlShip-audit-item" data-kind={e.kind} data-actor={e.actor}>
            <Icon.react tag="span" className="jp-MlShip-audit-icon" />
            <div className="jp-MlShip-audit-body">
              <div className="jp-MlShip-audit-line">
                <span className="jp-MlShip-audit-actor">{e.actor || trans.__('someone')}</span>{' '}
                <span className="jp-MlShip-audit-verb">{VERBS[e.kind] ?? e.kind}</span>
                {what && <span className="jp-MlShip-audit-detail"> {what}</span>}
              </div>
              <div className="jp-MlShip-item-sub">
                <span title={formatDate(e.created_at)}>{formatRelative(e.created_at)}</span>
              </div>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
