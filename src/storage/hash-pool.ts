/**
 * A pool of hash worker threads: digests of in-memory buffers, and hashing of byte ranges of
 * files that the workers read themselves (the main thread never touches file data). Used by
 * piece verification, `peerdrop create` and the startup check of existing data.
 *
 * Work is bounded: each worker holds at most `PER_WORKER_IN_FLIGHT` requests, and a
 * `hashPiecesIter` keeps at most two batches per thread outstanding, so hashing a terabyte
 * costs the same memory as hashing a megabyte.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StorageError, type StorageErrorCode } from './errors.js';
import {
  DIGEST_BYTES,
  type FileRange,
  type HashAlgorithm,
  type HashMode,
  LEAF_BLOCK_BYTES,
  type WorkerRequest,
  type WorkerResponse,
} from './hash-protocol.js';

export { type FileRange, type HashAlgorithm, type HashMode, ZERO_FILL_PATH } from './hash-protocol.js';

/** Buffers up to this size are hashed inline: a worker round trip costs more than the hash. */
const INLINE_DIGEST_BYTES = 64 * 1024;
/** Two requests per worker so it never idles waiting for the next message. */
const PER_WORKER_IN_FLIGHT = 2;
/** A batch of pieces sent to one worker: large enough to amortise messaging, small enough to balance. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** Tiny pieces: cap the number of pieces per batch (each costs a result slot and an array). */
const BATCH_MAX_PIECES = 4096;

export interface HashPiecesJob {
  readonly algorithm: HashAlgorithm;
  /** Per piece, the file ranges that make it up, in order. May be a lazy iterable. */
  readonly pieces: Iterable<readonly FileRange[]>;
  /** `blocks`: SHA-256 of every 16 KiB block of each piece (BEP 52 leaves); default `piece`. */
  readonly mode?: HashMode;
  /**
   * When true, a piece whose data is missing (file absent or too short) yields `digest: null`;
   * when false (default) the job fails with `STORAGE_MISSING_DATA`.
   */
  readonly allowMissing?: boolean;
  readonly signal?: AbortSignal;
}

export interface PieceDigest {
  /** Position of the piece in the job's `pieces`. */
  readonly index: number;
  /**
   * The piece's digest; in `blocks` mode the 32-byte leaf hashes of its blocks back to back
   * (a short last block is hashed at its real length). Null when the data is missing.
   */
  readonly digest: Uint8Array | null;
}

export interface HashPool {
  readonly threads: number;
  /**
   * Digest of `data`. With `transfer: true` and `data` covering its whole `ArrayBuffer`, the
   * buffer is moved to the worker (and detached here); a `SharedArrayBuffer` is never copied.
   */
  digest(
    algorithm: HashAlgorithm,
    data: Uint8Array,
    options?: { readonly transfer?: boolean },
  ): Promise<Uint8Array>;
  /**
   * Digest of `data`, lending its memory to a worker: when `data` covers a whole (not shared)
   * `ArrayBuffer`, the buffer moves to the worker and back without a copy, and `data` is
   * detached meanwhile: use the returned `data` (the same memory) afterwards. Otherwise as
   * `digest`, and `data` comes back as it went. Optional: a pool without threads need not lend.
   */
  digestLent?(algorithm: HashAlgorithm, data: Uint8Array): Promise<LentDigest>;
  /** One digest per piece, in order; fails if any data is missing. */
  hashPieces(job: HashPiecesJob): Promise<Uint8Array[]>;
  /** Digests as they complete, in piece order, with bounded work in flight. */
  hashPiecesIter(job: HashPiecesJob): AsyncGenerator<PieceDigest, void, undefined>;
  /** Start every worker now (they load in parallel with whatever the caller does next). */
  warmUp(): void;
  /** Terminates the workers; pending work fails with `STORAGE_CLOSED`. */
  close(): Promise<void>;
}

export interface LentDigest {
  readonly digest: Uint8Array;
  readonly data: Uint8Array;
}

/** A digest answer that also carries the lent buffer back (see `digestLent`). */
export type LentResponse = Extract<WorkerResponse, { ok: true }> & { readonly returned?: Uint8Array };

