import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseMetainfo } from '../../metainfo/parse.js';
import type { Metainfo } from '../../metainfo/types.js';
import { encryptionTransportOptions, parseEncryptionPolicy } from '../../mse/mse-transport.js';
import { Session } from '../../session/session.js';
import type { TorrentHandle } from '../../session/torrent-handle.js';
import { addDhtOptions, dhtSessionOptions } from '../dht-options.js';
import { notATorrentError } from '../errors.js';
import {
  checkDownloadDir,
  checkFileSelection,
  parsePeerOption,
  parsePortOption,
  parseTrackerUrl,
} from '../options.js';
import { parseSize, usageError } from '../output.js';
import { resolveSource } from '../source.js';
import { followTransfer, parseFileSelection } from '../transfer.js';

interface GetOptions {
  dir: string;
  port?: string;
  host?: string;
  seed?: boolean;
  files?: string;
  sequential?: boolean;
  downloadLimit?: string;
  uploadLimit?: string;
  peer?: string[];
  tracker?: string[];
  json?: boolean;
  index?: string;
  encryption?: string;
  dht?: boolean;
  dhtBootstrap?: string;
}

export function register(program: Command): void {
  const command = program
    .command('get')
    .description('download a torrent or magnet link, verifying every piece; exits 0 when complete')
    .argument(
      '<source>',
      'a .torrent file, a magnet: link, an info-hash (with --index), or - for a search result on stdin',
    )
    .option('-d, --dir <dir>', 'download folder', '.')
    .option('-p, --port <port>', 'TCP port to accept peers on (default: any free port)')
    .option('--host <addr>', 'address to listen on (default: all, IPv4 and IPv6)')
    .option('--seed', 'keep seeding after the download completes (until Ctrl-C)')
    .option('--files <list>', 'only these files, e.g. 0,2-4 (numbered from 0 as `peerdrop info` lists them)')
    .option('--sequential', 'download pieces in order (for streaming)')
    .option('--download-limit <rate>', 'max download rate, e.g. 2M (bytes/s)')
    .option('--upload-limit <rate>', 'max upload rate, e.g. 512K (bytes/s)')
    .option('--peer <host:port>', 'also connect to this peer (repeatable)', collect, [])
    .option(...TRACKER_OPTION)
    .option('--index <url>', 'index to look an info-hash up on (or PEERDROP_INDEX)')
    .option(...ENCRYPTION_OPTION);
  addDhtOptions(command)
    .option('--json', 'one JSON event per line on stdout')
    .action(async (source: string, opts: GetOptions) => {
      process.exitCode = await runTransfer(source, opts, { keepSeeding: opts.seed ?? false });
    });
}

/** Used by `get` and `seed`: load the input, start a session, follow the torrent. */
export async function runTransfer(
  source: string,
  opts: Omit<GetOptions, 'seed'>,
  mode: {
    keepSeeding: boolean;
    isKnownComplete?: boolean;
    isSeedOnly?: boolean;
    warningHints?: Readonly<Record<string, string>>;
  },
): Promise<number> {
  const port = opts.port === undefined ? 0 : parsePortOption(opts.port, '--port', { allowZero: true });
  const peers = (opts.peer ?? []).map((p) => parsePeerOption(p));
  const trackers = (opts.tracker ?? []).map((t) => parseTrackerUrl(t));
  const files = opts.files === undefined ? undefined : parseFileSelection(opts.files);
  if (!mode.isSeedOnly) await checkDownloadDir(resolve(opts.dir));
  const input = withTrackers(await loadInput(source, opts.index ?? process.env.PEERDROP_INDEX), trackers);
  if (files && typeof input !== 'string') checkFileSelection(files, input);
  const encryption = parseEncryption(opts.encryption);
  const dht = await dhtSessionOptions(opts);
  const session: Session = new Session({
    ...dht,
    ...(opts.host === undefined ? {} : { host: opts.host }),
    port,
    ...encryptionTransportOptions(encryption, {
      ...(opts.host === undefined ? {} : { host: opts.host }),
      port,
      infoHashesHex: () => session.list().map((h) => h.infoHash),
    }),
    downloadLimit: parseRate(opts.downloadLimit, '--download-limit'),
    uploadLimit: parseRate(opts.uploadLimit, '--upload-limit'),
  });
  try {
    const handle = await session.add(input, {
      dir: resolve(opts.dir),
      ...(files === undefined ? {} : { files }),
      isSequential: opts.sequential ?? false,
      peers,
      ...(mode.isKnownComplete ? { isKnownComplete: true } : {}),
      ...(mode.isSeedOnly ? { isSeedOnly: true } : {}),
    });
    const transfer = followTransfer(session, handle, {
      manualPeers: opts.peer ?? [],
      dir: resolve(opts.dir),
      isJson: opts.json ?? false,
      keepSeeding: mode.keepSeeding,
      ...(mode.warningHints ? { warningHints: mode.warningHints } : {}),
    });
    // A magnet's file count is known only with its metadata: check `--files` then.
    return await (files && typeof input === 'string'
      ? Promise.race([transfer, fileSelectionRefused(handle, files)])
      : transfer);
  } catch (err) {
    await session.close().catch(() => {});
    throw err;
  }
}

/** A torrent file is parsed here (once), so that `--files` can be checked before anything starts. */
async function loadInput(source: string, indexUrl: string | undefined): Promise<Metainfo | string> {
  const input = await resolveSource(source, indexUrl);
  if (typeof input === 'string') return input;
  try {
    return parseMetainfo(input);
  } catch (err) {
    throw notATorrentError(source, err);
  }
}

/** `--tracker` for `get` and `seed`: announce to these too (a magnet without `tr=`, a LAN tracker). */
export const TRACKER_OPTION = [
  '--tracker <url>',
  'also announce to this tracker (repeatable)',
  collect,
  [] as string[],
] as const;

/** The torrent or magnet with `trackers` added as extra tiers (the info-hash is unchanged). */
function withTrackers(input: Metainfo | string, trackers: readonly string[]): Metainfo | string {
  if (trackers.length === 0) return input;
  if (typeof input === 'string')
    return `${input}${trackers.map((t) => `&tr=${encodeURIComponent(t)}`).join('')}`;
  return { ...input, announceTiers: [...input.announceTiers, ...trackers.map((t) => [t])] };
}

function fileSelectionRefused(handle: TorrentHandle, files: readonly number[]): Promise<never> {
  return new Promise((_, reject) => {
    handle.on('metadata', (m) => {
      try {
        checkFileSelection(files, m);
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** `--encryption` for `get`, `seed` and `share` (MSE/PE, BEP 8). */
export const ENCRYPTION_OPTION = [
  '--encryption <policy>',
  'encrypted connections (MSE/PE): prefer (try encrypted, fall back), require (refuse plaintext peers) or off',
  'prefer',
] as const;

export function parseEncryption(text: string | undefined) {
  const policy = parseEncryptionPolicy(text ?? 'prefer');
  if (!policy) throw usageError(`--encryption must be prefer, require or off (got ${JSON.stringify(text)})`);
  return policy;
}

function parseRate(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const v = parseSize(text);
  if (v === null || v <= 0)
    throw usageError(`${flag}: ${JSON.stringify(text)} is not a rate like 500K or 2M`);
  return v;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
