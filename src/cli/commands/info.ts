import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { infoHashHex, infoHashV2Hex } from '../../metainfo/info-hash.js';
import { formatMagnet, magnetFromMetainfo, parseMagnet } from '../../metainfo/magnet.js';
import { DEFAULT_METAINFO_LIMITS, parseMetainfo } from '../../metainfo/parse.js';
import type { MagnetLink, Metainfo, TorrentFileEntry } from '../../metainfo/types.js';
import { errnoInWords, notATorrentError } from '../errors.js';
import { CliError, formatBytes, printJson } from '../output.js';

/**
 * `peerdrop info <torrent-file | magnet> [--json] [--sanitize]`: what a torrent or magnet link
 * describes. `--json` prints exactly one object whose field names other tools rely on (see
 * `InfoJson`); bad input exits 1 with one line on stderr naming the field at fault.
 */

/** The `--json` shape. Field names are a public contract (issue 3). */
export interface InfoJson {
  infoHash: string | null;
  infoHashV2: string | null;
  name: string | null;
  version: 'v1' | 'v2' | 'hybrid';
  pieceLength: number | null;
  pieceCount: number | null;
  /** Padding excluded. For a magnet, its `xl` if any. */
  totalLength: number | null;
  private: boolean;
  /** Torrent order, padding excluded; paths relative to the download folder, `/`-separated. */
  files: { path: string; length: number }[];
  /** Every tracker URL, BEP 12 tiers flattened in order. */
  announce: string[];
  announceTiers: string[][];
  webSeeds: string[];
  magnet: string;
  comment: string | null;
  createdBy: string | null;
  /** Seconds since the epoch. */
  creationDate: number | null;
  source: string | null;
  /** Magnet only: `x.pe` peers and BEP 53 `so` indices. */
  peers?: string[];
  selectOnly?: number[];
}

interface InfoOptions {
  json?: boolean;
  sanitize?: boolean;
  allFiles?: boolean;
}

export function register(program: Command): void {
  program
    .command('info')
    .description('show what a .torrent file or magnet link describes')
    .argument('<torrent-or-magnet>', 'path to a .torrent file, or a magnet: link')
    .option('--json', 'print one JSON object')
    .option('--sanitize', 'show unsafe file paths made safe instead of refusing the torrent')
    .option('--all-files', `list every file (by default at most ${LISTED_FILES} are shown; --json has all)`)
    .action(async (input: string, options: InfoOptions) => {
      if (/^magnet:/i.test(input)) {
        const info = fromMagnet(parseMagnet(input));
        if (options.json) printJson(info);
        else writeText(info, [], options.allFiles === true);
        return;
      }
      const m = await load(input, options);
      const info = fromMetainfo(m, { withFiles: false });
      if (options.json) writeJson(info, m);
      else writeText(info, m.files, options.allFiles === true);
    });
}

