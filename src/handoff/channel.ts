/**
 * A `Connection` over the encrypted channel: what the session writes goes out as sealed data
 * frames, what arrives is opened and checked frame by frame; control messages travel beside the
 * stream (`sendControl` / `onControl`), so the handoff can speak (offer, complete) on a
 * connection the session owns. A frame that fails (forged, replayed, reordered, oversized)
 * closes the connection with the `FrameError`.
 *
 * Data that arrives before the owner sets `onData` (the peer's BitTorrent handshake can follow
 * the accept at once) is held and delivered first, on a microtask, as MseConnection does.
 */
import type { Connection } from '../net/transport.js';
import { type ControlMessage, decodeControl, encodeControl } from './control.js';
import { type FrameOpener, type FrameSealer, FrameType } from './frames.js';

export class ChannelConnection implements Connection {
  private pending: Uint8Array[] = [];
  private isFlushScheduled = false;
  private dataCb: ((chunk: Uint8Array) => void) | null = null;
  private closeCb: ((error: Error | null) => void) | null = null;
  private closeResult: { error: Error | null } | null = null;
  private controlCb: (message: ControlMessage) => void = () => {};
  /** Control messages that arrived before anyone listened. */
  private heldControl: ControlMessage[] = [];
  private isControlListening = false;

  constructor(
    private readonly inner: Connection,
    private readonly sealer: FrameSealer,
    private readonly opener: FrameOpener,
    first: readonly Uint8Array[],
  ) {
    inner.onData((chunk) => this.receive(chunk));
    inner.onClose((error) => {
      this.closeResult = { error };
      if (this.closeCb) this.finishClose(this.closeCb);
    });
    for (const chunk of first) if (chunk.length > 0) this.receive(chunk);
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

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.inner.isClosed) return false;
    return this.inner.write(this.sealer.sealData(chunks));
  }

  sendControl(message: ControlMessage): boolean {
    if (this.inner.isClosed) return false;
    return this.inner.write([this.sealer.seal(FrameType.Control, encodeControl(message))]);
  }

  /** One listener; messages that came before it are delivered to it at once. */
  onControl(cb: (message: ControlMessage) => void): void {
    this.controlCb = cb;
    this.isControlListening = true;
    const held = this.heldControl;
    this.heldControl = [];
    for (const m of held) cb(m);
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
    if (this.closeResult) queueMicrotask(() => this.finishClose(cb));
  }
  destroy(reason?: Error): void {
    this.inner.destroy(reason);
  }
  setNoDelay(noDelay?: boolean): void {
    this.inner.setNoDelay?.(noDelay);
  }

  private receive(chunk: Uint8Array): void {
    if (this.inner.isClosed) return;
    try {
      for (const frame of this.opener.push(chunk)) {
        if (frame.type === FrameType.Data) this.deliver(frame.body);
        else {
          const message = decodeControl(frame.body);
          if (this.isControlListening) this.controlCb(message);
          else if (this.heldControl.length < 16) this.heldControl.push(message);
        }
      }
    } catch (err) {
      this.inner.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private deliver(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.dataCb && this.pending.length === 0) this.dataCb(chunk);
    else this.pending.push(chunk);
  }

  private scheduleFlush(): void {
    if (this.isFlushScheduled) return;
    this.isFlushScheduled = true;
    queueMicrotask(() => {
      this.isFlushScheduled = false;
      while (this.pending.length > 0 && this.dataCb) this.dataCb(this.pending.shift()!);
    });
  }

  private finishClose(cb: (error: Error | null) => void): void {
    while (this.pending.length > 0 && this.dataCb) this.dataCb(this.pending.shift()!);
    const result = this.closeResult;
    this.closeResult = null;
    this.closeCb = null;
    if (result) cb(result.error);
  }
}
