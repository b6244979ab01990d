/** The run view's Checks section: each rule of the run's checks, passed or failed, and why. */
import * as React from 'react';

import type { IRunInfo } from '../api/types';
import { ruleText } from '../core/health';
import { useTrans } from '../core/i18n';

export function RunChecks(props: { run: IRunInfo }): JSX.Element | null {
  const trans = useTrans();
  const { run } = props;
  const checks = run.checks ?? [];
  if (!checks.length) {
    return null;
  }
  const failed = checks.filter(c => !c.passed).length;
  return (
    <section className="jp-MlShip-runChecks" data-health={run.health ?? 'healthy'}>
      <h3>
        {trans.__('Checks')}{' '}
        <span
          className={`jp-MlShip-healthBadge jp-MlShip-health-${run.health ?? 'healthy'}`}
          data-health={run.health ?? 'healthy'}
        >
          {failed ? trans.__('degraded: %1 of %2 failed', failed, checks.length) : trans.__('%1 passed', checks.length)}
        </span>
      </h3>
      <table className="jp-MlShip-kv jp-MlShip-checks" aria-label={trans.__('Checks')}>
        <tbody>
          {checks.map((check, i) => (
            <React.Fragment key={i}>
              <tr
                data-check={`${check.name}:${check.rule}`}
                data-passed={check.passed ? 'true' : 'false'}
                className={check.passed ? undefined : 'jp-mod-failed'}
              >
                <td className="jp-MlShip-checkMark" aria-label={check.passed ? trans.__('passed') : trans.__('failed')}>
                  {check.passed ? '✓' : '✗'}
                </td>
                <th scope="row">{check.name}</th>
                <td className="jp-MlShip-muted jp-MlShip-checkRule">{ruleText(check)}</td>
              </tr>
              <tr className="jp-MlShip-checkMessageRow">
                <td />
                <td colSpan={2} className="jp-MlShip-checkMessage">
                  {check.message}
                </td>
              </tr>
            </React.Fragment>
          ))}
        </tbody>
      </table>
    </section>
  );
}
