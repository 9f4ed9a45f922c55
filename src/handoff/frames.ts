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
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { PeerdropError } from '../util/errors.js';

/** Largest body of one frame (a BitTorrent block with its header fits; writes are split to it). */
export const MAX_FRAME_BODY_BYTES = 64 * 1024;
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

  /** One frame; `body` at most `MAX_FRAME_BODY_BYTES` (callers split). */
  seal(type: FrameType, body: Uint8Array): Uint8Array {
    if (body.length > MAX_FRAME_BODY_BYTES) throw new Error('frame body too large');
    const sealedLength = 1 + body.length + FRAME_TAG_BYTES;
    const out = Buffer.allocUnsafe(HEADER_BYTES + sealedLength);
    out.writeUInt32BE(sealedLength, 0);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonceOf(this.counter++));
    cipher.setAAD(out.subarray(0, HEADER_BYTES));
    let at = HEADER_BYTES;
    at += cipher.update(Uint8Array.of(type)).copy(out, at);
    at += cipher.update(body).copy(out, at);
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, at);
    return out;
  }

  /** `bytes` as data frames of at most `MAX_FRAME_BODY_BYTES` each. */
  sealData(chunks: readonly Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = () => {
      if (pendingBytes === 0) return;
      out.push(this.seal(FrameType.Data, pending.length === 1 ? pending[0]! : Buffer.concat(pending)));
      pending = [];
      pendingBytes = 0;
    };
    for (const chunk of chunks) {
      let at = 0;
      while (at < chunk.length) {
        const take = Math.min(chunk.length - at, MAX_FRAME_BODY_BYTES - pendingBytes);
        pending.push(chunk.subarray(at, at + take));
        pendingBytes += take;
        at += take;
        if (pendingBytes === MAX_FRAME_BODY_BYTES) flush();
      }
    }
    flush();
    return out;
  }
}

/** Opens frames of the other direction from a byte stream cut anywhere. */
export class FrameOpener {
  private counter = 0n;
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private isFailed = false;

  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new Error('a frame key is 32 bytes');
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  /** Every whole frame in what has arrived; throws a `FrameError` (and stays failed) on a bad one. */
  push(chunk: Uint8Array): Frame[] {
    if (this.isFailed) throw new FrameError('HANDOFF_FRAME_FORGED', 'the channel already failed');
    if (chunk.length > 0) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.bufferedBytes >= HEADER_BYTES) {
      const head = this.peek(HEADER_BYTES);
      const sealedLength = Buffer.from(head.buffer, head.byteOffset, 4).readUInt32BE(0);
      if (sealedLength > MAX_SEALED_BYTES || sealedLength < MIN_SEALED_BYTES) {
        this.isFailed = true;
        throw new FrameError('HANDOFF_FRAME_TOO_LARGE', `a frame of ${sealedLength} bytes is out of bounds`);
      }
      if (this.bufferedBytes < HEADER_BYTES + sealedLength) break;
      const whole = this.take(HEADER_BYTES + sealedLength);
      frames.push(this.open(whole));
    }
    return frames;
  }

  private open(whole: Uint8Array): Frame {
    const tagAt = whole.length - FRAME_TAG_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonceOf(this.counter));
    decipher.setAAD(whole.subarray(0, HEADER_BYTES));
    decipher.setAuthTag(whole.subarray(tagAt));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(whole.subarray(HEADER_BYTES, tagAt)), decipher.final()]);
    } catch {
      this.isFailed = true;
      throw new FrameError(
        'HANDOFF_FRAME_FORGED',
        'a frame failed authentication (forged, replayed or reordered)',
      );
    }
    this.counter++;
    const type = plain[0]!;
    if (type !== FrameType.Data && type !== FrameType.Control) {
      this.isFailed = true;
      throw new FrameError('HANDOFF_FRAME_TYPE', `unknown frame type ${type}`);
    }
    return { type, body: plain.subarray(1) };
  }

  private peek(n: number): Uint8Array {
    const first = this.buffered[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.buffered).subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const first = this.buffered[0]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.buffered.shift();
      else this.buffered[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.buffered);
      out = all.subarray(0, n);
      this.buffered = all.length > n ? [all.subarray(n)] : [];
    }
    this.bufferedBytes -= n;
    return out;
  }
}
