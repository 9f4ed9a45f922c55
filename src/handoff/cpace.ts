/**
 * CPace (draft-irtf-cfrg-cpace, cipher suite CPACE-RISTR255-SHA512), initiator-responder.
 *
 * The group arithmetic and the ristretto255 element derivation are `@noble/curves`'; this file
 * only strings the draft's steps together (generator string, shares, secret point, ISK) and is
 * checked against the draft's appendix B.3 vectors in cpace.test.ts. Pure: randomness comes in.
 *
 *   A (initiator): Ya = ya·g          ──Ya──►
 *   B (responder): Yb = yb·g, K = yb·Ya ◄──Yb──   A: K = ya·Yb
 *   ISK = SHA-512(lv_cat("CPaceRistretto255_ISK", sid, K) ‖ lv_cat(Ya, ADa) ‖ lv_cat(Yb, ADb))
 * with g = element_derivation(SHA-512(generator_string(DSI, PRS, CI, sid))).
 */
import { createHash } from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { PeerdropError } from '../util/errors.js';

const DSI = Buffer.from('CPaceRistretto255');
const DSI_ISK = Buffer.from('CPaceRistretto255_ISK');
/** SHA-512's input block size (H.s_in_bytes): the generator string pads PRS to fill it. */
const S_IN_BYTES = 128;
export const CPACE_SHARE_BYTES = 32;

const { Point } = ristretto255;
const ORDER = Point.Fn.ORDER;
type RistrettoPoint = InstanceType<typeof Point>;
/** What callers of `calculateGenerator` use of a point. */
export interface GroupElement {
  multiply(scalar: bigint): GroupElement;
  toBytes(): Uint8Array;
}

export class CpaceError extends PeerdropError {
  constructor(message: string) {
    super('HANDOFF_PAKE_INVALID', message);
  }
}

/** The draft's prepend_len: LEB128 length, then the bytes. */
export function prependLen(data: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = data.length;
  do {
    const low = n & 0x7f;
    n >>>= 7;
    len.push(n > 0 ? low | 0x80 : low);
  } while (n > 0);
  return Buffer.concat([Uint8Array.from(len), data]);
}

export function lvCat(...parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map(prependLen));
}

export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length);
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
}

/** The session's generator g: the password enters here and nowhere else. */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): GroupElement {
  const hash = createHash('sha512')
    .update(generatorString(prs, ci, sid))
    .digest();
  return ristretto255_hasher.deriveToCurve!(new Uint8Array(hash));
}

/** A scalar in [1, order) from 64 uniform bytes (the reduction bias is below 2^-250). */
export function scalarFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length < 64) throw new Error('scalarFromBytes needs 64 bytes');
  const n = BigInt(`0x${Buffer.from(bytes.subarray(0, 64)).reverse().toString('hex')}`) % ORDER;
  return n === 0n ? 1n : n;
}

export interface CpaceInput {
  /** The password-related string: the handoff code's canonical text. */
  readonly prs: Uint8Array;
  /** Channel identifier (protocol name and version). */
  readonly ci: Uint8Array;
  /** Session id: fresh per run (the initiator's random nonce). */
  readonly sid: Uint8Array;
  /** Associated data of each side (the draft's ADa, ADb). */
  readonly ada: Uint8Array;
  readonly adb: Uint8Array;
}

/** One party's run: make the share, then finish with the other's share. */
export class Cpace {
  readonly share: Uint8Array;
  private readonly y: bigint;

  constructor(
    private readonly input: CpaceInput,
    private readonly role: 'initiator' | 'responder',
    scalarBytes: Uint8Array,
  ) {
    this.y = scalarFromBytes(scalarBytes);
    this.share = calculateGenerator(input.prs, input.ci, input.sid).multiply(this.y).toBytes();
  }

  /**
   * The intermediate session key (64 bytes). Throws `HANDOFF_PAKE_INVALID` for a share that is
   * not a canonical ristretto255 encoding or is the identity (scalar_mult_vfy's abort).
   */
  finish(theirShare: Uint8Array): Uint8Array {
    let point: RistrettoPoint;
    try {
      point = Point.fromBytes(theirShare);
    } catch {
      throw new CpaceError('the peer sent an invalid key-exchange message');
    }
    const k = point.multiply(this.y);
    if (k.is0()) throw new CpaceError('the peer sent the identity element');
    const [ya, yb] = this.role === 'initiator' ? [this.share, theirShare] : [theirShare, this.share];
    return iskOf(this.input, k.toBytes(), ya, yb);
  }
}

export function iskOf(input: CpaceInput, k: Uint8Array, ya: Uint8Array, yb: Uint8Array): Uint8Array {
  const transcript = Buffer.concat([lvCat(ya, input.ada), lvCat(yb, input.adb)]);
  const h = createHash('sha512')
    .update(lvCat(DSI_ISK, input.sid, k))
    .update(transcript)
    .digest();
  return new Uint8Array(h);
}
