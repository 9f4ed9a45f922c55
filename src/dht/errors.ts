import { PeerdropError } from '../util/errors.js';

/** Every way the DHT refuses input or an operation. Stable: callers and tests match on these. */
export type DhtErrorCode =
  /** The datagram is not valid bencode, or over the KRPC size limits. */
  | 'KRPC_BENCODE'
  /** Valid bencode, but not a KRPC message (wrong top-level shape, `t`, `y`). */
  | 'KRPC_MALFORMED'
  /** A field has the wrong type or size (ids, tokens, compact nodes, values…). */
  | 'KRPC_BAD_FIELD'
  /** A required field is missing. */
  | 'KRPC_MISSING_FIELD'
  /** A saved routing table that cannot be read. */
  | 'DHT_BAD_STATE'
  /** A BEP 44 item that is too large, badly signed, or whose salt is too long. */
  | 'DHT_BAD_ITEM'
  /** The lookup was aborted through its signal. */
  | 'DHT_ABORTED'
  /** The node is stopped. */
  | 'DHT_STOPPED';

export class DhtError extends PeerdropError {
  declare readonly code: DhtErrorCode;

  constructor(code: DhtErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
