/**
 * The two ends of an in-memory connection and the per-direction flow between them, split out
 * of `memory-network.ts` so the network file holds only the link model and its event loop.
 * A connection talks to its network through `ConnectionNetwork` rather than the class itself,
 * which keeps this module free of an import back into `memory-network.ts`.
 */
import type { CancelTimer } from '../util/clock.js';
import { ByteQueue, type RateServer, type Segment } from './memory-queues.js';
import { NetError } from './tcp.js';
import type { Connection } from './transport.js';

/** What a connection needs from its network: limits, and the hooks that move its bytes. */
export interface ConnectionNetwork {
  readonly highWaterMarkBytes: number;
  readonly maxQueuedBytes: number;
  send(flow: Flow, chunks: readonly Uint8Array[], bytes: number): void;
  endFlow(flow: Flow, end: 'fin' | Error): void;
  finishLater(c: MemoryConnection, error: Error | null): void;
}

export interface HostState {
  readonly ip: string;
  readonly uplink: RateServer<Flow>;
  readonly downlink: RateServer<Flow>;
  readonly listeners: Map<number, (connection: Connection) => void>;
  readonly connections: Set<MemoryConnection>;
  nextListenPort: number;
  nextEphemeralPort: number;
  uploadedBytes: number;
  downloadedBytes: number;
}

/** One direction of a connection, with its stage queues. */
/** One direction of a connection, with its stage queues. */
export class Flow {
  readonly up = new ByteQueue();
  readonly down = new ByteQueue();
  readonly arrivals: Segment[] = [];
  arrivalsHead = 0;
  arrivalTimer: CancelTimer | null = null;
  lastArrivalMs = 0;
  /** Segments waiting for a partition to heal. */
  held: Segment[] = [];
  isDead = false;

  constructor(
    readonly from: MemoryConnection,
    readonly to: MemoryConnection,
  ) {}
}

export class MemoryConnection implements Connection {
  dataCb: (chunk: Uint8Array) => void = () => {};
  drainCb: () => void = () => {};
  closeCb: (error: Error | null) => void = () => {};
  /** Outgoing flow; set when the pair is made. */
  out!: Flow;
  peer!: MemoryConnection;
  bytesRead = 0;
  bytesWritten = 0;
  queuedBytes = 0;
  /** destroy() was called or the stream ended: no more writes. */
  isClosed = false;
  /** onClose has been called. */
  hasFinished = false;
  /** Server side: handed to the listener yet (data before that waits in `early`). */
  isAccepted = true;
  early: Segment[] = [];
  wasBlocked = false;

  constructor(
    private readonly net: ConnectionNetwork,
    readonly host: HostState,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localPort: number,
  ) {}

  get isWritable(): boolean {
    return !this.isClosed && this.queuedBytes < this.net.highWaterMarkBytes;
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.isClosed) return false;
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    if (bytes > 0) {
      this.queuedBytes += bytes;
      this.net.send(this.out, chunks, bytes);
    }
    if (this.queuedBytes > this.net.maxQueuedBytes) {
      this.destroy(new NetError('NET_SEND_QUEUE_FULL', `send queue over ${this.net.maxQueuedBytes} bytes`));
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

  /** Unsent bytes are dropped; what is already on the wire arrives, then the peer sees the end. */
  destroy(reason?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.net.endFlow(this.out, 'fin');
    this.peer.out.isDead = true; // nothing more reaches us
    this.net.finishLater(this, reason ?? null);
  }

  setNoDelay(): void {}
}

export function resetError(why: string): NetError {
  return new NetError('NET_SOCKET_ERROR', `connection reset: ${why}`);
}
