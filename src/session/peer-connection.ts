/**
 * One peer connection: a TCP {@link Connection} glued to a sans-I/O {@link PeerProtocol}.
 * Bytes from the socket go into the protocol; frames from the protocol go to the socket as
 * chunk lists (a piece is `[13-byte header, block]`, written with writev, never copied by us);
 * small frames written in one tick are coalesced by the socket's cork.
 *
 * Timers: no timer per connection. A {@link PeerTicker} (one coarse interval per session)
 * calls `tick(now)` on every connection; the protocol turns that into handshake timeouts, idle
 * timeouts and keep-alives.
 *
 * After the handshake the session attaches the connection to its torrent, which drives it as a
 * {@link PeerChannel}: every state change goes through the protocol's methods, so request caps,
 * choke rejects and cancelled uploads are enforced in one place. Events that arrive between
 * the handshake and `bind` are queued (bounded) and delivered right after `bind`.
 */
import type { Connection } from '../net/transport.js';
import type { CancelTimer, Clock, Scheduler } from '../util/clock.js';
import { WireError } from '../wire/errors.js';
import type { ExtendedHandshake } from '../wire/extension.js';
import type { Handshake, HandshakeFeatures } from '../wire/handshake.js';
import type { BlockRef, Message } from '../wire/messages.js';
import { PeerProtocol, type PeerProtocolOptions, type TorrentContext } from '../wire/peer-protocol.js';
import type { PeerChannel, PeerChannelHandler } from './peer-channel.js';

export interface PeerConnectionOptions
  extends Pick<
    PeerProtocolOptions,
    | 'maxOutstandingRequests'
    | 'maxPeerRequests'
    | 'handshakeTimeoutMs'
    | 'idleTimeoutMs'
    | 'keepAliveIntervalMs'
    | 'extendedHandshake'
    | 'manageExtensions'
    | 'lookupTorrent'
  > {
  readonly clock: Clock;
  readonly localPeerId: Uint8Array;
  readonly features: HandshakeFeatures;
  /** Outgoing connections: the torrent we dial for. */
  readonly torrent?: TorrentContext;
  /** The shared coarse timer; the connection registers itself and leaves on close. */
  readonly ticker?: PeerTicker;
  /** The peer's handshake passed (right torrent, not ourselves): attach it to the torrent now. */
  readonly onHandshake?: (connection: PeerConnection, handshake: Handshake, torrent: TorrentContext) => void;
  /** The connection ended, before or after the handshake (called once, after the channel handler's). */
  readonly onClose?: (connection: PeerConnection, reason: WireError) => void;
}

/** Messages held between the handshake and `bind` (the torrent attaching); more is a misbehaving peer. */
const MAX_EVENTS_BEFORE_BIND = 1024;

/** See the module comment. */
export class PeerConnection implements PeerChannel {
  readonly protocol: PeerProtocol;
  readonly isIncoming: boolean;
  private handler: PeerChannelHandler | null = null;
  /** Events between the handshake and `bind`; null once flushed. */
  private pending: ((h: PeerChannelHandler) => void)[] | null = [];

  constructor(
    readonly connection: Connection,
    private readonly options: PeerConnectionOptions & { readonly isOutgoing: boolean },
  ) {
    this.isIncoming = !options.isOutgoing;
    this.protocol = new PeerProtocol({
      ...options,
      send: (chunks) => connection.write(chunks),
      handler: {
        onHandshake: (h, t) => this.options.onHandshake?.(this, h, t),
        onMessage: (m) => this.deliver((h) => h.onMessage(m)),
        onExtendedHandshake: (x) => this.deliver((h) => h.onExtendedHandshake(x)),
        onExtension: (name, payload) => this.deliver((h) => h.onExtension(name, payload)),
        onClose: (reason) => this.onProtocolClose(reason),
      },
    });
    connection.onData((chunk) => this.protocol.receive(chunk));
    connection.onDrain(() => this.handler?.onDrain());
    connection.onClose((error) =>
      this.protocol.close(
        new WireError(
          'WIRE_CONNECTION_LOST',
          error ? `connection lost: ${error.message}` : 'connection closed by peer',
          {
            cause: error,
          },
        ),
      ),
    );
    options.ticker?.add(this);
  }

  /** Start the handshake on a connection we made (from any `Transport`) for `options.torrent`. */
  static outgoing(
    connection: Connection,
    options: PeerConnectionOptions & { readonly torrent: TorrentContext },
  ): PeerConnection {
    return new PeerConnection(connection, { ...options, isOutgoing: true });
  }

  /** Wrap an accepted socket; the torrent is chosen by `options.lookupTorrent`. */
  static accept(connection: Connection, options: PeerConnectionOptions): PeerConnection {
    return new PeerConnection(connection, { ...options, isOutgoing: false });
  }

  // ---- PeerChannel ----------------------------------------------------------------------------

