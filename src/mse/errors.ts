import { PeerdropError } from '../util/errors.js';

/**
 * Why an MSE (BEP 8 "Message Stream Encryption") handshake failed. Stable: the session records
 * the code as the connection's close reason, tests and the hostile-peer suite switch on it.
 */
export type MseErrorCode =
  /** The peer's public key is not in 2..P-2 (a degenerate key would make the secret guessable). */
  | 'MSE_BAD_PUBLIC_KEY'
  /** `HASH('req1', S)` not found within the 512 pad bytes after Ya (responder). */
  | 'MSE_SYNC_NOT_FOUND'
  /** The encrypted verification constant not found within the 512 pad bytes after Yb (initiator). */
  | 'MSE_VC_NOT_FOUND'
  /** The decrypted VC is not eight zero bytes (responder: wrong key, i.e. not MSE). */
  | 'MSE_BAD_VC'
  /** `HASH('req2', SKEY)` matches none of our torrents. */
  | 'MSE_UNKNOWN_INFO_HASH'
  /** len(PadC) or len(PadD) over 512. */
  | 'MSE_PAD_TOO_LONG'
  /** len(IA) over our limit. */
  | 'MSE_IA_TOO_LONG'
  /** crypto_provide shares no method with what we accept. */
  | 'MSE_NO_COMMON_METHOD'
  /** crypto_select is not exactly one of the methods we offered. */
  | 'MSE_BAD_SELECT'
  /** More bytes buffered before the handshake finished than it can need. */
  | 'MSE_TOO_MUCH_DATA'
  /** The handshake did not finish in time (a peer that stalls mid-handshake). */
  | 'MSE_TIMEOUT'
  /** The peer closed the connection mid-handshake. */
  | 'MSE_CLOSED'
  /** The dial or handshake was aborted locally. */
  | 'MSE_ABORTED'
  /** Policy `require`: an incoming plaintext handshake is refused. */
  | 'MSE_PLAINTEXT_REFUSED'
  /** Policy `off`: an incoming encrypted handshake is refused. */
  | 'MSE_ENCRYPTION_REFUSED'
  /** Policy `require`: an outgoing dial without an info-hash cannot be encrypted. */
  | 'MSE_NO_INFO_HASH'
  /** Too many incoming handshakes in progress. */
  | 'MSE_BUSY'
  /** The handshake object was used after it finished or failed (a programming error surfaced safely). */
  | 'MSE_BAD_STATE';

export class MseError extends PeerdropError {
  declare readonly code: MseErrorCode;
  constructor(code: MseErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
