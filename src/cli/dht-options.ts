/**
 * Peer discovery for `get`, `seed` and `share`: the DHT, PEX and LSD are on by default (private
 * torrents never use them), so a bare magnet link works on the internet or on a LAN alone.
 * LSD joins every interface that is up, or those in `PEERDROP_LSD_INTERFACES` (comma-separated;
 * an empty value turns LSD off: the test suite sets it so no test multicasts outside loopback).
 * For the DHT, bootstrap
 * nodes come from `--dht-bootstrap`, else `PEERDROP_DHT_BOOTSTRAP` (an empty value means none:
 * the test suite sets it so no test ever leaves loopback), else the well-known public routers.
 * The routing table is saved in the state folder, so the next run needs no bootstrap node.
 */
import { lookup } from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { SessionDhtOptions, SessionLsdOptions } from '../session/session.js';
import { defaultStateDir } from '../storage/fs-storage-factory.js';
import { ipFamily, parseHostPort } from '../util/ip.js';
import { usageError } from './output.js';

export const DEFAULT_DHT_BOOTSTRAP = [
  'router.bittorrent.com:6881',
  'dht.transmissionbt.com:6881',
  'router.utorrent.com:6881',
  'dht.libtorrent.org:25401',
];

export interface DhtCliOptions {
  /** Commander's `--no-dht` makes this false. */
  dht?: boolean;
  dhtBootstrap?: string;
  /** `--no-pex`, `--no-lsd`. */
  pex?: boolean;
  lsd?: boolean;
}

/** Add `--dht-bootstrap`, `--no-dht`, `--no-pex` and `--no-lsd` to a command. */
export function addDhtOptions(command: Command): Command {
  return command
    .option(
      '--dht-bootstrap <host:port,...>',
      `DHT nodes to start from (default: ${DEFAULT_DHT_BOOTSTRAP.join(', ')}; or PEERDROP_DHT_BOOTSTRAP)`,
    )
    .option('--no-dht', 'do not use the Mainline DHT to find peers')
    .option('--no-pex', 'do not exchange peers with peers (BEP 11 PEX)')
    .option('--no-lsd', 'do not announce or look for peers on the local network (BEP 14 multicast)');
}

/** Session options for every discovery source from the command line. */
export async function discoverySessionOptions(
  opts: DhtCliOptions,
  stateDir = defaultStateDir(),
): Promise<{ dht: SessionDhtOptions | false; lsd: SessionLsdOptions | false; pex: boolean }> {
  return { ...(await dhtOnly(opts, stateDir)), lsd: lsdSessionOptions(opts), pex: opts.pex !== false };
}

function lsdSessionOptions(opts: DhtCliOptions): SessionLsdOptions | false {
  if (opts.lsd === false) return false;
  const env = process.env.PEERDROP_LSD_INTERFACES;
  if (env === undefined) return {};
  const interfaces = env
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return interfaces.length === 0 ? false : { interfaces };
}

/**
 * Session options for the DHT, PEX and LSD from the command line (resolving bootstrap names to
 * addresses). Kept under this name so the commands that spread it get every source.
 */
export const dhtSessionOptions = discoverySessionOptions;

/** The DHT part (resolving bootstrap names to addresses). */
async function dhtOnly(opts: DhtCliOptions, stateDir: string): Promise<{ dht: SessionDhtOptions | false }> {
  if (opts.dht === false) return { dht: false };
  const text = opts.dhtBootstrap ?? process.env.PEERDROP_DHT_BOOTSTRAP ?? DEFAULT_DHT_BOOTSTRAP.join(',');
  const entries = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const targets = entries.map((entry) => {
    const a = parseHostPort(entry);
    if (!a) throw usageError(`--dht-bootstrap: ${JSON.stringify(entry)} is not host:port (IPv6 in brackets)`);
    return a;
  });
  const bootstrap = (
    await Promise.all(
      targets.map(async (t) =>
        ipFamily(t.host) !== null
          ? [t]
          : // A router that does not resolve (offline) is skipped; the saved table may do.
            (
              await lookup(t.host, { all: true }).catch(() => [])
            ).map((r) => ({ host: r.address, port: t.port })),
      ),
    )
  ).flat();
  const statePath = join(stateDir, 'dht.state');
  let savedState: Uint8Array | undefined;
  try {
    savedState = readFileSync(statePath);
  } catch {
    savedState = undefined;
  }
  return {
    dht: {
      bootstrap,
      ...(savedState ? { savedState } : {}),
      persist: (state) => {
        try {
          writeFileSync(statePath, state, { mode: 0o600 });
        } catch {
          // The state folder may be read-only; the table is rebuilt from bootstrap next time.
        }
      },
      isLoopbackNetwork:
        bootstrap.length > 0 && bootstrap.every((b) => b.host === '127.0.0.1' || b.host === '::1'),
    },
  };
}
