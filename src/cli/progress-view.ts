import type { Observable } from 'rxjs';
import type { ProgressSnapshot } from '../operators/progress.js';

/** `bar`: one live line redrawn in place; `lines`: a plain line now and then; `none`: silence. */
export type ProgressMode = 'bar' | 'lines' | 'none';

export interface ProgressView {
  /**
   * Runs `write` (which prints results) with the bar out of the way: the bar line is cleared first
   * and drawn again below what was written, so rows and bar never share a line.
   */
  print(write: () => void): void;
  /** Stops drawing and clears the bar, so what follows (the summary) starts on a clean line. */
  stop(): void;
}

/**
 * The bar unless asked otherwise on a terminal; elsewhere (a pipe, a file) plain lines unless
 * `--progress` asks for the bar; `--no-progress` turns progress off.
 */
export function progressMode(flag: boolean | undefined, errIsTerminal: boolean): ProgressMode {
  if (flag === false) return 'none';
  return flag === true || errIsTerminal ? 'bar' : 'lines';
}

function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds >= 60
    ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
    : `${seconds}s`;
}

/** One plain progress line, for logs and pipes. */
export function progressLine(s: ProgressSnapshot): string {
  const of = s.total === undefined ? `${s.submitted}+ (still counting)` : String(s.total);
  return (
    `progress: ${s.completed}/${of} done (${s.classified} classified, ${s.failed} failed), ` +
    `${s.inFlight} in flight, ${s.ratePerSecond.toFixed(1)} images/s` +
    (s.reconnects > 0 ? `, ${s.reconnects} reconnects` : '') +
    (s.stalls > 0 ? `, ${s.stalls} stalled streams reopened` : '')
  );
}

/**
 * The bar's text, cut to `width`. With a known total: percentage, counts and an ETA from the rate
 * over the tracker's sliding window; while the total is still being counted it says so, and shows
 * no percentage and no ETA.
 */
export function barLine(s: ProgressSnapshot, width = 80): string {
  const tail =
    ` | ${s.ratePerSecond.toFixed(1)} images/s` +
    (s.total === undefined ? '' : ` | ETA ${s.etaMs === undefined ? '-' : duration(s.etaMs)}`) +
    ` | failed ${s.failed}` +
    (s.reconnects > 0 ? ` | ${s.reconnects} reconnects` : '');
  let text: string;
  if (s.total === undefined) {
    text = `classifying ${s.completed}/${s.submitted}+ (total still growing)${tail}`;
  } else {
    const fraction = Math.min(1, s.fraction ?? 0);
    const cells = 20;
    const filled = Math.round(fraction * cells);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(cells - filled)}`;
    text = `classifying [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${s.completed}/${s.total}${tail}`;
  }
  return text.length > width ? text.slice(0, Math.max(0, width)) : text;
}

const CLEAR_LINE = '\r\x1b[2K';

export interface ProgressViewOptions {
  /** Least time between plain lines. Default 5000 ms. */
  readonly plainEveryMs?: number;
  /** The figures now, for the bar drawn again below printed rows; default the last snapshot. */
  readonly current?: () => ProgressSnapshot;
}

/**
 * Shows progress on `err` in the given mode. The bar is drawn on one line (never wider than the
 * terminal, so it never wraps) and rewritten in place; results printed through `print` appear
 * above it. Plain lines come at most every `plainEveryMs`.
 */
export function createProgressView(
  snapshots$: Observable<ProgressSnapshot>,
  err: NodeJS.WritableStream & { columns?: number },
  mode: ProgressMode,
  options: ProgressViewOptions = {},
): ProgressView {
  const plainEveryMs = options.plainEveryMs ?? 5000;
  if (mode === 'none') return { print: (write) => write(), stop: () => undefined };
  if (mode === 'lines') {
    let lastPrinted = 0;
    const subscription = snapshots$.subscribe((s) => {
      if (s.elapsedMs - lastPrinted < plainEveryMs) return;
      lastPrinted = s.elapsedMs;
      err.write(`${progressLine(s)}\n`);
    });
    return { print: (write) => write(), stop: () => subscription.unsubscribe() };
  }
  let drawn = '';
  let last: ProgressSnapshot | undefined;
  let stopped = false;
  const draw = (text: string): void => {
    if (stopped) return;
    drawn = text;
    err.write(`${CLEAR_LINE}${text}`);
  };
  const width = (): number => (err.columns !== undefined && err.columns > 0 ? err.columns : 80) - 1;
  const subscription = snapshots$.subscribe((s) => {
    last = s;
    draw(barLine(s, width()));
  });
  const clear = (): void => {
    if (drawn !== '') err.write(CLEAR_LINE);
  };
  return {
    print(write) {
      clear();
      write();
      const now = options.current?.() ?? last;
      if (drawn !== '' && now !== undefined) draw(barLine(now, width()));
    },
    stop() {
      subscription.unsubscribe();
      clear();
      drawn = '';
      stopped = true;
    },
  };
}
