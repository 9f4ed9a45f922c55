import type { Message } from '../wire/messages.js';

/**
 * What a torrent needs from one established peer connection (handshake done). The wire
 * layer's `PeerConnection` satisfies it; tests and simulations provide in-memory ones. Kept
 * narrow on purpose: the torrent never sees sockets.
 */
export interface PeerChannel {
  /** `host:port` of the remote side as we reach it (dial address, or socket address). */
  readonly remoteHost: string;
  readonly remotePort: number;
  /** 20-byte peer id from the handshake. */
  readonly peerId: Uint8Array;
  /** Features the peer advertised in its handshake reserved bytes. */
  readonly supportsFast: boolean;
  readonly supportsExtensions: boolean;
  readonly isIncoming: boolean;
  /** Queue a message. Returns false when the send queue is above its high-water mark. */
  send(message: Message): boolean;
  /** True when the send queue has room (uploads wait for `onDrain` otherwise). */
  readonly isWritable: boolean;
  /** Close with a recorded reason (peer misbehaviour, shutdown, ban…). */
  close(reason: string): void;
  /** Wire the channel's callbacks to the torrent (called once). */
  bind(handler: PeerChannelHandler): void;
}

export interface PeerChannelHandler {
  onMessage(message: Message): void;
  /** The send queue drained below its low-water mark. */
  onDrain(): void;
  onClose(reason: string): void;
}
