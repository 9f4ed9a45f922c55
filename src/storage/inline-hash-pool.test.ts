import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StorageError } from './errors.js';
import { createHashPool, type FileRange, ZERO_FILL_PATH } from './hash-pool.js';
import { createInlineHashPool } from './inline-hash-pool.js';

test('digests match node:crypto', async () => {
  const pool = createInlineHashPool();
  const data = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
  assert.deepEqual(await pool.digest('sha1', data), new Uint8Array(createHash('sha1').update(data).digest()));
  assert.deepEqual(
    await pool.digest('sha256', data),
    new Uint8Array(createHash('sha256').update(data).digest()),
  );
  await pool.close();
  await assert.rejects(
    pool.digest('sha1', data),
    (e: unknown) => e instanceof StorageError && e.code === 'STORAGE_CLOSED',
  );
});

test('file ranges hash exactly as the worker pool hashes them (pieces, blocks, zeros, missing data)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peerdrop-inline-hash-'));
  const workers = createHashPool({ threads: 1 });
  const inline = createInlineHashPool();
  try {
    const a = join(dir, 'a');
    const data = new Uint8Array(100_000).map((_, i) => (i * 13 + 1) & 0xff);
    data[1] = 0;
    await writeFile(a, data);
    const pieces: FileRange[][] = [
      [{ path: a, offset: 0, length: 40_000 }],
      [
        { path: a, offset: 40_000, length: 60_000 },
        { path: ZERO_FILL_PATH, offset: 0, length: 5_000 },
      ],
      [{ path: join(dir, 'absent'), offset: 0, length: 10 }],
      [{ path: a, offset: 90_000, length: 20_000 }], // runs past the end of the file
    ];
    for (const mode of ['piece', 'blocks'] as const) {
      for (const algorithm of ['sha1', 'sha256'] as const) {
        if (mode === 'blocks' && algorithm === 'sha1') continue;
        const job = { algorithm, mode, pieces, allowMissing: true };
        const got = [];
        for await (const d of inline.hashPiecesIter(job)) got.push(d);
        const want = [];
        for await (const d of workers.hashPiecesIter(job)) want.push(d);
        assert.deepEqual(
          got.map((d) => ({ index: d.index, digest: d.digest && Buffer.from(d.digest) })),
          want.map((d) => ({ index: d.index, digest: d.digest && Buffer.from(d.digest) })),
          `${mode} ${algorithm}`,
        );
        assert.equal(got[2]!.digest, null);
      }
    }
    await assert.rejects(
      inline.hashPieces({ algorithm: 'sha1', pieces }),
      (e: unknown) => e instanceof StorageError && e.code === 'STORAGE_MISSING_DATA',
    );
  } finally {
    await workers.close();
    await rm(dir, { recursive: true, force: true });
  }
});
