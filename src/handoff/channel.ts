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
import { WrappedConnection } from '../net/wrapped-connection.js';
import { type ControlMessage, decodeControl, encodeControl } from './control.js';
import { type FrameOpener, type FrameSealer, FrameType } from './frames.js';

export class ChannelConnection extends WrappedConnection {
  private controlCb: (message: ControlMessage) => void = () => {};
  /** Control messages that arrived before anyone listened. */
  private heldControl: ControlMessage[] = [];
  private isControlListening = false;

  constructor(
    inner: Connection,
    private readonly sealer: FrameSealer,
    private readonly opener: FrameOpener,
    first: readonly Uint8Array[],
  ) {
    super(inner);
    inner.onData((chunk) => this.receive(chunk));
    for (const chunk of first) if (chunk.length > 0) this.receive(chunk);
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
}