export interface HashPoolOptions {
  /** Worker threads; default `min(2, availableParallelism())`. */
  readonly threads?: number;
}

/** Create a hash pool. Workers start on first use and do not keep the process alive when idle. */
export function createHashPool(options: HashPoolOptions = {}): HashPool {
  return new WorkerHashPool(options.threads ?? Math.min(2, availableParallelism()));
}

interface Pending {
  readonly resolve: (res: Extract<WorkerResponse, { ok: true }>) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly inFlight: Map<number, Pending>;
}

interface Queued {
  readonly request: WorkerRequest;
  readonly transfer: ArrayBuffer[];
  readonly pending: Pending;
}

class WorkerHashPool implements HashPool {
  readonly threads: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private nextId = 1;
  private isClosed = false;

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be >= 1, got ${threads}`);
    this.threads = threads;
  }

  async digest(
    algorithm: HashAlgorithm,
    data: Uint8Array,
    options: { readonly transfer?: boolean } = {},
  ): Promise<Uint8Array> {
    if (data.byteLength <= INLINE_DIGEST_BYTES)
      return new Uint8Array(createHash(algorithm).update(data).digest());
    const isWhole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const transfer =
      options.transfer && isWhole && data.buffer instanceof ArrayBuffer
        ? [data.buffer]
        : ([] as ArrayBuffer[]);
    const res = await this.submit({ id: this.nextId++, kind: 'digest', algorithm, data }, transfer);
    return res.digests;
  }

  async digestLent(algorithm: HashAlgorithm, data: Uint8Array): Promise<LentDigest> {
    const isWhole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (data.byteLength <= INLINE_DIGEST_BYTES || !isWhole || !(data.buffer instanceof ArrayBuffer)) {
      return { digest: await this.digest(algorithm, data), data };
    }
    const res: LentResponse = await this.submit({ id: this.nextId++, kind: 'digest', algorithm, data }, [
      data.buffer,
    ]);
    if (!res.returned) throw new StorageError('STORAGE_HASH_WORKER_FAILED', 'lent buffer not returned');
    return { digest: res.digests, data: res.returned };
  }

  async hashPieces(job: HashPiecesJob): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const { digest } of this.hashPiecesIter({ ...job, allowMissing: false })) out.push(digest!);
    return out;
  }

  async *hashPiecesIter(job: HashPiecesJob): AsyncGenerator<PieceDigest, void, undefined> {
    const mode = job.mode ?? 'piece';
    const batches = planBatches(job.pieces);
    const ahead: {
      first: number;
      lengths: number[];
      result: Promise<Extract<WorkerResponse, { ok: true }>>;
    }[] = [];
    const maxAhead = this.threads * PER_WORKER_IN_FLIGHT;
    try {
      for (;;) {
        job.signal?.throwIfAborted();
        while (ahead.length < maxAhead) {
          const next = batches.next();
          if (next.done) break;
          const { first, pieces } = next.value;
          const result = this.submit(
            {
              id: this.nextId++,
              kind: 'ranges',
              algorithm: job.algorithm,
              mode,
              pieces,
              allowMissing: job.allowMissing ?? false,
            },
            [],
          );
          result.catch(() => {}); // observed below; avoid an unhandled rejection if we stop early
          ahead.push({ first, lengths: pieces.map(rangesLength), result });
        }
        const batch = ahead.shift();
        if (!batch) return;
        const res = await batch.result;
        for (const digest of splitDigests(batch.first, batch.lengths, res, mode, job.algorithm)) {
          job.signal?.throwIfAborted();
          yield digest;
        }
      }
    } finally {
      ahead.length = 0;
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const closed = new StorageError('STORAGE_CLOSED', 'hash pool closed');
    for (const q of this.queue.splice(0)) q.pending.reject(closed);
    const slots = this.slots.splice(0);
    for (const s of slots) for (const p of s.inFlight.values()) p.reject(closed);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private submit(
    request: WorkerRequest,
    transfer: ArrayBuffer[],
  ): Promise<Extract<WorkerResponse, { ok: true }>> {
    if (this.isClosed) return Promise.reject(new StorageError('STORAGE_CLOSED', 'hash pool closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, transfer, pending: { resolve, reject } });
      this.pump();
    });
  }

  warmUp(): void {
    if (this.isClosed) return;
    while (this.slots.length < this.threads) this.slots.push(this.spawn());
  }

  private pump(): void {
    while (this.slots.length < this.threads && this.queue.length > 0) this.slots.push(this.spawn());
    for (const slot of this.slots) {
      while (slot.inFlight.size < PER_WORKER_IN_FLIGHT) {
        const q = this.queue.shift();
        if (!q) break;
        slot.inFlight.set(q.request.id, q.pending);
        slot.worker.ref();
        slot.worker.postMessage(q.request, q.transfer);
      }
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker(), inFlight: new Map() };
    slot.worker.unref();
    slot.worker.on('message', (res: WorkerResponse) => this.onMessage(slot, res));
    slot.worker.on('error', (err) => this.onWorkerDeath(slot, err));
    slot.worker.on('exit', (code) =>
      this.onWorkerDeath(slot, new Error(`hash worker exited with code ${code}`)),
    );
    return slot;
  }

  private onMessage(slot: Slot, res: WorkerResponse): void {
    const pending = slot.inFlight.get(res.id);
    if (!pending) return;
    slot.inFlight.delete(res.id);
    if (slot.inFlight.size === 0) slot.worker.unref();
    if (res.ok) pending.resolve(res);
    else {
      const { code, message, path, errno } = res.error;
      const details = { operation: 'hash' as const, ...(path ? { path } : {}), ...(errno ? { errno } : {}) };
      pending.reject(
        new StorageError(code as StorageErrorCode, path ? `${message}: ${path}` : message, details),
      );
    }
    this.pump();
  }

  private onWorkerDeath(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // already handled (error is followed by exit) or closing
    this.slots.splice(i, 1);
    const failure = new StorageError('STORAGE_HASH_WORKER_FAILED', `hash worker failed: ${err.message}`, {
      cause: err,
    });
    for (const p of slot.inFlight.values()) p.reject(failure);
    slot.inFlight.clear();
    if (!this.isClosed) this.pump();
  }
}

function rangesLength(ranges: readonly FileRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.length;
  return n;
}

/** Group consecutive pieces into batches of about `BATCH_BYTES`, lazily. */
function* planBatches(
  pieces: Iterable<readonly FileRange[]>,
): Generator<{ first: number; pieces: (readonly FileRange[])[] }, void, undefined> {
  let batch: (readonly FileRange[])[] = [];
  let first = 0;
  let bytes = 0;
  let index = 0;
  for (const piece of pieces) {
    batch.push(piece);
    bytes += rangesLength(piece);
    index++;
    if (bytes >= BATCH_BYTES || batch.length >= BATCH_MAX_PIECES) {
      yield { first, pieces: batch };
      batch = [];
      bytes = 0;
      first = index;
    }
  }
  if (batch.length > 0) yield { first, pieces: batch };
}

function* splitDigests(
  first: number,
  lengths: readonly number[],
  res: Extract<WorkerResponse, { ok: true }>,
  mode: HashMode,
  algorithm: HashAlgorithm,
): Generator<PieceDigest, void, undefined> {
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const size = mode === 'blocks' ? Math.ceil(lengths[i]! / LEAF_BLOCK_BYTES) * 32 : DIGEST_BYTES[algorithm];
    const isMissing = res.missing?.[i] === 1;
    yield { index: first + i, digest: isMissing ? null : res.digests.subarray(at, at + size) };
    at += size;
  }
}

/**
 * Start a worker from `hash-worker.js` next to this module (compiled `dist/`), or from the
 * `.ts` source when running under tsx: Node 20 does not apply `--import tsx` to workers, so the
 * worker registers tsx itself before importing the source.
 */
function startWorker(): Worker {
  const js = new URL('./hash-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./hash-worker.ts', import.meta.url);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(ts.href)}); });`;
  return new Worker(boot, { eval: true });
}
