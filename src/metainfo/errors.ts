import { PeerdropError } from '../util/errors.js';

/**
 * Every way a torrent file or a magnet link can be refused. Stable: other code, the CLI and
 * tests match on these codes, never on messages.
 */
export type MetainfoErrorCode =
  | 'METAINFO_NOT_A_DICT'
  | 'METAINFO_MISSING_INFO'
  | 'METAINFO_MISSING_FIELD'
  | 'METAINFO_BAD_FIELD'
  | 'METAINFO_BAD_ENCODING'
  | 'METAINFO_BAD_NAME'
  | 'METAINFO_BAD_PIECE_LENGTH'
  | 'METAINFO_PIECES_MISMATCH'
  | 'METAINFO_BAD_LENGTH'
  | 'METAINFO_TOO_LARGE'
  | 'METAINFO_TOO_MANY_FILES'
  | 'METAINFO_NO_FILES'
  | 'METAINFO_AMBIGUOUS_LAYOUT'
  | 'METAINFO_BAD_VERSION'
  | 'METAINFO_BAD_FILE_TREE'
  | 'METAINFO_BAD_PIECES_ROOT'
  | 'METAINFO_BAD_PIECE_LAYER'
  | 'METAINFO_HYBRID_MISMATCH'
  | 'METAINFO_UNSAFE_PATH'
  | 'METAINFO_DUPLICATE_PATH'
  | 'METAINFO_PATH_CONFLICT'
  | 'MAGNET_NOT_A_MAGNET'
  | 'MAGNET_TOO_LONG'
  | 'MAGNET_TOO_MANY_PARAMS'
  | 'MAGNET_BAD_ENCODING'
  | 'MAGNET_NO_XT'
  | 'MAGNET_BAD_XT'
  | 'MAGNET_BAD_HASH_LENGTH'
  | 'MAGNET_BAD_HEX'
  | 'MAGNET_BAD_BASE32'
  | 'MAGNET_CONFLICTING_XT'
  | 'MAGNET_BAD_SELECT'
  | 'MAGNET_BAD_LENGTH';

/**
 * A torrent or magnet link that peerdrop refuses. `field` names where the problem is, in the
 * torrent's own vocabulary (`info.files[3].path[1]`), and the message starts with it.
 */
export class MetainfoError extends PeerdropError {
  declare readonly code: MetainfoErrorCode;
  /** Where the problem is, e.g. `info.piece length` or `xt`; empty when it is the whole input. */
  readonly field: string;

  constructor(code: MetainfoErrorCode, field: string, message: string) {
    super(code, field ? `${field}: ${message}` : message);
    this.field = field;
  }
}
