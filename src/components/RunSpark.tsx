/** The run view's Spark section (a PySpark job, metadata.ml_ship.spark): its application's id
 * on the master and the link to its Spark UI (live while the run runs; the event log is kept
 * with the run's files, under spark/events). */
import * as React from 'react';

import type { IRunInfo } from '../api/types';
import { isTerminal } from '../api/types';
import { useTrans } from '../core/i18n';

export function RunSpark(props: { run: IRunInfo }): JSX.Element | null {
  const trans = useTrans();
  const spark = props.run.spark;
  if (!spark) {
    return null;
  }
  const live = !isTerminal(props.run.status);
  return (
    <section className="jp-MlShip-runSpark" data-spark-app={spark.app_id}>
      <h3>{trans.__('Spark')}</h3>
      <table className="jp-MlShip-kv" aria-label={trans.__('Spark')}>
        <tbody>
          <tr>
            <th scope="row">{trans.__('Application')}</th>
            <td><code>{spark.app_id}</code>{spark.app_name ? ` (${spark.app_name})` : ''}</td>
          </tr>
          {spark.master && (
            <tr>
              <th scope="row">{trans.__('Master')}</th>
              <td><code>{spark.master}</code></td>
            </tr>
          )}
          {spark.ui_url && (
            <tr>
              <th scope="row">{trans.__('Spark UI')}</th>
              <td>
                <a href={spark.ui_url} target="_blank" rel="noopener noreferrer" data-spark-ui>
                  {spark.ui_url}
                </a>
                {!live && (
                  <span className="jp-MlShip-muted">
                    {' '}{trans.__('(the application ended; its event log is in the run\'s files, spark/events)')}
                  </span>
                )}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
