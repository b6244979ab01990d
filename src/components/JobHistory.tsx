/** A job's History tab: the audit trail (who shipped, ran, rolled back, cancelled, and when). */
import * as React from 'react';

import { requestAPI } from '../api/client';
import type { IAuditEvent, IAuditTrail } from '../api/types';
import { formatDate } from '../format';

const VERBS: Record<string, string> = {
  ship: 'shipped',
  current: 'made current',
  rollback: 'rolled back',
  run: 'started a run',
  cancel: 'cancelled',
  delete: 'deleted',
  'pipeline-ship': 'shipped the pipeline',
  'pipeline-run': 'started a pipeline run',
  'pipeline-cancel': 'cancelled a pipeline run',
  'pipeline-rollback': 'rolled the pipeline back',
  'pipeline-delete': 'deleted the pipeline'
};

function detail(e: IAuditEvent): string {
  const d = e.data as Record<string, unknown>;
  if (d.from !== undefined && d.to !== undefined) {
    return `v${d.from} → v${d.to}`;
  }
  const run = (d.run_id ?? d.pipeline_run_id) as string | undefined;
  if (run) {
    return `${run}${d.version !== undefined ? ` (v${d.version})` : ''}${d.queued_for ? ', queued for the agent' : ''}`;
  }
  return d.version !== undefined ? `v${d.version}` : '';
}

export function JobHistory(props: { name: string; refresh?: unknown }): JSX.Element {
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
    return <div className="jp-MlShip-error">{error}</div>;
  }
  if (events === null) {
    return <div className="jp-MlShip-muted">Loading…</div>;
  }
  if (events.length === 0) {
    return <div className="jp-MlShip-muted">Nothing recorded yet.</div>;
  }
  return (
    <ul className="jp-MlShip-audit" aria-label="History">
      {events.map(e => (
        <li key={e.id} className="jp-MlShip-audit-item" data-kind={e.kind} data-actor={e.actor}>
          <span className="jp-MlShip-audit-actor">{e.actor || 'someone'}</span>{' '}
          {VERBS[e.kind] ?? e.kind} <span className="jp-MlShip-muted">{detail(e)}</span>
          <div className="jp-MlShip-item-sub">{formatDate(e.created_at)}</div>
        </li>
      ))}
    </ul>
  );
}
