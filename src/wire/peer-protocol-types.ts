/** Types and settings of {@link PeerProtocol} (kept apart so the state machine file stays small). */
import type { Bitfield } from '../util/bitfield.js';
import type { Clock } from '../util/clock.js';
import type { WireError } from './errors.js';
import type { ExtendedHandshake } from './extension.js';
import type { Handshake, HandshakeFeatures } from './handshake.js';
import type { Message } from './messages.js';

/** What the protocol needs to know about the torrent a connection serves. */
export interface TorrentContext {
  /** The 20-byte info-hash of the handshake (truncated SHA-256 for v2, BEP 52). */
  readonly infoHash: Uint8Array;
  /** Piece count, or null while unknown (magnet link before metadata). */
  readonly pieceCount: number | null;
  /** Length in bytes of `piece` (the last one may be short). */
  pieceLength(piece: number): number;
  /** Whether we have `piece` (and so may serve requests for it). */
  hasPiece(piece: number): boolean;
  /**
   * Our pieces, sent by the protocol right after the handshake (null while the piece count is
   * unknown). Leave it out to send the piece set yourself (once, first) with `sendMessage`.
   */
  bitfield?(): Bitfield | null;
}

/** Callbacks from the protocol. Plain functions: this is the hot path. */
export interface PeerProtocolHandler {
  /** The peer's handshake passed the checks; `torrent` is the torrent it is for. */
  onHandshake?(handshake: Handshake, torrent: TorrentContext): void;
  onExtendedHandshake?(handshake: ExtendedHandshake): void;
  /** Every message after the handshake, after the protocol updated its state. */
  onMessage(msg: Message): void;
  /** An extended message for one of our extensions (`ut_metadata`, `ut_pex`), payload raw. */
  onExtension?(name: string, payload: Uint8Array): void;
  /** The connection is over (called exactly once); the owner closes the socket. */
  onClose(reason: WireError): void;
}

export interface PeerProtocolOptions {
  readonly clock: Clock;
  readonly isOutgoing: boolean;
  readonly localPeerId: Uint8Array;
  readonly features: HandshakeFeatures;
  /** Outgoing: the torrent we dialled for. */
  readonly torrent?: TorrentContext;
  /** Incoming: find the torrent for the peer's info-hash; null closes with `WIRE_WRONG_INFO_HASH`. */
  readonly lookupTorrent?: (infoHash: Uint8Array) => TorrentContext | null;
  /** Cap on our outstanding requests to the peer (default 500, enough for loopback speeds). */
  readonly maxOutstandingRequests?: number;
  /** Cap on the peer's pending requests to us; advertised as `reqq` (default 500). */
  readonly maxPeerRequests?: number;
  readonly handshakeTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly keepAliveIntervalMs?: number;
  /**
   * True (default): the protocol sends our extended handshake, parses the peer's, and reports
   * other extended messages through `onExtension` by name. False: extended messages (id 0
   * included) pass through `onMessage` untouched and the owner speaks BEP 10 itself.
   */
  readonly manageExtensions?: boolean;
  /**
   * Extra fields of our extended handshake (`v`, `p`, `metadata_size`, `yourip`…); `reqq` is
   * ours, and so is `m` unless given (a torrent without PEX leaves `ut_pex` out).
   */
  readonly extendedHandshake?: () => Omit<ExtendedHandshake, 'm' | 'reqq'> & {
    readonly m?: ReadonlyMap<string, number>;
  };
  /** Byte chunks to write, in order (a piece is `[header, block]` for writev). */
  readonly send: (chunks: readonly Uint8Array[]) => void;
  readonly handler: PeerProtocolHandler;
}

export const DEFAULT_PEER_PROTOCOL_SETTINGS = {
  maxOutstandingRequests: 500,
  maxPeerRequests: 500,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  keepAliveIntervalMs: 60_000,
} as const;
