/**
 * Bytes received during a handshake, kept as the chunks they arrived in (no concatenation of
 * whole chunks). Reads copy out at most what a handshake step needs, and every such size is a
 * named bound of the MSE spec, so nothing here allocates more than a step's bound.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of `chunks[0]` already consumed. */
  private head = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** A copy of the first `n` bytes (n <= length), without consuming them. */
  peek(n: number): Uint8Array {
    if (n > this.total) throw new RangeError('peek past the end');
    const out = new Uint8Array(n);
    let filled = 0;
    let offset = this.head;
    for (const c of this.chunks) {
      if (filled === n) break;
      const take = Math.min(c.length - offset, n - filled);
      out.set(c.subarray(offset, offset + take), filled);
      filled += take;
      offset = 0;
    }
    return out;
  }

  /** Consume the first `n` bytes (n <= length). */
  skip(n: number): void {
    if (n > this.total) throw new RangeError('skip past the end');
    this.total -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** A copy of the first `n` bytes, consumed. */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  /** Everything left, as views of the received chunks (the caller copies or decrypts them). */
  drain(): Uint8Array[] {
    const out = this.chunks.map((c, i) => (i === 0 ? c.subarray(this.head) : c));
    this.chunks = [];
    this.head = 0;
    this.total = 0;
    return out.filter((c) => c.length > 0);
  }
}

/** Index of `needle` in `haystack`, or -1 (both short: a window of at most ~600 bytes). */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  const last = haystack.length - needle.length;
  outer: for (let i = 0; i <= last; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}
