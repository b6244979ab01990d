/**
 * The Compare view (a main-area tab): two versions of a job side by side. Its header picks the
 * versions and sums up; then the project files added, removed and changed, with their sizes;
 * then the notebook's diff, rendered by nbdime (or as text, by choice or when nbdime fails).
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import type { CodeEditor } from '@jupyterlab/codeeditor';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { refreshIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { Signal, type ISignal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';
import * as React from 'react';

import { errorMessage, type MlShipClient } from '../api/client';
import type { IVersionDiff, IVersionInfo } from '../api/types';
import { cellChanges, cellChangesText, diffLines, fileChangeRows } from '../core/diff';
import { formatBytes } from '../core/files';
import { compareIcon } from '../core/icons';
import { createNotebookDiff } from '../core/nbdiff';
import { Notice } from './common';
import { getTrans, useTrans } from '../core/i18n';

export interface ICompareDeps {
  client: MlShipClient;
  /** the app's rendermime (none: the notebook diff is shown as text) */
  rendermime: IRenderMimeRegistry | null;
  editorFactory?: CodeEditor.Factory;
  /** the MIME type of a kernel language (the app's editor MIME type service) */
  mimeTypeOf?: (language: string) => string;
}

type Mode = 'rendered' | 'text';

interface IState {
  a: number;
  /** null: the current version */
  b: number | null;
  versions: IVersionInfo[];
  diff: IVersionDiff | null;
  loading: boolean;
  error: string | null;
  mode: Mode;
  hideUnchanged: boolean;
  /** why nbdime could not render the diff, if it could not */
  renderError: string | null;
  rendering: boolean;
}

function versionLabel(v: IVersionInfo): string {
  const message = v.message ? ` — ${v.message.length > 40 ? v.message.slice(0, 39) + '…' : v.message}` : '';
  return `v${v.number}${v.is_current ? ' (current)' : ''}${message}`;
}

function VersionPicker(props: {
  label: string;
  value: number;
  versions: IVersionInfo[];
  onChange: (n: number) => void;
}): JSX.Element {
  const trans = useTrans();
  return (
    <label className="jp-MlShip-comparePick">
      <span className="jp-MlShip-muted">{props.label}</span>
      <select
        className="jp-mod-styled"
        value={props.value}
        aria-label={trans.__('Version %1', props.label)}
        onChange={e => props.onChange(Number(e.currentTarget.value))}
      >
        {props.versions.map(v => (
          <option key={v.number} value={v.number}>
            {versionLabel(v)}
          </option>
        ))}
        {!props.versions.some(v => v.number === props.value) && (
          <option value={props.value}>v{props.value}</option>
        )}
      </select>
    </label>
  );
}

