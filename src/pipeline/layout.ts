/**
 * Automatic layout of a pipeline graph with dagre (layered, left to right): a box per step,
 * an edge per `depends_on`, routed around the boxes. Pure: no DOM, tested with Jest.
 */
import { graphlib, layout } from '@dagrejs/dagre';

export interface IPoint {
  x: number;
  y: number;
}

/** What the layout needs of a step. */
export interface ILayoutStep {
  id: string;
  depends_on: readonly string[];
  /** the second line of the box (job and version), to size it */
  subtitle?: string;
  /** more lines below (recorded outputs), each `LINE_HEIGHT` taller */
  lines?: number;
}

/** The height a box grows by per extra line. */
export const LINE_HEIGHT = 17;

/** A step's box; `x`, `y` is its top-left corner. */
export interface INodeBox {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IEdgePath {
  /** the upstream step */
  from: string;
  /** the step that depends on it */
  to: string;
  points: IPoint[];
  /** the SVG path through the points (a smooth curve) */
  d: string;
}

export interface IGraphLayout {
  nodes: INodeBox[];
  edges: IEdgePath[];
  width: number;
  height: number;
  /** `depends_on` names that are no step of the graph (drawn as no edge) */
  missing: string[];
}

export interface ILayoutOptions {
  direction?: 'LR' | 'TB';
  /** box height */
  nodeHeight?: number;
  /** space around the drawing */
  margin?: number;
}

const CHAR_WIDTH = 7.4;
const MIN_WIDTH = 168;
const MAX_WIDTH = 300;

/** A box wide enough for the step's id and subtitle (estimated, not measured). */
export function nodeWidth(step: ILayoutStep): number {
  const chars = Math.max(step.id.length * 1.1, (step.subtitle ?? '').length, 12);
  return Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, chars * CHAR_WIDTH + 36)));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** A smooth SVG path through points (Catmull-Rom turned into cubic Béziers). */
export function smoothPath(points: readonly IPoint[]): string {
  if (!points.length) {
    return '';
  }
  const p = points.map(pt => ({ x: round(pt.x), y: round(pt.y) }));
  let d = `M${p[0].x},${p[0].y}`;
  if (p.length === 2) {
    return `${d}L${p[1].x},${p[1].y}`;
  }
  for (let i = 0; i < p.length - 1; i++) {
    const p0 = p[Math.max(0, i - 1)];
    const p1 = p[i];
    const p2 = p[i + 1];
    const p3 = p[Math.min(p.length - 1, i + 2)];
    const c1 = { x: round(p1.x + (p2.x - p0.x) / 6), y: round(p1.y + (p2.y - p0.y) / 6) };
    const c2 = { x: round(p2.x - (p3.x - p1.x) / 6), y: round(p2.y - (p3.y - p1.y) / 6) };
    d += `C${c1.x},${c1.y} ${c2.x},${c2.y} ${p2.x},${p2.y}`;
  }
  return d;
}

/** Lay out steps as a layered graph: upstream steps left (or above) of their dependents. */
export function layoutGraph(
  steps: readonly ILayoutStep[],
  options: ILayoutOptions = {}
): IGraphLayout {
  const height = options.nodeHeight ?? 72;
  const margin = options.margin ?? 16;
  const g = new graphlib.Graph({ multigraph: false });
  g.setGraph({
    rankdir: options.direction ?? 'LR',
    nodesep: 28,
    ranksep: 64,
    edgesep: 16,
    marginx: margin,
    marginy: margin
  });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(steps.map(s => s.id));
  for (const step of steps) {
    g.setNode(step.id, { width: nodeWidth(step), height: height + (step.lines ?? 0) * LINE_HEIGHT });
  }
  const missing: string[] = [];
  for (const step of steps) {
    for (const upstream of step.depends_on) {
      if (!ids.has(upstream)) {
        missing.push(upstream);
      } else if (upstream !== step.id) {
        g.setEdge(upstream, step.id);
      }
    }
  }
  if (steps.length) {
    layout(g);
  }
  const nodes = steps.map(step => {
    const n = g.node(step.id);
    return {
      id: step.id,
      x: round(n.x! - n.width / 2),
      y: round(n.y! - n.height / 2),
      width: n.width,
      height: n.height
    };
  });
  const edges = g.edges().map(e => {
    const points = (g.edge(e).points ?? []) as IPoint[];
    return { from: e.v, to: e.w, points, d: smoothPath(points) };
  });
  const graph = g.graph();
  return {
    nodes,
    edges,
    width: steps.length ? Math.ceil(graph.width ?? 0) : 0,
    height: steps.length ? Math.ceil(graph.height ?? 0) : 0,
    missing: [...new Set(missing)]
  };
}

/** How a graph is shown in its pane: scaled by `k`, then moved by `x`, `y` (pixels). */
export interface IViewTransform {
  k: number;
  x: number;
  y: number;
}

export const MIN_ZOOM = 0.2;
export const MAX_ZOOM = 3;

const clampZoom = (k: number) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));

/** The transform that shows the whole graph in the pane, centred, never enlarged past 100%. */
export function fitTransform(
  content: { width: number; height: number },
  pane: { width: number; height: number },
  margin = 16
): IViewTransform {
  const k = clampZoom(
    Math.min(
      1,
      (pane.width - 2 * margin) / Math.max(1, content.width),
      (pane.height - 2 * margin) / Math.max(1, content.height)
    )
  );
  return {
    k,
    x: Math.round((pane.width - content.width * k) / 2),
    y: Math.round(Math.max(margin, (pane.height - content.height * k) / 2))
  };
}

/** Zoom by `factor` keeping the pane's point (`px`, `py`) where it is (the pointer, the centre). */
export function zoomAt(t: IViewTransform, factor: number, px: number, py: number): IViewTransform {
  const k = clampZoom(t.k * factor);
  const r = k / t.k;
  return { k, x: px - (px - t.x) * r, y: py - (py - t.y) * r };
}

/** Whether the whole graph is inside the pane as it is shown. */
export function isInView(
  t: IViewTransform,
  content: { width: number; height: number },
  pane: { width: number; height: number }
): boolean {
  return (
    t.x >= -1 &&
    t.y >= -1 &&
    t.x + content.width * t.k <= pane.width + 1 &&
    t.y + content.height * t.k <= pane.height + 1
  );
}
