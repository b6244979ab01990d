/**
 * A numeric output (or the duration) of a job's runs over time, one colour per version, the
 * current version drawn larger and named in the legend; a click on a point opens that run.
 * Chart.js, themed from JupyterLab's CSS variables (re-themed when the theme changes).
 */
import {
  Chart,
  Legend,
  LinearScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartDataset,
  type ScatterDataPoint
} from 'chart.js';
import * as React from 'react';

import type { IHistoryRow, IRunHistory } from '../api/types';
import { formatDuration, shortId } from '../core/format';
import { dateLocale, useTrans } from '../core/i18n';

Chart.register(ScatterController, PointElement, LinearScale, Tooltip, Legend);

/** JupyterLab-ish categorical colours (readable on light and dark backgrounds). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
  '#17becf', '#bcbd22', '#7f7f7f'];

export const DURATION = '__duration__';

interface IPoint extends ScatterDataPoint {
  run: IHistoryRow;
}

export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

export function metricOf(run: IHistoryRow, metric: string): number | null {
  const value = metric === DURATION ? run.duration : run.outputs[metric];
  return typeof value === 'number' && isFinite(value) ? value : null;
}

/** A time axis label: the time of day within two days, else the date. */
export function tickLabel(ms: number, span: number): string {
  const at = new Date(ms);
  if (span < 2 * 86400_000) {
    return at.toLocaleTimeString(dateLocale(), { hour: '2-digit', minute: '2-digit', second: span < 600_000 ? '2-digit' : undefined });
  }
  return at.toLocaleDateString(dateLocale(), { month: 'short', day: 'numeric' });
}

/** The lab theme's text and grid colours and font for a chart, read at each drawing. */
export interface IChartLook {
  text: string;
  grid: string;
  font: { family: string; size: number };
}

export function chartLook(): IChartLook {
  return {
    text: cssVar('--jp-ui-font-color1', '#333'),
    grid: cssVar('--jp-border-color2', '#ddd'),
    font: { family: cssVar('--jp-ui-font-family', 'sans-serif'), size: 11 }
  };
}

/** A chart's x axis of times (ms since the epoch), labelled by `tickLabel` for the span of `xs`. */
export function timeAxis(xs: number[], maxTicksLimit: number, look: IChartLook) {
  const span = xs.length ? Math.max(...xs) - Math.min(...xs) : 0;
  return {
    type: 'linear' as const,
    grid: { color: look.grid },
    ticks: {
      color: look.text,
      font: look.font,
      maxTicksLimit,
      callback: (value: string | number) => tickLabel(Number(value), span)
    }
  };
}

export function versionColor(version: number): string {
  return PALETTE[(version - 1) % PALETTE.length];
}

/** A counter that moves when the lab's theme changes (its CSS variables swap: a chart that read
 * them depends on it, to draw itself again in the new colours). */
export function useThemeChanges(): number {
  const [theme, setTheme] = React.useState(0);
  React.useEffect(() => {
    const observer = new MutationObserver(() => setTheme(t => t + 1));
    observer.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light'] });
    return () => observer.disconnect();
  }, []);
  return theme;
}

export interface IRunsChartProps {
  history: IRunHistory;
  runs: readonly IHistoryRow[];
  metric: string;
  onOpenRun: (id: string) => void;
}

export function RunsChart(props: IRunsChartProps): JSX.Element {
  const trans = useTrans();
  const canvas = React.useRef<HTMLCanvasElement>(null);
  const chart = React.useRef<Chart<'scatter', IPoint[]> | null>(null);
  const theme = useThemeChanges();
  const open = React.useRef(props.onOpenRun);
  open.current = props.onOpenRun;

  React.useEffect(() => {
    if (!canvas.current) {
      return;
    }
    const { history, metric } = props;
    const byVersion = new Map<number, IPoint[]>();
    for (const run of props.runs) {
      const y = metricOf(run, metric);
      const at = run.started_at ?? run.created_at;
      if (y === null || !at) {
        continue;
      }
      const points = byVersion.get(run.version) ?? [];
      points.push({ x: Date.parse(at), y, run });
      byVersion.set(run.version, points);
    }
    const current = history.current_version;
    const datasets: ChartDataset<'scatter', IPoint[]>[] = [...byVersion.keys()]
      .sort((a, b) => a - b)
      .map(version => {
        const isCurrent = version === current;
        const color = versionColor(version);
        return {
          label: `v${version}${isCurrent ? ' (current)' : ''}`,
          data: byVersion.get(version)!,
          backgroundColor: color,
          borderColor: isCurrent ? cssVar('--jp-ui-font-color0', '#000') : color,
          borderWidth: isCurrent ? 1.5 : 0,
          pointRadius: isCurrent ? 5 : 3.5,
          pointHoverRadius: 7,
          pointStyle: isCurrent ? 'rectRot' : 'circle'
        };
      });
    const xs = datasets.flatMap(d => d.data.map(p => Number(p.x)));
    const look = chartLook();
    const { text, grid, font } = look;
    chart.current?.destroy();
    chart.current = new Chart<'scatter', IPoint[]>(canvas.current, {
      type: 'scatter',
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        color: text,
        scales: {
          x: timeAxis(xs, 8, look),
          y: {
            grid: { color: grid },
            ticks: { color: text, font },
            title: { display: true, text: metric === DURATION ? trans.__('duration (s)') : metric, color: text, font }
          }
        },
        plugins: {
          legend: { labels: { color: text, font, usePointStyle: true, boxHeight: 6 } },
          tooltip: {
            callbacks: {
              label: ctx => {
                const point = ctx.raw as IPoint;
                const value = metric === DURATION ? formatDuration(point.y) : String(point.y);
                return `#${shortId(point.run.id)} v${point.run.version} ${point.run.status}: ${value}`;
              }
            }
          }
        },
        onHover: (event, elements) => {
          const target = event.native?.target as HTMLElement | undefined;
          if (target) {
            target.style.cursor = elements.length ? 'pointer' : 'default';
          }
        },
        onClick: (_event, elements) => {
          const hit = elements[0];
          if (hit) {
            const point = chart.current!.data.datasets[hit.datasetIndex].data[hit.index];
            open.current(point.run.id);
          }
        }
      }
    });
    // reachable from the page (debugging, browser tests): canvas.mlShipChart
    (canvas.current as HTMLCanvasElement & { mlShipChart?: unknown }).mlShipChart = chart.current;
  }, [props.history, props.runs, props.metric, theme]);

  React.useEffect(() => () => chart.current?.destroy(), []);

  return (
    <div className="jp-MlShip-runsChart" data-metric={props.metric}>
      <canvas ref={canvas} aria-label={trans.__('Chart of %1 over runs', props.metric === DURATION ? 'duration' : props.metric)} />
    </div>
  );
}
