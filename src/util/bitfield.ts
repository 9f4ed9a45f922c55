import { PeerdropError } from './errors.js';

/**
 * A fixed-size set of piece indices, stored MSB-first exactly as the BEP 3 `bitfield`
 * message lays it out (bit 7 of byte 0 is piece 0), with a maintained population count so
 * `count` and `hasAll` are O(1).
 */
export class Bitfield {
  /** Number of valid bits (pieces). */
  readonly length: number;
  private readonly bits: Uint8Array;
  private setCount = 0;

  constructor(length: number) {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`bad bitfield length ${length}`);
    this.length = length;
    this.bits = new Uint8Array((length + 7) >>> 3);
  }

  /** A bitfield with every bit set (BEP 6 `have all`). */
  static full(length: number): Bitfield {
    const b = new Bitfield(length);
    b.setAll();
    return b;
  }

  /**
   * Parse a wire bitfield. BEP 3: spare bits at the end must be zero; a wrong size or a set
   * spare bit is a peer error (`BITFIELD_SIZE`, `BITFIELD_SPARE_BITS`).
   */
  static fromBytes(bytes: Uint8Array, pieceCount: number): Bitfield {
    const b = new Bitfield(pieceCount);
    if (bytes.length !== b.bits.length) {
      throw new PeerdropError(
        'BITFIELD_SIZE',
        `bitfield is ${bytes.length} bytes, expected ${b.bits.length} for ${pieceCount} pieces`,
      );
    }
    const spare = b.bits.length * 8 - pieceCount;
    if (spare > 0) {
      const last = bytes[bytes.length - 1] ?? 0;
      if ((last & ((1 << spare) - 1)) !== 0) {
        throw new PeerdropError('BITFIELD_SPARE_BITS', 'bitfield has spare bits set');
      }
    }
    b.bits.set(bytes);
    let n = 0;
    for (const byte of b.bits) n += POPCOUNT[byte] ?? 0;
    b.setCount = n;
    return b;
  }

  /** Build from a string where `*` or `1` marks a set bit (tests, fixtures). */
  static fromString(text: string): Bitfield {
    const b = new Bitfield(text.length);
    for (let i = 0; i < text.length; i++) if (text[i] === '*' || text[i] === '1') b.set(i);
    return b;
  }

  /** Number of set bits. */
  get count(): number {
    return this.setCount;
  }

  /** True when every bit is set (a zero-length bitfield counts as complete). */
  hasAll(): boolean {
    return this.setCount === this.length;
  }

  /** True when no bit is set. */
  hasNone(): boolean {
    return this.setCount === 0;
  }

  get(index: number): boolean {
    if (index < 0 || index >= this.length) return false;
    return ((this.bits[index >>> 3] ?? 0) & (0x80 >>> (index & 7))) !== 0;
  }

  /** Set a bit; returns true if it changed. */
  set(index: number): boolean {
    this.check(index);
    const i = index >>> 3;
    const mask = 0x80 >>> (index & 7);
    const byte = this.bits[i] ?? 0;
    if (byte & mask) return false;
    this.bits[i] = byte | mask;
    this.setCount++;
    return true;
  }

  /** Clear a bit; returns true if it changed. */
  clear(index: number): boolean {
    this.check(index);
    const i = index >>> 3;
    const mask = 0x80 >>> (index & 7);
    const byte = this.bits[i] ?? 0;
    if (!(byte & mask)) return false;
    this.bits[i] = byte & ~mask;
    this.setCount--;
    return true;
  }

  setAll(): void {
    this.bits.fill(0xff);
    const spare = this.bits.length * 8 - this.length;
    if (spare > 0) this.bits[this.bits.length - 1] = (0xff << spare) & 0xff;
    this.setCount = this.length;
  }

  clearAll(): void {
    this.bits.fill(0);
    this.setCount = 0;
  }

  /** Index of the first clear bit at or after `from`, or -1. Skips full bytes. */
  firstMissing(from = 0): number {
    for (let i = Math.max(0, from); i < this.length; ) {
      if ((i & 7) === 0 && this.bits[i >>> 3] === 0xff) {
        i += 8;
        continue;
      }
      if (!this.get(i)) return i;
      i++;
    }
    return -1;
  }

  /** Index of the first set bit at or after `from`, or -1. Skips empty bytes. */
  firstSet(from = 0): number {
    for (let i = Math.max(0, from); i < this.length; ) {
      if ((i & 7) === 0 && this.bits[i >>> 3] === 0) {
        i += 8;
        continue;
      }
      if (this.get(i)) return i;
      i++;
    }
    return -1;
  }

  /** Set indices in ascending order. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = this.firstSet(0); i !== -1; i = this.firstSet(i + 1)) yield i;
  }

  /** Wire form (MSB-first, spare bits zero). A copy. */
  toBytes(): Uint8Array {
    return this.bits.slice();
  }

  clone(): Bitfield {
    return Bitfield.fromBytes(this.bits, this.length);
  }

  /** `*` for set, space for clear (test output). */
  toString(): string {
    let s = '';
    for (let i = 0; i < this.length; i++) s += this.get(i) ? '*' : ' ';
    return s;
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`bit ${index} out of range 0..${this.length - 1}`);
    }
  }
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + (POPCOUNT[i >>> 1] ?? 0);