async function load(path: string, options: InfoOptions): Promise<Metainfo> {
  const limit = DEFAULT_METAINFO_LIMITS.maxTorrentBytes;
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${path}: ${errnoInWords(err.code, err.message)}`);
  });
  if (!st.isFile()) throw new CliError(`${path} is not a file`);
  // Checked before reading: a torrent larger than the parser's limit is refused unread.
  if (st.size > limit) throw new CliError(`${path} is ${st.size} bytes; a torrent file is at most ${limit}`);
  const bytes = new Uint8Array(await readFile(path));
  try {
    return parseMetainfo(bytes, { unsafePaths: options.sanitize ? 'sanitize' : 'refuse' });
  } catch (err) {
    throw notATorrentError(path, err);
  }
}

/** `withFiles: false` leaves `files` empty (the writers below take them from the torrent). */
export function fromMetainfo(m: Metainfo, options: { withFiles?: boolean } = {}): InfoJson {
  return {
    infoHash: infoHashHex(m),
    infoHashV2: infoHashV2Hex(m),
    name: m.name,
    version: m.version,
    pieceLength: m.pieceLengthBytes,
    pieceCount: m.pieceCount,
    totalLength: m.totalLengthBytes,
    private: m.isPrivate,
    files:
      options.withFiles === false
        ? []
        : m.files
            .filter((f) => !f.attributes.isPadding)
            .map((f) => ({ path: f.path.join('/'), length: f.lengthBytes })),
    announce: m.announceTiers.flat(),
    announceTiers: m.announceTiers.map((t) => [...t]),
    webSeeds: [...m.urlList],
    magnet: magnetFromMetainfo(m),
    comment: m.comment ?? null,
    createdBy: m.createdBy ?? null,
    creationDate: m.creationDate ?? null,
    source: m.source ?? null,
  };
}

export function fromMagnet(link: MagnetLink): InfoJson {
  return {
    infoHash: infoHashHex(link),
    infoHashV2: infoHashV2Hex(link),
    name: link.name ?? null,
    version: link.infoHash && link.infoHashV2 ? 'hybrid' : link.infoHash ? 'v1' : 'v2',
    pieceLength: null,
    pieceCount: null,
    totalLength: link.exactLengthBytes ?? null,
    private: false,
    files: [],
    announce: [...link.trackers],
    announceTiers: link.trackers.map((t) => [t]),
    webSeeds: [...link.webSeeds],
    magnet: formatMagnet(link),
    comment: null,
    createdBy: null,
    creationDate: null,
    source: null,
    peers: [...link.peers],
    ...(link.selectOnly ? { selectOnly: [...link.selectOnly] } : {}),
  };
}

/** Files listed in the text summary unless `--all-files` (`--json` always lists all). */
const LISTED_FILES = 100;
/** Files per write when listing: a million-file torrent is never one string in memory. */
const FILES_PER_WRITE = 10_000;

/** Text from a torrent may hold terminal escape sequences: show control characters as `?`. */
function shown(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly what must not reach a terminal
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function visibleFiles(files: readonly TorrentFileEntry[]): TorrentFileEntry[] {
  return files.filter((f) => !f.attributes.isPadding);
}

function writeText(info: InfoJson, allFiles: readonly TorrentFileEntry[], isListingAll: boolean): void {
  const files = visibleFiles(allFiles);
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(14)}${shown(value)}`);
  row('Name', info.name ?? '(unknown)');
  if (info.infoHash) row('Info-hash v1', info.infoHash);
  if (info.infoHashV2) row('Info-hash v2', info.infoHashV2);
  row('Version', info.version);
  if (info.totalLength !== null) {
    const count = info.pieceLength === null ? '' : ` in ${files.length} file${files.length === 1 ? '' : 's'}`;
    row('Size', `${formatBytes(info.totalLength)} (${info.totalLength} bytes)${count}`);
  }
  if (info.pieceLength !== null) row('Pieces', `${info.pieceCount} × ${formatBytes(info.pieceLength)}`);
  if (info.pieceLength !== null) row('Private', info.private ? 'yes' : 'no');
  if (info.creationDate !== null) row('Created', new Date(info.creationDate * 1000).toISOString());
  if (info.createdBy !== null) row('Created by', info.createdBy);
  if (info.comment !== null) row('Comment', info.comment);
  if (info.source !== null) row('Source', info.source);
  for (const [i, tier] of info.announceTiers.entries())
    row(i === 0 ? 'Trackers' : '', `${i + 1}: ${tier.join(', ')}`);
  for (const [i, ws] of info.webSeeds.entries()) row(i === 0 ? 'Web seeds' : '', ws);
  for (const [i, pe] of (info.peers ?? []).entries()) row(i === 0 ? 'Peers' : '', pe);
  if (info.selectOnly) row('Select only', info.selectOnly.join(','));
  if (files.length > 0) lines.push('Files:');
  process.stdout.write(`${lines.join('\n')}\n`);
  const listed = isListingAll ? files.length : Math.min(files.length, LISTED_FILES);
  for (let start = 0; start < listed; start += FILES_PER_WRITE) {
    let chunk = '';
    for (const f of files.slice(start, Math.min(listed, start + FILES_PER_WRITE)))
      chunk += `  ${formatBytes(f.lengthBytes).padStart(10)}  ${shown(f.path.join('/'))}\n`;
    process.stdout.write(chunk);
  }
  const tail: string[] = [];
  if (files.length > listed)
    tail.push(`  … and ${files.length - listed} more (--all-files lists them all, --json too)`);
  row('Magnet', info.magnet);
  process.stdout.write(`${[...tail, lines[lines.length - 1]!].join('\n')}\n`);
}

/**
 * `--json`, complete, written in slices: the same text as `JSON.stringify(info, null, 2)` with
 * every file, without ever holding a million-entry array or its text in memory at once.
 */
function writeJson(info: InfoJson, m: Metainfo): void {
  const marker = '\u0000files\u0000';
  const text = JSON.stringify({ ...info, files: marker }, null, 2);
  const at = text.indexOf(JSON.stringify(marker));
  const files = visibleFiles(m.files);
  process.stdout.write(text.slice(0, at));
  if (files.length === 0) process.stdout.write('[]');
  for (let start = 0; start < files.length; start += FILES_PER_WRITE) {
    let chunk = start === 0 ? '[\n' : ',\n';
    const slice = files.slice(start, start + FILES_PER_WRITE);
    chunk += slice
      .map(
        (f) =>
          `    {\n      "path": ${JSON.stringify(f.path.join('/'))},\n      "length": ${f.lengthBytes}\n    }`,
      )
      .join(',\n');
    if (start + FILES_PER_WRITE >= files.length) chunk += '\n  ]';
    process.stdout.write(chunk);
  }
  process.stdout.write(`${text.slice(at + JSON.stringify(marker).length)}\n`);
}
