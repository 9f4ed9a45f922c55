import { PeerdropError } from '../util/errors.js';

/**
 * Stable codes for peer misbehaviour and connection ends seen by the wire layer. Callers branch
 * on `code` (disconnect reason, score penalty), never on the message text.
 */
export type WireErrorCode =
  | 'WIRE_BAD_HANDSHAKE'
  | 'WIRE_WRONG_INFO_HASH'
  | 'WIRE_SELF_CONNECTION'
  | 'WIRE_MESSAGE_TOO_LARGE'
  | 'WIRE_BAD_MESSAGE_LENGTH'
  | 'WIRE_UNKNOWN_MESSAGE'
  | 'WIRE_BAD_BITFIELD'
  | 'WIRE_BAD_HAVE'
  | 'WIRE_BAD_REQUEST'
  | 'WIRE_REQUEST_NOT_HAVE'
  | 'WIRE_REQUEST_FLOOD'
  | 'WIRE_UNSOLICITED_PIECE'
  | 'WIRE_FAST_NOT_NEGOTIATED'
  | 'WIRE_EXTENSION_NOT_NEGOTIATED'
  | 'WIRE_BAD_EXTENDED'
  | 'WIRE_BAD_METADATA'
  | 'WIRE_BAD_PEX'
  | 'WIRE_UNEXPECTED_MESSAGE'
  | 'WIRE_HANDSHAKE_TIMEOUT'
  | 'WIRE_IDLE_TIMEOUT'
  /** Not misbehaviour: we closed on purpose (shutdown, torrent removed, peer no longer useful). */
  | 'WIRE_CLOSED_LOCALLY'
  /** Not misbehaviour: the socket ended or failed (see `cause`). */
  | 'WIRE_CONNECTION_LOST';

/** A wire-protocol error from a peer, or the recorded reason a connection ended. */
export class WireError extends PeerdropError {
  declare readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** True for reasons that are the peer's fault (worth a score penalty), as opposed to timeouts we chose or socket loss. */
export function isPeerFault(code: WireErrorCode): boolean {
  return code !== 'WIRE_CLOSED_LOCALLY' && code !== 'WIRE_CONNECTION_LOST' && code !== 'WIRE_IDLE_TIMEOUT';
}
