/**
 * One list of peers (a half's seeders or leechers) with their compact addresses and last-seen
 * times in contiguous typed arrays beside the peer objects. Choosing 50 peers then reads 50
 * adjacent slots instead of chasing 100 pointers through the heap; at 100k peers that is the
 * difference between cache hits and misses, and the bulk of an announce's cost.
 *
 * Invariant: `peers[i].index === i`, and slot `i` of `addr`/`seen` belongs to `peers[i]`.
 */
export interface ListedPeer {
  index: number;
}

/** First capacity: most lists of a flood-made torrent hold one peer or none. */
const FIRST_CAPACITY = 2;
const NO_ADDR = new Uint8Array(0);
const NO_SEEN = new Float64Array(0);

export class PeerList<P extends ListedPeer> {
  readonly peers: P[] = [];
  /** Compact address bytes, `size` per slot. */
  addr: Uint8Array;
  /** Last announce time (clock ms) per slot. */
  seen: Float64Array;

  /** Allocates nothing until the first push (an empty list shares two zero-length arrays). */
  constructor(readonly size: number) {
    this.addr = NO_ADDR;
    this.seen = NO_SEEN;
  }

  get length(): number {
    return this.peers.length;
  }

  push(peer: P, compact: string, nowMs: number): void {
    const i = this.peers.length;
    if (i === this.seen.length) this.resize(Math.max(FIRST_CAPACITY, i * 2));
    this.peers.push(peer);
    peer.index = i;
    this.set(i, compact, nowMs);
  }

  /** Update the address and last-seen time of a listed peer. */
  update(peer: P, compact: string, nowMs: number): void {
    this.set(peer.index, compact, nowMs);
  }

  /** Swap-remove, keeping every other peer's index true; shrinks when mostly empty. */
  remove(peer: P): void {
    const last = this.peers.pop()!;
    const lastIndex = this.peers.length;
    if (last !== peer) {
      const i = peer.index;
      this.peers[i] = last;
      last.index = i;
      this.addr.copyWithin(i * this.size, lastIndex * this.size, (lastIndex + 1) * this.size);
      this.seen[i] = this.seen[lastIndex]!;
    }
    const capacity = this.seen.length;
    if (capacity > 64 && this.peers.length < capacity / 4) this.resize(capacity / 2);
  }

  /** Does slot `i` hold the same address as slot `j` of `other`? */
  sameAddress(i: number, other: PeerList<P>, j: number): boolean {
    const n = this.size;
    if (other.size !== n) return false;
    const a = i * n;
    const b = j * n;
    const x = this.addr;
    const y = other.addr;
    if (n === 6) {
      return (
        x[a] === y[b] &&
        x[a + 1] === y[b + 1] &&
        x[a + 2] === y[b + 2] &&
        x[a + 3] === y[b + 3] &&
        x[a + 4] === y[b + 4] &&
        x[a + 5] === y[b + 5]
      );
    }
    for (let k = 0; k < n; k++) if (x[a + k] !== y[b + k]) return false;
    return true;
  }

  /** Copy slot `i`'s address into `out` at `at`. */
  copyAddress(i: number, out: Uint8Array, at: number): void {
    const n = this.size;
    const from = i * n;
    const x = this.addr;
    if (n === 6) {
      out[at] = x[from]!;
      out[at + 1] = x[from + 1]!;
      out[at + 2] = x[from + 2]!;
      out[at + 3] = x[from + 3]!;
      out[at + 4] = x[from + 4]!;
      out[at + 5] = x[from + 5]!;
      return;
    }
    for (let k = 0; k < n; k++) out[at + k] = x[from + k]!;
  }

  private set(i: number, compact: string, nowMs: number): void {
    const at = i * this.size;
    for (let k = 0; k < this.size; k++) this.addr[at + k] = compact.charCodeAt(k);
    this.seen[i] = nowMs;
  }

  private resize(capacity: number): void {
    const addr = new Uint8Array(capacity * this.size);
    addr.set(this.addr.subarray(0, Math.min(this.addr.length, addr.length)));
    const seen = new Float64Array(capacity);
    seen.set(this.seen.subarray(0, Math.min(this.seen.length, capacity)));
    this.addr = addr;
    this.seen = seen;
  }
}
