/**
 * A `HashPool` without threads: every digest is computed synchronously, on the calling
 * thread, when it is asked for. For simulations, where 50 sessions share one process and one
 * virtual clock: worker threads would add real-time latency the virtual clock cannot see (and
 * a thread pool per session). The answer still comes back as a promise, as from the pool.
 *
 * File ranges (`hashPieces`) are read with synchronous positional reads, like the worker does.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { StorageError } from './errors.js';
import type { HashPiecesJob, HashPool, PieceDigest } from './hash-pool.js';
import {
  DIGEST_BYTES,
  type FileRange,
  type HashAlgorithm,
  LEAF_BLOCK_BYTES,
  ZERO_FILL_PATH,
} from './hash-protocol.js';

const READ_CHUNK_BYTES = 1024 * 1024;

class MissingData extends Error {}

/** Create a hash pool that hashes inline (see the module comment). */
export function createInlineHashPool(): HashPool {
  return new InlineHashPool();
}

class InlineHashPool implements HashPool {
  readonly threads = 1;
  private isClosed = false;
  private readBuffer: Buffer | null = null;

  async digest(algorithm: HashAlgorithm, data: Uint8Array): Promise<Uint8Array> {
    this.checkOpen();
    return new Uint8Array(createHash(algorithm).update(data).digest());
  }

  async hashPieces(job: HashPiecesJob): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const { digest } of this.hashPiecesIter({ ...job, allowMissing: false })) out.push(digest!);
    return out;
  }

  async *hashPiecesIter(job: HashPiecesJob): AsyncGenerator<PieceDigest, void, undefined> {
    this.checkOpen();
    let index = 0;
    for (const ranges of job.pieces) {
      job.signal?.throwIfAborted();
      this.checkOpen();
      yield { index, digest: this.hashRanges(job, ranges) };
      index++;
    }
  }

  warmUp(): void {}

  async close(): Promise<void> {
    this.isClosed = true;
    this.readBuffer = null;
  }

  private hashRanges(job: HashPiecesJob, ranges: readonly FileRange[]): Uint8Array | null {
    const isBlocks = (job.mode ?? 'piece') === 'blocks';
    const leaves: Uint8Array[] = [];
    let leaf: Hash | null = null;
    let leafFilled = 0;
    const whole = isBlocks ? null : createHash(job.algorithm);
    const sink = (chunk: Uint8Array) => {
      if (whole) {
        whole.update(chunk);
        return;
      }
      // BEP 52 leaves: SHA-256 of each 16 KiB block of the piece's byte stream.
      for (let at = 0; at < chunk.length; ) {
        leaf ??= createHash('sha256');
        const take = Math.min(LEAF_BLOCK_BYTES - leafFilled, chunk.length - at);
        leaf.update(chunk.subarray(at, at + take));
        leafFilled += take;
        at += take;
        if (leafFilled === LEAF_BLOCK_BYTES) {
          leaves.push(new Uint8Array(leaf.digest()));
          leaf = null;
          leafFilled = 0;
        }
      }
    };
    try {
      for (const r of ranges) this.readRange(r, sink);
    } catch (err) {
      if (!(err instanceof MissingData)) throw err;
      if (job.allowMissing) return null;
      throw new StorageError('STORAGE_MISSING_DATA', `data missing: ${err.message}`, {
        operation: 'hash',
        path: err.message,
      });
    }
    if (whole) return new Uint8Array(whole.digest());
    if (leaf !== null) leaves.push(new Uint8Array((leaf as Hash).digest()));
    const out = new Uint8Array(leaves.length * DIGEST_BYTES.sha256);
    for (let i = 0; i < leaves.length; i++) out.set(leaves[i]!, i * DIGEST_BYTES.sha256);
    return out;
  }

  private readRange(range: FileRange, sink: (chunk: Uint8Array) => void): void {
    if (range.path === ZERO_FILL_PATH) {
      const zeros = new Uint8Array(Math.min(range.length, READ_CHUNK_BYTES));
      for (let left = range.length; left > 0; left -= zeros.length)
        sink(zeros.subarray(0, Math.min(left, zeros.length)));
      return;
    }
    let fd: number;
    try {
      fd = openSync(range.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingData(range.path);
      throw err;
    }
    try {
      this.readBuffer ??= Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const buf = this.readBuffer;
      for (let pos = range.offset, stop = range.offset + range.length; pos < stop; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, stop - pos), pos);
        if (n === 0) throw new MissingData(range.path);
        sink(buf.subarray(0, n));
        pos += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  private checkOpen(): void {
    if (this.isClosed) throw new StorageError('STORAGE_CLOSED', 'hash pool closed');
  }
}
