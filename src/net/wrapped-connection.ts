import type { Connection } from './transport.js';

/**
 * A `Connection` that transforms the bytes of another (MSE's RC4, the handoff channel's AEAD
 * frames): addresses, counters, drain, destroy and no-delay are the inner connection's, and the
 * data it delivers is held until someone listens, so a wrapper made after bytes arrived (the
 * handshake read past its end) loses none of them. A close that comes before `onClose` is
 * reported when a listener arrives, after the held data. Subclasses decode in their own
 * `inner.onData` handler and call `deliver`; they encode in `write`.
 */
export abstract class WrappedConnection implements Connection {
  /** Decoded data not yet taken by the owner. */
  protected pending: Uint8Array[] = [];
  private isFlushScheduled = false;
  private dataCb: ((chunk: Uint8Array) => void) | null = null;
  private closeCb: ((error: Error | null) => void) | null = null;
  private closeResult: { error: Error | null } | null = null;

  constructor(protected readonly inner: Connection) {
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

  abstract write(chunks: readonly Uint8Array[]): boolean;

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

  /** Hand decoded bytes to the owner, in order, or hold them until it listens. */
  protected deliver(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
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
