import * as v8 from 'v8';

// dagre uses structuredClone: every browser JupyterLab 4 supports has it, jsdom does not
if (typeof globalThis.structuredClone !== 'function') {
  globalThis.structuredClone = ((value: unknown) =>
    v8.deserialize(v8.serialize(value))) as typeof structuredClone;
}

import { layoutGraph, nodeWidth, smoothPath, type INodeBox } from '../pipeline/layout';

const diamond = [
  { id: 'a', depends_on: [] },
  { id: 'b', depends_on: ['a'] },
  { id: 'c', depends_on: ['a'] },
  { id: 'd', depends_on: ['b', 'c'] }
];

function overlaps(p: INodeBox, q: INodeBox): boolean {
  return p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height;
}

function byId(nodes: INodeBox[]): Record<string, INodeBox> {
  return Object.fromEntries(nodes.map(n => [n.id, n]));
}

describe('layoutGraph', () => {
  it('places upstream steps left of their dependents and parallel steps in one column', () => {
    const layout = layoutGraph(diamond);
    const n = byId(layout.nodes);
    expect(n.a.x).toBeLessThan(n.b.x);
    expect(n.b.x).toBe(n.c.x);
    expect(n.b.y).not.toBe(n.c.y);
    expect(n.c.x).toBeLessThan(n.d.x);
    expect(layout.width).toBeGreaterThanOrEqual(n.d.x + n.d.width);
    expect(layout.height).toBeGreaterThanOrEqual(Math.max(n.b.y, n.c.y) + n.b.height);
  });

  it('draws one edge per dependency, from the upstream box to the dependent box', () => {
    const layout = layoutGraph(diamond);
    const n = byId(layout.nodes);
    expect(layout.edges.map(e => `${e.from}->${e.to}`).sort()).toEqual([
      'a->b',
      'a->c',
      'b->d',
      'c->d'
    ]);
    for (const edge of layout.edges) {
      const first = edge.points[0];
      const last = edge.points[edge.points.length - 1];
      // leaves the right side of the upstream box, enters the left side of the dependent
      expect(first.x).toBeCloseTo(n[edge.from].x + n[edge.from].width, 0);
      expect(last.x).toBeCloseTo(n[edge.to].x, 0);
      expect(edge.d.startsWith(`M${Math.round(first.x * 10) / 10},`)).toBe(true);
    }
  });

  it('never lets boxes overlap, also for a 20-step graph of width 4', () => {
    const steps = Array.from({ length: 20 }, (_, i) => ({
      id: `step-${i}`,
      depends_on: i < 4 ? [] : [`step-${i - 4}`, `step-${(i - 3) % 20}`].filter((_, k) => k === 0 || i % 4 !== 3)
    }));
    const layout = layoutGraph(steps);
    expect(layout.nodes).toHaveLength(20);
    for (const p of layout.nodes) {
      for (const q of layout.nodes) {
        if (p !== q) {
          expect(overlaps(p, q)).toBe(false);
        }
      }
    }
    const xs = new Set(layout.nodes.map(n => n.x));
    expect(xs.size).toBe(5); // five layers
  });

  it('lays out top to bottom on request', () => {
    const n = byId(layoutGraph(diamond, { direction: 'TB' }).nodes);
    expect(n.a.y).toBeLessThan(n.b.y);
    expect(n.b.y).toBeLessThan(n.d.y);
  });

  it('reports dependencies on steps that are not in the graph and draws no edge for them', () => {
    const layout = layoutGraph([{ id: 'a', depends_on: ['ghost'] }]);
    expect(layout.missing).toEqual(['ghost']);
    expect(layout.edges).toEqual([]);
    expect(layout.nodes).toHaveLength(1);
  });

  it('lays out a dependency cycle (to show it) without hanging', () => {
    const layout = layoutGraph([
      { id: 'a', depends_on: ['c'] },
      { id: 'b', depends_on: ['a'] },
      { id: 'c', depends_on: ['b'] }
    ]);
    expect(layout.nodes).toHaveLength(3);
    expect(layout.edges).toHaveLength(3);
  });

  it('is empty for no steps', () => {
    expect(layoutGraph([])).toEqual({ nodes: [], edges: [], width: 0, height: 0, missing: [] });
  });
});

describe('nodeWidth and smoothPath', () => {
  it('widens boxes for long names, within bounds', () => {
    const short = nodeWidth({ id: 'a', depends_on: [] });
    const long = nodeWidth({ id: 'a', depends_on: [], subtitle: 'a-rather-long-job-name v12' });
    expect(long).toBeGreaterThan(short);
    expect(nodeWidth({ id: 'x'.repeat(200), depends_on: [] })).toBe(300);
  });

  it('draws a line between two points and curves through more', () => {
    expect(smoothPath([{ x: 0, y: 0 }, { x: 10, y: 5 }])).toBe('M0,0L10,5');
    const d = smoothPath([{ x: 0, y: 0 }, { x: 10, y: 5 }, { x: 20, y: 0 }]);
    expect(d.startsWith('M0,0C')).toBe(true);
    expect(d.endsWith(' 20,0')).toBe(true);
    expect(smoothPath([])).toBe('');
  });
});

describe('the graph pane: fit, zoom, in view', () => {
  const { fitTransform, zoomAt, isInView } = jest.requireActual('../pipeline/layout');
  it('fits a wide graph into the pane, centred, and never enlarges a small one', () => {
    const wide = fitTransform({ width: 1600, height: 200 }, { width: 832, height: 400 }, 16);
    expect(wide.k).toBeCloseTo(0.5);
    expect(wide.x).toBe(16);
    expect(isInView(wide, { width: 1600, height: 200 }, { width: 832, height: 400 })).toBe(true);
    const small = fitTransform({ width: 200, height: 100 }, { width: 800, height: 400 });
    expect(small.k).toBe(1);
    expect(small.x).toBe(300);
  });

  it('zooms around a point, which stays where it is, within bounds', () => {
    const t = zoomAt({ k: 1, x: 10, y: 20 }, 2, 110, 120);
    expect(t).toEqual({ k: 2, x: -90, y: -80 });
    expect(zoomAt({ k: 1, x: 0, y: 0 }, 100, 0, 0).k).toBe(3);
    expect(zoomAt({ k: 1, x: 0, y: 0 }, 0.001, 0, 0).k).toBe(0.2);
    expect(isInView(t, { width: 100, height: 100 }, { width: 400, height: 400 })).toBe(false);
  });
});
