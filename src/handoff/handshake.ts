/**
 * The handoff handshake on a fresh byte stream (pure: bytes in, bytes and a result out).
 *
 *   1. I → R  "PDH1" ‖ sid (16, random) ‖ Ya (32)      CPace share of the initiator (receiver)
 *   2. R → I  Yb (32) ‖ tagR (32)                      CPace share of the responder, its confirmation
 *   3. I → R  tagI (32)                                the initiator's confirmation
 *
 * ISK = CPace(PRS = the code, CI = "peerdrop-handoff/1", sid, ADa = "initiator", ADb = "responder").
 * Keys = HKDF-SHA256(ISK, salt = sid, info = label): two confirmation keys and one frame key per
 * direction; tagX = HMAC-SHA256(confirmKeyX, Ya ‖ Yb). Nothing but the two shares is sent before
 * both tags are checked; after step 3 every byte goes through the AEAD frames (frames.ts).
 *
 * One run is one password guess for whoever is on the other end: a responder that sent step 2
 * and did not get a valid step 3 (bad tag, close, timeout) must count a failed attempt
 * (`hasRevealedShare`), or a guesser could disconnect after each step 2 and try again for free.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { PeerdropError } from '../util/errors.js';
import { CPACE_SHARE_BYTES, Cpace, CpaceError, type CpaceInput } from './cpace.js';

const MAGIC = Buffer.from('PDH1');
const SID_BYTES = 16;
const TAG_BYTES = 32;
export const HELLO_BYTES = MAGIC.length + SID_BYTES + CPACE_SHARE_BYTES;
export const REPLY_BYTES = CPACE_SHARE_BYTES + TAG_BYTES;
export const CONFIRM_BYTES = TAG_BYTES;
const CI = Buffer.from('peerdrop-handoff/1');
const ADA = Buffer.from('initiator');
const ADB = Buffer.from('responder');

export type HandshakeErrorCode =
  /** The other side's confirmation tag is wrong: it used another code (or is an attacker). */
  | 'HANDOFF_CODE_MISMATCH'
  /** The first bytes are not a handoff hello. */
  | 'HANDOFF_NOT_HANDOFF'
  | 'HANDOFF_PAKE_INVALID';

export class HandshakeError extends PeerdropError {
  declare readonly code: HandshakeErrorCode;
  constructor(code: HandshakeErrorCode, message: string) {
    super(code, message);
  }
}

/** The message users see for a wrong code, on both sides. */
export const CODE_MISMATCH_MESSAGE = 'the code did not match: check it and try again';

export interface ChannelKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}

export interface HandshakeResult extends ChannelKeys {
  /** Bytes after the handshake (the first frames), to be opened with `receiveKey`. */
  readonly rest: Uint8Array;
}

export interface HandshakeStep {
  readonly send: Uint8Array | null;
  readonly result: HandshakeResult | null;
}

interface Derived {
  confirmI: Uint8Array;
  confirmR: Uint8Array;
  i2r: Uint8Array;
  r2i: Uint8Array;
}

function derive(isk: Uint8Array, sid: Uint8Array): Derived {
  const key = (label: string) =>
    new Uint8Array(hkdfSync('sha256', isk, sid, `peerdrop handoff v1 ${label}`, 32));
  return {
    confirmI: key('confirm I'),
    confirmR: key('confirm R'),
    i2r: key('frames I->R'),
    r2i: key('frames R->I'),
  };
}

function tag(key: Uint8Array, ya: Uint8Array, yb: Uint8Array): Buffer {
  return createHmac('sha256', key).update(ya).update(yb).digest();
}

function cpaceInput(code: string, sid: Uint8Array): CpaceInput {
  return { prs: Buffer.from(code, 'utf8'), ci: CI, sid, ada: ADA, adb: ADB };
}

function mismatch(): HandshakeError {
  return new HandshakeError('HANDOFF_CODE_MISMATCH', CODE_MISMATCH_MESSAGE);
}

function finishOrThrow(cpace: Cpace, theirShare: Uint8Array): Uint8Array {
  try {
    return cpace.finish(theirShare);
  } catch (err) {
    if (err instanceof CpaceError) throw new HandshakeError('HANDOFF_PAKE_INVALID', err.message);
    throw err;
  }
}

