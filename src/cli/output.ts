import { PeerdropError } from '../util/errors.js';
import { escapeJsonForTerminal } from '../util/terminal-text.js';

/**
 * A failure the user can act on: printed as one line on stderr (no stack trace), with the
 * process exit code. Commands throw this (or any `PeerdropError`) for expected failures.
 */
export class CliError extends PeerdropError {
  constructor(
    message: string,
    readonly exitCode = 1,
    code = 'CLI_ERROR',
  ) {
    super(code, message);
  }
}

/** Usage errors (wrong flags or arguments) exit with 2, like most Unix tools. */
export function usageError(message: string): CliError {
  return new CliError(message, 2, 'CLI_USAGE');
}

let isStdoutClosed = false;
const closedListeners = new Set<() => void>();

/**
 * A closed stdout (`peerdrop get x --json | head -1`) ends the program quietly: no EPIPE stack
 * trace, nothing more written. A transfer in progress registers with `onStdoutClosed` to stop
 * as Ctrl-C would (trackers told, resume data saved); anything else exits at once with 0, the
 * reader having taken what it wanted.
 */
export function handleClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    if (isStdoutClosed) return;
    isStdoutClosed = true;
    if (closedListeners.size === 0) process.exit(0);
    for (const listener of closedListeners) listener();
  });
}

/** Call `listener` once if stdout's reader goes away; returns the unsubscribe function. */
export function onStdoutClosed(listener: () => void): () => void {
  closedListeners.add(listener);
  return () => closedListeners.delete(listener);
}

function writeStdout(text: string): void {
  if (!isStdoutClosed) process.stdout.write(text);
}

export function printJson(value: unknown): void {
  writeStdout(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** One compact JSON object per line (for `--json` event streams). */
export function printJsonLine(value: unknown): void {
  // Values may come from peers, trackers or an index: terminal controls are escaped as \uXXXX
  // (the JSON value is unchanged), so piping --json to a terminal is safe too.
  writeStdout(`${escapeJsonForTerminal(JSON.stringify(value, jsonReplacer))}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${UNITS[i]}`;
}

/** Parse sizes like `16384`, `256K`, `4MiB`, `1g` into bytes; null if malformed. */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) return null;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()] ?? 1;
  const value = Number(m[1]) * mult;
  return Number.isSafeInteger(Math.round(value)) ? Math.round(value) : null;
}
