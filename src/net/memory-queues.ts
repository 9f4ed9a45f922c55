/**
 * The queues of the in-memory network: a byte queue per flow direction, and a host's link as a
 * server that drains its flows round-robin at the link's rate (a fair-queued uplink).
 */
import type { Scheduler } from '../util/clock.js';

/** One block message (13-byte header + 16 KiB): the unit a rate-limited server sends. */
export const SEGMENT_BYTES = 16 * 1024 + 13;

/** Chunks below this are joined into one buffer on delivery (cf. the TCP adapter's flush). */
const SMALL_CHUNK_BYTES = 1024;

/** What travels: data, or the end of the stream (a FIN, or a reset carrying its error). */
export interface Segment {
  atMs: number;
  readonly chunks: Uint8Array[];
  bytes: number;
  readonly end: 'fin' | Error | null;
}

/** A FIFO of chunks (plus an end marker) that a server slices into segments. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private end: Segment['end'] = null;
  bytes = 0;

  get hasBacklog(): boolean {
    return this.bytes > 0 || this.end !== null;
  }

  push(chunks: readonly Uint8Array[], bytes: number): void {
    for (const c of chunks) this.chunks.push(c);
    this.bytes += bytes;
  }

  pushEnd(end: 'fin' | Error): void {
    this.end ??= end;
  }

  /** Up to `maxBytes` from the front; the end marker only once the data before it is gone. */
  take(maxBytes: number): Segment | null {
    if (this.bytes === 0) {
      if (this.end === null) return null;
      const end = this.end;
      this.end = null;
      return { atMs: 0, chunks: [], bytes: 0, end };
    }
    const out: Uint8Array[] = [];
    let taken = 0;
    while (taken < maxBytes && this.head < this.chunks.length) {
      const c = this.chunks[this.head]!;
      const want = maxBytes - taken;
      if (c.length <= want) {
        out.push(c);
        taken += c.length;
        this.head++;
      } else {
        out.push(c.subarray(0, want));
        this.chunks[this.head] = c.subarray(want);
        taken += want;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.bytes -= taken;
    return { atMs: 0, chunks: out, bytes: taken, end: null };
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
    this.end = null;
  }
}

/** A round-robin server draining the backlogged flows of one host direction at `rateBps`. */
export class RateServer<Flow extends { readonly isDead: boolean }> {
  private readonly ring: Flow[] = [];
  private ringHead = 0;
  /** Flows in the ring (each at most once). */
  private readonly members = new Set<Flow>();
  private isBusy = false;

  constructor(
    private readonly scheduler: Scheduler,
    public rateBps: number,
    private readonly queueOf: (flow: Flow) => ByteQueue,
    private readonly onServed: (flow: Flow, segment: Segment) => void,
  ) {}

  activate(flow: Flow): void {
    if (!this.members.has(flow)) {
      this.members.add(flow);
      this.ring.push(flow);
    }
    if (!this.isBusy) this.serveNext();
  }

  private serveNext(): void {
    while (this.ringHead < this.ring.length) {
      const flow = this.ring[this.ringHead++]!;
      const queue = this.queueOf(flow);
      const segment = flow.isDead ? null : queue.take(SEGMENT_BYTES);
      if (segment === null) {
        this.members.delete(flow);
        continue;
      }
      if (this.ringHead > 256 && this.ringHead * 2 > this.ring.length) {
        this.ring.splice(0, this.ringHead);
        this.ringHead = 0;
      }
      this.isBusy = true;
      this.scheduler.setTimer((segment.bytes * 1000) / this.rateBps, () => {
        // Back of the ring after its turn, behind flows that became backlogged meanwhile.
        if (queue.hasBacklog && !flow.isDead) this.ring.push(flow);
        else this.members.delete(flow);
        this.isBusy = false;
        this.serveNext();
        this.onServed(flow, segment);
      });
      return;
    }
    this.ring.length = 0;
    this.ringHead = 0;
  }
}

/** Join runs of small chunks (frames of a few bytes) into one buffer; large chunks pass as-is. */
export function joinSmallRuns(chunks: readonly Uint8Array[]): Uint8Array[] {
  if (chunks.length === 1) return chunks as Uint8Array[];
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flushRun = () => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) out.push(Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const c of chunks) {
    if (c.length >= SMALL_CHUNK_BYTES) {
      flushRun();
      out.push(c);
    } else {
      run.push(c);
      runBytes += c.length;
    }
  }
  flushRun();
  return out;
}
