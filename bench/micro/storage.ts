/**
 * Micro-benchmark of storage: writing and reading a torrent's data through the fs backend in
 * 16 KiB blocks (what the session does), and hashing it in the worker pool (what the startup
 * check, `peerdrop seed` and `peerdrop create` do). Reads are from the page cache.
 *   node --import tsx bench/micro/storage.ts [megabytes] [threads]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStorage } from '../../src/storage/fs-storage.js';
import { createHashPool } from '../../src/storage/hash-pool.js';
import type { StorageLayout } from '../../src/storage/storage.js';

export interface StorageBenchResult {
  readonly megabytes: number;
  readonly threads: number;
  readonly writeMiBps: number;
  readonly readMiBps: number;
  /** SHA-1 of every piece, read and hashed inside the workers. */
  readonly hashMiBps: number;
}

const BLOCK = 16 * 1024;
const PIECE = 1024 * 1024;

/** Runs over `megabytes` of data in two files (small for the smoke test). */
export async function runStorageBench(megabytes = 64, threads = 2): Promise<StorageBenchResult> {
  const total = megabytes * 1024 * 1024;
  const half = Math.floor(total / 2);
  const layout: StorageLayout = {
    files: [
      { path: ['bench', 'one'], lengthBytes: half, offsetBytes: 0, attributes: { isPadding: false } },
      {
        path: ['bench', 'two'],
        lengthBytes: total - half,
        offsetBytes: half,
        attributes: { isPadding: false },
      },
    ],
    pieceLengthBytes: PIECE,
    storageLengthBytes: total,
  };
  const dir = mkdtempSync(join(tmpdir(), 'peerdrop-bench-'));
  const pool = createHashPool({ threads });
  try {
    const storage = await openFsStorage(layout, { rootDir: dir, hashPool: pool });
    const block = new Uint8Array(BLOCK).map((_, i) => (i * 31) & 0xff);
    const map = storage.fileMap;

    let t = performance.now();
    for (let p = 0; p < map.pieceCount; p++) {
      const writes: Promise<void>[] = [];
      for (let b = 0; b < map.blockCount(p); b++)
        writes.push(storage.writeBlock(p, b * BLOCK, block.subarray(0, map.blockLength(p, b))));
      await Promise.all(writes); // a piece's blocks in flight together, as the session writes them
    }
    const writeMs = performance.now() - t;

    t = performance.now();
    let sink = 0;
    for (let p = 0; p < map.pieceCount; p++) {
      for (let b = 0; b < map.blockCount(p); b++)
        sink += (await storage.readBlock(p, b * BLOCK, map.blockLength(p, b)))[0]!;
    }
    const readMs = performance.now() - t;
    if (sink < 0) throw new Error('unreachable');

    const ranges = [];
    for (let p = 0; p < map.pieceCount; p++) ranges.push(await storage.rangesForPiece(p));
    await pool.hashPieces({ algorithm: 'sha1', pieces: ranges.slice(0, 1) }); // start the workers
    t = performance.now();
    await pool.hashPieces({ algorithm: 'sha1', pieces: ranges });
    const hashMs = performance.now() - t;
    await storage.close();

    const mib = total / (1024 * 1024);
    return {
      megabytes,
      threads,
      writeMiBps: mib / (writeMs / 1000),
      readMiBps: mib / (readMs / 1000),
      hashMiBps: mib / (hashMs / 1000),
    };
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runStorageBench(Number(process.argv[2] ?? 64), Number(process.argv[3] ?? 2));
  process.stdout.write(
    `storage ${r.megabytes} MiB: write ${r.writeMiBps.toFixed(0)} MiB/s, read ${r.readMiBps.toFixed(0)} MiB/s (16 KiB blocks), ` +
      `hash ${r.hashMiBps.toFixed(0)} MiB/s (SHA-1, ${r.threads} worker threads)\n`,
  );
}
