/**
 * A `Connection` after the MSE handshake: what the session writes is encrypted into new buffers
 * (never in place: the wire layer hands out views of pooled and cached buffers), what arrives
 * is decrypted into new buffers, and everything else (backpressure, counters, close) is the
 * inner connection's. `bytesRead`/`bytesWritten` therefore count wire bytes, handshake included.
 *
 * Bytes that arrived with the handshake (the responder's IA, a peer's first messages in the same
 * read, or the 20 bytes we peeked to tell plaintext from MSE) are held until the owner sets
 * `onData`, then delivered first, in order, on a microtask, so an owner that sets its callbacks
 * one after another in a constructor misses nothing.
 */
import type { Connection } from '../net/transport.js';
import type { CryptoMethod } from './handshake.js';
import type { Rc4 } from './rc4.js';

export interface MseConnectionOptions {
  /** `null` for a plaintext connection (a plaintext peer, or the plaintext crypto method). */
  readonly encryptor: Rc4 | null;
  readonly decryptor: Rc4 | null;
  /** Already decrypted bytes to deliver before anything else. */
  readonly pending?: readonly Uint8Array[];
  /** How the connection was negotiated: `none` for a plaintext BitTorrent handshake. */
  readonly method: CryptoMethod | 'none';
}

export class MseConnection implements Connection {
  readonly method: CryptoMethod | 'none';
  private readonly encryptor: Rc4 | null;
  private readonly decryptor: Rc4 | null;
  private pending: Uint8Array[];
  private isFlushScheduled = false;
  private dataCb: ((chunk: Uint8Array) => void) | null = null;
  private closeCb: ((error: Error | null) => void) | null = null;
  private closeResult: { error: Error | null } | null = null;

  constructor(
    private readonly inner: Connection,
    options: MseConnectionOptions,
  ) {
    this.method = options.method;
    this.encryptor = options.encryptor;
    this.decryptor = options.decryptor;
    this.pending = [...(options.pending ?? [])].filter((c) => c.length > 0);
    inner.onData((chunk) => this.deliver(this.decryptor ? this.decryptor.process(chunk) : chunk));
    inner.onClose((error) => {
      this.closeResult = { error };
      if (this.closeCb) this.finishClose(this.closeCb);
    });
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }
  get remotePort(): number {
    return this.inner.remotePort;
  }
  get localPort(): number {
    return this.inner.localPort;
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }
  get queuedBytes(): number {
    return this.inner.queuedBytes;
  }
  get isWritable(): boolean {
    return this.inner.isWritable;
  }
  get isClosed(): boolean {
    return this.inner.isClosed;
  }

  /** One new buffer per call: the chunks encrypted back to back (the keystream is sequential). */
  write(chunks: readonly Uint8Array[]): boolean {
    const rc4 = this.encryptor;
    if (!rc4 || this.inner.isClosed) return this.inner.write(chunks);
    let total = 0;
    for (const c of chunks) total += c.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      rc4.processInto(c, out, at);
      at += c.length;
    }
    return this.inner.write([out]);
  }

  onData(cb: (chunk: Uint8Array) => void): void {
    this.dataCb = cb;
    if (this.pending.length > 0) this.scheduleFlush();
  }
  onDrain(cb: () => void): void {
    this.inner.onDrain(cb);
  }
  onClose(cb: (error: Error | null) => void): void {
    this.closeCb = cb;
    // Closed before the owner was listening: tell it anyway, after any held data.
    if (this.closeResult) queueMicrotask(() => this.finishClose(cb));
  }
  destroy(reason?: Error): void {
    this.inner.destroy(reason);
  }
  setNoDelay(noDelay?: boolean): void {
    this.inner.setNoDelay?.(noDelay);
  }

  private deliver(chunk: Uint8Array): void {
    if (this.dataCb && this.pending.length === 0) this.dataCb(chunk);
    else this.pending.push(chunk);
  }

  private scheduleFlush(): void {
    if (this.isFlushScheduled) return;
    this.isFlushScheduled = true;
    queueMicrotask(() => {
      this.isFlushScheduled = false;
      this.flushPending();
    });
  }

  private flushPending(): void {
    while (this.pending.length > 0 && this.dataCb) this.dataCb(this.pending.shift()!);
  }

  private finishClose(cb: (error: Error | null) => void): void {
    this.flushPending();
    const result = this.closeResult;
    this.closeResult = null;
    this.closeCb = null;
    if (result) cb(result.error);
  }
}
