/**
 * Incremental, sans-I/O frame decoder: `push(chunk)` bytes in, messages out through a plain
 * callback (STYLE item 7: no events on the hot path).
 *
 * Memory: the decoder holds at most one partial frame. A frame's length and id are checked
 * against the named limits in `limits.ts` before its buffer is allocated, so a peer cannot make
 * it allocate more than {@link FrameDecoder.maxFrameBytes}. A frame that arrives whole inside
 * one chunk is decoded in place (zero-copy: piece data is a view into the chunk); only a frame
 * split across chunks is assembled into a buffer of exactly its size.
 *
 * Ownership: the decoder takes ownership of pushed chunks; decoded byte fields may be views into
 * them, so the caller must not reuse a chunk's memory (Node socket buffers are never reused).
 */
import { WireError } from './errors.js';
import { decodeHandshake, type Handshake } from './handshake.js';
import {
  HANDSHAKE_BYTES,
  MAX_EXTENDED_MESSAGE_BYTES,
  MAX_HASHES_MESSAGE_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_REQUEST_LENGTH,
  MAX_UNKNOWN_BITFIELD_BYTES,
} from './limits.js';
import { codecFor, type Message, MsgId, messageName, readU32 } from './messages.js';

/** Where decoded frames go. */
export interface FrameDecoderHandler {
  /** The peer's handshake (only when the decoder was created with `expectHandshake`). */
  onHandshake?(handshake: Handshake): void;
  onMessage(msg: Message): void;
  /**
   * A message id we do not know (`WIRE_UNKNOWN_MESSAGE`). Return to skip the frame (its bytes
   * are discarded as they arrive, never buffered); throw to stop. Absent: the error is thrown.
   */
  onUnknownMessage?(error: WireError, id: number): void;
}

export interface FrameDecoderOptions {
  /** Start by reading a 68-byte BEP 3 handshake. Default true. */
  readonly expectHandshake?: boolean;
  /** Piece count when known: bitfields must then be exactly ceil(n/8) bytes with clear spare bits. */
  readonly pieceCount?: number | null;
  /**
   * Assemble split piece frames of up to one 16 KiB block in one reused buffer instead of a new
   * one each (a quarter of all blocks straddle two 64 KiB socket reads). The message's `data`
   * is then valid only during `onMessage`: for an owner that copies it at once (the session's
   * piece assembler does). Default false.
   */
  readonly reusePieceBody?: boolean;
}

/** A piece frame's payload: index, begin, then a block of at most 16 KiB. */
const PIECE_BODY_BYTES = 8 + MAX_REQUEST_LENGTH;

const KEEP_ALIVE: Message = Object.freeze({ id: MsgId.KeepAlive });
const MAX_BLOCK_FRAME_LENGTH = MAX_MESSAGE_BYTES - 4;

/** See the module comment. */
export class FrameDecoder {
  private readonly handler: FrameDecoderHandler;
  private isHandshakePhase: boolean;
  private pieceCount: number | null;
  /** Handshake bytes, or the 5-byte frame header (length + id) while it is split across chunks. */
  private readonly head = new Uint8Array(HANDSHAKE_BYTES);
  private headFilled = 0;
  /** A frame body (payload after the id) being assembled. */
  private body: Uint8Array | null = null;
  private bodyFilled = 0;
  private bodyId = 0;
  /** Bytes of an unknown frame still to discard. */
  private skipRemaining = 0;
  /** The reused split-piece buffer (`reusePieceBody`), made on first use. */
  private pieceBody: Uint8Array | null = null;
  private readonly reusePieceBody: boolean;
  private failure: WireError | null = null;
  private isStopped = false;

  constructor(handler: FrameDecoderHandler, options: FrameDecoderOptions = {}) {
    this.handler = handler;
    this.isHandshakePhase = options.expectHandshake ?? true;
    this.pieceCount = options.pieceCount ?? null;
    this.reusePieceBody = options.reusePieceBody ?? false;
  }

  /** Learn the piece count (e.g. once metadata arrives); bitfields are then checked exactly. */
  setPieceCount(pieceCount: number): void {
    this.pieceCount = pieceCount;
  }