/** Collects bytes until a fixed-size message is whole. */
class Collector {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }
  take(n: number): { message: Uint8Array; rest: Uint8Array } | null {
    if (this.bytes < n) return null;
    const all = Buffer.concat(this.chunks);
    this.chunks = [];
    this.bytes = 0;
    return { message: all.subarray(0, n), rest: all.subarray(n) };
  }
}

/** The receiver's side: speaks first. `randomBytes` gives the sid and the scalar. */
export class HandshakeInitiator {
  private readonly cpace: Cpace;
  private readonly sid: Uint8Array;
  private readonly collector = new Collector();
  private isDone = false;

  constructor(code: string, randomBytes: (n: number) => Uint8Array) {
    this.sid = randomBytes(SID_BYTES);
    this.cpace = new Cpace(cpaceInput(code, this.sid), 'initiator', randomBytes(64));
  }

  hello(): Uint8Array {
    return Buffer.concat([MAGIC, this.sid, this.cpace.share]);
  }

  /** Feed bytes; throws `HANDOFF_CODE_MISMATCH` when the responder's tag is wrong. */
  receive(chunk: Uint8Array): HandshakeStep {
    if (this.isDone) throw new Error('handshake already finished');
    this.collector.push(chunk);
    const got = this.collector.take(REPLY_BYTES);
    if (!got) return { send: null, result: null };
    this.isDone = true;
    const yb = got.message.subarray(0, CPACE_SHARE_BYTES);
    const ya = this.cpace.share;
    const keys = derive(finishOrThrow(this.cpace, yb), this.sid);
    if (!timingSafeEqual(tag(keys.confirmR, ya, yb), got.message.subarray(CPACE_SHARE_BYTES)))
      throw mismatch();
    return {
      send: tag(keys.confirmI, ya, yb),
      result: { sendKey: keys.i2r, receiveKey: keys.r2i, rest: got.rest },
    };
  }
}

/** The side that listens (the sender, or a receiver other receivers dial). */
export class HandshakeResponder {
  private readonly collector = new Collector();
  private state: 'hello' | 'confirm' | 'done' = 'hello';
  private pending: { keys: Derived; ya: Uint8Array; yb: Uint8Array } | null = null;
  /** Step 2 went out: from here on, anything but a valid step 3 is a failed guess. */
  hasRevealedShare = false;

  constructor(
    private readonly code: string,
    private readonly randomBytes: (n: number) => Uint8Array,
  ) {}

  receive(chunk: Uint8Array): HandshakeStep {
    if (this.state === 'done') throw new Error('handshake already finished');
    this.collector.push(chunk);
    if (this.state === 'hello') {
      const got = this.collector.take(HELLO_BYTES);
      if (!got) return { send: null, result: null };
      const hello = got.message;
      if (!Buffer.from(hello.subarray(0, MAGIC.length)).equals(MAGIC))
        throw new HandshakeError('HANDOFF_NOT_HANDOFF', 'not a peerdrop handoff hello');
      const sid = hello.subarray(MAGIC.length, MAGIC.length + SID_BYTES);
      const ya = hello.subarray(MAGIC.length + SID_BYTES);
      const cpace = new Cpace(cpaceInput(this.code, sid), 'responder', this.randomBytes(64));
      const keys = derive(finishOrThrow(cpace, ya), sid);
      const yb = cpace.share;
      this.pending = { keys, ya, yb };
      this.state = 'confirm';
      this.hasRevealedShare = true;
      if (got.rest.length > 0) this.collector.push(got.rest);
      const reply = Buffer.concat([yb, tag(keys.confirmR, ya, yb)]);
      const next = this.receive(new Uint8Array(0));
      return { send: reply, result: next.result };
    }
    const got = this.collector.take(CONFIRM_BYTES);
    if (!got) return { send: null, result: null };
    const { keys, ya, yb } = this.pending!;
    this.state = 'done';
    if (!timingSafeEqual(tag(keys.confirmI, ya, yb), got.message)) throw mismatch();
    return { send: null, result: { sendKey: keys.r2i, receiveKey: keys.i2r, rest: got.rest } };
  }
}
