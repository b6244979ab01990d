/** Pipeline statuses, parameters and validation messages, as the graph view shows them. */
import {
  PIPELINE_TERMINAL,
  type IPipelineRunInfo,
  type IPipelineRunStatusEvent,
  type IStepInfo,
  type PipelineRunStatus,
  type StepStatus
} from '../api/pipelines';
import { isTerminal, type IParameterSpec } from '../api/types';
import { STATUS_LABELS } from '../core/format';
import { translated } from '../core/i18n';

/** A step's run statuses, plus the two states a step has before it has a run. */
export const STEP_LABELS: Record<StepStatus, string> = translated(trans => ({
  pending: trans.__('waiting'),
  starting: trans.__('starting'),
  ...STATUS_LABELS
}));

export function isStepDone(status: StepStatus | null): boolean {
  return status !== null && status !== 'pending' && status !== 'starting' && isTerminal(status);
}

export function isPipelineDone(status: PipelineRunStatus): boolean {
  return PIPELINE_TERMINAL.has(status);
}

/** Steps by status, for a one-line summary: "2 succeeded · 1 running". */
export function statusSummary(steps: readonly IStepInfo[]): string {
  const counts = new Map<StepStatus, number>();
  for (const step of steps) {
    if (step.status) {
      counts.set(step.status, (counts.get(step.status) ?? 0) + 1);
    }
  }
  const order = Object.keys(STEP_LABELS) as StepStatus[];
  return order
    .filter(s => counts.has(s))
    .map(s => `${counts.get(s)} ${STEP_LABELS[s]}`)
    .join(' · ');
}

/**
 * A run with an event's statuses applied (a new object; unknown steps are ignored).
 * Returns the same run when the event is about another run or changes nothing.
 */
export function applyStatusEvent(
  run: IPipelineRunInfo,
  event: IPipelineRunStatusEvent
): IPipelineRunInfo {
  if (event.pipeline_run_id !== run.id) {
    return run;
  }
  let changed = run.status !== event.status;
  const steps = run.steps.map(step => {
    const status = event.steps[step.id];
    if (status && status !== step.status) {
      changed = true;
      return { ...step, status };
    }
    return step;
  });
  return changed ? { ...run, status: event.status, steps } : run;
}

// ---- parameters -------------------------------------------------------------------------

/** A JSON value written as a Python literal (what the parameter form reads as a default). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'number' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(pythonLiteral).join(', ')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`).join(', ')}}`;
}

function typeName(value: unknown): string {
  if (typeof value === 'boolean') {
    return 'bool';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'int' : 'float';
  }
  if (typeof value === 'string') {
    return 'str';
  }
  if (Array.isArray(value)) {
    return 'list';
  }
  return value === null ? '' : 'dict';
}

/** The pipeline's parameters (name → default) as specs for the parameter form. */
export function pipelineParameterSpecs(parameters: Record<string, unknown>): IParameterSpec[] {
  return Object.entries(parameters).map(([name, value]) => ({
    name,
    type: typeName(value),
    default: pythonLiteral(value),
    help: ''
  }));
}

/** A server path as a path relative to the server root, or null when it is outside. */
export function pathInRoot(absolute: string, root: string): string | null {
  const path = absolute.replace(/\\/g, '/');
  const base = root.replace(/\\/g, '/').replace(/\/+$/, '');
  if (!path || !base || base.startsWith('~')) {
    return null;
  }
  return path.startsWith(base + '/') ? path.slice(base.length + 1) : null;
}

// ---- validation messages ----------------------------------------------------------------

/** The steps of a dependency cycle named in a validation message ("a -> b -> a"), or null. */
export function cycleInMessage(message: string): string[] | null {
  const match = /dependency cycle:\s*([^\n]+)/i.exec(message);
  if (!match) {
    return null;
  }
  const names = match[1]
    .split(/\s*(?:->|→)\s*/)
    .map(s => s.trim().replace(/^['"]|['"]$/g, ''))
    .filter(Boolean);
  if (names.length < 2) {
    return null;
  }
  if (names[0] === names[names.length - 1]) {
    names.pop();
  }
  return names;
}

/** Steps standing for a cycle, so the graph can draw the loop that the message names. */
export function cycleSteps(cycle: readonly string[]): IStepInfo[] {
  return cycle.map((id, i) => ({
    id,
    job: '',
    version: null,
    notebook: null,
    depends_on: [cycle[(i + cycle.length - 1) % cycle.length]],
    parameters: {},
    retries: null,
    timeout: null,
    backend: null,
    cache: true,
    declared_outputs: null,
    status: null,
    run_id: null,
    cached: false,
    outputs: {},
    error: null,
    started_at: null,
    ended_at: null,
    duration: null
  }));
}
