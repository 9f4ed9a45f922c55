import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { pieceLengthProblem } from '../../metainfo/piece-length.js';
import type { TorrentVersion } from '../../metainfo/types.js';
import { type CreateTorrentResult, createTorrent } from '../../storage/create-torrent.js';
import { toHex } from '../../util/bytes.js';
import { errnoInWords } from '../errors.js';
import { noContentError, parseTrackerUrl, parseWebSeedUrl } from '../options.js';
import { CliError, formatBytes, parseSize, printJson, usageError } from '../output.js';
import { createProgress } from '../progress.js';

/**
 * `peerdrop create <file-or-folder>`: make a `.torrent`. v1 by default (same info-hash as
 * mktorrent for the same content and piece length), `--v2` or `--hybrid` (same info-hashes as
 * libtorrent). Writes `<name>.torrent` in the current folder unless `-o` says otherwise, and
 * never overwrites without `--force`. Hashing runs in worker threads; a progress bar is drawn
 * on stderr when it is a terminal.
 */

/** The `--json` shape (field names are a contract, like `peerdrop info --json`). */
export interface CreateJson {
  path: string;
  infoHash: string | null;
  infoHashV2: string | null;
  name: string;
  version: TorrentVersion;
  pieceLength: number;
  totalLength: number;
  pieceCount: number;
  /** Torrent order, padding excluded; `path` starts with the name for a multi-file torrent. */
  files: { path: string; length: number }[];
  magnet: string;
}

interface CreateOptions {
  output?: string;
  pieceLength?: string;
  tracker: string[];
  webSeed: string[];
  private?: boolean;
  comment?: string;
  source?: string;
  v2?: boolean;
  hybrid?: boolean;
  json?: boolean;
  force?: boolean;
  threads?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  program
    .command('create')
    .description('create a .torrent file from a file or folder')
    .argument('<file-or-folder>', 'what to share')
    .option('-o, --output <file>', 'where to write the torrent (default: ./<name>.torrent)')
    .option(
      '--piece-length <bytes>',
      'piece length, a power of two >= 16 KiB (e.g. 262144, 1MiB); default: automatic',
    )
    .option('--tracker <url>', 'tracker announce URL (repeatable; each is its own tier)', collect, [])
    .option('--web-seed <url>', 'BEP 19 web seed URL (repeatable)', collect, [])
    .option('--private', 'BEP 27 private torrent (trackers only: no DHT, PEX or LSD)')
    .option('--comment <text>', 'free-text comment')
    .option('--source <text>', 'source tag inside info (private trackers)')
    .option('--v2', 'BitTorrent v2 only (BEP 52)')
    .option('--hybrid', 'v1 + v2 hybrid torrent (BEP 52 with BEP 47 padding)')
    .option('--threads <n>', 'hashing threads (default: up to 2)')
    .option('--json', 'print one JSON object')
    .option('--force', 'overwrite the output file if it exists')
    .action(async (input: string, options: CreateOptions) => {
      await runCreate(input, options);
    });
}

function versionOf(options: CreateOptions): TorrentVersion {
  if (options.v2 && options.hybrid) throw usageError('--v2 and --hybrid cannot be used together');
  return options.v2 ? 'v2' : options.hybrid ? 'hybrid' : 'v1';
}

function pieceLengthOf(options: CreateOptions): number | undefined {
  if (options.pieceLength === undefined) return undefined;
  const n = parseSize(options.pieceLength);
  if (n === null) throw usageError(`--piece-length: "${options.pieceLength}" is not a size`);
  const problem = pieceLengthProblem(n);
  if (problem) throw usageError(`--piece-length: ${problem}`);
  return n;
}

function threadsOf(options: CreateOptions): number | undefined {
  if (options.threads === undefined) return undefined;
  const n = Number(options.threads);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw usageError('--threads must be an integer from 1 to 64');
  return n;
}