  /** Bytes currently held for a partial frame. Never more than {@link maxFrameBytes}. */
  get bufferedBytes(): number {
    return this.body !== null ? this.body.length + 5 : this.headFilled;
  }

  /** The largest frame (length field) this decoder will accept right now. */
  get maxFrameBytes(): number {
    return Math.max(
      MAX_BLOCK_FRAME_LENGTH,
      MAX_EXTENDED_MESSAGE_BYTES,
      MAX_HASHES_MESSAGE_BYTES,
      this.maxBitfieldFrame(),
    );
  }

  /** Stop delivering messages (the connection is closing); later pushes are ignored. */
  stop(): void {
    this.isStopped = true;
    this.body = null;
  }

  /** Feed bytes; calls the handler for each complete message. Throws a `WireError` on a protocol violation (and thereafter). */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    if (this.isStopped) return;
    try {
      let at = this.isHandshakePhase ? this.consumeHandshake(chunk) : 0;
      while (at < chunk.length && !this.isStopped) at = this.step(chunk, at);
    } catch (err) {
      if (err instanceof WireError) {
        this.failure = err;
        this.body = null;
      }
      throw err;
    }
  }

  private consumeHandshake(chunk: Uint8Array): number {
    if (this.headFilled === 0 && chunk.length > 0 && chunk[0] !== 19) {
      throw new WireError('WIRE_BAD_HANDSHAKE', 'not a BitTorrent handshake');
    }
    const n = Math.min(HANDSHAKE_BYTES - this.headFilled, chunk.length);
    this.head.set(chunk.subarray(0, n), this.headFilled);
    this.headFilled += n;
    if (this.headFilled < HANDSHAKE_BYTES) return chunk.length;
    const handshake = decodeHandshake(this.head);
    this.headFilled = 0;
    this.isHandshakePhase = false;
    this.handler.onHandshake?.(handshake);
    return n;
  }

  /** Consume some bytes from `chunk` at `at`; returns the new offset. */
  private step(chunk: Uint8Array, at: number): number {
    if (this.skipRemaining > 0) {
      const n = Math.min(this.skipRemaining, chunk.length - at);
      this.skipRemaining -= n;
      return at + n;
    }
    if (this.body !== null) return this.fillBody(chunk, at);
    if (this.headFilled === 0 && chunk.length - at >= 4) {
      const length = readU32(chunk, at);
      if (length === 0) {
        this.handler.onMessage(KEEP_ALIVE);
        return at + 4;
      }
      if (chunk.length - at < 5) return this.fillHead(chunk, at);
      return this.beginFrame(chunk, at + 5, length, chunk[at + 4]!);
    }
    return this.fillHead(chunk, at);
  }

  /** Slow path: the length prefix or id is split across chunks. */
  private fillHead(chunk: Uint8Array, at: number): number {
    const want = (this.headFilled < 4 ? 4 : 5) - this.headFilled;
    const n = Math.min(want, chunk.length - at);
    this.head.set(chunk.subarray(at, at + n), this.headFilled);
    this.headFilled += n;
    at += n;
    if (this.headFilled === 4 && readU32(this.head, 0) === 0) {
      this.headFilled = 0;
      this.handler.onMessage(KEEP_ALIVE);
      return at;
    }
    if (this.headFilled < 5) return at;
    this.headFilled = 0;
    return this.beginFrame(chunk, at, readU32(this.head, 0), this.head[4]!);
  }

  /** Header known (`length` includes the id byte); payload starts at `at`. Limits are checked here, before any allocation. */
  private beginFrame(chunk: Uint8Array, at: number, length: number, id: number): number {
    const payloadLength = length - 1;
    if (!this.checkLength(length, id)) {
      this.skipRemaining = payloadLength;
      return at;
    }
    if (chunk.length - at >= payloadLength) {
      this.emit(id, chunk, at, at + payloadLength);
      return at + payloadLength;
    }
    // Split frame: its size passed the limits above, so this allocation is bounded.
    if (this.reusePieceBody && id === MsgId.Piece && payloadLength <= PIECE_BODY_BYTES) {
      this.pieceBody ??= new Uint8Array(PIECE_BODY_BYTES);
      this.body = this.pieceBody.subarray(0, payloadLength);
    } else this.body = new Uint8Array(payloadLength);
    this.bodyFilled = 0;
    this.bodyId = id;
    return this.fillBody(chunk, at);
  }

  private fillBody(chunk: Uint8Array, at: number): number {
    const body = this.body!;
    const n = Math.min(body.length - this.bodyFilled, chunk.length - at);
    body.set(chunk.subarray(at, at + n), this.bodyFilled);
    this.bodyFilled += n;
    if (this.bodyFilled === body.length) {
      this.body = null;
      this.emit(this.bodyId, body, 0, body.length);
    }
    return at + n;
  }

  private maxBitfieldFrame(): number {
    return this.pieceCount === null ? MAX_UNKNOWN_BITFIELD_BYTES : Math.ceil(this.pieceCount / 8) + 1;
  }

  /** Check a frame's length against the absolute and per-id limits; false for an unknown id to skip. */
  private checkLength(length: number, id: number): boolean {
    if (length > this.maxFrameBytes) {
      throw new WireError('WIRE_MESSAGE_TOO_LARGE', `message of ${length} bytes exceeds the limit`);
    }
    const codec = codecFor(id);
    if (codec === undefined) {
      const err = new WireError('WIRE_UNKNOWN_MESSAGE', `unknown message id ${id} (${length} bytes)`);
      if (this.handler.onUnknownMessage === undefined) throw err;
      this.handler.onUnknownMessage(err, id);
      return false;
    }
    const payload = length - 1;
    if (id === MsgId.Bitfield) {
      const max = this.maxBitfieldFrame() - 1;
      if (this.pieceCount !== null ? payload !== max : payload > max) {
        throw new WireError('WIRE_BAD_BITFIELD', `bitfield of ${payload} bytes, expected ${max}`);
      }
      return true;
    }
    const max = id === MsgId.Extended ? MAX_EXTENDED_MESSAGE_BYTES - 1 : codec.maxPayload;
    if (payload > max) {
      const code =
        codec.minPayload === codec.maxPayload ? 'WIRE_BAD_MESSAGE_LENGTH' : 'WIRE_MESSAGE_TOO_LARGE';
      throw new WireError(code, `${messageName(id)} payload of ${payload} bytes exceeds ${max}`);
    }
    if (payload < codec.minPayload) {
      throw new WireError(
        'WIRE_BAD_MESSAGE_LENGTH',
        `${messageName(id)} payload of ${payload} bytes is too short`,
      );
    }
    return true;
  }

  private emit(id: number, buf: Uint8Array, start: number, end: number): void {
    const msg = codecFor(id)!.decode(buf, start, end);
    this.validate(msg);
    this.handler.onMessage(msg);
  }

  /** Content checks that need no connection state beyond the piece count. */
  private validate(msg: Message): void {
    switch (msg.id) {
      case MsgId.Request:
      case MsgId.Cancel:
      case MsgId.Reject:
        if (msg.length === 0 || msg.length > MAX_REQUEST_LENGTH) {
          throw new WireError('WIRE_BAD_REQUEST', `${messageName(msg.id)} for ${msg.length} bytes`);
        }
        return;
      case MsgId.Have:
        if (this.pieceCount !== null && msg.piece >= this.pieceCount) {
          throw new WireError('WIRE_BAD_HAVE', `have for piece ${msg.piece} of ${this.pieceCount}`);
        }
        return;
      case MsgId.Bitfield:
        if (this.pieceCount !== null && hasSpareBits(msg.bits, this.pieceCount)) {
          throw new WireError('WIRE_BAD_BITFIELD', 'bitfield has spare bits set');
        }
        return;
      default:
        return;
    }
  }
}

/** BEP 3: "Spare bits at the end are set to zero." */
export function hasSpareBits(bits: Uint8Array, pieceCount: number): boolean {
  const spare = bits.length * 8 - pieceCount;
  if (spare <= 0) return false;
  return ((bits[bits.length - 1] ?? 0) & ((1 << spare) - 1)) !== 0;
}
