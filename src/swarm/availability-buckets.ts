/**
 * Pieces kept in one array ordered by availability, in contiguous buckets (libtorrent's
 * piece_picker keeps a similar sorted vector with bucket boundaries). A piece moves to the
 * neighbouring bucket by one swap with the bucket's edge element, so a have/bitfield update
 * is O(1); insert and remove cost O(number of buckets above), i.e. O(peers), never O(pieces).
 *
 * Layout invariant: `start[k]` is the index of the first piece of availability `k`;
 * bucket `k` is `[start[k], start[k+1])`, and the last bucket runs to the end of `order`.
 * `pos` is shared by several instances (one per priority level): a piece lives in at most one.
 */
export class AvailabilityBuckets {
  readonly order: number[] = [];
  private readonly start: number[] = [0];

  /** @param pos shared piece → position map, -1 when the piece is in no instance. */
  constructor(private readonly pos: Int32Array) {}

  get size(): number {
    return this.order.length;
  }

  /** Number of buckets (highest availability seen + 1). */
  get bucketCount(): number {
    return this.start.length;
  }

  /** `[from, to)` positions of the bucket holding pieces of availability `a`. */
  bucket(a: number): [number, number] {
    const from = a < this.start.length ? (this.start[a] ?? 0) : this.order.length;
    const to = a + 1 < this.start.length ? (this.start[a + 1] ?? 0) : this.order.length;
    return [from, to];
  }

  insert(piece: number, a: number): void {
    this.grow(a);
    this.pos[piece] = this.order.length;
    this.order.push(piece);
    for (let k = this.start.length - 1; k > a; k--) {
      const first = this.start[k] ?? 0;
      this.swap(this.pos[piece] ?? 0, first);
      this.start[k] = first + 1;
    }
  }

  remove(piece: number, a: number): void {
    for (let k = a + 1; k < this.start.length; k++) {
      const last = (this.start[k] ?? 0) - 1;
      this.swap(this.pos[piece] ?? 0, last);
      this.start[k] = last;
    }
    const at = this.pos[piece] ?? 0;
    this.swap(at, this.order.length - 1);
    this.order.pop();
    this.pos[piece] = -1;
  }

  /** Move `piece` from availability `a` to `a + 1`. */
  increment(piece: number, a: number): void {
    this.grow(a + 1);
    const last = (this.start[a + 1] ?? 0) - 1;
    this.swap(this.pos[piece] ?? 0, last);
    this.start[a + 1] = last;
  }

  /** Move `piece` from availability `a` (≥ 1) to `a - 1`. */
  decrement(piece: number, a: number): void {
    const first = this.start[a] ?? 0;
    this.swap(this.pos[piece] ?? 0, first);
    this.start[a] = first + 1;
  }

  /** Throws unless every piece sits in the bucket of `availabilityOf(piece)`. */
  check(availabilityOf: (piece: number) => number): void {
    for (let k = 1; k < this.start.length; k++) {
      if ((this.start[k] ?? 0) < (this.start[k - 1] ?? 0)) throw new Error('bucket starts out of order');
    }
    this.order.forEach((piece, i) => {
      if (this.pos[piece] !== i)
        throw new Error(`pos of piece ${piece} is ${this.pos[piece]}, expected ${i}`);
      const [from, to] = this.bucket(availabilityOf(piece));
      if (i < from || i >= to) throw new Error(`piece ${piece} at ${i} outside its bucket [${from},${to})`);
    });
  }

  private grow(a: number): void {
    while (this.start.length <= a) this.start.push(this.order.length);
  }

  private swap(i: number, j: number): void {
    if (i === j) return;
    const a = this.order[i] ?? 0;
    const b = this.order[j] ?? 0;
    this.order[i] = b;
    this.order[j] = a;
    this.pos[a] = j;
    this.pos[b] = i;
  }
}
