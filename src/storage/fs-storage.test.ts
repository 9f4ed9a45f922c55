import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { StorageError } from './errors.js';
import { openFsStorage } from './fs-storage.js';
import { contentFor, makeLayout, runStorageConformance, writeAll } from './storage.conformance.js';

runStorageConformance('fs', () => {
  const dir = tempDir();
  return {
    open: (layout, options) =>
      openFsStorage(layout, {
        rootDir: dir.path,
        ...(options?.priorities ? { priorities: options.priorities } : {}),
      }),
    cleanup: () => dir.cleanup(),
  };
});

test('files are created sparse at their full length on first write, bytes land at their offsets', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const layout = makeLayout([['big', 64 * 1024 * 1024]], 1024 * 1024);
  const s = await openFsStorage(layout, { rootDir: dir.path });
  await s.writeBlock(40, 16384, new Uint8Array(16384).fill(9));
  await s.close();
  const st = statSync(join(dir.path, 't', 'big'));
  assert.equal(st.size, 64 * 1024 * 1024);
  assert.ok(st.blocks * 512 < 4 * 1024 * 1024, `sparse: ${st.blocks * 512} bytes allocated`);
  const fd = readFileSync(join(dir.path, 't', 'big'));
  assert.equal(fd[40 * 1024 * 1024 + 16384], 9);
  assert.equal(fd[40 * 1024 * 1024 + 16383], 0);
});

test('reading never creates files', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const layout = makeLayout([['a', 1000]], 16384);
  const s = await openFsStorage(layout, { rootDir: dir.path });
  assert.deepEqual(await s.readPiece(0), new Uint8Array(1000));
  await s.close();
  assert.equal(existsSync(join(dir.path, 't', 'a')), false);
});

test('keeps at most maxOpenFiles handles open and still reads and writes every file', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const layout = makeLayout(
    Array.from({ length: 40 }, (_, i) => [`f${i}`, 5000] as const),
    16384,
  );
  const s = await openFsStorage(layout, { rootDir: dir.path, maxOpenFiles: 3 });
  const content = contentFor(layout, 4);
  await writeAll(s, content);
  const handles = (s as unknown as { handles: Map<number, unknown> }).handles;
  assert.ok(handles.size <= 3, `open handles: ${handles.size}`);
  await s.flush();
  for (let p = 0; p < s.fileMap.pieceCount; p++) {
    const start = p * 16384;
    assert.deepEqual(await s.readPiece(p), content.subarray(start, start + s.fileMap.pieceLength(p)));
  }
  await s.close();
});

test('a skipped file that already exists is used as it is, and the parts file goes away when nothing is skipped', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const layout = makeLayout(
    [
      ['x', 10_000],
      ['y', 10_000],
    ],
    16384,
  );
  const content = contentFor(layout, 6);
  const first = await openFsStorage(layout, { rootDir: dir.path, priorities: [4, 0] });
  await writeAll(first, content);
  assert.equal(existsSync(join(dir.path, 't', 'y')), false);
  assert.ok(existsSync(first.partsPath), 'straddling bytes of the skipped file are kept aside');
  await first.setFilePriority(1, 4);
  await first.close();
  assert.equal(existsSync(first.partsPath), false);
  assert.deepEqual(new Uint8Array(readFileSync(join(dir.path, 't', 'y'))), content.subarray(10_000));
  // Now skip it again: the existing file keeps serving its bytes.
  const second = await openFsStorage(layout, { rootDir: dir.path, priorities: [4, 0] });
  assert.deepEqual(await second.readPiece(1), content.subarray(16384));
  await second.close();
});

test('a torrent path that escapes the folder through a symlink is refused with STORAGE_UNSAFE_PATH', async (t) => {
  const dir = tempDir();
  const outside = tempDir();
  t.after(() => {
    dir.cleanup();
    outside.cleanup();
  });
  const { symlinkSync } = await import('node:fs');
  symlinkSync(outside.path, join(dir.path, 't'));
  const layout = makeLayout([['a', 100]], 16384);
  const s = await openFsStorage(layout, { rootDir: dir.path });
  await assert.rejects(
    s.writeBlock(0, 0, new Uint8Array(100)),
    (e: unknown) => e instanceof StorageError && e.code === 'STORAGE_UNSAFE_PATH',
  );
  assert.equal(existsSync(join(outside.path, 'a')), false);
  await s.close();
});

test('a write that cannot reach the disk fails with a StorageError naming path and operation, and nothing verifies', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const layout = makeLayout([['sub/a', 40_000]], 32 * 1024);
  const content = contentFor(layout, 8);
  const isRoot = process.getuid?.() === 0;
  let expectedCode: string;
  if (isRoot) {
    // Root ignores permission bits: put a regular file where the folder `t` must be (ENOTDIR / EEXIST).
    writeFileSync(join(dir.path, 't'), 'in the way');
    expectedCode = 'STORAGE_PATH_CONFLICT';
  } else {
    const { chmodSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir.path, 't'));
    chmodSync(join(dir.path, 't'), 0o555);
    t.after(() => chmodSync(join(dir.path, 't'), 0o755));
    expectedCode = 'STORAGE_PERMISSION';
  }
  const s = await openFsStorage(layout, { rootDir: dir.path });
  await assert.rejects(writeAll(s, content), (e: unknown) => {
    assert.ok(e instanceof StorageError);
    assert.equal(e.code, expectedCode);
    assert.ok(e.path?.includes(join(dir.path, 't')), `path in error: ${e.path}`);
    assert.ok(e.operation === 'mkdir' || e.operation === 'create', `operation ${e.operation}`);
    return true;
  });
  const { createHash } = await import('node:crypto');
  const piece0 = content.subarray(0, 32 * 1024);
  assert.equal(await s.verifyPiece(0, new Uint8Array(createHash('sha1').update(piece0).digest())), false);
  await s.close();
});