function FilesTable(props: { diff: IVersionDiff }): JSX.Element {
  const trans = useTrans();
  const rows = fileChangeRows(props.diff);
  return (
    <section className="jp-MlShip-compareFiles">
      <h3>{trans.__('Project files')}</h3>
      {rows.length === 0 ? (
        <div className="jp-MlShip-muted">{trans.__('The same files in both versions.')}</div>
      ) : (
        <table className="jp-MlShip-changes">
          <thead>
            <tr>
              <th scope="col">{trans.__('change')}</th>
              <th scope="col">{trans.__('file')}</th>
              <th scope="col" className="jp-MlShip-num">v{props.diff.a}</th>
              <th scope="col" className="jp-MlShip-num">v{props.diff.b}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(row => (
              <tr key={row.path} data-change={row.kind} data-file={row.path}>
                <td>
                  <span className={`jp-MlShip-change jp-MlShip-change-${row.kind}`}>{row.kind}</span>
                </td>
                <td>
                  <code>{row.path}</code>
                </td>
                <td className="jp-MlShip-num">{row.sizeA === null ? '—' : formatBytes(row.sizeA)}</td>
                <td className="jp-MlShip-num">{row.sizeB === null ? '—' : formatBytes(row.sizeB)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The settings (metadata.ml_ship: root, schedule, backend…) that differ from a to b. */
export function configChanges(
  a: Record<string, unknown> | undefined,
  b: Record<string, unknown> | undefined
): { key: string; a: unknown; b: unknown }[] {
  const before = a ?? {};
  const after = b ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .sort()
    .filter(key => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map(key => ({ key, a: before[key], b: after[key] }));
}

function shownValue(value: unknown): string {
  return value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value);
}

function ConfigTable(props: { diff: IVersionDiff; versions: IVersionInfo[] }): JSX.Element | null {
  const trans = useTrans();
  const { diff, versions } = props;
  const va = versions.find(v => v.number === diff.a);
  const vb = versions.find(v => v.number === diff.b);
  if (!va || !vb) {
    return null;
  }
  const rows = configChanges(va.config, vb.config);
  return (
    <section className="jp-MlShip-compareConfig">
      <h3>{trans.__('Settings')}</h3>
      {rows.length === 0 ? (
        <div className="jp-MlShip-muted">{trans.__('The same settings in both versions.')}</div>
      ) : (
        <table className="jp-MlShip-changes">
          <thead>
            <tr>
              <th scope="col">{trans.__('setting')}</th>
              <th scope="col">v{diff.a}</th>
              <th scope="col">v{diff.b}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(row => (
              <tr key={row.key} data-setting={row.key}>
                <td>
                  <code>{row.key}</code>
                </td>
                <td>
                  <code>{shownValue(row.a)}</code>
                </td>
                <td>
                  <code>{shownValue(row.b)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The text diff, its added and removed lines coloured. */
export function TextDiff(props: { text: string }): JSX.Element {
  const trans = useTrans();
  const lines = diffLines(props.text);
  if (!lines.length) {
    return <div className="jp-MlShip-muted">{trans.__('No differences in the notebook’s sources.')}</div>;
  }
  return (
    <pre className="jp-MlShip-textDiff">
      {lines.map((line, i) => (
        <div key={i} className={`jp-MlShip-diffLine jp-MlShip-diffLine-${line.kind}`}>
          {line.text || ' '}
        </div>
      ))}
    </pre>
  );
}

function CompareHeader(props: {
  state: IState;
  job: string;
  onPick: (a: number, b: number) => void;
  onMode: (mode: Mode) => void;
  onHideUnchanged: (hide: boolean) => void;
}): JSX.Element {
  const trans = useTrans();
  const { state } = props;
  const { diff } = state;
  const b = diff?.b ?? state.b ?? state.versions.find(v => v.is_current)?.number ?? state.a;
  const cells = diff ? cellChanges(diff.notebook_diff) : null;
  return (
    <div className="jp-MlShip-compareHeader" data-a={diff?.a ?? ''} data-b={diff?.b ?? ''}>
      <div className="jp-MlShip-compareTitle">
        <compareIcon.react tag="span" className="jp-MlShip-compareIcon" />
        <span className="jp-MlShip-item-title">{props.job}</span>
        <VersionPicker label="from" value={state.a} versions={state.versions} onChange={a => props.onPick(a, b)} />
        <span className="jp-MlShip-muted">→</span>
        <VersionPicker label="to" value={b} versions={state.versions} onChange={n => props.onPick(state.a, n)} />
      </div>
      {state.error && <Notice kind="error">{state.error}</Notice>}
      {state.loading && !diff && <div className="jp-MlShip-muted">{trans.__('Comparing…')}</div>}
      {diff && (
        <>
          <ConfigTable diff={diff} versions={state.versions} />
          <FilesTable diff={diff} />
          <div className="jp-MlShip-compareNotebookBar">
            <h3>{trans.__('Notebook')}</h3>
            <span className="jp-MlShip-muted" data-cells>
              {cells && cellChangesText(cells)}
            </span>
            <span className="jp-MlShip-grow" />
            {diff.notebook_diff.length > 0 && (
              <>
                <label className="jp-MlShip-check" title={trans.__('Show only the cells that changed')}>
                  <input
                    type="checkbox"
                    checked={state.hideUnchanged}
                    disabled={state.mode !== 'rendered'}
                    onChange={e => props.onHideUnchanged(e.currentTarget.checked)}
                  />
                  {trans.__('Hide unchanged cells')}
                </label>
                <div className="jp-MlShip-segmented" role="group" aria-label={trans.__('Diff view')}>
                  {(['rendered', 'text'] as const).map(mode => (
                    <button
                      key={mode}
                      className={state.mode === mode ? 'jp-mod-active' : ''}
                      aria-pressed={state.mode === mode}
                      disabled={mode === 'rendered' && !!state.renderError}
                      onClick={() => props.onMode(mode)}
                    >
                      {mode === 'rendered' ? trans.__('Cells') : trans.__('Text')}
                    </button>
                  ))}
                </div>
              </>
            )}
          </div>
          {state.renderError && (
            <Notice kind="warning">
              {trans.__('The cell view is not available (')}{state.renderError}{trans.__('): the text diff is shown.')}
            </Notice>
          )}
          {state.rendering && <div className="jp-MlShip-muted">{trans.__('Rendering the notebook diff…')}</div>}
          {(state.mode === 'text' || diff.notebook_diff.length === 0) && (
            <TextDiff text={diff.notebook_diff.length ? diff.notebook_text : ''} />
          )}
        </>
      )}
    </div>
  );
}

/** The view's content: the React header and the nbdime widget under it. */
export class CompareContent extends Panel {
  readonly job: string;
  private _state: IState;
  private readonly _header: ReactWidget;
  private readonly _host = new Panel();
  private _nbdiff: Widget | null = null;
  private _ask = 0;
  private _diffChanged = new Signal<this, IVersionDiff>(this);

  constructor(
    private readonly _deps: ICompareDeps,
    options: { job: string; a: number; b: number | null }
  ) {
    super();
    this.job = options.job;
    this.addClass('jp-MlShip-compare');
    this._state = {
      a: options.a,
      b: options.b,
      versions: [],
      diff: null,
      loading: true,
      error: null,
      mode: _deps.rendermime ? 'rendered' : 'text',
      hideUnchanged: false,
      renderError: _deps.rendermime ? null : 'no rendermime',
      rendering: false
    };
    this._header = new CompareHeaderWidget(this);
    this._host.addClass('jp-MlShip-compareNotebook');
    this.addWidget(this._header);
    this.addWidget(this._host);
    void this.load();
  }

  get state(): IState {
    return this._state;
  }

  /** The versions compared, as the server resolved them (`b` may have been "current"). */
  get pair(): [number, number | null] {
    return [this._state.diff?.a ?? this._state.a, this._state.diff?.b ?? this._state.b];
  }

  setState(change: Partial<IState>): void {
    this._state = { ...this._state, ...change };
    this.toggleClass('jp-mod-hideUnchanged', this._state.hideUnchanged);
    this._host.setHidden(this._state.mode !== 'rendered' || !this._nbdiff);
    this._header.update();
  }

  pick(a: number, b: number | null): void {
    this.setState({ a, b });
    void this.load();
  }

  async load(): Promise<void> {
    const ask = ++this._ask;
    const { a, b } = this._state;
    this.setState({ loading: true, error: null });
    try {
      const [diff, versions] = await Promise.all([
        this._deps.client.diff(this.job, a, b),
        this._deps.client.versions(this.job).catch(() => this._state.versions)
      ]);
      if (ask !== this._ask) {
        return;
      }
      this.setState({ diff, versions, loading: false });
      this._diffChanged.emit(diff);
      await this._render(diff, ask);
    } catch (error) {
      if (ask === this._ask) {
        this.setState({ loading: false, error: errorMessage(error) });
      }
    }
  }

  /** A new diff arrived (the widget's title follows it). */
  get diffChanged(): ISignal<this, IVersionDiff> {
    return this._diffChanged;
  }

  private async _render(diff: IVersionDiff, ask: number): Promise<void> {
    this._nbdiff?.dispose();
    this._nbdiff = null;
    const { rendermime, editorFactory, mimeTypeOf } = this._deps;
    if (!rendermime || !diff.notebook_diff.length || this._state.renderError) {
      this.setState({});
      return;
    }
    this.setState({ rendering: true });
    try {
      const widget = await createNotebookDiff({
        base: diff.notebook_a,
        diff: diff.notebook_diff,
        rendermime,
        editorFactory,
        mimeTypeOf
      });
      if (ask !== this._ask) {
        widget.dispose();
        return;
      }
      this._nbdiff = widget;
      this._host.addWidget(widget);
      this.setState({ rendering: false });
    } catch (error) {
      console.error('jupyter-ml-ship: nbdime cannot render the diff', error);
      this.setState({ rendering: false, renderError: errorMessage(error), mode: 'text' });
    }
  }
}

/** The header, rendered anew from the content's state on each update. */
class CompareHeaderWidget extends ReactWidget {
  constructor(private readonly _content: CompareContent) {
    super();
  }

  protected render(): JSX.Element {
    const content = this._content;
    return (
      <CompareHeader
        state={content.state}
        job={content.job}
        onPick={(a, b) => content.pick(a, b)}
        onMode={mode => content.setState({ mode })}
        onHideUnchanged={hideUnchanged => content.setState({ hideUnchanged })}
      />
    );
  }
}

export type CompareView = MainAreaWidget<CompareContent>;

/** A main-area widget comparing version `a` of a job with `b` (null: the current one). */
export function createCompareView(
  deps: ICompareDeps,
  job: string,
  a: number,
  b: number | null
): CompareView {
  const trans = getTrans();
  const content = new CompareContent(deps, { job, a, b });
  const widget = new MainAreaWidget({ content });
  const title = () => {
    const [x, y] = content.pair;
    widget.title.label = `${job}: v${x} ↔ ${y === null ? 'current' : `v${y}`}`;
    widget.title.caption = trans.__('Compare version %1 of %2 with %3', x, job, y === null ? trans.__('the current version') : trans.__('version %1', y));
  };
  title();
  content.diffChanged.connect(title);
  widget.id = `jp-MlShip-compare-${job}-${Date.now()}`;
  widget.title.icon = compareIcon;
  widget.title.closable = true;
  widget.addClass('jp-MlShip-compareWidget');
  widget.toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      tooltip: trans.__('Compare again (the current version may have moved)'),
      onClick: () => void content.load()
    })
  );
  return widget;
}
