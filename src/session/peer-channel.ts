import type { ExtendedHandshake } from '../wire/extension.js';
import type { BlockRef, Message } from '../wire/messages.js';

/**
 * What a torrent needs from one established peer connection (handshake done). The wire
 * layer's `PeerProtocol` (through `PeerConnection`) provides it; tests and simulations can
 * provide in-memory ones. Narrow on purpose: the torrent never sees sockets, and the wire
 * layer keeps the per-connection protocol state (requests outstanding, the peer's pending
 * requests, choke/interest) consistent because every state change goes through these methods.
 */
export interface PeerChannel {
  /** The remote side as we reach it (dial address, or socket address for incoming). */
  readonly remoteHost: string;
  readonly remotePort: number;
  /** 20-byte peer id from the handshake. */
  readonly peerId: Uint8Array;
  readonly isIncoming: boolean;
  /** BEP 6 negotiated. */
  readonly isFast: boolean;
  /** BEP 5: the peer's handshake set the DHT bit (it accepts a `port` message). */
  readonly supportsDht?: boolean;
  /** The peer's BEP 10 handshake, once received. */
  readonly peerExtended: ExtendedHandshake | null;
  /** Choke and interest, both ways, as the protocol tracks them (changed only by the methods below). */
  readonly amChoking: boolean;
  readonly amInterested: boolean;
  readonly peerChoking: boolean;
  readonly peerInterested: boolean;
  /** Bytes written to the connection and not yet sent (the uploader keeps this near rate × 0.5 s). */
  readonly queuedBytes: number;
  /** True when the send queue has room (uploads wait for `onDrain` otherwise). */
  readonly isWritable: boolean;
  choke(): void;
  unchoke(): void;
  interested(): void;
  notInterested(): void;
  have(piece: number): void;
  /** False when nothing was sent (cap reached, choked, closed). */
  request(block: BlockRef): boolean;
  cancel(block: BlockRef): void;
  /** False when the request is no longer pending (cancelled, choked): nothing sent. */
  sendPiece(piece: number, offset: number, data: Uint8Array): boolean;
  rejectRequest(block: BlockRef): void;
  /** Send a message that has no dedicated method (e.g. BEP 52 hash reject). */
  sendMessage(message: Message): void;
  /** Send an extension message by name; false when the peer lacks the extension. */
  sendExtension(name: string, payload: Uint8Array): boolean;
  /** Close with a recorded reason (peer misbehaviour, shutdown, ban…). */
  close(reason: string): void;
  /** Route the channel's events to the torrent (replaces any earlier handler). */
  bind(handler: PeerChannelHandler): void;
}

export interface PeerChannelHandler {
  /** Every message after the protocol validated it and updated its state (extensions excluded). */
  onMessage(message: Message): void;
  /** The peer's BEP 10 handshake arrived. */
  onExtendedHandshake(handshake: ExtendedHandshake): void;
  /** A message for one of our extensions, by name (`ut_metadata`, `ut_pex`). */
  onExtension(name: string, payload: Uint8Array): void;
  /** The send queue drained below its low-water mark. */
  onDrain(): void;
  onClose(reason: string): void;
}
