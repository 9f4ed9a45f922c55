/**
 * The thin TCP adapter for peer connections (IPv4 and IPv6, incoming and outgoing). Protocol
 * cores never see a socket: they get bytes through `onData` and write chunks through `write`.
 *
 * Backpressure: `write` queues chunks until the event loop's check phase, after every socket
 * read and disk completion of this loop iteration has run, so the frames they produced (a burst
 * of requests, the blocks of several reads) go out as one writev: one syscall instead of one per
 * read callback (on loopback a write syscall also runs the receiver's TCP processing). It
 * returns false once the unsent bytes pass `highWaterMarkBytes`; the producer then waits for
 * `onDrain`. A connection whose queue passes `maxQueuedBytes`
 * (a producer that ignored backpressure) is destroyed with `NET_SEND_QUEUE_FULL`, so memory
 * stays bounded either way.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { PeerdropError } from '../util/errors.js';
import type { Connection, DialRequest, Listener, Transport, TransportAddress } from './transport.js';

export type { Connection, Listener } from './transport.js';

export type NetErrorCode =
  | 'NET_DIAL_FAILED'
  | 'NET_DIAL_TIMEOUT'
  | 'NET_ABORTED'
  | 'NET_SEND_QUEUE_FULL'
  | 'NET_SOCKET_ERROR'
  | 'NET_LISTEN_FAILED';

export class NetError extends PeerdropError {
  declare readonly code: NetErrorCode;
  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface ConnectionOptions {
  /** Default 1 MiB: about 64 blocks in flight, plenty for loopback. */
  readonly highWaterMarkBytes?: number;
  /** Hard cap on queued bytes (default 8 × the high-water mark). */
  readonly maxQueuedBytes?: number;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** Chunks below this are coalesced into one buffer per flush. */
const SMALL_CHUNK_BYTES = 1024;

class SocketConnection implements Connection {
  private dataCb: (chunk: Uint8Array) => void = () => {};
  private drainCb: () => void = () => {};
  private closeCb: (error: Error | null) => void = () => {};
  /** Chunks written in this loop iteration, flushed together in its check phase (see `flush`). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private wasBlocked = false;
  private closeError: Error | null = null;
  private hasClosed = false;
  private readonly highWaterMark: number;
  private readonly maxQueued: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;

  constructor(
    private readonly socket: Socket,
    options: ConnectionOptions,
  ) {
    this.highWaterMark = options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK;
    this.maxQueued = options.maxQueuedBytes ?? 8 * this.highWaterMark;
    this.remoteAddress = stripV4Mapped(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.dataCb(chunk));
    socket.on('drain', () => this.onSocketDrain());
    socket.on('error', (err) => {
      this.closeError ??= new NetError('NET_SOCKET_ERROR', err.message, { cause: err });
    });
    socket.on('close', () => this.finish());
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }
  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }
  get queuedBytes(): number {
    return this.socket.writableLength + this.pendingBytes;
  }
  get isWritable(): boolean {
    return !this.hasClosed && this.queuedBytes < this.highWaterMark;
  }
  get isClosed(): boolean {
    return this.hasClosed || this.socket.destroyed;
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.isClosed) return false;
    if (this.pending.length === 0) setImmediate(this.flush);
    for (const c of chunks) {
      this.pending.push(c);
      this.pendingBytes += c.length;
    }
    if (this.queuedBytes > this.maxQueued) {
      this.destroy(new NetError('NET_SEND_QUEUE_FULL', `send queue over ${this.maxQueued} bytes`));
      return false;
    }
    const writable = this.isWritable;
    if (!writable) this.wasBlocked = true;
    return writable;
  }

  onData(cb: (chunk: Uint8Array) => void): void {
    this.dataCb = cb;
  }
  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }
  onClose(cb: (error: Error | null) => void): void {
    this.closeCb = cb;
  }

  destroy(reason?: Error): void {
    if (reason) this.closeError ??= reason;
    this.socket.destroy();
  }

  setNoDelay(noDelay = true): void {
    this.socket.setNoDelay(noDelay);
  }

  /**
   * Hand this iteration's chunks to the socket as one corked batch. Runs of small frames (requests,
   * haves, piece headers) are copied into one buffer: a stream write per 17-byte request costs
   * more than the copy. Large chunks (block data) are passed as views, never copied.
   */
  private readonly flush = (): void => {
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed || chunks.length === 0) return;
    this.socket.cork();
    let run: Uint8Array[] = [];
    let runBytes = 0;
    const writeRun = () => {
      if (run.length === 1) this.socket.write(run[0]!);
      else if (run.length > 1) this.socket.write(Buffer.concat(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const c of chunks) {
      if (c.length >= SMALL_CHUNK_BYTES) {
        writeRun();
        this.socket.write(c);
      } else {
        run.push(c);
        runBytes += c.length;
      }
    }
    writeRun();
    this.socket.uncork();
  };

  private onSocketDrain(): void {
    if (this.wasBlocked && this.isWritable) {
      this.wasBlocked = false;
      this.drainCb();
    }
  }

  private finish(): void {
    if (this.hasClosed) return;
    this.hasClosed = true;
    this.closeCb(this.closeError);
  }
}

/** `::ffff:1.2.3.4` (a v4 peer on a dual-stack listener) → `1.2.3.4`. */
function stripV4Mapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export interface DialOptions extends ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Connect timeout (default 10 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Local address to dial from (multi-homed hosts; tests use several loopback addresses). */
  readonly localAddress?: string;
}

/** Connect to a peer. Rejects with a `NetError` (`NET_DIAL_FAILED`, `NET_DIAL_TIMEOUT`, `NET_ABORTED`). */
export function dial(options: DialOptions): Promise<Connection> {
  const { host, port, signal } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new NetError('NET_ABORTED', `dial ${host}:${port} aborted`));
      return;
    }
    const socket = tcpConnect({
      host,
      port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const fail = (err: NetError): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) =>
      fail(new NetError('NET_DIAL_FAILED', `dial ${host}:${port}: ${err.message}`, { cause: err }));
    const onAbort = () => fail(new NetError('NET_ABORTED', `dial ${host}:${port} aborted`));
    const timer = setTimeout(
      () => fail(new NetError('NET_DIAL_TIMEOUT', `dial ${host}:${port} timed out`)),
      timeoutMs,
    );
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      cleanup();
      resolve(new SocketConnection(socket, options));
    });
  });
}

