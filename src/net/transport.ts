/**
 * The seam between the engine and the network: a `Transport` makes and accepts byte-stream
 * `Connection`s. TCP (`TcpTransport`) is one; the in-memory network of the simulations is
 * another; an encrypting wrapper (MSE) or uTP arrive the same way, as a Transport or a wrapper
 * around one, so the session and its torrents never learn which one carried a peer.
 */

/** Where a peer is reached: an IP literal (or, for TCP, a host name) and a port. */
export interface TransportAddress {
  readonly host: string;
  readonly port: number;
}

/** One byte-stream connection, as the session sees it. Callbacks are single slots (a later call replaces). */
export interface Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Unsent bytes queued in the connection. */
  readonly queuedBytes: number;
  /** False once queued bytes reach the high-water mark; wait for `onDrain`. */
  readonly isWritable: boolean;
  readonly isClosed: boolean;
  /** Queue chunks (batched per event-loop iteration). Returns `isWritable` after queuing. */
  write(chunks: readonly Uint8Array[]): boolean;
  onData(cb: (chunk: Uint8Array) => void): void;
  /** Queued bytes fell below the high-water mark again. */
  onDrain(cb: () => void): void;
  /** Called once; `error` is null for an orderly end or a local `destroy()` without a reason. */
  onClose(cb: (error: Error | null) => void): void;
  destroy(reason?: Error): void;
  setNoDelay?(noDelay?: boolean): void;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface DialRequest {
  /** Give up after this long (rejects with `NET_DIAL_TIMEOUT`). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * The torrent the connection is for (v1 or truncated v2 wire hash). Transports that encrypt
   * (MSE needs it as the shared key SKEY) use it; others ignore it.
   */
  readonly infoHash?: Uint8Array;
}

export interface Transport {
  /** Short name for logs and statistics (`tcp`, `memory`, `mse+tcp`…). */
  readonly name: string;
  /**
   * Connect to a peer. Rejects with a `NetError` (`NET_DIAL_FAILED`, `NET_DIAL_TIMEOUT`,
   * `NET_ABORTED`).
   */
  dial(address: TransportAddress, request?: DialRequest): Promise<Connection>;
  /** Start accepting connections (once); resolves with where we listen. */
  listen(onConnection: (connection: Connection) => void): Promise<Listener>;
  /** Stop listening; connections already made are their owners' to close. */
  close(): Promise<void>;
}
