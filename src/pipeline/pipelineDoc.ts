/**
 * A `.pipeline.yaml` file as an editable document: the `yaml` package's Document API edits
 * the parsed tree in place, so the user's comments, key order and flow/block styles survive
 * every edit. Also the structural checks the editor shows as a user makes each change (the
 * server's /pipeline-info validation, run on save, has the last word).
 */
import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document } from 'yaml';
import { getTrans } from '../core/i18n';

export interface IEditStep {
  id: string;
  notebook: string | null;
  job: string | null;
  depends_on: string[];
  /** values as written (templates stay strings) */
  parameters: Record<string, unknown>;
  retries: unknown;
  timeout: unknown;
  backend: string | null;
}

export interface IPipelineIssue {
  /** the step it is about, null for the whole file */
  step: string | null;
  message: string;
}

export const STEP_ID_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const REF_RE = /\{\{\s*steps\.([A-Za-z0-9_-]+)\.(outputs|files)\b/g;

/** A line with the blank run before its inline comment made one space (quotes balanced). */
function commentKey(line: string): string | null {
  const m = /^(.*?\S)[ \t]+(#.*)$/.exec(line);
  if (!m || (m[1].split('"').length - 1) % 2 || (m[1].split("'").length - 1) % 2) {
    return null;
  }
  return `${m[1]} ${m[2]}`;
}

/**
 * The yaml library writes one space before an inline comment: a line the edit did not change
 * gets back the user's spacing (`day: 1    # aligned` stays aligned).
 */
export function keepCommentSpacing(before: string, after: string): string {
  const original = new Map<string, string>();
  for (const line of before.split('\n')) {
    const key = commentKey(line);
    if (key !== null && key !== line && !original.has(key)) {
      original.set(key, line);
    }
  }
  if (!original.size) {
    return after;
  }
  return after
    .split('\n')
    .map(line => original.get(line) ?? line)
    .join('\n');
}

export class PipelineDoc {
  readonly doc: Document.Parsed;
  /** the text it was read from */
  private readonly _source: string;

  constructor(text: string) {
    this._source = text;
    this.doc = parseDocument(text, { keepSourceTokens: false });
  }

  /** Syntax errors of the YAML itself. */
  get syntaxErrors(): string[] {
    return this.doc.errors.map(e => e.message.split('\n')[0]);
  }

  toString(): string {
    return keepCommentSpacing(
      this._source,
      this.doc.toString({ lineWidth: 0, flowCollectionPadding: false })
    );
  }

  private _steps(create = false): YAMLMap | null {
    let steps = this.doc.get('steps', true);
    if (!isMap(steps)) {
      if (!create) {
        return null;
      }
      steps = this.doc.createNode({}) as YAMLMap;
      this.doc.set('steps', steps);
    }
    return steps as YAMLMap;
  }

  get name(): string | null {
    const name = this.doc.get('name');
    return typeof name === 'string' ? name : null;
  }

  /** Pipeline parameters (names → defaults). */
  get parameters(): Record<string, unknown> {
    const params = this.doc.get('parameters', true);
    return isMap(params) ? (params.toJSON() as Record<string, unknown>) : {};
  }

  get steps(): IEditStep[] {
    const steps = this._steps();
    if (!steps) {
      return [];
    }
    return steps.items.map(pair => {
      const id = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const body = isMap(pair.value) ? (pair.value.toJSON() as Record<string, unknown>) : {};
      const deps = body.depends_on;
      return {
        id,
        notebook: typeof body.notebook === 'string' ? body.notebook : null,
        job: typeof body.job === 'string' ? body.job : null,
        depends_on: Array.isArray(deps) ? deps.map(String) : typeof deps === 'string' ? [deps] : [],
        parameters:
          body.parameters && typeof body.parameters === 'object'
            ? (body.parameters as Record<string, unknown>)
            : {},
        retries: body.retries,
        timeout: body.timeout,
        backend: typeof body.backend === 'string' ? body.backend : null
      };
    });
  }

  step(id: string): IEditStep | null {
    return this.steps.find(s => s.id === id) ?? null;
  }

  /** A free step id from a notebook file name (`data/Prepare Data.ipynb` → `prepare_data`). */
  freeId(notebook: string): string {
    const base =
      (notebook.split('/').pop() ?? 'step')
        .replace(/\.ipynb$/i, '')
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, '_')
        .replace(/^[^a-z_]+/, '') || 'step';
    const taken = new Set(this.steps.map(s => s.id));
    let id = base;
    for (let n = 2; taken.has(id); n++) {
      id = `${base}_${n}`;
    }
    return id;
  }

  /** A new step running a notebook (a path relative to the pipeline file). */
  addStep(notebook: string, id = this.freeId(notebook)): string {
    if (!this.doc.has('name') && this.doc.contents === null) {
      this.doc.contents = this.doc.createNode({}) as unknown as typeof this.doc.contents;
    }
    this._steps(true)!.set(id, this.doc.createNode({ notebook }));
    return id;
  }

  removeStep(id: string): void {
    const steps = this._steps();
    if (!steps) {
      return;
    }
    steps.delete(id);
    for (const step of this.steps) {
      if (step.depends_on.includes(id)) {
        this.removeEdge(id, step.id);
      }
    }
  }

  /** `to` runs after `from` (depends_on gains `from`). */
  addEdge(from: string, to: string): void {
    if (from === to) {
      return;
    }
    const path = ['steps', to, 'depends_on'];
    const deps = this.doc.getIn(path, true);
    if (isSeq(deps)) {
      if (!deps.items.some(i => (isScalar(i) ? i.value : i) === from)) {
        deps.add(this.doc.createNode(from));
      }
    } else if (isScalar(deps) && deps.value !== from && deps.value !== null) {
      this.doc.setIn(path, this._flowSeq([String(deps.value), from]));
    } else {
      this.doc.setIn(path, this._flowSeq([from]));
    }
  }

  removeEdge(from: string, to: string): void {
    const path = ['steps', to, 'depends_on'];
    const deps = this.doc.getIn(path, true);
    if (isSeq(deps)) {
      const index = deps.items.findIndex(i => (isScalar(i) ? i.value : i) === from);
      if (index >= 0) {
        deps.items.splice(index, 1);
      }
      if (!deps.items.length) {
        this.doc.deleteIn(path);
      }
    } else if (isScalar(deps) && deps.value === from) {
      this.doc.deleteIn(path);
    }
  }

  private _flowSeq(items: string[]): YAMLSeq {
    const seq = this.doc.createNode(items) as YAMLSeq;
    seq.flow = true;
    return seq;
  }

  /** Set (or, with undefined / '', remove) one field of a step: retries, timeout, backend… */
  setField(id: string, key: string, value: unknown): void {
    const path = ['steps', id, key];
    if (value === undefined || value === '' || value === null) {
      if (this.doc.hasIn(path)) {
        this.doc.deleteIn(path);
      }
      return;
    }
    const node = this.doc.getIn(path, true);
    if (isScalar(node)) {
      node.value = value; // keeps the node's comment and quoting
    } else {
      this.doc.setIn(path, value);
    }
  }

  /** Set (or remove) one parameter of a step. */
  setParameter(id: string, name: string, value: unknown): void {
    const path = ['steps', id, 'parameters', name];
    if (value === undefined) {
      if (this.doc.hasIn(path)) {
        this.doc.deleteIn(path);
      }
      const params = this.doc.getIn(['steps', id, 'parameters'], true);
      if (isMap(params) && !params.items.length) {
        this.doc.deleteIn(['steps', id, 'parameters']);
      }
      return;
    }
    const node = this.doc.getIn(path, true);
    if (isScalar(node)) {
      node.value = value;
    } else {
      this.doc.setIn(path, value);
    }
  }
}

/** Every step that runs before `id` (its ancestors). */
export function upstreamOf(steps: readonly IEditStep[], id: string): Set<string> {
  const byId = new Map(steps.map(s => [s.id, s]));
  const seen = new Set<string>();
  const stack = [...(byId.get(id)?.depends_on ?? [])];
  while (stack.length) {
    const next = stack.pop()!;
    if (!seen.has(next) && next !== id) {
      seen.add(next);
      stack.push(...(byId.get(next)?.depends_on ?? []));
    }
  }
  return seen;
}

/** A dependency cycle's step ids, if the steps have one. */
export function findCycle(steps: readonly IEditStep[]): string[] | null {
  const byId = new Map(steps.map(s => [s.id, s]));
  const state = new Map<string, 1 | 2>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 1);
    path.push(id);
    for (const dep of byId.get(id)?.depends_on ?? []) {
      if (!byId.has(dep)) {
        continue;
      }
      if (state.get(dep) === 1) {
        return path.slice(path.indexOf(dep));
      }
      if (!state.has(dep)) {
        const found = visit(dep);
        if (found) {
          return found;
        }
      }
    }
    path.pop();
    state.set(id, 2);
    return null;
  };
  for (const step of steps) {
    if (!state.has(step.id)) {
      const found = visit(step.id);
      if (found) {
        return found;
      }
    }
  }
  return null;
}