export interface ListenOptions extends ConnectionOptions {
  /** Default `::` (dual stack where the OS allows). */
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  /** Connections beyond this are refused at accept (default 500). */
  readonly maxConnections?: number;
  readonly onConnection: (connection: Connection) => void;
}

/** Listen for incoming peer connections. Rejects with `NET_LISTEN_FAILED`. */
export function listen(options: ListenOptions): Promise<Listener> {
  const server: Server = createServer({ noDelay: true }, (socket) => {
    options.onConnection(new SocketConnection(socket, options));
  });
  server.maxConnections = options.maxConnections ?? 500;
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new NetError('NET_LISTEN_FAILED', `listen on port ${options.port ?? 0}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    server.listen({ host: options.host ?? '::', port: options.port ?? 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.on('error', () => {}); // after listening, errors belong to individual sockets
      resolve({
        host: options.host ?? '::',
        port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

export interface TcpTransportOptions extends ConnectionOptions {
  /** Address to listen on; by default `::` (dual stack), falling back to `0.0.0.0`. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Connections beyond this are refused at accept (default 500). */
  readonly maxConnections?: number;
  /** Dial from this local address (default: the system's choice). */
  readonly localAddress?: string;
}

/** TCP as a {@link Transport}: the default for sessions. */
export class TcpTransport implements Transport {
  readonly name = 'tcp';
  private listener: Listener | null = null;

  constructor(private readonly options: TcpTransportOptions = {}) {}

  dial(address: TransportAddress, request: DialRequest = {}): Promise<Connection> {
    return dial({
      ...this.connectionOptions(),
      host: address.host,
      port: address.port,
      ...(this.options.localAddress === undefined ? {} : { localAddress: this.options.localAddress }),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
  }

  async listen(onConnection: (connection: Connection) => void): Promise<Listener> {
    if (this.listener) return this.listener;
    const port = this.options.port ?? 0;
    const base = {
      ...this.connectionOptions(),
      port,
      onConnection,
      ...(this.options.maxConnections === undefined ? {} : { maxConnections: this.options.maxConnections }),
    };
    if (this.options.host !== undefined) this.listener = await listen({ ...base, host: this.options.host });
    else {
      // Dual stack (IPv4 and IPv6 peers, BEP 7); hosts without IPv6 fall back to IPv4.
      this.listener = await listen({ ...base, host: '::' }).catch(() => listen({ ...base, host: '0.0.0.0' }));
    }
    return this.listener;
  }

  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    await listener?.close();
  }

  private connectionOptions(): ConnectionOptions {
    return {
      ...(this.options.highWaterMarkBytes === undefined
        ? {}
        : { highWaterMarkBytes: this.options.highWaterMarkBytes }),
      ...(this.options.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: this.options.maxQueuedBytes }),
    };
  }
}
