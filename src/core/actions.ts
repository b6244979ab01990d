/** User actions shared by the panel, the run view and the commands: each asks, acts, reports. */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { showErrorMessage } from './errorDialog';
import type { IDocumentManager } from '@jupyterlab/docmanager';

import { errorMessage } from '../api/client';
import type { IRunInfo, IVersionInfo } from '../api/types';
import { pickBackend } from '../components/BackendSelect';
import { RunDialogBody, type IRunChoices } from '../components/RunDialog';
import { environmentChoices, PromoteDialogBody } from '../components/PromoteDialog';
import { shortId, STATUS_LABELS } from './format';
import type { MlShipModel } from './model';
import { openOutput, openVersion } from './outputs';
import type { IMlShipSettings } from './settings';
import { getTrans } from './i18n';

export interface IActions {
  model: MlShipModel;
  settings: () => IMlShipSettings;
  docManager: IDocumentManager | null;
  /** open (or reveal) the run view of a run */
  openRun: (id: string) => void;
  /** open (or reveal) the graph view of a pipeline run (set by the pipelines plugin) */
  openPipelineRun?: (id: string) => void;
  /** open a job's runs as a chart and a table (set by the run history plugin) */
  openHistory?: (job: string) => void;
  /** open a pipeline's runs as a table (set by the run history plugin) */
  openPipelineHistory?: (pipeline: string) => void;
  /** show a job in the side panel */
  showJob: (name: string) => void;
  /** show one version of a job in the side panel's Versions tab, its files unfolded */
  showVersion: (job: string, version: number) => void;
  /** open the Compare view of two versions (`b` null: the current one) */
  openCompare: (job: string, a: number, b: number | null) => void;
  /** runs started from this lab, for the end-of-run notification */
  watched: Set<string>;
}

/** Ask for parameters and start a run of a version (default: the job's current one). */
export async function runWithDialog(
  ctx: IActions,
  job: string,
  version: number | null,
  initial?: Record<string, unknown>,
  backend?: string
): Promise<IRunInfo | null> {
  const trans = getTrans();
  const { model } = ctx;
  let info: IVersionInfo;
  try {
    info = await (version === null
      ? model.client.job(job).then(j => model.client.version(job, j.current_version ?? 1))
      : model.client.version(job, version));
  } catch (error) {
    await showErrorMessage(trans.__('Cannot run %1', job), errorMessage(error));
    return null;
  }
  let initialFrom: string | undefined;
  if (initial === undefined && ctx.settings().runDialogFromLastRun && info.parameters.length) {
    const last = await lastRunOf(ctx, job);
    if (last && Object.keys(last.parameters).length) {
      initial = last.parameters;
      initialFrom = `run #${shortId(last.id)} (v${last.version}, ${STATUS_LABELS[last.status]})`;
    }
  }
  const wanted =
    backend || (info.config.backend as string | undefined) || ctx.settings().defaultBackend;
  const body = new RunDialogBody({
    parameters: info.parameters,
    initial,
    initialFrom,
    health: model.health,
    backend: pickBackend(model.health, wanted || undefined)
  });
  const result = await showDialog<IRunChoices>({
    title: trans.__('Run %1 v%2', job, info.number),
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Run') })],
    focusNodeSelector: 'input, textarea, select'
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  return startRun(ctx, job, info.number, result.value.parameters, result.value.backend);
}

/** The job's newest *successful* run, as the Ship dialog starts from (none: the defaults;
 * a failed run's values are what the user is trying to get away from). */
async function lastRunOf(ctx: IActions, job: string): Promise<IRunInfo | null> {
  try {
    return (await ctx.model.client.runs({ job, status: 'succeeded', limit: 1 })).runs[0] ?? null;
  } catch {
    return null;
  }
}

export async function startRun(
  ctx: IActions,
  job: string,
  version: number | null,
  parameters: Record<string, unknown>,
  backend?: string
): Promise<IRunInfo | null> {
  const trans = getTrans();
  try {
    const run = await ctx.model.startRun(job, version, parameters, backend);
    ctx.watched.add(run.id);
    if (ctx.settings().openRunView) {
      ctx.openRun(run.id);
    } else {
      Notification.info(trans.__('Started run %1 of %2 v%3', shortId(run.id), job, run.version), {
        autoClose: 5000,
        actions: [{ label: trans.__('View'), callback: () => ctx.openRun(run.id) }]
      });
    }
    return run;
  } catch (error) {
    await showErrorMessage(trans.__('Cannot run %1', job), errorMessage(error));
    return null;
  }
}

/** "Re-run with these parameters": the same version, the same values, editable first. */
export function rerun(ctx: IActions, run: IRunInfo): Promise<IRunInfo | null> {
  return runWithDialog(ctx, run.job, run.version, run.parameters, run.backend);
}

export async function rollbackWithConfirm(
  ctx: IActions,
  job: string,
  version: IVersionInfo
): Promise<void> {
  const trans = getTrans();
  const current = ctx.model.jobs.find(j => j.name === job)?.current_version;
  const newer = typeof current === 'number' && version.number > current;
  const label = newer ? trans.__('Make current') : trans.__('Roll back to v%1', version.number);
  const result = await showDialog({
    title: newer ? trans.__('Make v%1 of %2 current?', version.number, job) : trans.__('Roll back %1 to v%2?', job, version.number),
    body:
      trans.__('New runs of %1 will use version %2%3%4. Nothing is deleted: every version stays in the history.', job, version.number, (version.message ? ` (“${version.message}”)` : ''), (current ? trans.__(' instead of version %1', current) : '')),
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label })
    ]
  });
  if (!result.button.accept) {
    return;
  }
  try {
    await ctx.model.rollback(job, version.number);
    Notification.success(trans.__('%1: current version is now v%2', job, version.number), {
      autoClose: 5000
    });
  } catch (error) {
    await showErrorMessage(
      newer ? trans.__('Cannot make v%1 of %2 current', version.number, job) : trans.__('Cannot roll back %1', job),
      errorMessage(error)
    );
  }
}

