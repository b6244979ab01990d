/**
 * The Edit mode of a pipeline file: notebooks dropped from the file browser become steps, a
 * drag from a step's port to another step draws an edge, and a side form edits the selected
 * step (parameters with the references its upstream steps offer, retries, timeout, backend).
 * Every change edits the YAML document in place (comments and key order kept).
 */
import { PathExt } from '@jupyterlab/coreutils';
import * as React from 'react';

import type { IStepInfo } from '../api/pipelines';
import type { IBackendStatus } from '../api/types';
import { NumberField } from '../components/NumberField';
import { GraphView } from './GraphView';
import { PipelineDoc, upstreamOf, type IPipelineIssue } from './pipelineDoc';
import { getTrans, useTrans } from '../core/i18n';

const CONTENTS_MIME = 'application/x-jupyter-icontents';

export interface IPipelineEditorProps {
  text: string;
  /** the pipeline file's path (server root relative) */
  path: string;
  /** what the server last said of each step (declared outputs) */
  known: readonly IStepInfo[];
  drawn: readonly IStepInfo[];
  issues: readonly IPipelineIssue[];
  badSteps: ReadonlySet<string>;
  backends: readonly IBackendStatus[];
  onChange: (text: string) => void;
}

/** The references a step may use: pipeline parameters, upstream outputs and files. */
export function referencesFor(
  doc: PipelineDoc,
  id: string,
  known: readonly IStepInfo[]
): { label: string; value: string }[] {
  const trans = getTrans();
  const refs = Object.keys(doc.parameters).map(p => ({
    label: `params.${p}`,
    value: `{{ params.${p} }}`
  }));
  const upstream = [...upstreamOf(doc.steps, id)].sort();
  for (const up of upstream) {
    const outputs = known.find(s => s.id === up)?.declared_outputs ?? [];
    for (const name of outputs) {
      refs.push({ label: trans.__('%1 → output %2', up, name), value: `{{ steps.${up}.outputs.${name} }}` });
    }
    refs.push({ label: trans.__('%1 → a file it writes…', up), value: `{{ steps.${up}.files['PATH'] }}` });
  }
  return refs;
}

