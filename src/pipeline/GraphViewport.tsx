/**
 * The pane a pipeline graph is shown in: fit to view, zoom and pan with the mouse (wheel over
 * the graph zooms around the pointer, a drag on the background pans) and with buttons (−, +,
 * Fit, 100%). The graph is fitted when first drawn and when the pane resizes (unless the user
 * zoomed or panned since), and again whenever it changes so that it would leave the pane (a new
 * step always appears in view).
 */
import * as React from 'react';

import { useTrans } from '../core/i18n';
import { fitTransform, isInView, zoomAt, type IViewTransform } from './layout';

const STEP = 1.25;

export function GraphViewport(props: {
  width: number;
  height: number;
  /** changes when the graph's steps or edges do */
  shape: string;
  children: React.ReactNode;
}): JSX.Element {
  const trans = useTrans();
  const pane = React.useRef<HTMLDivElement>(null);
  const [t, setT] = React.useState<IViewTransform>({ k: 1, x: 0, y: 16 });
  const tRef = React.useRef(t);
  tRef.current = t;
  const content = { width: props.width, height: props.height };
  const size = () => ({
    width: pane.current?.clientWidth ?? props.width,
    height: pane.current?.clientHeight ?? props.height
  });
  /** not fitted yet (the pane had no size: a hidden tab) */
  const first = React.useRef(true);
  /** the user zoomed or panned since the last fit: a resize keeps their view */
  const moved = React.useRef(false);
  const fit = () => {
    moved.current = false;
    setT(fitTransform(content, size()));
  };

  // first drawn, and the graph changed: keep all of it in view
  React.useLayoutEffect(() => {
    const now = size();
    if (!now.width || !now.height) {
      return;
    }
    if (first.current || !isInView(tRef.current, content, now)) {
      first.current = false;
      moved.current = false;
      setT(fitTransform(content, now));
    }
  }, [props.shape, props.width, props.height]); // eslint-disable-line react-hooks/exhaustive-deps

  // the pane resized (a split, the window): fitted again, unless the user zoomed or panned
  const contentRef = React.useRef(content);
  contentRef.current = content;
  React.useEffect(() => {
    const node = pane.current;
    if (!node || typeof ResizeObserver === 'undefined') {
      return;
    }
    let last = `${node.clientWidth}x${node.clientHeight}`;
    const observer = new ResizeObserver(() => {
      const now = size();
      const key = `${now.width}x${now.height}`;
      if (key === last || !now.width || !now.height) {
        return; // the first report, or no change
      }
      last = key;
      if (first.current || !moved.current) {
        first.current = false;
        setT(fitTransform(contentRef.current, now));
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  // the wheel zooms around the pointer (a listener that may prevent the page's scroll)
  React.useEffect(() => {
    const node = pane.current;
    if (!node) {
      return;
    }
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = node.getBoundingClientRect();
      const factor = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
      moved.current = true;
      setT(zoomAt(tRef.current, factor, e.clientX - rect.left, e.clientY - rect.top));
    };
    node.addEventListener('wheel', wheel, { passive: false });
    return () => node.removeEventListener('wheel', wheel);
  }, []);

  // a drag on the background pans
  const onPointerDown = (e: React.PointerEvent) => {
    const target = e.target as HTMLElement;
    if (e.button !== 0 || target.closest('[data-step], button, input, select, textarea')) {
      return;
    }
    const start = { x: e.clientX, y: e.clientY, t: tRef.current };
    const node = pane.current!;
    node.setPointerCapture?.(e.pointerId);
    node.dataset.panning = 'true';
    moved.current = true;
    const move = (m: PointerEvent) =>
      setT({ ...start.t, x: start.t.x + m.clientX - start.x, y: start.t.y + m.clientY - start.y });
    const up = () => {
      delete node.dataset.panning;
      node.removeEventListener('pointermove', move);
      node.removeEventListener('pointerup', up);
      node.removeEventListener('pointercancel', up);
    };
    node.addEventListener('pointermove', move);
    node.addEventListener('pointerup', up);
    node.addEventListener('pointercancel', up);
  };

  const zoomBy = (factor: number) => {
    const now = size();
    moved.current = true;
    setT(zoomAt(tRef.current, factor, now.width / 2, now.height / 2));
  };
  return (
    <div
      className="jp-MlShip-graphViewport"
      ref={pane}
      style={{ height: `min(${props.height + 48}px, 70vh)` }}
      data-zoom={t.k.toFixed(2)}
      onPointerDown={onPointerDown}
    >
      <div className="jp-MlShip-graphControls" role="toolbar" aria-label={trans.__('Zoom')}>
        <button className="jp-Button jp-mod-minimal jp-mod-styled" title={trans.__('Zoom out')} aria-label={trans.__('Zoom out')} onClick={() => zoomBy(1 / STEP)}>
          −
        </button>
        <span className="jp-MlShip-graphZoom" aria-live="polite">
          {Math.round(t.k * 100)}%
        </span>
        <button className="jp-Button jp-mod-minimal jp-mod-styled" title={trans.__('Zoom in')} aria-label={trans.__('Zoom in')} onClick={() => zoomBy(STEP)}>
          +
        </button>
        <button className="jp-Button jp-mod-minimal jp-mod-styled" title={trans.__('Fit the graph to the view')} onClick={fit}>
          {trans.__('Fit')}
        </button>
        <button
          className="jp-Button jp-mod-minimal jp-mod-styled"
          title={trans.__('Actual size')}
          onClick={() => zoomBy(1 / tRef.current.k)}
        >
          100%
        </button>
      </div>
      <div
        className="jp-MlShip-graphStage"
        style={{ transform: `translate(${t.x}px, ${t.y}px) scale(${t.k})`, width: props.width, height: props.height }}
      >
        {props.children}
      </div>
    </div>
  );
}
