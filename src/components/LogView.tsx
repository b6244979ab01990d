/** A live log: styled lines in JupyterLab's output look, following the end unless scrolled up. */
import * as React from 'react';

import type { ILogLine, LogBuffer } from '../core/log';
import { useTrans } from '../core/i18n';

const LogLine = React.memo(function LogLine(props: { line: ILogLine }): JSX.Element {
  return (
    <span className="jp-MlShip-logLine">
      {props.line.segments.map((s, i) =>
        s.classes || s.style ? (
          <span key={i} className={s.classes || undefined} style={s.style}>
            {s.text}
          </span>
        ) : (
          <React.Fragment key={i}>{s.text}</React.Fragment>
        )
      )}
      {'\n'}
    </span>
  );
});

/** Lines rendered at a time. */
const WINDOW = 5000;

function formatChars(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`;
}

export function LogView(props: {
  buffer: LogBuffer;
  /** changes whenever the buffer grew, to re-render */
  revision: number;
  follow: boolean;
  onFollowChange: (follow: boolean) => void;
  placeholder: string;
  runId: string;
}): JSX.Element {
  const trans = useTrans();
  const ref = React.useRef<HTMLDivElement>(null);
  const { buffer, follow } = props;
  React.useLayoutEffect(() => {
    const node = ref.current;
    if (node && follow) {
      node.scrollTop = node.scrollHeight;
    }
  }, [props.revision, follow]);
  const onScroll = () => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const atEnd = node.scrollHeight - node.scrollTop - node.clientHeight < 24;
    if (atEnd !== follow) {
      props.onFollowChange(atEnd);
    }
  };
  // Only the last `shown` lines are in the DOM (a few thousand render at once while the log
  // streams); older kept lines come on demand.
  const [shown, setShown] = React.useState(WINDOW);
  const partial = buffer.partial;
  const empty = !buffer.lines.length && !partial;
  const hidden = Math.max(0, buffer.lines.length - shown);
  const lines = hidden ? buffer.lines.slice(hidden) : buffer.lines;
  return (
    <div className="jp-MlShip-logBox">
      {buffer.droppedChars > 0 && (
        <div className="jp-MlShip-logNotice" role="status">
          {trans.__('Showing the last')}{' '}{formatChars(buffer.size)}{' '}{trans.__('of the log;')}{' '}{formatChars(buffer.droppedChars)}{' '}
          {trans.__('before it are not kept in the lab. The full log:')}{' '}<code>{trans.__('ml-ship logs')}{' '}{props.runId}</code>.
        </div>
      )}
      <div
        className="jp-MlShip-log jp-RenderedText"
        data-mime-type="application/vnd.jupyter.stdout"
        ref={ref}
        onScroll={onScroll}
        tabIndex={0}
        aria-label={trans.__('Run log')}
      >
        {empty ? (
          <div className="jp-MlShip-muted jp-MlShip-logEmpty">{props.placeholder}</div>
        ) : (
          <pre>
            {hidden > 0 && (
              <button
                className="jp-Button jp-mod-styled jp-mod-reject jp-MlShip-logMore"
                onClick={() => {
                  props.onFollowChange(false);
                  setShown(shown + WINDOW);
                }}
              >
                {trans.__('Show')}{' '}{Math.min(hidden, WINDOW)}{' '}{trans.__('earlier lines (')}{hidden}{' '}{trans.__('not shown)')}
              </button>
            )}
            {lines.map(line => (
              <LogLine key={line.index} line={line} />
            ))}
            {partial && <LogLine key={`p${partial.index}`} line={partial} />}
          </pre>
        )}
      </div>
    </div>
  );
}
