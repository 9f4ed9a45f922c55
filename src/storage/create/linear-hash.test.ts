import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../../test/helpers/tmp.js';
import { StorageError } from '../errors.js';
import { hashLinearV1 } from './linear-hash.js';

/** The reference: SHA-1 of each piece of the concatenated bytes. */
function expected(parts: readonly Uint8Array[], pieceLength: number): Uint8Array {
  const all = Buffer.concat(parts);
  const n = Math.ceil(all.length / pieceLength);
  const out = new Uint8Array(n * 20);
  for (let p = 0; p < n; p++)
    out.set(
      createHash('sha1')
        .update(all.subarray(p * pieceLength, (p + 1) * pieceLength))
        .digest(),
      p * 20,
    );
  return out;
}

test('linear v1 hashing: pieces across files, empty files and reads shorter than a piece, on 1 to 3 threads, workers alone too', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  // Sizes chosen so that pieces start mid-file, span several files and an empty file, and the
  // last piece is short; claims of ~3 pieces so that every thread gets some.
  const sizes = [300_000, 0, 17, 1_000_000, 0, 0, 65_536, 2_500_001];
  const parts = sizes.map((n) => new Uint8Array(randomBytes(n)));
  const files = sizes.map((n, i) => {
    const fsPath = join(dir.path, `f${i}`);
    writeFileSync(fsPath, parts[i]!);
    return { fsPath, lengthBytes: n };
  });
  // Each worker start costs ~0.5 s under tsx: a few cases, one with the workers alone.
  for (const [pieceLength, threads, isMainHashing] of [
    [262_144, 1, true],
    [16_384, 1, true],
    [16_384, 2, true],
    [16_384, 2, false],
  ] as const) {
    const want = expected(parts, pieceLength);
    let last = 0;
    const got = await hashLinearV1(files, pieceLength, {
      threads,
      batchBytes: 50_000,
      isMainHashing,
      onProgress: (n) => {
        assert.ok(n >= last, 'progress never goes back');
        last = n;
      },
    });
    assert.deepEqual(
      Buffer.from(got),
      Buffer.from(want),
      `piece ${pieceLength}, ${threads} threads, main hashing ${isMainHashing}`,
    );
    assert.equal(last, want.length / 20);
  }
});

test('linear v1 hashing: a file that got shorter is a StorageError naming it', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const fsPath = join(dir.path, 'shrinks');
  writeFileSync(fsPath, randomBytes(1_000_000));
  truncateSync(fsPath, 10_000);
  await assert.rejects(
    hashLinearV1([{ fsPath, lengthBytes: 1_000_000 }], 16_384, { threads: 1, batchBytes: 50_000 }),
    (err: unknown) => err instanceof StorageError && err.path === fsPath,
  );
});

test('linear v1 hashing: an aborted signal stops it', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const fsPath = join(dir.path, 'data');
  writeFileSync(fsPath, randomBytes(2_000_000));
  await assert.rejects(
    hashLinearV1([{ fsPath, lengthBytes: 2_000_000 }], 16_384, {
      threads: 1,
      batchBytes: 50_000,
      signal: AbortSignal.abort(),
    }),
    { name: 'AbortError' },
  );
});