/** Promote a version to an environment picked in a dialog; says the gate's outcome (moved, its
 * validation run started, or why it was refused). */
export async function promoteWithDialog(
  ctx: IActions,
  job: string,
  version: IVersionInfo
): Promise<void> {
  const trans = getTrans();
  const info = ctx.model.jobs.find(j => j.name === job);
  const pointers = info?.environments ?? {};
  const body = new PromoteDialogBody({
    job,
    version: version.number,
    environments: environmentChoices(ctx.model.health?.environments, pointers),
    pointers,
    gated: version.promotion === 'candidate' && !!version.config?.promote
  });
  const result = await showDialog({
    title: trans.__('Promote v%1 of %2', version.number, job),
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Promote') })]
  });
  if (!result.button.accept || !result.value) {
    return;
  }
  const to = result.value;
  try {
    const promoted = await ctx.model.promote(job, version.number, to);
    if (promoted.promotion === 'validating' && promoted.promotion_target === to) {
      Notification.info(
        trans.__('%1 v%2: its promotion gate runs (validation run %3); it goes to %4 if that run passes', job, version.number, shortId(promoted.validation_run_id ?? ''), to),
        { autoClose: 8000 }
      );
    } else {
      Notification.success(trans.__('%1: v%2 is now in %3', job, version.number, to), { autoClose: 5000 });
    }
  } catch (error) {
    await showErrorMessage(trans.__('Cannot promote v%1 of %2 to %3', version.number, job, to), errorMessage(error));
  }
}

/** Make a pipeline version current ("Roll back to vN" for an older one, "Make current" a newer). */
export async function rollbackPipelineWithConfirm(
  list: { rollback: (name: string, version: number) => Promise<void> },
  pipeline: string,
  version: number,
  older: boolean
): Promise<void> {
  const trans = getTrans();
  const label = older ? trans.__('Roll back to v%1', version) : trans.__('Make current');
  const result = await showDialog({
    title: older ? trans.__('Roll back %1 to v%2?', pipeline, version) : trans.__('Make v%1 of %2 current?', version, pipeline),
    body: trans.__('New runs of the pipeline %1 will use version %2. Nothing is deleted: every version stays in the history.', pipeline, version),
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label })]
  });
  if (!result.button.accept) {
    return;
  }
  try {
    await list.rollback(pipeline, version);
    Notification.success(trans.__('%1: current version is now v%2', pipeline, version), { autoClose: 5000 });
  } catch (error) {
    await showErrorMessage(trans.__('Cannot make v%1 of %2 current', version, pipeline), errorMessage(error));
  }
}

