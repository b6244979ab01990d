/**
 * The pipeline graph: dagre-placed step boxes (HTML) over SVG edges, coloured by status with
 * the theme's variables. A step that has a run opens it on click (or Enter). A box names its
 * step once (its job and version below, only what adds to the name) and, after a run, the
 * outputs the step recorded. The graph is fitted to its pane, zoomed and panned (GraphViewport).
 */
import * as React from 'react';

import type { IStepInfo, StepStatus } from '../api/pipelines';
import { formatDuration, formatValue } from '../core/format';
import { GraphViewport } from './GraphViewport';
import { layoutGraph } from './layout';
import { STEP_LABELS } from './status';
import { getTrans, useTrans } from '../core/i18n';

export function StepStatusChip(props: { status: StepStatus }): JSX.Element {
  return (
    <span
      className={`jp-MlShip-status jp-MlShip-status-${props.status}`}
      data-status={props.status}
    >
      {STEP_LABELS[props.status]}
    </span>
  );
}

/** Job and version as a tooltip says them ("train v3"). */
function jobAndVersion(step: IStepInfo): string {
  if (!step.job) {
    return '';
  }
  return step.version !== null ? `${step.job} v${step.version}` : step.job;
}

/** The box's second line: the job when its name is not the step's, and the version. */
export function subtitle(step: IStepInfo): string {
  const job = step.job && step.job !== step.id ? step.job : '';
  const version = step.job && step.version !== null ? `v${step.version}` : '';
  return [job, version].filter(Boolean).join(' ');
}

/** The foot of a box with no run: its notebook when the file's name is not the step's. */
function notShippedLine(step: IStepInfo): string {
  const trans = getTrans();
  const file = step.notebook?.split('/').pop() ?? '';
  return file && file.replace(/\.ipynb$/, '') !== step.id ? file : trans.__('not run');
}

/** Recorded outputs shown on a box; the rest are counted (and listed in its tooltip). */
const OUTPUTS_SHOWN = 3;

function outputLines(step: IStepInfo): number {
  const n = Object.keys(step.outputs ?? {}).length;
  return n > OUTPUTS_SHOWN ? OUTPUTS_SHOWN + 1 : n;
}

function stepTitle(step: IStepInfo): string {
  const trans = getTrans();
  const lines = [trans.__('Step %1', step.id)];
  if (step.job) {
    lines.push(trans.__('Job %1%2', jobAndVersion(step), step.notebook ? ` (${step.notebook})` : ''));
  }
  if (step.depends_on.length) {
    lines.push(trans.__('After %1', step.depends_on.join(', ')));
  }
  if (step.cached) {
    lines.push(trans.__('Cached: the outputs of an earlier run with the same version and parameters'));
  }
  if (step.error) {
    lines.push(
      step.error.ename ? `${step.error.ename}: ${step.error.evalue ?? ''}` : step.error.message
    );
  }
  const outputs = Object.entries(step.outputs ?? {});
  if (outputs.length) {
    lines.push('Outputs:', ...outputs.map(([k, v]) => `  ${k}: ${formatValue(v, 80)}`));
  }
  if (step.run_id) {
    lines.push(trans.__('Click to open its run (log and output)'));
  }
  return lines.join('\n');
}

function StepNode(props: {
  step: IStepInfo;
  box: { x: number; y: number; width: number; height: number };
  onOpen?: (step: IStepInfo) => void;
  inCycle: boolean;
  bad?: boolean;
  selected?: boolean;
  onSelect?: (id: string) => void;
  onStartConnect?: (id: string, event: React.PointerEvent) => void;
}): JSX.Element {
  const trans = useTrans();
  const { step, box, onOpen } = props;
  const status = step.status;
  const openable = (!!onOpen && !!step.run_id) || !!props.onSelect;
  const open = () =>
    props.onSelect ? props.onSelect(step.id) : openable && onOpen!(step);
  const classes = [
    'jp-MlShip-graphNode',
    status ? `jp-MlShip-graphNode-${status}` : 'jp-MlShip-graphNode-plain',
    openable ? 'jp-mod-openable' : '',
    props.inCycle ? 'jp-MlShip-graphNode-cycle' : '',
    props.bad ? 'jp-MlShip-graphNode-invalid' : '',
    props.selected ? 'jp-mod-selected' : ''
  ];
  return (
    <div
      className={classes.filter(Boolean).join(' ')}
      style={{ left: box.x, top: box.y, width: box.width, height: box.height }}
      data-step={step.id}
      data-status={status ?? ''}
      data-run={step.run_id ?? ''}
      data-invalid={props.bad ? 'true' : undefined}
      title={stepTitle(step)}
      role={openable ? 'button' : 'group'}
      aria-label={trans.__('Step %1%2', step.id, status ? `: ${STEP_LABELS[status]}` : '')}
      tabIndex={openable ? 0 : undefined}
      onClick={open}
      onKeyDown={e => {
        if (openable && (e.key === 'Enter' || e.key === ' ')) {
          e.preventDefault();
          open();
        }
      }}
    >
      {props.onStartConnect && (
        <span
          className="jp-MlShip-graphPort"
          title={trans.__('Drag to another step: it runs after %1', step.id)}
          data-port={step.id}
          onPointerDown={e => {
            e.stopPropagation();
            e.preventDefault();
            props.onStartConnect!(step.id, e);
          }}
          onClick={e => e.stopPropagation()}
        />
      )}
      <div className="jp-MlShip-graphNode-title">
        <span className="jp-MlShip-graphNode-id">{step.id}</span>
        {step.cached && (
          <span className="jp-MlShip-cached" title={trans.__('Reused the outputs of an earlier run')}>
            {trans.__('cached')}
          </span>
        )}
      </div>
      {(subtitle(step) || props.inCycle) && (
        <div className="jp-MlShip-graphNode-sub">
          {subtitle(step) || trans.__('in a dependency cycle')}
        </div>
      )}
      <div className="jp-MlShip-graphNode-foot">
        {status ? (
          <StepStatusChip status={status} />
        ) : (
          <span className="jp-MlShip-muted">{props.inCycle ? '' : notShippedLine(step)}</span>
        )}
        {step.duration !== null && status && !step.cached && (
          <span className="jp-MlShip-muted">{formatDuration(step.duration)}</span>
        )}
      </div>
      <NodeOutputs outputs={step.outputs ?? {}} />
    </div>
  );
}

