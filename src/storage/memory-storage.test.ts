import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StorageError } from './errors.js';
import { createMemoryBacking, createMemoryStorage, diskFullAfter } from './memory-storage.js';
import { contentFor, makeLayout, runStorageConformance, writeAll } from './storage.conformance.js';

runStorageConformance('memory', () => {
  let backing: ReturnType<typeof createMemoryBacking> | undefined;
  return {
    async open(layout, options) {
      backing ??= createMemoryBacking(layout.files.length);
      return createMemoryStorage(layout, {
        backing,
        ...(options?.priorities ? { priorities: options.priorities } : {}),
      });
    },
    cleanup() {},
  };
});

test('a simulated full disk fails the write with STORAGE_DISK_FULL and the piece does not verify', async () => {
  const layout = makeLayout([['f', 100_000]], 32 * 1024);
  const s = createMemoryStorage(layout, { fault: diskFullAfter(40_000) });
  const content = contentFor(layout);
  await assert.rejects(
    writeAll(s, content),
    (e: unknown) => e instanceof StorageError && e.code === 'STORAGE_DISK_FULL',
  );
  const { createHash } = await import('node:crypto');
  const piece1 = content.subarray(32 * 1024, 64 * 1024);
  assert.equal(await s.verifyPiece(1, new Uint8Array(createHash('sha1').update(piece1).digest())), false);
  const piece0 = content.subarray(0, 32 * 1024);
  assert.equal(await s.verifyPiece(0, new Uint8Array(createHash('sha1').update(piece0).digest())), true);
});

test('memory files are sparse: a large torrent costs only what is written', async () => {
  const layout = makeLayout([['huge', 8 * 1024 * 1024 * 1024]], 4 * 1024 * 1024);
  const s = createMemoryStorage(layout);
  await s.writeBlock(1000, 16384, new Uint8Array(16384).fill(1));
  assert.equal((await s.readBlock(1000, 16384, 16384))[5], 1);
  assert.equal((await s.stat())[0]!.sizeBytes, 1000 * 4 * 1024 * 1024 + 32768);
});
