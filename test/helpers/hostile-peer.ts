import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { FrameDecoder } from '../../src/wire/decoder.js';
import {
  encodeHandshake,
  type Handshake,
  type HandshakeFeatures,
  NO_FEATURES,
} from '../../src/wire/handshake.js';
import {
  type BlockRef,
  encodeMessage,
  type Message,
  MsgId,
  pieceIndex,
  writeU32,
} from '../../src/wire/messages.js';

/**
 * A scripted fake peer over real TCP on 127.0.0.1, built on the `src/wire` codecs, for the
 * hostile-peer tests: it can dial peerdrop or be dialled by it, send a right or wrong
 * handshake, then misbehave on purpose (raw bytes, huge length prefixes, unknown ids, bad
 * bitfields, bad requests, floods, corrupt blocks, silence, choking forever). Everything it
 * receives is recorded with a timestamp, and so is the moment and cause of the close.
 */

/** What a hostile peer does when peerdrop requests a block from it. */
export type RequestResponder = (req: BlockRef, peer: HostilePeer) => void;

export interface HostilePeerOptions {
  /** The info-hash to put in our handshake (a wrong one for the wrong-hash case). */
  readonly infoHash: Uint8Array;
  readonly peerId?: Uint8Array;
  /** Reserved-bit features we claim (default: none, i.e. plain BEP 3). */
  readonly features?: HandshakeFeatures;
  /** Piece count, so received bitfields are checked (optional). */
  readonly pieceCount?: number;
  /** Answer peerdrop's requests (default: ignore them, i.e. "never answers"). */
  readonly onRequest?: RequestResponder;
  /** Send our handshake as soon as the socket is up (default true). */
  readonly autoHandshake?: boolean;
}

export interface HostileListenerOptions extends HostilePeerOptions {
  /** Runs for each connection peerdrop makes, right after our handshake went out (the script). */
  readonly onPeer?: (peer: HostilePeer) => void;
}

export interface Received {
  readonly atMs: number;
  readonly message: Message;
}

/** Hard cap on recorded messages so a test can never grow memory without bound. */
const MAX_RECORDED = 20_000;