function StepForm(props: {
  doc: PipelineDoc;
  id: string;
  known: readonly IStepInfo[];
  issues: readonly IPipelineIssue[];
  backends: readonly IBackendStatus[];
  edit: (fn: (doc: PipelineDoc) => void) => void;
  onRemoved: () => void;
}): JSX.Element | null {
  const trans = useTrans();
  const { doc, id, edit } = props;
  const step = doc.step(id);
  const [newName, setNewName] = React.useState('');
  if (!step) {
    return null;
  }
  const others = doc.steps.filter(s => s.id !== id);
  const refs = referencesFor(doc, id, props.known);
  const declared = props.known.find(s => s.id === id)?.declared_outputs ?? null;
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const numberOr = (v: string) => (v.trim() === '' ? undefined : Number(v));
  return (
    <form
      className="jp-MlShip-stepForm"
      data-step={id}
      aria-label={trans.__('Step %1', id)}
      onSubmit={e => e.preventDefault()}
    >
      <h3>{trans.__('Step')}{' '}{id}</h3>
      <div className="jp-MlShip-muted">{step.notebook ?? step.job}</div>
      {declared && declared.length > 0 && (
        <div className="jp-MlShip-field-help">{trans.__('Records:')}{' '}{declared.join(', ')}</div>
      )}
      {props.issues
        .filter(i => i.step === id)
        .map((issue, i) => (
          <div key={i} className="jp-MlShip-field-error" role="alert">
            {issue.message}
          </div>
        ))}
      <fieldset>
        <legend>{trans.__('Runs after')}</legend>
        {others.length === 0 && <div className="jp-MlShip-muted">{trans.__('no other step')}</div>}
        {others.map(o => (
          <label key={o.id} className="jp-MlShip-check">
            <input
              type="checkbox"
              checked={step.depends_on.includes(o.id)}
              onChange={e =>
                edit(d => (e.target.checked ? d.addEdge(o.id, id) : d.removeEdge(o.id, id)))
              }
            />
            {o.id}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>{trans.__('Parameters')}</legend>
        {Object.entries(step.parameters).map(([name, value]) => (
          <div key={name} className="jp-MlShip-paramRow" data-param={name}>
            <label htmlFor={`jp-MlShip-sp-${id}-${name}`}>{name}</label>
            <input
              id={`jp-MlShip-sp-${id}-${name}`}
              className="jp-mod-styled"
              value={typeof value === 'string' ? value : JSON.stringify(value)}
              onChange={e => edit(d => d.setParameter(id, name, parseValue(e.target.value)))}
            />
            <select
              className="jp-mod-styled"
              aria-label={trans.__('Insert a reference into %1', name)}
              value=""
              onChange={e => e.target.value && edit(d => d.setParameter(id, name, e.target.value))}
            >
              <option value="">{trans.__('reference…')}</option>
              {refs.map(r => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="jp-MlShip-linkButton"
              title={trans.__('Remove the parameter %1', name)}
              onClick={() => edit(d => d.setParameter(id, name, undefined))}
            >
              {trans.__('remove')}
            </button>
          </div>
        ))}
        <div className="jp-MlShip-paramRow">
          <input
            className="jp-mod-styled"
            placeholder={trans.__('new parameter name')}
            aria-label={trans.__('New parameter name')}
            value={newName}
            onChange={e => setNewName(e.target.value)}
          />
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-smallButton"
            disabled={!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newName)}
            onClick={() => {
              edit(d => d.setParameter(id, newName, ''));
              setNewName('');
            }}
          >
            {trans.__('Add')}
          </button>
        </div>
      </fieldset>
      <fieldset className="jp-MlShip-stepSettings">
        <legend>{trans.__('Run settings')}</legend>
        <label>
          {trans.__('Retries')}
          <NumberField
            value={text(step.retries)}
            optional
            min={0}
            max={20}
            placeholder="0"
            invalid={trans.__('Retries: a whole number from 0 to 20 (not saved until then)')}
            onValid={v => edit(d => d.setField(id, 'retries', numberOr(v)))}
          />
        </label>
        <label>
          {trans.__('Timeout (s)')}
          <NumberField
            value={text(step.timeout)}
            optional
            min={1}
            placeholder="none"
            invalid={trans.__('Timeout: a whole number of seconds, 1 or more (not saved until then)')}
            onValid={v => edit(d => d.setField(id, 'timeout', numberOr(v)))}
          />
        </label>
        <label>
          {trans.__('Backend')}
          <select
            className="jp-mod-styled"
            value={step.backend ?? ''}
            onChange={e => edit(d => d.setField(id, 'backend', e.target.value || undefined))}
          >
            <option value="">{trans.__('the pipeline run’s')}</option>
            {props.backends.map(b => (
              <option key={b.name} value={b.name} disabled={!b.available}>
                {b.name}
                {b.available ? '' : trans.__(' (not available)')}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <button
        type="button"
        className="jp-Button jp-mod-styled jp-mod-warn jp-MlShip-smallButton"
        onClick={() => {
          edit(d => d.removeStep(id));
          props.onRemoved();
        }}
      >
        {trans.__('Remove step')}
      </button>
    </form>
  );
}

/** `3` → 3, `true` → true, anything else stays text (templates included). */
function parseValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text.trim())) {
    return Number(text);
  }
  if (text === 'true' || text === 'false') {
    return text === 'true';
  }
  return text;
}

export function PipelineEditor(props: IPipelineEditorProps): JSX.Element {
  const trans = useTrans();
  const doc = React.useMemo(() => new PipelineDoc(props.text), [props.text]);
  const [selected, setSelected] = React.useState<string | null>(null);
  const [dropping, setDropping] = React.useState(false);
  const canvas = React.useRef<HTMLDivElement>(null);
  const edit = React.useCallback(
    (fn: (d: PipelineDoc) => void) => {
      const fresh = new PipelineDoc(props.text);
      fn(fresh);
      props.onChange(fresh.toString());
    },
    [props.text, props.onChange]
  );
  const editRef = React.useRef(edit);
  editRef.current = edit;
  const folder = PathExt.dirname(props.path);

  // the file browser drags with Lumino's drag and drop (lm-* events), not HTML5's
  React.useEffect(() => {
    const node = canvas.current;
    if (!node) {
      return;
    }
    const accept = (event: Event) => {
      const drag = event as Event & {
        mimeData: { hasData: (m: string) => boolean; getData: (m: string) => unknown };
        dropAction: string;
        proposedAction: string;
      };
      if (!drag.mimeData?.hasData(CONTENTS_MIME)) {
        return null;
      }
      event.preventDefault();
      event.stopPropagation();
      return drag;
    };
    const over = (event: Event) => {
      const drag = accept(event);
      if (drag) {
        drag.dropAction = drag.proposedAction; // the file browser offers 'move' only
        setDropping(true);
      }
    };
    const leave = () => setDropping(false);
    const drop = (event: Event) => {
      const drag = accept(event);
      setDropping(false);
      if (!drag) {
        return;
      }
      drag.dropAction = drag.proposedAction; // the file browser offers 'move' only
      const paths = ([] as unknown[]).concat(drag.mimeData.getData(CONTENTS_MIME) as unknown[]);
      const notebooks = paths
        .map(p => (typeof p === 'string' ? p : (p as { path?: string })?.path ?? ''))
        .filter(p => p.endsWith('.ipynb'));
      if (!notebooks.length) {
        return;
      }
      let last = '';
      editRef.current(d => {
        for (const path of notebooks) {
          last = d.addStep(PathExt.relative(folder, path.replace(/^[^/:]*:/, '')));
        }
      });
      setSelected(last);
    };
    node.addEventListener('lm-dragenter', over);
    node.addEventListener('lm-dragover', over);
    node.addEventListener('lm-dragleave', leave);
    node.addEventListener('lm-drop', drop);
    return () => {
      node.removeEventListener('lm-dragenter', over);
      node.removeEventListener('lm-dragover', over);
      node.removeEventListener('lm-dragleave', leave);
      node.removeEventListener('lm-drop', drop);
    };
  }, [folder]);

  const current = selected && doc.step(selected) ? selected : null;
  return (
    <div className="jp-MlShip-pipelineEditor">
      <div
        className={`jp-MlShip-editorCanvas${dropping ? ' jp-mod-dropTarget' : ''}`}
        ref={canvas}
        aria-label={trans.__('Pipeline canvas: drop notebooks here')}
      >
        {props.drawn.length ? (
          <GraphView
            steps={props.drawn}
            badSteps={props.badSteps}
            selected={current}
            onSelectStep={setSelected}
            onConnect={(from, to) => edit(d => d.addEdge(from, to))}
          />
        ) : null}
        <div className="jp-MlShip-editorHint">
          {trans.__('Drop notebooks from the file browser here to add steps; drag from a step’s right edge to another step to make it run after; click a step to edit it.')}
        </div>
      </div>
      <aside className="jp-MlShip-editorSide">
        {current ? (
          <StepForm
            key={current}
            doc={doc}
            id={current}
            known={props.known}
            issues={props.issues}
            backends={props.backends}
            edit={edit}
            onRemoved={() => setSelected(null)}
          />
        ) : (
          <div className="jp-MlShip-muted">{trans.__('Select a step to edit it.')}</div>
        )}
      </aside>
    </div>
  );
}
