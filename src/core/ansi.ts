/**
 * ANSI SGR escape sequences to styled text segments (no HTML strings: React renders them).
 *
 * Colours use JupyterLab's own `ansi-*` classes (the ones notebook outputs use inside
 * `.jp-RenderedText pre`), so a log looks like a cell output in every theme. 256-colour and
 * true-colour codes become inline colours; other control sequences are dropped.
 */

export interface IAnsiState {
  fg: string | null;
  bg: string | null;
  fgRgb: string | null;
  bgRgb: string | null;
  bold: boolean;
  underline: boolean;
  inverse: boolean;
}

export interface ISegment {
  text: string;
  classes: string;
  style?: { color?: string; backgroundColor?: string };
}

export function initialAnsiState(): IAnsiState {
  return {
    fg: null,
    bg: null,
    fgRgb: null,
    bgRgb: null,
    bold: false,
    underline: false,
    inverse: false
  };
}

const NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

// CSI ... final byte, OSC ... BEL/ST, and lone two-byte escapes
// eslint-disable-next-line no-control-regex
const ESCAPE_RE = /\x1b\[([0-9;?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

function color256(n: number): string {
  if (n < 16) {
    return NAMES[n % 8] + (n >= 8 ? '-intense' : '');
  }
  if (n < 232) {
    const c = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(c / 36))}, ${level(Math.floor(c / 6) % 6)}, ${level(c % 6)})`;
  }
  const grey = 8 + (n - 232) * 10;
  return `rgb(${grey}, ${grey}, ${grey})`;
}

/** Apply the numbers of one SGR sequence to a state (mutates and returns it). */
export function applySgr(state: IAnsiState, params: number[]): IAnsiState {
  if (params.length === 0) {
    params = [0];
  }
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p === 0) {
      Object.assign(state, initialAnsiState());
    } else if (p === 1) {
      state.bold = true;
    } else if (p === 22) {
      state.bold = false;
    } else if (p === 4) {
      state.underline = true;
    } else if (p === 24) {
      state.underline = false;
    } else if (p === 7) {
      state.inverse = true;
    } else if (p === 27) {
      state.inverse = false;
    } else if (p >= 30 && p <= 37) {
      [state.fg, state.fgRgb] = [NAMES[p - 30], null];
    } else if (p >= 90 && p <= 97) {
      [state.fg, state.fgRgb] = [NAMES[p - 90] + '-intense', null];
    } else if (p === 39) {
      [state.fg, state.fgRgb] = [null, null];
    } else if (p >= 40 && p <= 47) {
      [state.bg, state.bgRgb] = [NAMES[p - 40], null];
    } else if (p >= 100 && p <= 107) {
      [state.bg, state.bgRgb] = [NAMES[p - 100] + '-intense', null];
    } else if (p === 49) {
      [state.bg, state.bgRgb] = [null, null];
    } else if ((p === 38 || p === 48) && params[i + 1] === 5) {
      const c = color256(params[i + 2] ?? 0);
      const isRgb = c.startsWith('rgb');
      if (p === 38) {
        [state.fg, state.fgRgb] = isRgb ? [null, c] : [c, null];
      } else {
        [state.bg, state.bgRgb] = isRgb ? [null, c] : [c, null];
      }
      i += 2;
    } else if ((p === 38 || p === 48) && params[i + 1] === 2) {
      const [r, g, b] = [params[i + 2] ?? 0, params[i + 3] ?? 0, params[i + 4] ?? 0];
      const c = `rgb(${r}, ${g}, ${b})`;
      if (p === 38) {
        [state.fg, state.fgRgb] = [null, c];
      } else {
        [state.bg, state.bgRgb] = [null, c];
      }
      i += 4;
    }
  }
  return state;
}

function segmentOf(text: string, state: IAnsiState): ISegment {
  const classes: string[] = [];
  let fg = state.fg;
  let bg = state.bg;
  let fgRgb = state.fgRgb;
  let bgRgb = state.bgRgb;
  if (state.inverse) {
    [fg, bg, fgRgb, bgRgb] = [bg, fg, bgRgb, fgRgb];
    if (!fg && !fgRgb) {
      classes.push('ansi-default-inverse-fg');
    }
    if (!bg && !bgRgb) {
      classes.push('ansi-default-inverse-bg');
    }
  }
  if (fg) {
    classes.push(`ansi-${fg}-fg`);
  }
  if (bg) {
    classes.push(`ansi-${bg}-bg`);
  }
  if (state.bold) {
    classes.push('ansi-bold');
  }
  if (state.underline) {
    classes.push('ansi-underline');
  }
  const segment: ISegment = { text, classes: classes.join(' ') };
  if (fgRgb || bgRgb) {
    segment.style = {};
    if (fgRgb) {
      segment.style.color = fgRgb;
    }
    if (bgRgb) {
      segment.style.backgroundColor = bgRgb;
    }
  }
  return segment;
}

/**
 * Split text with escape sequences into styled segments, starting from `state`
 * (which is updated, so the next piece of text continues with the same colours).
 */
export function ansiSegments(text: string, state: IAnsiState = initialAnsiState()): ISegment[] {
  const segments: ISegment[] = [];
  let last = 0;
  ESCAPE_RE.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = ESCAPE_RE.exec(text)) !== null) {
    if (match.index > last) {
      segments.push(segmentOf(text.slice(last, match.index), state));
    }
    if (match[2] === 'm') {
      const params = match[1]
        .split(';')
        .filter(p => p !== '' && p !== '?')
        .map(p => parseInt(p, 10))
        .filter(n => !Number.isNaN(n));
      applySgr(state, params);
    }
    last = ESCAPE_RE.lastIndex;
  }
  if (last < text.length) {
    segments.push(segmentOf(text.slice(last), state));
  }
  return segments;
}

/** Text without any escape sequence (for copying and searching). */
export function stripAnsi(text: string): string {
  return text.replace(ESCAPE_RE, '');
}
