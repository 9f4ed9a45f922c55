/**
 * The encrypted channel after the PAKE: length-prefixed AEAD frames, one key and one counter
 * per direction (pure: bytes in, bytes and frames out).
 *
 *   frame   = length (u32 BE, of the sealed part) ‖ sealed
 *   sealed  = AES-256-GCM(key, nonce = 0⁴ ‖ counter (u64 BE), aad = length, type ‖ body) ‖ tag(16)
 *
 * The counter is implicit: each side counts the frames it sealed and opened, so a frame that is
 * replayed, dropped, reordered or moved from the other direction fails its tag, and the channel
 * is closed. A length above `MAX_FRAME_BODY_BYTES` is refused before anything is allocated.
 * AES-GCM (AES-NI) is the faster AEAD node:crypto has on the machines we run on; a counter nonce
 * never repeats under one key (keys are fresh per connection, 2^64 frames is out of reach).
 *
 * Speed (bench/versus/handoff.ts): node:crypto has no way to re-key a GCM context with a new
 * nonce, so every frame pays for a fresh `createCipheriv` (tens of µs): frames are large (256 KiB)
 * and the channel seals a whole event-loop iteration's writes at once (channel.ts). Sealing passes
 * each chunk's ciphertext on as its own buffer (no copy into one frame buffer), and opening
 * decrypts a frame as its bytes arrive, holding the plaintext until the tag checks: nothing is
 * released before it is authenticated, and a frame is never gathered into one buffer.
 */
import { createCipheriv, createDecipheriv, type DecipherGCM } from 'node:crypto';
import { PeerdropError } from '../util/errors.js';

/** Largest body of one frame (writes are split to it). */
export const MAX_FRAME_BODY_BYTES = 256 * 1024;
export const FRAME_TAG_BYTES = 16;
const HEADER_BYTES = 4;
const MAX_SEALED_BYTES = 1 + MAX_FRAME_BODY_BYTES + FRAME_TAG_BYTES;
const MIN_SEALED_BYTES = 1 + FRAME_TAG_BYTES;

export enum FrameType {
  /** Bytes of the stream carried (the BitTorrent connection). */
  Data = 0,
  /** A control message (JSON, see control.ts). */
  Control = 1,
}

export interface Frame {
  readonly type: FrameType;
  readonly body: Uint8Array;
}

export type FrameErrorCode = 'HANDOFF_FRAME_TOO_LARGE' | 'HANDOFF_FRAME_FORGED' | 'HANDOFF_FRAME_TYPE';

export class FrameError extends PeerdropError {
  declare readonly code: FrameErrorCode;
  constructor(code: FrameErrorCode, message: string) {
    super(code, message);
  }
}

function nonceOf(counter: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 4);
  return nonce;
}

/** Seals frames for one direction. */
export class FrameSealer {
  private counter = 0n;
  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new Error('a frame key is 32 bytes');
  }

  /** One frame in one buffer; `body` at most `MAX_FRAME_BODY_BYTES` (callers split). */
  seal(type: FrameType, body: Uint8Array): Uint8Array {
    if (body.length > MAX_FRAME_BODY_BYTES) throw new Error('frame body too large');
    return Buffer.concat(this.sealParts(type, [body], body.length));
  }

  /**
   * `chunks` as data frames of at most `MAX_FRAME_BODY_BYTES` each, as the buffers to write in
   * order (each frame's header, the ciphertext of each chunk piece, its tag; nothing is copied).
   */
  sealData(chunks: readonly Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    let parts: Uint8Array[] = [];
    let partsBytes = 0;
    const flush = () => {
      if (partsBytes === 0) return;
      for (const b of this.sealParts(FrameType.Data, parts, partsBytes)) out.push(b);
      parts = [];
      partsBytes = 0;
    };
    for (const chunk of chunks) {
      let at = 0;
      while (at < chunk.length) {
        const take = Math.min(chunk.length - at, MAX_FRAME_BODY_BYTES - partsBytes);
        parts.push(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
        partsBytes += take;
        at += take;
        if (partsBytes === MAX_FRAME_BODY_BYTES) flush();
      }
    }
    flush();
    return out;
  }

  /** One frame whose body is `parts` (`bodyBytes` in all): header+type, ciphertexts, tag. */
  private sealParts(type: FrameType, parts: readonly Uint8Array[], bodyBytes: number): Uint8Array[] {
    const head = Buffer.allocUnsafe(HEADER_BYTES + 1);
    head.writeUInt32BE(1 + bodyBytes + FRAME_TAG_BYTES, 0);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonceOf(this.counter++));
    cipher.setAAD(head.subarray(0, HEADER_BYTES));
    cipher.update(Uint8Array.of(type)).copy(head, HEADER_BYTES);
    const out: Uint8Array[] = [head];
    for (const p of parts) if (p.length > 0) out.push(cipher.update(p));
    cipher.final(); // GCM: no bytes held back
    out.push(cipher.getAuthTag());
    return out;
  }
}