  get remoteHost(): string {
    return this.connection.remoteAddress;
  }
  get remotePort(): number {
    return this.connection.remotePort;
  }
  get peerId(): Uint8Array {
    return this.protocol.peerHandshake?.peerId ?? new Uint8Array(20);
  }
  get isFast(): boolean {
    return this.protocol.isFast;
  }
  get supportsDht(): boolean {
    return this.protocol.peerHandshake?.features.dht ?? false;
  }
  get supportsExtensions(): boolean {
    return this.protocol.isExtended;
  }
  get peerExtended(): ExtendedHandshake | null {
    return this.protocol.peerExtendedHandshake;
  }
  get amChoking(): boolean {
    return this.protocol.amChoking;
  }
  get amInterested(): boolean {
    return this.protocol.amInterested;
  }
  get peerChoking(): boolean {
    return this.protocol.peerChoking;
  }
  get peerInterested(): boolean {
    return this.protocol.peerInterested;
  }
  get queuedBytes(): number {
    return this.connection.queuedBytes;
  }
  get isWritable(): boolean {
    return this.connection.isWritable;
  }

  choke(): void {
    this.protocol.choke();
  }
  unchoke(): void {
    this.protocol.unchoke();
  }
  interested(): void {
    this.protocol.interested();
  }
  notInterested(): void {
    this.protocol.notInterested();
  }
  have(piece: number): void {
    this.protocol.have(piece);
  }
  /** Request a block; false when not sent (cap, choked, duplicate, closed). */
  request(block: BlockRef): boolean {
    return this.protocol.request(block);
  }
  cancel(block: BlockRef): void {
    this.protocol.cancel(block);
  }
  /** Answer a pending peer request with `[header, data]` (no copy); false when no longer pending. */
  sendPiece(piece: number, offset: number, data: Uint8Array): boolean {
    return this.protocol.sendPiece(piece, offset, data);
  }
  rejectRequest(block: BlockRef): void {
    this.protocol.rejectRequest(block);
  }
  sendExtension(name: string, payload: Uint8Array): boolean {
    return this.protocol.sendExtension(name, payload);
  }
  /** Send any message as-is (rare messages: `port`, BEP 52 hash messages, `suggest`). */
  sendMessage(message: Message): void {
    this.protocol.sendMessage(message);
  }

  /** Close with a reason we chose (shutdown, ban, duplicate…). */
  close(reason: string): void {
    this.protocol.closeLocally(reason);
  }

  /** Attach the torrent's callbacks; events that arrived since the handshake follow on the next microtask. */
  bind(handler: PeerChannelHandler): void {
    this.handler = handler;
    queueMicrotask(() => this.flushPending());
  }

  // ---- for the session ------------------------------------------------------------------------

  /** Drive timeouts and keep-alives (the {@link PeerTicker} calls this). */
  tick(nowMs: number): void {
    this.protocol.tick(nowMs);
  }
  /** Socket bytes, protocol overhead included (for rate meters). */
  get bytesRead(): number {
    return this.connection.bytesRead;
  }
  get bytesWritten(): number {
    return this.connection.bytesWritten;
  }
  /** Why the connection ended, or null while open. */
  get closeReason(): WireError | null {
    return this.protocol.reason;
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Run `event` now if bound and nothing is queued, else queue it (bounded). */
  private deliver(event: (h: PeerChannelHandler) => void): void {
    if (this.handler !== null && this.pending === null) {
      event(this.handler);
      return;
    }
    const pending = this.pending ?? [];
    this.pending = pending;
    // The cap is for a peer talking to nobody; once bound, the queue empties on the next
    // microtask (bounded by one socket read), and a fast peer's first burst is legitimate.
    if (this.handler === null && pending.length >= MAX_EVENTS_BEFORE_BIND) {
      this.protocol.close(
        new WireError('WIRE_REQUEST_FLOOD', 'too many messages before the torrent attached'),
      );
      return;
    }
    pending.push(event);
  }

  private flushPending(): void {
    const pending = this.pending;
    this.pending = null;
    if (pending === null || this.handler === null) return;
    for (const event of pending) {
      if (this.protocol.isClosed) return;
      event(this.handler);
    }
  }

  private onProtocolClose(reason: WireError): void {
    this.options.ticker?.delete(this);
    this.connection.destroy();
    this.pending = null;
    this.handler?.onClose(`${reason.code}: ${reason.message}`);
    this.options.onClose?.(this, reason);
  }
}

/**
 * One coarse timer for every peer connection of a session (STYLE item 12): each tick calls
 * `tick(now)` on all registered connections. Accuracy is the interval (1 s by default), which
 * is plenty for 10 s handshake, 120 s idle and 60 s keep-alive deadlines.
 */
export class PeerTicker {
  private readonly connections = new Set<{ tick(nowMs: number): void }>();
  private cancel: CancelTimer | null = null;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly intervalMs = 1000,
  ) {}

  get size(): number {
    return this.connections.size;
  }

  add(connection: { tick(nowMs: number): void }): void {
    this.connections.add(connection);
    this.cancel ??= this.scheduler.setInterval(this.intervalMs, () => this.tickAll());
  }

  delete(connection: { tick(nowMs: number): void }): void {
    this.connections.delete(connection);
    if (this.connections.size === 0) this.stop();
  }

  /** Tick every connection now (also what the interval does). */
  tickAll(): void {
    const now = this.scheduler.now();
    for (const c of [...this.connections]) c.tick(now);
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }
}