/** Delete a job, its versions and its runs (the server refuses while a run is active). */
export async function deleteJobWithConfirm(ctx: IActions, job: string): Promise<void> {
  const trans = getTrans();
  const info = ctx.model.jobs.find(j => j.name === job);
  const result = await showDialog({
    title: trans.__('Delete %1?', job),
    body:
      trans.__('Every version of %1%2, its runs, logs and output notebooks are deleted from the store. The notebook file stays.', job, (info?.latest_version ? ` (v1–v${info.latest_version})` : '')),
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Delete %1', job) })]
  });
  if (!result.button.accept) {
    return;
  }
  try {
    await ctx.model.client.deleteJob(job);
    Notification.success(trans.__('Deleted %1', job), { autoClose: 5000 });
  } catch (error) {
    await showErrorMessage(trans.__('Cannot delete %1', job), errorMessage(error));
  }
  await ctx.model.refresh();
}

export async function cancelWithConfirm(ctx: IActions, run: IRunInfo): Promise<void> {
  const trans = getTrans();
  const result = await showDialog({
    title: trans.__('Cancel run %1?', shortId(run.id)),
    body: trans.__('The run of %1 v%2 on %3 is stopped; its log is kept.', run.job, run.version, run.backend),
    buttons: [Dialog.cancelButton({ label: trans.__('Keep running') }), Dialog.warnButton({ label: trans.__('Cancel run') })]
  });
  if (!result.button.accept) {
    return;
  }
  try {
    await ctx.model.cancelRun(run.id);
  } catch (error) {
    await showErrorMessage(trans.__('Cannot cancel the run'), errorMessage(error));
  }
}

/** Ask, then delete an ended run (its log, notebooks and files); whether it was deleted. */
export async function deleteRunWithConfirm(ctx: IActions, run: IRunInfo): Promise<boolean> {
  const trans = getTrans();
  const result = await showDialog({
    title: trans.__('Delete run %1?', shortId(run.id)),
    body:
      trans.__('The run of %1 v%2 (%3) is deleted with its log, output notebook and files. The job, its versions and its other runs stay.', run.job, run.version, STATUS_LABELS[run.status]),
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Delete run') })]
  });
  if (!result.button.accept) {
    return false;
  }
  try {
    await ctx.model.deleteRun(run.id);
  } catch (error) {
    await showErrorMessage(trans.__('Cannot delete the run'), errorMessage(error));
    return false;
  }
  Notification.success(trans.__('Deleted run %1 of %2', shortId(run.id), run.job), { autoClose: 5000 });
  return true;
}

export async function openRunOutput(
  ctx: IActions,
  run: IRunInfo,
  cellIndex?: number | null
): Promise<void> {
  const trans = getTrans();
  if (!ctx.docManager) {
    await showErrorMessage(trans.__('Cannot open the output'), trans.__('The document manager is not available.'));
    return;
  }
  openOutput(ctx.docManager, run, cellIndex);
}

/** Open the notebook of a shipped version read-only. */
export async function openVersionNotebook(
  ctx: IActions,
  job: string,
  version: number
): Promise<void> {
  const trans = getTrans();
  if (!ctx.docManager) {
    await showErrorMessage(trans.__('Cannot open the version'), trans.__('The document manager is not available.'));
    return;
  }
  openVersion(ctx.docManager, job, version);
}

/** A notification when a run started from this lab ends. */
export function notifyFinished(ctx: IActions, run: IRunInfo): void {
  const trans = getTrans();
  if (!ctx.watched.has(run.id) || !ctx.settings().notifyOnFinish) {
    return;
  }
  ctx.watched.delete(run.id);
  const text = trans.__('%1 v%2: run %3 %4', run.job, run.version, shortId(run.id), STATUS_LABELS[run.status]);
  const options = {
    autoClose: run.status === 'succeeded' ? 5000 : (false as const),
    actions: [{ label: trans.__('View run'), callback: () => ctx.openRun(run.id) }]
  };
  if (run.status === 'succeeded') {
    Notification.success(text, options);
  } else if (run.status === 'cancelled' || run.status === 'skipped') {
    Notification.info(text, options);
  } else {
    Notification.error(
      run.error?.ename ? `${text}: ${run.error.ename}: ${run.error.evalue ?? ''}` : text,
      options
    );
  }
}