/**
 * Opens frames of the other direction from a byte stream cut anywhere. Each frame is decrypted
 * as its bytes arrive; its plaintext is held (at most one frame's worth) until the tag verifies.
 */
export class FrameOpener {
  private counter = 0n;
  private isFailed = false;
  /** The current frame's length prefix (`headHave` of 4 bytes so far). */
  private readonly head = Buffer.alloc(HEADER_BYTES);
  private headHave = 0;
  /** Within a frame: its decipher, ciphertext bytes still to come, plaintext so far, the tag. */
  private decipher: DecipherGCM | null = null;
  private cipherLeft = 0;
  private plain: Buffer[] = [];
  private plainBytes = 0;
  private tag = Buffer.alloc(FRAME_TAG_BYTES);
  private tagHave = 0;

  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new Error('a frame key is 32 bytes');
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.headHave + this.plainBytes + this.tagHave;
  }

  /** Every whole frame in what has arrived; throws a `FrameError` (and stays failed) on a bad one. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    this.feed(chunk, (type, body) =>
      frames.push({ type, body: body.length === 1 ? body[0]! : Buffer.concat(body) }),
    );
    return frames;
  }

  /**
   * Like `push`, but hands each authenticated frame to `onFrame` as the body's pieces (no copy).
   * Frames before a bad one are delivered; then it throws.
   */
  feed(chunk: Uint8Array, onFrame: (type: FrameType, body: Uint8Array[]) => void): void {
    if (this.isFailed) throw new FrameError('HANDOFF_FRAME_FORGED', 'the channel already failed');
    let at = 0;
    while (at < chunk.length) {
      if (!this.decipher) {
        const n = Math.min(HEADER_BYTES - this.headHave, chunk.length - at);
        this.head.set(chunk.subarray(at, at + n), this.headHave);
        this.headHave += n;
        at += n;
        if (this.headHave === HEADER_BYTES) this.begin();
        continue;
      }
      if (this.cipherLeft > 0) {
        const n = Math.min(this.cipherLeft, chunk.length - at);
        const out = this.decipher.update(chunk.subarray(at, at + n));
        this.plain.push(out);
        this.plainBytes += out.length;
        this.cipherLeft -= n;
        at += n;
        continue;
      }
      const n = Math.min(FRAME_TAG_BYTES - this.tagHave, chunk.length - at);
      this.tag.set(chunk.subarray(at, at + n), this.tagHave);
      this.tagHave += n;
      at += n;
      if (this.tagHave === FRAME_TAG_BYTES) {
        const frame = this.finish();
        onFrame(frame.type, frame.body);
      }
    }
  }

  /** The length prefix is in: check it before anything is held, start the frame's decipher. */
  private begin(): void {
    const sealedLength = this.head.readUInt32BE(0);
    if (sealedLength > MAX_SEALED_BYTES || sealedLength < MIN_SEALED_BYTES) {
      this.isFailed = true;
      throw new FrameError('HANDOFF_FRAME_TOO_LARGE', `a frame of ${sealedLength} bytes is out of bounds`);
    }
    this.decipher = createDecipheriv('aes-256-gcm', this.key, nonceOf(this.counter));
    this.decipher.setAAD(this.head);
    this.cipherLeft = sealedLength - FRAME_TAG_BYTES;
  }

  private finish(): { type: FrameType; body: Uint8Array[] } {
    const decipher = this.decipher!;
    const plain = this.plain;
    this.decipher = null;
    this.plain = [];
    this.plainBytes = 0;
    this.headHave = 0;
    this.tagHave = 0;
    try {
      decipher.setAuthTag(this.tag);
      decipher.final();
    } catch {
      this.isFailed = true;
      throw new FrameError(
        'HANDOFF_FRAME_FORGED',
        'a frame failed authentication (forged, replayed or reordered)',
      );
    }
    this.counter++;
    // The first plaintext byte is the type; the first piece may hold nothing else.
    const first = plain[0]!;
    const type = first[0]!;
    if (type !== FrameType.Data && type !== FrameType.Control) {
      this.isFailed = true;
      throw new FrameError('HANDOFF_FRAME_TYPE', `unknown frame type ${type}`);
    }
    const body: Uint8Array[] = first.length > 1 ? [first.subarray(1)] : [];
    for (let i = 1; i < plain.length; i++) if (plain[i]!.length > 0) body.push(plain[i]!);
    return { type, body };
  }
}
