import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metainfo } from '../metainfo/types.js';
import { makeDirs } from '../storage/safe-join.js';
import { errorMessage } from '../util/errors.js';
import { hostPortProblem, parsePortText } from '../util/ip.js';
import { errnoInWords } from './errors.js';
import { type CliError, usageError } from './output.js';

/**
 * Strict parsers for the option values every command shares. Each refuses with a one-line usage
 * error (exit 2) that names the flag and what it accepts; none lets `Number()` guess (`1e3`,
 * `0x50`, `" 80"` and `""` are all numbers to it).
 */

/** A TCP/UDP port in decimal; `allowZero` where 0 means "any free port". */
export function parsePortOption(text: string, flag: string, options: { allowZero: boolean }): number {
  const port = parsePortText(text, options.allowZero);
  if (port === null) {
    const range = options.allowZero ? '0 to 65535 (0 = any free port)' : '1 to 65535';
    throw usageError(`${flag}: ${JSON.stringify(text)} is not a port number from ${range}`);
  }
  return port;
}

/** A peer address, `host:port` or `[v6]:port`; returned unchanged when valid. */
export function parsePeerOption(text: string, flag = '--peer'): string {
  const problem = hostPortProblem(text);
  if (problem) throw usageError(`${flag}: ${JSON.stringify(text)}: ${problem}`);
  return text;
}

/** A tracker announce URL: http, https or udp, with a host (and, for udp, a port). */
export function parseTrackerUrl(text: string, flag = '--tracker'): string {
  const url = parsedUrl(text);
  const scheme = url?.protocol;
  if (!url || (scheme !== 'http:' && scheme !== 'https:' && scheme !== 'udp:') || url.hostname === '')
    throw usageError(
      `${flag}: ${JSON.stringify(text)} is not a tracker URL (http://, https:// or udp://host:port/...)`,
    );
  if (scheme === 'udp:' && url.port === '')
    throw usageError(`${flag}: ${JSON.stringify(text)}: a udp:// tracker needs a port (udp://host:port)`);
  return text;
}

/** A BEP 19 web seed URL: http or https, with a host. */
export function parseWebSeedUrl(text: string, flag = '--web-seed'): string {
  const url = parsedUrl(text);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '')
    throw usageError(`${flag}: ${JSON.stringify(text)} is not an http:// or https:// URL`);
  return text;
}

function parsedUrl(text: string): URL | null {
  // WHATWG parsing trims and percent-encodes; what goes into a torrent must be what was checked.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly what a URL must not hold
  if (/[\s\u0000-\u001f\u007f]/.test(text)) return null;
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Files `peerdrop info` lists (padding excluded), the ones `--files` numbers from 0. */
export function visibleFileCount(metainfo: Metainfo): number {
  let n = 0;
  for (const f of metainfo.files) if (!f.attributes.isPadding) n++;
  return n;
}

/** `--files` indices must name files of the torrent: anything else would download nothing. */
export function checkFileSelection(selected: readonly number[], metainfo: Metainfo): void {
  const count = visibleFileCount(metainfo);
  const bad = selected.filter((i) => i >= count);
  if (bad.length === 0) return;
  const range = count === 1 ? 'the only file is 0' : `files are numbered 0 to ${count - 1}`;
  throw usageError(
    `--files: ${bad.slice(0, 5).join(',')}${bad.length > 5 ? ',…' : ''} out of range; ${metainfo.name} has ${count} file${count === 1 ? '' : 's'} (${range}; see peerdrop info)`,
  );
}

/**
 * `--dir` must be a folder that can hold the download: made if missing (with a walk that ends,
 * see `makeDirs`) and probed with a file created and removed at once, so a folder that refuses
 * files (`/proc/self`, a read-only mount, a symlink loop) is named now, not after the first piece.
 */
export async function checkDownloadDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir);
  } catch (err) {
    throw usageError(`--dir: ${errorMessage(err)}`);
  }
  const probe = join(dir, `.peerdrop-probe-${process.pid}`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'the folder does not accept new files (a special file system?)'
        : errnoInWords(code, errorMessage(err));
    throw usageError(`--dir: cannot create files in ${dir}: ${why}`);
  }
}

/** A torrent of 0 bytes has no pieces; libtorrent and Transmission refuse to load one. */
export function noContentError(input: string): CliError {
  return usageError(
    `${input}: nothing to share (0 bytes of data); a torrent needs at least one non-empty file (libtorrent and Transmission refuse empty ones)`,
  );
}
