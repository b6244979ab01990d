/** Who does the periodic work (schedules, pipelines, following runs): the agent, this server,
 * or nobody — with the server's warning when schedules have nobody to fire them. */
import * as React from 'react';

import type { IHealthInfo } from '../api/types';
import { formatRelative } from '../core/format';
import { Notice, TextWithCode } from './common';
import { useTrans } from '../core/i18n';

/** How often the panel asks again (the agent may start or stop meanwhile). */
const EVERY_MS = 15000;

export function AgentStatus(props: {
  load: () => Promise<IHealthInfo>;
  initial: IHealthInfo | null;
}): JSX.Element | null {
  const trans = useTrans();
  const [health, setHealth] = React.useState(props.initial);
  React.useEffect(() => {
    let alive = true;
    const look = () =>
      props
        .load()
        .then(h => alive && setHealth(h))
        .catch(() => undefined); // the panel's own notice says when the server is away
    const timer = setInterval(look, EVERY_MS);
    void look();
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [props.load]);
  if (!health) {
    return null;
  }
  const agent = health.agent;
  const text = agent
    ? trans.__('Schedules and pipelines: ml-ship agent on %1 (pid %2), since %3, last tick %4', agent.host, agent.pid, formatRelative(agent.since), formatRelative(agent.last_tick))
    : health.periodic === 'jupyter server'
      ? trans.__('Schedules and pipelines: this Jupyter server (they stop when it stops: run `ml-ship agent` to keep them going)')
      : trans.__('Schedules and pipelines: nobody (no agent, no server loop)');
  // one row in the panel (the whole sentence in the tooltip)
  const line = agent
    ? trans.__('Schedules: ml-ship agent on %1 (pid %2), ticked %3', agent.host, agent.pid, formatRelative(agent.last_tick))
    : health.periodic === 'jupyter server'
      ? trans.__('Schedules: this Jupyter server (`ml-ship agent` keeps them going)')
      : trans.__('Schedules: nobody runs them');
  return (
    <div className="jp-MlShip-agentStatus" data-periodic={health.periodic} title={text}>
      {health.warnings.map(w => (
        <Notice key={w} kind="warning">
          <TextWithCode text={w} />
        </Notice>
      ))}
      <div className="jp-MlShip-agentStatus-line">
        <span
          className={`jp-MlShip-agentStatus-dot jp-MlShip-agentStatus-${health.periodic.replace(' ', '-')}`}
        />
        <span className="jp-MlShip-agentStatus-text">
          <TextWithCode text={line} />
        </span>
      </div>
    </div>
  );
}
