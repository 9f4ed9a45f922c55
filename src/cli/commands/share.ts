import { writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { encryptionTransportOptions } from '../../mse/mse-transport.js';
import { Session } from '../../session/session.js';
import { createTorrent } from '../../storage/create-torrent.js';
import { describeFindings, scanSensitive } from '../../storage/sensitive-scan.js';
import { addDhtOptions, dhtSessionOptions } from '../dht-options.js';
import { noContentError, parsePeerOption, parsePortOption, parseTrackerUrl } from '../options.js';
import { printJsonLine, usageError } from '../output.js';
import { followTransfer } from '../transfer.js';
import { ENCRYPTION_OPTION, parseEncryption } from './get.js';

interface ShareOptions {
  output?: string;
  tracker: string[];
  port?: string;
  host?: string;
  private?: boolean;
  peer: string[];
  json?: boolean;
  encryption?: string;
  dht?: boolean;
  dhtBootstrap?: string;
  includeSensitive?: boolean;
}

/**
 * `peerdrop share <file-or-folder>`: hash it into a torrent, seed it at once (the data was just
 * hashed, so it is not checked again), and print the magnet link for others to `peerdrop get`.
 */
export function register(program: Command): void {
  const command = program
    .command('share')
    .description('make a torrent of a file or folder, seed it, and print its magnet link')
    .argument('<file-or-folder>', 'what to share')
    .option('-o, --output <file>', 'also write the .torrent here')
    .option('--tracker <url>', 'announce to this tracker (repeatable)', collect, [])
    .option('--private', 'BEP 27 private torrent (trackers only)')
    .option('-p, --port <port>', 'TCP port to accept peers on (default: any free port)')
    .option('--host <addr>', 'address to listen on (default: all, IPv4 and IPv6)')
    .option('--peer <host:port>', 'also connect to this peer (repeatable)', collect, [])
    .option('--include-sensitive', 'share even if keys, credentials or other private files are found')
    .option(...ENCRYPTION_OPTION);
  addDhtOptions(command)
    .option('--json', 'one JSON event per line on stdout')
    .action(async (input: string, opts: ShareOptions) => {
      process.exitCode = await runShare(input, opts);
    });
}

async function runShare(input: string, opts: ShareOptions): Promise<number> {
  const port = opts.port === undefined ? 0 : parsePortOption(opts.port, '--port', { allowZero: true });
  for (const p of opts.peer) parsePeerOption(p);
  for (const t of opts.tracker) parseTrackerUrl(t);
  const path = resolve(input);
  // Shared data is public to anyone with the link: look for what people share by accident
  // (keys, credentials, password stores, browser profiles…) before hashing a byte.
  if (!opts.includeSensitive) {
    const scan = await scanSensitive(path);
    if (scan.findings.length > 0) {
      throw usageError(
        `${input}: refusing to share private files:\n${describeFindings(scan.findings)}\n` +
          'remove them, share a subfolder, or pass --include-sensitive if you really mean to share them',
      );
    }
  }
  const created = await createTorrent(path, {
    announceTiers: opts.tracker.map((t) => [t]),
    isPrivate: opts.private ?? false,
    createdBy: 'peerdrop 0.1.0',
    creationDate: Math.floor(Date.now() / 1000),
  });
  if (created.totalLengthBytes === 0) throw noContentError(input);
  if (opts.output) await writeFile(opts.output, created.torrentBytes);
  const host = opts.host === undefined ? {} : { host: opts.host };
  const encryption = encryptionTransportOptions(parseEncryption(opts.encryption), {
    ...host,
    port,
    infoHashesHex: () => session.list().map((h) => h.infoHash),
  });
  const dht = opts.private ? { dht: false as const } : await dhtSessionOptions(opts);
  const session: Session = new Session({ ...host, port, ...encryption, ...dht });
  try {
    // The torrent's name is the file or folder's own name, so its parent is the data folder.
    const handle = await session.add(created.torrentBytes, {
      dir: dirname(path),
      isKnownComplete: true,
      peers: opts.peer,
    });
    if (opts.json)
      printJsonLine({
        event: 'shared',
        name: created.name,
        infoHash: hex(created.infoHash),
        magnet: `${created.magnet}&x.pe=${reachableHost(opts.host)}:${session.port}`,
        magnetWithoutPeer: created.magnet,
        port: session.port,
      });
    else {
      // stdout gets the link that works (`M=$(peerdrop share x)`): with our address as a peer hint.
      const link = `${created.magnet}&x.pe=${reachableHost(opts.host)}:${session.port}`;
      process.stderr.write(`sharing ${basename(path)} on port ${session.port}; others can run:\n`);
      process.stderr.write(`  peerdrop get '${link}'\n`);
      process.stdout.write(`${link}\n`);
    }
    return await followTransfer(session, handle, {
      isJson: opts.json ?? false,
      keepSeeding: true,
      manualPeers: opts.peer,
      dir: dirname(path),
    });
  } catch (err) {
    await session.close().catch(() => {});
    throw err;
  }
}

/** An address peers on this machine or network can dial (x.pe hint; trackers/DHT find us otherwise). */
function reachableHost(bound: string | undefined): string {
  if (bound !== undefined && bound !== '0.0.0.0' && bound !== '::')
    return bound.includes(':') ? `[${bound}]` : bound;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function hex(b: Uint8Array | null): string | null {
  return b ? Buffer.from(b).toString('hex') : null;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