function textsOf(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }
  if (Array.isArray(value)) {
    return value.flatMap(textsOf);
  }
  if (value && typeof value === 'object') {
    return Object.values(value).flatMap(textsOf);
  }
  return [];
}

/** All the structural problems of a pipeline file (not only the first). */
export function pipelineIssues(text: string): IPipelineIssue[] {
  const trans = getTrans();
  const pdoc = new PipelineDoc(text);
  const issues: IPipelineIssue[] = pdoc.syntaxErrors.map(message => ({
    step: null,
    message: trans.__('YAML: %1', message)
  }));
  if (issues.length) {
    return issues;
  }
  const steps = pdoc.steps;
  if (!steps.length) {
    issues.push({ step: null, message: trans.__('the pipeline has no steps') });
  }
  const ids = new Set(steps.map(s => s.id));
  for (const step of steps) {
    const say = (message: string) => issues.push({ step: step.id, message: trans.__('steps.%1: %2', step.id, message) });
    if (!STEP_ID_RE.test(step.id)) {
      say(trans.__('a step id is letters, digits, _ and - (starting with a letter or _)'));
    }
    if (!step.notebook && !step.job) {
      say(trans.__('needs a notebook (or a job)'));
    } else if (step.notebook && step.job) {
      say(trans.__('has both a notebook and a job: keep one'));
    }
    for (const dep of step.depends_on) {
      if (dep === step.id) {
        say(trans.__('depends on itself'));
      } else if (!ids.has(dep)) {
        say(trans.__('depends on %1, which is not a step', dep));
      }
    }
    if (step.retries !== undefined) {
      const r = step.retries;
      if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > 20) {
        say(trans.__('retries: must be an integer from 0 to 20'));
      }
    }
    if (step.timeout !== undefined && step.timeout !== null) {
      if (typeof step.timeout !== 'number' || !(step.timeout > 0)) {
        say(trans.__('timeout: must be a number of seconds above 0'));
      }
    }
    const upstream = upstreamOf(steps, step.id);
    for (const value of textsOf(step.parameters)) {
      for (const match of value.matchAll(REF_RE)) {
        const from = match[1];
        if (!ids.has(from)) {
          say(trans.__('a parameter uses steps.%1, which is not a step', from));
        } else if (!upstream.has(from)) {
          say(trans.__('a parameter uses steps.%1, which does not run before it (add an edge)', from));
        }
      }
    }
  }
  const cycle = findCycle(steps);
  if (cycle) {
    // in data-flow order and worded as the server says it, so that the two are one problem
    const flow = [...cycle, cycle[0]].reverse();
    issues.push({
      step: flow[1],
      message: trans.__('steps.%1.depends_on: dependency cycle: %2', flow[1], flow.join(' -> '))
    });
  }
  return issues;
}

/** The step ids a server validation message names (`steps.train.retries: …`). */
export function stepsInMessage(message: string): string[] {
  return [...new Set([...message.matchAll(/\bsteps\.([A-Za-z0-9_-]+)/g)].map(m => m[1]))];
}
