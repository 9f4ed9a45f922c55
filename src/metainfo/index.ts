/** The public API of `src/metainfo`. A plain list: each module appends its own exports. */
export { MetainfoError, type MetainfoErrorCode } from './errors.js';
export {
  INFO_HASH_V1_BYTES,
  INFO_HASH_V2_BYTES,
  infoHashHex,
  infoHashV1,
  infoHashV2,
  infoHashV2Hex,
  truncatedV2,
  wireInfoHash,
} from './info-hash.js';
export {
  formatMagnet,
  formatSelectOnly,
  MAX_MAGNET_LENGTH,
  MAX_MAGNET_PARAMS,
  MAX_SELECT_COUNT,
  MAX_SELECT_INDEX,
  magnetFromMetainfo,
  parseMagnet,
  parseSelectOnly,
} from './magnet.js';
export {
  DEFAULT_METAINFO_LIMITS,
  MERKLE_BLOCK_BYTES,
  type MetainfoLimits,
  MIN_PIECE_LENGTH_BYTES,
  type ParseMetainfoOptions,
  parseInfoDictionary,
  parseMetainfo,
} from './parse.js';
export {
  assertSafePath,
  checkComponent,
  checkPath,
  findPathConflict,
  isSafePath,
  MAX_COMPONENT_BYTES,
  MAX_PATH_BYTES,
  MAX_PATH_DEPTH,
  type PathConflict,
  pathKey,
  resolvePathConflicts,
  sanitizeComponent,
  sanitizePath,
} from './safe-path.js';
export { readTorrentExtras, type TorrentExtras } from './torrent-extras.js';
export type { FileAttributes, MagnetLink, Metainfo, TorrentFileEntry, TorrentVersion } from './types.js';
