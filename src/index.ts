/**
 * peerdrop as a library. The session runs torrents; `seedFiles` makes a torrent of a file or
 * folder and seeds it; the metainfo functions read and write the formats strangers send; the
 * test harness starts a swarm in one process.
 *
 * ```ts
 * import { Session, seedFiles } from 'peerdrop';
 * const session = new Session();
 * const torrent = await session.add(await readFile('x.torrent'), { dir: 'downloads' });
 * torrent.on('progress', (s) => console.log(s.progress));
 * await torrent.done();
 * const { magnet } = await seedFiles(session, 'photos/');   // others: session.add(magnet, …)
 * await session.close();
 * ```
 *
 * Nothing here loads the server-side stores (SQLite, PostgreSQL): the daemon and the index
 * open them with `await import()` when they run, so a `Session` user never loads `pg` or
 * `better-sqlite3` (test/cli-library.test.ts checks).
 */
import { dirname, resolve } from 'node:path';
import { formatMagnet, parseMagnet } from './metainfo/magnet.js';
import type { TorrentVersion } from './metainfo/types.js';
import type { Session } from './session/session.js';
import type { TorrentHandle } from './session/torrent-handle.js';
import { createTorrent } from './storage/create-torrent.js';
import { PeerdropError } from './util/errors.js';

export { BencodeError, decode, encode } from './bencode/index.js';
export {
  formatMagnet,
  infoHashHex,
  infoHashV2Hex,
  MetainfoError,
  magnetFromMetainfo,
  parseMagnet,
  parseMetainfo,
} from './metainfo/index.js';
export type { MagnetLink, Metainfo, TorrentFileEntry } from './metainfo/types.js';
export { TcpTransport, type TcpTransportOptions } from './net/tcp.js';
export type { Connection, Listener, Transport, TransportAddress } from './net/transport.js';
export { UdpMux } from './net/udp-mux.js';
export { type SessionWarning, type SessionWarningCode, SessionWarningCodes } from './session/events.js';
export type {
  PeerSource,
  PeerSourceContext,
  PeerSourceFactory,
  PeerSourceStatus,
} from './session/peer-source.js';
export { Session, type SessionEvents, type SessionOptions } from './session/session.js';
export type { TorrentLimits } from './session/torrent-handle.js';
export { TorrentHandle } from './session/torrent-handle.js';
export type {
  PeerEvent,
  PeerInfo,
  TorrentOptions,
  TorrentState,
  TorrentStatus,
} from './session/torrent-types.js';
export {
  type CreateTorrentOptions,
  type CreateTorrentResult,
  createTorrent,
} from './storage/create-torrent.js';
export { defaultStateDir, fsStorageFactory } from './storage/fs-storage-factory.js';
export type { OpenStorageRequest, StorageFactory } from './storage/storage-factory.js';
export { createTestSwarm, type TestSwarm, type TestSwarmOptions } from './testing/test-swarm.js';
export { type Clock, type Scheduler, systemScheduler, VirtualScheduler } from './util/clock.js';
export { PeerdropError } from './util/errors.js';

export interface SeedFilesOptions {
  /** Tracker announce URLs, one tier each (BEP 12). */
  readonly trackers?: readonly string[];
  /** BEP 19 web seeds. */
  readonly webSeeds?: readonly string[];
  /** BEP 27: trackers only (no DHT, no peer exchange). */
  readonly isPrivate?: boolean;
  /** Default `v1` (what every client reads); `hybrid` for v1 and v2 clients. */
  readonly version?: TorrentVersion;
  readonly pieceLengthBytes?: number;
  readonly comment?: string;
  /** Peers to connect to at once (`host:port`). */
  readonly peers?: readonly string[];
  /**
   * A `host` others can reach this session on: added to `magnet` as a BEP 9 `x.pe` peer hint
   * (`host:session.port`), so a link works without a tracker or the DHT.
   */
  readonly announceHost?: string;
  readonly signal?: AbortSignal;
}

export interface SeededFiles {
  readonly handle: TorrentHandle;
  /** The magnet link to give others (with `x.pe` when `announceHost` was given). */
  readonly magnet: string;
  /** The `.torrent` file, to save or publish. */
  readonly torrentBytes: Uint8Array;
  /** v1 info-hash (hex), or null for a v2-only torrent. */
  readonly infoHash: string | null;
  readonly name: string;
  readonly totalLengthBytes: number;
}

/**
 * Make a torrent of a file or folder and seed it from where it is (WebTorrent's
 * `client.seed`): the data was just hashed, so it is served without a second check.
 * Refuses empty content (libtorrent and Transmission reject a torrent of 0 bytes).
 */
export async function seedFiles(
  session: Session,
  path: string,
  options: SeedFilesOptions = {},
): Promise<SeededFiles> {
  const full = resolve(path);
  const created = await createTorrent(full, {
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.pieceLengthBytes === undefined ? {} : { pieceLengthBytes: options.pieceLengthBytes }),
    ...(options.comment === undefined ? {} : { comment: options.comment }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    announceTiers: (options.trackers ?? []).map((t) => [t]),
    webSeeds: options.webSeeds ?? [],
    isPrivate: options.isPrivate ?? false,
    createdBy: 'peerdrop',
    creationDate: Math.floor(Date.now() / 1000),
  });
  if (created.totalLengthBytes === 0)
    throw new PeerdropError('SEED_EMPTY', `${path}: nothing to seed (0 bytes of data)`);
  // The torrent's name is the file or folder's own name, so its parent is the data folder.
  const handle = await session.add(created.torrentBytes, {
    dir: dirname(full),
    isKnownComplete: true,
    ...(options.peers === undefined ? {} : { peers: options.peers }),
  });
  let magnet = created.magnet;
  if (options.announceHost !== undefined) {
    const host = options.announceHost.includes(':') ? `[${options.announceHost}]` : options.announceHost;
    const link = parseMagnet(created.magnet);
    magnet = formatMagnet({ ...link, peers: [...link.peers, `${host}:${session.port}`] });
  }
  return {
    handle,
    magnet,
    torrentBytes: created.torrentBytes,
    infoHash: created.infoHash === null ? null : Buffer.from(created.infoHash).toString('hex'),
    name: created.name,
    totalLengthBytes: created.totalLengthBytes,
  };
}