/** A step's recorded outputs, one `name: value` line each (the first few). */
function NodeOutputs(props: { outputs: Record<string, unknown> }): JSX.Element | null {
  const trans = useTrans();
  const entries = Object.entries(props.outputs);
  if (!entries.length) {
    return null;
  }
  const shown = entries.slice(0, OUTPUTS_SHOWN);
  return (
    <dl className="jp-MlShip-graphNode-outputs" aria-label={trans.__('Recorded outputs')}>
      {shown.map(([name, value]) => (
        <div key={name} data-output={name}>
          <dt>{name}:</dt>
          <dd>{formatValue(value, 40)}</dd>
        </div>
      ))}
      {entries.length > shown.length && (
        <div className="jp-MlShip-muted">+{entries.length - shown.length}{' '}{trans.__('more')}</div>
      )}
    </dl>
  );
}

let markerCount = 0;

export interface IGraphViewProps {
  steps: readonly IStepInfo[];
  /** open a step's run; steps without a run are not clickable */
  onOpenStep?: (step: IStepInfo) => void;
  /** the steps form a dependency cycle: draw them and their edges as an error */
  cycle?: boolean;
  /** steps with a validation problem: highlighted */
  badSteps?: ReadonlySet<string>;
  /** edit mode: a click selects a step, a drag from its port to another step draws an edge */
  selected?: string | null;
  onSelectStep?: (id: string) => void;
  onConnect?: (from: string, to: string) => void;
}

export function GraphView(props: IGraphViewProps): JSX.Element {
  const trans = useTrans();
  const { steps } = props;
  const shape = steps
    .map(s => `${s.id}<${s.depends_on.join(',')}|${subtitle(s)}|${outputLines(s)}`)
    .join(';');
  const layout = React.useMemo(
    () =>
      layoutGraph(
        steps.map(s => ({
          id: s.id,
          depends_on: s.depends_on,
          subtitle: subtitle(s),
          lines: outputLines(s)
        }))
      ),
    [shape] // eslint-disable-line react-hooks/exhaustive-deps
  );
  const [marker] = React.useState(() => `jp-MlShip-arrow-${++markerCount}`);
  const byId = new Map(steps.map(s => [s.id, s]));
  const [connecting, setConnecting] = React.useState<string | null>(null);
  const onConnect = props.onConnect;
  const startConnect = onConnect
    ? (from: string, event: React.PointerEvent) => {
        setConnecting(from);
        const pointerId = event.pointerId;
        const up = (e: PointerEvent) => {
          if (e.pointerId !== pointerId) {
            return;
          }
          document.removeEventListener('pointerup', up, true);
          setConnecting(null);
          const target = document
            .elementFromPoint(e.clientX, e.clientY)
            ?.closest('[data-step]') as HTMLElement | null;
          const to = target?.dataset.step;
          if (to && to !== from) {
            onConnect(from, to);
          }
        };
        document.addEventListener('pointerup', up, true);
      }
    : undefined;
  if (!steps.length) {
    return <div className="jp-MlShip-empty">{trans.__('No steps.')}</div>;
  }
  const edgeClass = (from: string): string => {
    if (props.cycle) {
      return 'jp-MlShip-graphEdge jp-MlShip-graphEdge-cycle';
    }
    const status = byId.get(from)?.status;
    return `jp-MlShip-graphEdge${status ? ` jp-MlShip-graphEdge-${status}` : ''}`;
  };
  return (
    <GraphViewport width={layout.width} height={layout.height} shape={shape}>
    <div className="jp-MlShip-graphSizer" style={{ width: layout.width, height: layout.height }}>
      <div
        className="jp-MlShip-graph"
        style={{ width: layout.width, height: layout.height }}
        data-steps={steps.length}
        data-connecting={connecting ?? undefined}
      >
        <svg
          className="jp-MlShip-graphEdges"
          width={layout.width}
          height={layout.height}
          aria-hidden="true"
        >
          <defs>
            <marker
              id={marker}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0L10,5L0,10z" className="jp-MlShip-graphArrow" />
            </marker>
          </defs>
          {layout.edges.map(e => (
            <path
              key={`${e.from}->${e.to}`}
              d={e.d}
              className={edgeClass(e.from)}
              data-edge={`${e.from}->${e.to}`}
              markerEnd={`url(#${marker})`}
            />
          ))}
        </svg>
        {layout.nodes.map(box => (
          <StepNode
            key={box.id}
            step={byId.get(box.id)!}
            box={box}
            onOpen={props.onOpenStep}
            inCycle={!!props.cycle}
            bad={props.badSteps?.has(box.id)}
            selected={props.selected === box.id}
            onSelect={props.onSelectStep}
            onStartConnect={startConnect}
          />
        ))}
      </div>
    </div>
    </GraphViewport>
  );
}