/** See the module comment. */
export class HostilePeer {
  readonly startedMs = Date.now();
  readonly received: Received[] = [];
  receivedHandshake: Handshake | null = null;
  bytesReceived = 0;
  bytesSent = 0;
  /** Set when the socket closed: when, and whether an error (e.g. ECONNRESET) ended it. */
  closedAtMs: number | null = null;
  closeError: Error | null = null;
  /** A decode error on what *peerdrop* sent us (would be a peerdrop bug). */
  decodeError: Error | null = null;
  private readonly decoder: FrameDecoder;
  private readonly closedPromise: Promise<void>;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly socket: Socket,
    private readonly options: HostilePeerOptions,
  ) {
    this.decoder = new FrameDecoder(
      {
        onHandshake: (h) => {
          this.receivedHandshake = h;
        },
        onMessage: (m) => this.onMessage(m),
        onUnknownMessage: () => {},
      },
      { expectHandshake: true, pieceCount: options.pieceCount ?? null },
    );
    this.localAddress = `${socket.localAddress}:${socket.localPort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.decodeError) return;
      try {
        // Copy: the decoder keeps views into what it is given.
        this.decoder.push(new Uint8Array(chunk));
      } catch (err) {
        this.decodeError = err as Error;
      }
      this.notify();
    });
    this.closedPromise = new Promise((resolve) => {
      socket.on('error', (err) => {
        this.closeError = err;
      });
      socket.on('close', () => {
        this.closedAtMs = Date.now();
        this.notify();
        resolve();
      });
    });
    if (options.autoHandshake ?? true) this.handshake();
  }

  /** Wrap a connected socket (the listener's accepted connections). */
  static wrap(socket: Socket, options: HostilePeerOptions): HostilePeer {
    return new HostilePeer(socket, options);
  }

  /** Dial peerdrop at 127.0.0.1:`port`. */
  static dial(port: number, options: HostilePeerOptions, host = '127.0.0.1'): Promise<HostilePeer> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new HostilePeer(socket, options));
      });
    });
  }

  /** Listen on 127.0.0.1 for peerdrop to dial us; every accepted connection becomes a HostilePeer. */
  static async listen(options: HostileListenerOptions): Promise<HostileListener> {
    const listener = new HostileListener(options);
    await listener.start();
    return listener;
  }

  get isClosed(): boolean {
    return this.closedAtMs !== null;
  }

  /** `host:port` of our end, as peerdrop names us in its peer events. */
  readonly localAddress: string;

  // ---- scripted actions -----------------------------------------------------------------------

  /** Send a BEP 3 handshake; `infoHash` overrides the configured one (the wrong-hash case). */
  handshake(infoHash = this.options.infoHash): void {
    this.raw(
      encodeHandshake({
        features: this.options.features ?? NO_FEATURES,
        infoHash,
        peerId:
          this.options.peerId ?? Uint8Array.from(Buffer.from(`-HP0001-${randomBytes(6).toString('hex')}`)),
      }),
    );
  }

  /** Write bytes as they are (false once the socket is gone). */
  raw(bytes: Uint8Array): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.bytesSent += bytes.length;
    return this.socket.write(bytes);
  }

  send(message: Message): boolean {
    return this.raw(encodeMessage(message));
  }

  /** A frame header claiming `length` bytes (e.g. 2^31), optionally followed by some of its body. */
  lengthPrefix(length: number, id = MsgId.Piece as number, bodyBytes = 0): boolean {
    const out = new Uint8Array(5 + bodyBytes);
    writeU32(out, 0, length);
    out[4] = id;
    return this.raw(out);
  }

  /** A frame with an id no BEP defines, and `payloadBytes` of junk. */
  unknownMessage(id: number, payloadBytes = 4): boolean {
    const out = new Uint8Array(5 + payloadBytes);
    writeU32(out, 0, 1 + payloadBytes);
    out[4] = id;
    return this.raw(out);
  }

  /** A bitfield for `pieceCount` pieces, all set; `spareBits` also sets the padding bits BEP 3 wants zero. */
  bitfield(
    pieceCount: number,
    opts: { spareBits?: boolean; have?: (piece: number) => boolean } = {},
  ): boolean {
    const bits = new Uint8Array(Math.ceil(pieceCount / 8));
    for (let i = 0; i < pieceCount; i++) if (opts.have?.(i) ?? true) bits[i >> 3]! |= 0x80 >> (i & 7);
    if (opts.spareBits && pieceCount % 8 !== 0) bits[bits.length - 1]! |= 0xff >> (pieceCount % 8);
    return this.send({ id: MsgId.Bitfield, bits });
  }

  unchoke(): boolean {
    return this.send({ id: MsgId.Unchoke });
  }

  choke(): boolean {
    return this.send({ id: MsgId.Choke });
  }

  interested(): boolean {
    return this.send({ id: MsgId.Interested });
  }

  request(piece: number, offset: number, length: number): boolean {
    return this.send({ id: MsgId.Request, piece: pieceIndex(piece), offset, length });
  }

  /**
   * `count` distinct requests in one write (a request flood): `blockLength`-byte blocks at
   * consecutive offsets of pieces 0..`pieceCount`-1, each `pieceLength` long (small blocks give
   * more distinct requests than a torrent has 16 KiB blocks).
   */
  requestFlood(
    count: number,
    opts: { pieceCount: number; pieceLength: number; blockLength?: number },
  ): boolean {
    const blockLength = opts.blockLength ?? 16384;
    const perPiece = Math.floor(opts.pieceLength / blockLength);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const piece = Math.floor(i / perPiece) % opts.pieceCount;
      const offset = (i % perPiece) * blockLength;
      frames.push(
        encodeMessage({ id: MsgId.Request, piece: pieceIndex(piece), offset, length: blockLength }),
      );
    }
    return this.raw(Buffer.concat(frames));
  }

  /** Close our end. */
  destroy(): void {
    this.socket.destroy();
  }

  // ---- observation ----------------------------------------------------------------------------

  /** Messages of one kind received so far. */
  messages<K extends Message['id']>(id: K): Extract<Message, { id: K }>[] {
    return this.received
      .filter((r) => r.message.id === id)
      .map((r) => r.message as Extract<Message, { id: K }>);
  }

  /** Resolves true when `predicate` holds, false after `timeoutMs` (never throws: tests assert). */
  waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return;
        done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      this.waiters.add(check);
    });
  }

  /** True when the connection closed within `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.isClosed, timeoutMs);
  }

  closed(): Promise<void> {
    return this.closedPromise;
  }

  private onMessage(m: Message): void {
    if (this.received.length < MAX_RECORDED)
      this.received.push({ atMs: Date.now() - this.startedMs, message: m });
    if (m.id === MsgId.Request) this.options.onRequest?.(m, this);
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** A listening hostile peer: every connection peerdrop makes to it is a {@link HostilePeer}. */
export class HostileListener {
  readonly peers: HostilePeer[] = [];
  private server: Server | null = null;
  private readonly waiters = new Set<() => void>();
  port = 0;

  constructor(private readonly options: HostileListenerOptions) {}

  /** `127.0.0.1:port`, for `peers`/`addPeer`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => {
      const peer = HostilePeer.wrap(socket, this.options);
      this.peers.push(peer);
      this.options.onPeer?.(peer);
      for (const w of [...this.waiters]) w();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** The first connection peerdrop makes, or null after `timeoutMs`. */
  accepted(timeoutMs: number): Promise<HostilePeer | null> {
    if (this.peers[0]) return Promise.resolve(this.peers[0]);
    return new Promise((resolve) => {
      const check = () => {
        if (!this.peers[0]) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.peers[0]!);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(null);
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Answers every request with `length` bytes of garbage (a corrupt-data peer, for smart-ban). */
export function corruptResponder(seed = 0x5eed): RequestResponder {
  let x = seed >>> 0 || 1;
  return (req, peer) => {
    const data = new Uint8Array(req.length);
    for (let i = 0; i < data.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      data[i] = x & 0xff;
    }
    peer.send({ id: MsgId.Piece, piece: req.piece, offset: req.offset, data });
  };
}

/** Answers every request with the right bytes from `content` (the whole torrent's data, concatenated). */
export function honestResponder(content: Uint8Array, pieceLength: number): RequestResponder {
  return (req, peer) => {
    const start = req.piece * pieceLength + req.offset;
    peer.send({
      id: MsgId.Piece,
      piece: req.piece,
      offset: req.offset,
      data: content.subarray(start, start + req.length),
    });
  };
}
