import { displayWidth, truncateToWidth } from './text-width.js';

/**
 * Status lines that are redrawn in place (`\r…\x1b[K`) must fit the terminal: a line one
 * column too wide wraps, and every redraw then scrolls a new line (issue 13 saw 84 columns on
 * an 80-column terminal). The bar is the elastic part: it shrinks first, then goes, then the
 * text is cut with `…`. One column is kept free because some terminals wrap when the last
 * column is written.
 */
export const DEFAULT_COLUMNS = 80;

/** Columns of `stream` when it is a terminal, else the usual 80 (log files, pipes). */
export function columnsOf(stream: NodeJS.WriteStream = process.stderr): number {
  const c = stream.isTTY ? stream.columns : undefined;
  return typeof c === 'number' && c > 0 ? c : DEFAULT_COLUMNS;
}

/** `render(barWidth)` with the widest bar (at most `maxBar`) that keeps the line within `columns - 1`. */
export function fitLine(render: (barWidth: number) => string, maxBar: number, columns: number): string {
  const limit = Math.max(10, columns - 1);
  const full = render(maxBar);
  const over = displayWidth(full) - limit;
  if (over <= 0) return full;
  const bar = maxBar - over;
  if (bar >= 5) return render(bar);
  return truncateToWidth(render(0), limit);
}

/** A `[###.....]` bar of `width` cells (empty string for 0). */
export function bar(fraction: number, width: number, empty = '.'): string {
  if (width <= 0) return '';
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${empty.repeat(width - filled)}]`;
}
