/**
 * A `Connection` over the encrypted channel: what the session writes goes out as sealed data
 * frames, what arrives is opened and checked frame by frame; control messages travel beside the
 * stream (`sendControl` / `onControl`), so the handoff can speak (offer, complete) on a
 * connection the session owns. A frame that fails (forged, replayed, reordered, oversized)
 * closes the connection with the `FrameError`.
 *
 * Data that arrives before the owner sets `onData` (the peer's BitTorrent handshake can follow
 * the accept at once) is held and delivered first, on a microtask, as MseConnection does.
 *
 * Writes are sealed once per event-loop iteration (in its check phase, as TcpTransport batches
 * its socket writes): the session writes a request, a `have` or one block at a time, and each
 * frame costs a fresh AES-GCM context, so sealing them one by one spent more time on setting up
 * ciphers than on encrypting (bench/versus/handoff.ts). Backpressure counts what waits here too.
 */
import type { Connection } from '../net/transport.js';
import { WrappedConnection } from '../net/wrapped-connection.js';
import { type ControlMessage, decodeControl, encodeControl } from './control.js';
import { type FrameOpener, type FrameSealer, FrameType } from './frames.js';

/** Unsealed data beyond this makes `write` ask the owner to wait for `onDrain`. */
const MAX_UNSEALED_BYTES = 1024 * 1024;

export class ChannelConnection extends WrappedConnection {
  private controlCb: (message: ControlMessage) => void = () => {};
  /** Control messages that arrived before anyone listened. */
  private heldControl: ControlMessage[] = [];
  private isControlListening = false;
  /** Data written in this event-loop iteration, sealed together by `flush`. */
  private unsealed: Uint8Array[] = [];
  private unsealedBytes = 0;
  private isBlocked = false;
  private drainCb: () => void = () => {};

  constructor(
    inner: Connection,
    private readonly sealer: FrameSealer,
    private readonly opener: FrameOpener,
    first: readonly Uint8Array[],
  ) {
    super(inner);
    inner.onDrain(() => this.onInnerDrain());
    inner.onData((chunk) => this.receive(chunk));
    for (const chunk of first) if (chunk.length > 0) this.receive(chunk);
  }

  override get queuedBytes(): number {
    return this.inner.queuedBytes + this.unsealedBytes;
  }
  override get isWritable(): boolean {
    return this.inner.isWritable && this.unsealedBytes < MAX_UNSEALED_BYTES;
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.inner.isClosed) return false;
    if (this.unsealed.length === 0) setImmediate(this.flush);
    for (const c of chunks) {
      if (c.length === 0) continue;
      this.unsealed.push(c);
      this.unsealedBytes += c.length;
    }
    const writable = this.isWritable;
    if (!writable) this.isBlocked = true;
    return writable;
  }

  override onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  sendControl(message: ControlMessage): boolean {
    if (this.inner.isClosed) return false;
    // After the data written before it, in order.
    const frames = this.sealer.sealData(this.takeUnsealed());
    frames.push(this.sealer.seal(FrameType.Control, encodeControl(message)));
    return this.inner.write(frames);
  }

  private takeUnsealed(): Uint8Array[] {
    const chunks = this.unsealed;
    this.unsealed = [];
    this.unsealedBytes = 0;
    return chunks;
  }

  private readonly flush = (): void => {
    if (this.unsealed.length === 0) return;
    const chunks = this.takeUnsealed();
    if (this.inner.isClosed) return;
    this.inner.write(this.sealer.sealData(chunks));
    // Blocked only by what waited here: the inner connection has room, so say so now (otherwise
    // its own drain comes, see the constructor).
    if (this.isBlocked && this.inner.isWritable) this.onInnerDrain();
  };

  private onInnerDrain(): void {
    if (!this.isBlocked || !this.isWritable) return;
    this.isBlocked = false;
    this.drainCb();
  }

  /** One listener; messages that came before it are delivered to it at once. */
  onControl(cb: (message: ControlMessage) => void): void {
    this.controlCb = cb;
    this.isControlListening = true;
    const held = this.heldControl;
    this.heldControl = [];
    for (const m of held) cb(m);
  }

  private receive(chunk: Uint8Array): void {
    if (this.inner.isClosed) return;
    try {
      this.opener.feed(chunk, (type, body) => {
        if (type === FrameType.Data) {
          for (const piece of body) this.deliver(piece);
          return;
        }
        const message = decodeControl(body.length === 1 ? body[0]! : Buffer.concat(body));
        if (this.isControlListening) this.controlCb(message);
        else if (this.heldControl.length < 16) this.heldControl.push(message);
      });
    } catch (err) {
      this.inner.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
