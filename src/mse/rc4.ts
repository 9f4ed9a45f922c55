/**
 * RC4 in plain TypeScript. Node 20's OpenSSL 3 has no `rc4` cipher unless the process starts
 * with `--openssl-legacy-provider`, which a library cannot switch on, so MSE (BEP 8's
 * Message Stream Encryption) brings its own.
 *
 * Speed: the state lives in an `Int32Array` (V8 keeps it untagged, so the permutation swaps are
 * plain loads and stores), and `i`, `j` stay in locals for the whole call. About 400–500 MB/s
 * on this machine (`bench/micro/rc4.ts`).
 *
 * Ownership: `process` never touches its input. Wire chunks are often views of pooled or
 * caller-owned buffers (a block read from the piece cache, a frame header buffer reused for the
 * next message), so encrypting in place would corrupt data someone else still reads.
 */
export class Rc4 {
  private readonly state = new Int32Array(256);
  private i = 0;
  private j = 0;

  /** Key schedule (1–256 key bytes), then `discardBytes` of keystream dropped (MSE: 1,024). */
  constructor(key: Uint8Array, discardBytes = 0) {
    if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1–256 bytes');
    const s = this.state;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const sk = s[k]!;
      j = (j + sk + key[k % key.length]!) & 255;
      s[k] = s[j]!;
      s[j] = sk;
    }
    if (discardBytes > 0) this.skip(discardBytes);
  }

  /** XOR `input` with the next `input.length` keystream bytes into a new buffer. */
  process(input: Uint8Array): Uint8Array {
    const out = new Uint8Array(input.length);
    this.processInto(input, out, 0);
    return out;
  }

  /**
   * XOR `input` with the keystream into `out` at `outOffset` (`out` must not overlap `input`
   * unless the caller owns both). Used to encrypt a batch of chunks into one new buffer.
   */
  processInto(input: Uint8Array, out: Uint8Array, outOffset: number): void {
    const s = this.state;
    let i = this.i;
    let j = this.j;
    const n = input.length;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 255;
      const si = s[i]!;
      j = (j + si) & 255;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[outOffset + k] = input[k]! ^ s[(si + sj) & 255]!;
    }
    this.i = i;
    this.j = j;
  }

  /** Advance the keystream by `count` bytes without output. */
  skip(count: number): void {
    const s = this.state;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < count; k++) {
      i = (i + 1) & 255;
      const si = s[i]!;
      j = (j + si) & 255;
      s[i] = s[j]!;
      s[j] = si;
    }
    this.i = i;
    this.j = j;
  }
}
