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
export { Session, type SessionOptions } from './session/session.js';
export { TorrentHandle } from './session/torrent-handle.js';
export type { PeerEvent, TorrentOptions, TorrentState, TorrentStatus } from './session/torrent-types.js';
export { createTestSwarm, type TestSwarm, type TestSwarmOptions } from './testing/test-swarm.js';
export { PeerdropError } from './util/errors.js';
