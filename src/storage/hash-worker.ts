/**
 * Hash worker: hashes buffers handed to it, or byte ranges of files that it reads itself with
 * large positional reads into one reused buffer (the main thread never sees file data). Reads
 * are synchronous on purpose: this thread does nothing else, and `readSync` skips the
 * libuv threadpool round trip per read.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { LentResponse } from './hash-pool.js';
import {
  DIGEST_BYTES,
  type FileRange,
  LEAF_BLOCK_BYTES,
  type WorkerRequest,
  type WorkerResponse,
  ZERO_FILL_PATH,
} from './hash-protocol.js';

/** Large reads amortise syscalls; 4 MiB keeps the worker's memory small and fixed. */
const READ_BUFFER_BYTES = 4 * 1024 * 1024;
/** Files stay open for the rest of a request; beyond this many the oldest is closed. */
const MAX_OPEN_FILES = 16;

class MissingData extends Error {}

/** Ranges with this path are zeros (BEP 47 padding), never read from disk. */
const ZERO_FILL = new Uint8Array(64 * 1024);

/** Serves byte ranges from a window of one file held in a reused buffer. */
class WindowReader {
  private readonly buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly fds = new Map<string, number>();
  private path = '';
  private start = 0;
  private end = 0;

  /** `limits`: per path, the end of the furthest range this request needs (no read-ahead past it). */
  constructor(private readonly limits: ReadonlyMap<string, number>) {}

  /** Feed `range` to `sink` in chunks; throws `MissingData` if the file is absent or short. */
  read(range: FileRange, sink: (chunk: Uint8Array) => void): void {
    if (range.path === ZERO_FILL_PATH) return zeroFill(range.length, sink);
    const stop = range.offset + range.length;
    let pos = range.offset;
    while (pos < stop) {
      if (range.path !== this.path || pos < this.start || pos >= this.end) this.load(range.path, pos);
      const chunkEnd = Math.min(this.end, stop);
      sink(this.buffer.subarray(pos - this.start, chunkEnd - this.start));
      pos = chunkEnd;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.path = '';
  }

  private load(path: string, pos: number): void {
    const fd = this.fd(path);
    const want = Math.min(this.buffer.length, (this.limits.get(path) ?? pos) - pos);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, this.buffer, got, want - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    this.path = path;
    this.start = pos;
    this.end = pos + got;
    if (got === 0) throw new MissingData(path);
  }

  private fd(path: string): number {
    const cached = this.fds.get(path);
    if (cached !== undefined) return cached;
    if (this.fds.size >= MAX_OPEN_FILES) {
      const [oldPath, oldFd] = this.fds.entries().next().value as [string, number];
      this.fds.delete(oldPath);
      closeSync(oldFd);
    }
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingData(path);
      throw err;
    }
    this.fds.set(path, fd);
    return fd;
  }
}

function zeroFill(length: number, sink: (chunk: Uint8Array) => void): void {
  for (let left = length; left > 0; left -= ZERO_FILL.length)
    sink(ZERO_FILL.subarray(0, Math.min(left, ZERO_FILL.length)));
}

/** Splits a piece's byte stream into 16 KiB blocks and writes each block's SHA-256. */
class LeafHasher {
  private hash: Hash | null = null;
  private filled = 0;
  constructor(
    private readonly out: Uint8Array,
    private at: number,
  ) {}

  update(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      this.hash ??= createHash('sha256');
      const take = Math.min(LEAF_BLOCK_BYTES - this.filled, chunk.length - pos);
      this.hash.update(chunk.subarray(pos, pos + take));
      this.filled += take;
      pos += take;
      if (this.filled === LEAF_BLOCK_BYTES) this.finishBlock();
    }
  }

  /** Flush a short final block; returns where the next piece's leaves start. */
  finish(): number {
    if (this.filled > 0) this.finishBlock();
    return this.at;
  }

  private finishBlock(): void {
    this.out.set(this.hash!.digest(), this.at);
    this.at += 32;
    this.hash = null;
    this.filled = 0;
  }
}

function pieceBytes(piece: readonly FileRange[]): number {
  let n = 0;
  for (const r of piece) n += r.length;
  return n;
}

function hashRanges(req: Extract<WorkerRequest, { kind: 'ranges' }>): WorkerResponse {
  const limits = new Map<string, number>();
  let outBytes = 0;
  for (const piece of req.pieces) {
    for (const r of piece) limits.set(r.path, Math.max(limits.get(r.path) ?? 0, r.offset + r.length));
    outBytes +=
      req.mode === 'blocks'
        ? Math.ceil(pieceBytes(piece) / LEAF_BLOCK_BYTES) * 32
        : DIGEST_BYTES[req.algorithm];
  }
  const digests = new Uint8Array(outBytes);
  const missing = req.allowMissing ? new Uint8Array(req.pieces.length) : null;
  const reader = new WindowReader(limits);
  let at = 0;
  try {
    for (let i = 0; i < req.pieces.length; i++) {
      const piece = req.pieces[i]!;
      const start = at;
      try {
        if (req.mode === 'blocks') {
          const leaves = new LeafHasher(digests, at);
          for (const r of piece) reader.read(r, (c) => leaves.update(c));
          at = leaves.finish();
        } else {
          const h = createHash(req.algorithm);
          for (const r of piece) reader.read(r, (c) => h.update(c));
          digests.set(h.digest(), at);
          at += DIGEST_BYTES[req.algorithm];
        }
      } catch (err) {
        if (!(err instanceof MissingData) || !missing) throw err;
        missing[i] = 1;
        at =
          start +
          (req.mode === 'blocks'
            ? Math.ceil(pieceBytes(piece) / LEAF_BLOCK_BYTES) * 32
            : DIGEST_BYTES[req.algorithm]);
      }
    }
  } finally {
    reader.close();
  }
  return { id: req.id, ok: true, digests, missing };
}

function handle(req: WorkerRequest): WorkerResponse {
  try {
    if (req.kind === 'digest') {
      const digest = createHash(req.algorithm).update(req.data).digest();
      // A buffer moved here (not shared memory) goes back to its owner (HashPool.digestLent).
      const returned = req.data.buffer instanceof ArrayBuffer ? req.data : undefined;
      const res: LentResponse = {
        id: req.id,
        ok: true,
        digests: new Uint8Array(digest),
        missing: null,
        ...(returned ? { returned } : {}),
      };
      return res;
    }
    return hashRanges(req);
  } catch (err) {
    if (err instanceof MissingData) {
      return {
        id: req.id,
        ok: false,
        error: { code: 'STORAGE_MISSING_DATA', message: 'data missing', path: err.message },
      };
    }
    const e = err as NodeJS.ErrnoException;
    return {
      id: req.id,
      ok: false,
      error: { code: 'STORAGE_IO', message: e.message ?? String(err), path: e.path, errno: e.code },
    };
  }
}

parentPort?.on('message', (req: WorkerRequest) => {
  const res = handle(req);
  const transfer = res.ok && res.digests.byteLength > 64 ? [res.digests.buffer as ArrayBuffer] : [];
  const returned = (res as LentResponse).returned;
  if (returned) transfer.push(returned.buffer as ArrayBuffer);
  parentPort!.postMessage(res, transfer);
});