/** Fail before hashing when the output can't be written (exists, or folder not writable). */
async function checkOutput(outPath: string, isForced: boolean): Promise<void> {
  const existing = await stat(outPath).catch(() => null);
  if (existing?.isDirectory()) throw new CliError(`output ${outPath} is a folder`);
  if (existing && !isForced) throw new CliError(`output ${outPath} exists (use --force to overwrite)`);
  try {
    await access(existing ? outPath : dirname(outPath), constants.W_OK);
  } catch (err) {
    throw new CliError(`cannot write ${outPath}: ${errnoInWords((err as NodeJS.ErrnoException).code)}`);
  }
}

async function runCreate(input: string, options: CreateOptions): Promise<void> {
  for (const url of options.tracker) parseTrackerUrl(url);
  for (const url of options.webSeed) parseWebSeedUrl(url);
  const version = versionOf(options);
  const pieceLengthBytes = pieceLengthOf(options);
  const threads = threadsOf(options);
  const inputStat = await stat(input).catch(() => null);
  if (!inputStat) throw new CliError(`no such file or folder: ${input}`);
  if (inputStat.isFile() && inputStat.size === 0) throw noContentError(input);
  const outPath = resolve(options.output ?? `${basename(resolve(input))}.torrent`);
  await checkOutput(outPath, options.force === true);
  const progress = createProgress({ label: 'hashing' });
  const result = await createTorrent(input, {
    version,
    ...(pieceLengthBytes ? { pieceLengthBytes } : {}),
    ...(threads ? { threads } : {}),
    // A CLI run has nothing else to do: the main thread hashes while its worker starts.
    hashOnMainThread: true,
    announceTiers: options.tracker.map((url) => [url]),
    webSeeds: options.webSeed,
    isPrivate: options.private === true,
    ...(options.comment !== undefined ? { comment: options.comment } : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
    createdBy: 'peerdrop/0.1.0',
    creationDate: Math.floor(Date.now() / 1000),
    onProgress: (p) => progress.update(p.hashedBytes, p.totalBytes),
  });
  progress.finish();
  if (result.totalLengthBytes === 0) throw noContentError(input);
  await writeOutput(outPath, result.torrentBytes, options.force === true);
  if (options.json) printJson(toJson(outPath, result));
  else printSummary(outPath, result);
}

async function writeOutput(outPath: string, bytes: Uint8Array, isForced: boolean): Promise<void> {
  // 'wx' refuses a file that appeared while hashing, unless --force.
  const fh = await open(outPath, isForced ? 'w' : 'wx').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot write ${outPath}: ${errnoInWords(err.code, err.message)}`);
  });
  try {
    await fh.writeFile(bytes);
  } finally {
    await fh.close();
  }
}

function toJson(outPath: string, r: CreateTorrentResult): CreateJson {
  return {
    path: outPath,
    infoHash: r.infoHash ? toHex(r.infoHash) : null,
    infoHashV2: r.infoHashV2 ? toHex(r.infoHashV2) : null,
    name: r.name,
    version: r.version,
    pieceLength: r.pieceLengthBytes,
    totalLength: r.totalLengthBytes,
    pieceCount: r.pieceCount,
    files: r.files.map((f) => ({
      path: (r.isSingleFile ? f.path : [r.name, ...f.path]).join('/'),
      length: f.lengthBytes,
    })),
    magnet: r.magnet,
  };
}

function printSummary(outPath: string, r: CreateTorrentResult): void {
  const lines = [
    `created ${outPath}`,
    `name:         ${r.name}`,
    `version:      ${r.version}`,
    `files:        ${r.files.length}`,
    `total size:   ${formatBytes(r.totalLengthBytes)} (${r.totalLengthBytes} bytes)`,
    `piece length: ${formatBytes(r.pieceLengthBytes)} × ${r.pieceCount} pieces`,
  ];
  if (r.infoHash) lines.push(`info-hash:    ${toHex(r.infoHash)}`);
  if (r.infoHashV2) lines.push(`info-hash v2: ${toHex(r.infoHashV2)}`);
  lines.push(`magnet:       ${r.magnet}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
