import { bar, columnsOf, DEFAULT_COLUMNS, fitLine } from './line-fit.js';
import { formatBytes } from './output.js';

/**
 * A small progress reporter for long CLI operations (hashing, checking, downloading).
 * On a TTY it redraws one line (`\r`) at most every `intervalMs`: bar, percent, bytes, rate
 * and ETA. When the stream is not a TTY it prints a plain line every `plainIntervalMs`
 * (so logs stay readable), or nothing when `plainIntervalMs` is 0.
 */
export interface ProgressOptions {
  /** Default `process.stderr`. */
  readonly stream?: NodeJS.WriteStream;
  /** Text before the bar, e.g. `hashing`. */
  readonly label?: string;
  /** TTY redraw interval; default 100 ms. */
  readonly intervalMs?: number;
  /** Non-TTY line interval; default 0 (silent). */
  readonly plainIntervalMs?: number;
  /** Injected for tests; default `Date.now`. */
  readonly now?: () => number;
}

export interface Progress {
  /** Report `done` of `total` bytes. Cheap: drawing is throttled. */
  update(done: number, total: number): void;
  /** Draw the final state and end the line. */
  finish(): void;
}

const BAR_WIDTH = 24;

/** Format one progress line (exported for tests). */
export function formatProgress(
  label: string,
  done: number,
  total: number,
  elapsedMs: number,
  columns = DEFAULT_COLUMNS,
): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const etaS = rate > 0 ? Math.ceil((total - done) / rate) : undefined;
  const eta = etaS === undefined ? '--' : etaS >= 60 ? `${Math.floor(etaS / 60)}m${etaS % 60}s` : `${etaS}s`;
  const percent = `${(fraction * 100).toFixed(fraction < 1 ? 1 : 0)}%`.padStart(6);
  const tail = `${percent} ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(Math.round(rate))}/s ETA ${eta}`;
  // Fitted to the terminal: the bar shrinks first, so a redrawn line never wraps.
  return fitLine(
    (width) => `${label ? `${label} ` : ''}${width > 0 ? `${bar(fraction, width, '-')} ` : ''}${tail}`,
    BAR_WIDTH,
    columns,
  );
}

/** Create a progress reporter (see `ProgressOptions`). */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const isTty = stream.isTTY === true;
  const interval = isTty ? (options.intervalMs ?? 100) : (options.plainIntervalMs ?? 0);
  const label = options.label ?? '';
  const started = now();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let done = 0;
  let total = 0;
  let drawn = false;
  const draw = (): void => {
    const line = formatProgress(label, done, total, now() - started, columnsOf(stream));
    stream.write(isTty ? `\r${line}\x1b[K` : `${line}\n`);
    drawn = true;
  };
  return {
    update(d, t) {
      done = d;
      total = t;
      if (interval <= 0) return;
      const at = now();
      if (at - lastDraw < interval) return;
      lastDraw = at;
      draw();
    },
    finish() {
      if (interval <= 0) return;
      draw();
      if (isTty && drawn) stream.write('\n');
    },
  };
}
