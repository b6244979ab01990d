/**
 * One checked output of a job over its recent runs (the Health tab): a point per run, red where
 * a check failed, with the bound drawn: min / max as flat dashed lines, max_drop / max_rise as
 * a dashed line through each run's baseline minus (plus) the allowed change. Chart.js themed
 * from JupyterLab's CSS variables like RunsChart (re-themed when the theme changes).
 */
import {
  Chart,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartDataset,
  type ScatterDataPoint
} from 'chart.js';
import * as React from 'react';

import type { IHealthPoint, IOutputHealth } from '../api/types';
import { shortId } from '../core/format';
import { ruleBounds } from '../core/health';
import { chartLook, cssVar, timeAxis, useThemeChanges } from './RunsChart';
import { getTrans, useTrans } from '../core/i18n';

Chart.register(ScatterController, PointElement, LineElement, LinearScale, Tooltip, Legend);

interface IPoint extends ScatterDataPoint {
  point?: IHealthPoint;
}

/** The datasets of one output: its values, then one line per bound. */
export function healthDatasets(
  output: IOutputHealth,
  colors: { value: string; failed: string; bound: string }
): ChartDataset<'scatter', IPoint[]>[] {
  const trans = getTrans();
  const points = output.points.filter(p => p.value !== null && p.at);
  const data: IPoint[] = points.map(p => ({ x: Date.parse(p.at!), y: p.value!, point: p }));
  const datasets: ChartDataset<'scatter', IPoint[]>[] = [
    {
      label: output.name,
      data,
      showLine: true,
      borderColor: colors.value,
      borderWidth: 1,
      backgroundColor: data.map(p => (p.point?.passed ? colors.value : colors.failed)),
      pointBorderColor: data.map(p => (p.point?.passed ? colors.value : colors.failed)),
      pointRadius: data.map(p => (p.point?.passed ? 3.5 : 5)),
      pointStyle: data.map(p => (p.point?.passed ? 'circle' : 'crossRot')),
      pointBorderWidth: data.map(p => (p.point?.passed ? 1 : 2.5)),
      pointHoverRadius: 7
    }
  ];
  if (!data.length) {
    return datasets;
  }
  const xs = data.map(p => Number(p.x));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const line = (label: string, values: IPoint[]): ChartDataset<'scatter', IPoint[]> => ({
    label,
    data: values,
    showLine: true,
    borderColor: colors.bound,
    backgroundColor: colors.bound,
    borderDash: [6, 4],
    borderWidth: 1.5,
    pointRadius: 0,
    pointHoverRadius: 0,
    pointHitRadius: 0
  });
  for (const bound of ruleBounds(output.rules)) {
    datasets.push(line(`${bound.label} ${bound.value}`, [{ x: x0, y: bound.value }, { x: x1, y: bound.value }]));
  }
  for (const [rule, sign] of [['max_drop', -1], ['max_rise', 1]] as const) {
    const allowed = output.rules[rule];
    if (typeof allowed !== 'number') {
      continue;
    }
    const along = data
      .filter(p => typeof p.point?.baseline === 'number')
      .map(p => ({ x: p.x, y: p.point!.baseline! + sign * allowed }));
    if (along.length) {
      datasets.push(line(trans.__('%1 %2 (from the baseline)', rule, allowed), along));
    }
  }
  return datasets;
}

export function HealthChart(props: { output: IOutputHealth; onOpenRun: (id: string) => void }): JSX.Element {
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
    const { output } = props;
    const datasets = healthDatasets(output, {
      value: cssVar('--jp-brand-color1', '#1976d2'),
      failed: cssVar('--jp-error-color1', '#d32f2f'),
      bound: cssVar('--jp-warn-color1', '#f57c00')
    });
    const xs = datasets[0].data.map(p => Number(p.x));
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
        color: text,
        scales: {
          x: timeAxis(xs, 6, look),
          y: { grid: { color: grid }, ticks: { color: text, font }, grace: '5%' }
        },
        plugins: {
          legend: { labels: { color: text, font, boxHeight: 2, boxWidth: 16 } },
          tooltip: {
            filter: item => item.datasetIndex === 0,
            callbacks: {
              label: ctx => {
                const p = (ctx.raw as IPoint).point!;
                const base = p.baseline !== null ? trans.__(' (baseline %1)', p.baseline) : '';
                return `#${shortId(p.run_id)} v${p.version}: ${p.value}${base}${p.passed ? '' : trans.__(' — check failed')}`;
              }
            }
          }
        },
        onHover: (event, elements) => {
          const target = event.native?.target as HTMLElement | undefined;
          if (target) {
            target.style.cursor = elements.some(e => e.datasetIndex === 0) ? 'pointer' : 'default';
          }
        },
        onClick: (_event, elements) => {
          const hit = elements.find(e => e.datasetIndex === 0);
          if (hit) {
            const point = chart.current!.data.datasets[0].data[hit.index] as IPoint;
            if (point.point) {
              open.current(point.point.run_id);
            }
          }
        }
      }
    });
    (canvas.current as HTMLCanvasElement & { mlShipChart?: unknown }).mlShipChart = chart.current;
  }, [props.output, theme]);

  React.useEffect(() => () => chart.current?.destroy(), []);

  return (
    <div className="jp-MlShip-healthChart" data-output={props.output.name}>
      <canvas ref={canvas} aria-label={trans.__('Chart of %1 over runs, with its bounds', props.output.name)} />
    </div>
  );
}
