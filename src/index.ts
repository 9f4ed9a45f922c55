/**
 * peerdrop as a library. The session runs torrents; the metainfo functions read and write
 * the formats strangers send; the test harness starts a swarm in one process.
 *
 * ```ts
 * import { Session } from 'peerdrop';
 * const session = new Session();
 * const torrent = await session.add(await readFile('x.torrent'), { dir: 'downloads' });
 * torrent.on('progress', (s) => console.log(s.progress));
 * await torrent.done();
 * await session.close();
 * ```
 */
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
export { defaultStateDir, fsStorageFactory } from './storage/fs-storage-factory.js';
export type { OpenStorageRequest, StorageFactory } from './storage/storage-factory.js';
export { createTestSwarm, type TestSwarm, type TestSwarmOptions } from './testing/test-swarm.js';
export { type Clock, type Scheduler, systemScheduler, VirtualScheduler } from './util/clock.js';
export { PeerdropError } from './util/errors.js';
