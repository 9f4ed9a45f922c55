import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { StorageError } from './errors.js';
import type { FilePriority, Storage, StorageFile, StorageLayout } from './storage.js';

/**
 * The one conformance suite every `Storage` backend must pass (run by `fs-storage.test.ts`
 * and `memory-storage.test.ts`). A harness place is a fresh, empty home for one torrent's
 * data; `open` on the same place again reopens what an earlier instance stored.
 */
export interface StoragePlace {
  open(layout: StorageLayout, options?: { readonly priorities?: readonly FilePriority[] }): Promise<Storage>;
  cleanup(): Promise<void> | void;
}

export type StorageHarness = () => Promise<StoragePlace> | StoragePlace;

/** A layout from `[name, length]` pairs; names starting with `.pad` are BEP 47 padding. */
export function makeLayout(
  files: readonly (readonly [string, number])[],
  pieceLengthBytes: number,
): StorageLayout {
  let offset = 0;
  const out: StorageFile[] = files.map(([name, lengthBytes]) => {
    const f = {
      path: ['t', ...name.split('/')],
      lengthBytes,
      offsetBytes: offset,
      attributes: { isPadding: name.startsWith('.pad') },
    };
    offset += lengthBytes;
    return f;
  });
  return { files: out, pieceLengthBytes, storageLengthBytes: offset };
}

/** Deterministic content with a NUL byte in it (catches text-versus-bytes bugs). */
export function contentFor(layout: StorageLayout, seed = 1): Uint8Array {
  const out = new Uint8Array(layout.storageLengthBytes);
  let x = seed;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  if (out.length > 1) out[1] = 0;
  for (const f of layout.files)
    if (f.attributes.isPadding) out.fill(0, f.offsetBytes, f.offsetBytes + f.lengthBytes);
  return out;
}

/** Write every piece of `content` (block by block, 16 KiB). */
export async function writeAll(s: Storage, content: Uint8Array): Promise<void> {
  const map = s.fileMap;
  for (let p = 0; p < map.pieceCount; p++) {
    const base = p * map.pieceLengthBytes;
    for (let b = 0; b < map.blockCount(p); b++) {
      const len = map.blockLength(p, b);
      await s.writeBlock(p, b * 16384, content.subarray(base + b * 16384, base + b * 16384 + len));
    }
  }
}

function pieceOf(content: Uint8Array, s: Storage, piece: number): Uint8Array {
  const start = piece * s.fileMap.pieceLengthBytes;
  return content.subarray(start, start + s.fileMap.pieceLength(piece));
}

const sha1 = (data: Uint8Array) => new Uint8Array(createHash('sha1').update(data).digest());

const isCode = (code: string) => (e: unknown) => e instanceof StorageError && e.code === code;

/** Three files (one crossing pieces), a zero-length file, padding, and a short last piece. */
const MIXED = makeLayout(
  [
    ['a.bin', 40_000],
    ['empty', 0],
    ['b.bin', 9_000],
    ['.pad/0', 16_536],
    ['c/d.bin', 70_000],
  ],
  32 * 1024,
);

export function runStorageConformance(name: string, harness: StorageHarness): void {
  describe(`Storage conformance: ${name}`, () => {
    const withStorage = async (
      layout: StorageLayout,
      body: (s: Storage, place: StoragePlace) => Promise<void>,
      priorities?: readonly FilePriority[],
    ) => {
      const place = await harness();
      const s = await place.open(layout, priorities ? { priorities } : {});
      try {
        await body(s, place);
      } finally {
        await s.close();
        await place.cleanup();
      }
    };

    test('writes and reads back every piece across file boundaries, short last piece included', async () => {
      await withStorage(MIXED, async (s) => {
        const content = contentFor(MIXED);
        await writeAll(s, content);
        for (let p = 0; p < s.fileMap.pieceCount; p++) {
          assert.deepEqual(await s.readPiece(p), pieceOf(content, s, p), `piece ${p}`);
          assert.ok(await s.verifyPiece(p, sha1(pieceOf(content, s, p))));
        }
        const last = s.fileMap.pieceCount - 1;
        assert.ok(s.fileMap.pieceLength(last) < MIXED.pieceLengthBytes, 'layout has a short last piece');
        // A block straddling a.bin and b.bin (the zero-length file sits between them).
        assert.deepEqual(await s.readBlock(1, 7_000, 2_000), content.subarray(39_768, 41_768));
      });
    });

    test('unwritten data reads as zeros and does not verify', async () => {
      await withStorage(MIXED, async (s) => {
        assert.deepEqual(await s.readBlock(0, 0, 16384), new Uint8Array(16384));
        await s.writeBlock(0, 0, new Uint8Array(100).fill(7));
        const block = await s.readBlock(0, 0, 16384);
        assert.equal(block[99], 7);
        assert.equal(block[100], 0);
        assert.equal(await s.verifyPiece(0, sha1(pieceOf(contentFor(MIXED), s, 0))), false);
      });
    });

    test('padding files never reach the store and read back as zeros', async () => {
      await withStorage(MIXED, async (s) => {
        await writeAll(s, new Uint8Array(MIXED.storageLengthBytes).fill(0xff));
        const pad = MIXED.files[3]!;
        const piece = Math.floor(pad.offsetBytes / MIXED.pieceLengthBytes);
        const inPiece = pad.offsetBytes - piece * MIXED.pieceLengthBytes;
        const got = await s.readBlock(piece, inPiece, pad.lengthBytes);
        assert.deepEqual(got, new Uint8Array(pad.lengthBytes), 'padding is zeros whatever was written');
        const stats = await s.stat();
        assert.equal(stats[3]!.exists, false);
        assert.equal(stats[4]!.exists, true);
      });
    });

    test('a wanted zero-length file exists after open', async () => {
      await withStorage(MIXED, async (s) => {
        const stats = await s.stat();
        assert.deepEqual(
          { exists: stats[1]!.exists, sizeBytes: stats[1]!.sizeBytes },
          { exists: true, sizeBytes: 0 },
        );
        assert.equal(stats[0]!.exists, false, 'files with content are created lazily');
      });
    });

    test('a skipped file is not created, yet a straddling piece reads back whole', async () => {
      const layout = makeLayout(
        [
          ['x', 20_000],
          ['skip', 30_000],
          ['y', 20_000],
        ],
        32 * 1024,
      );
      await withStorage(
        layout,
        async (s) => {
          const content = contentFor(layout, 3);
          await writeAll(s, content);
          const stats = await s.stat();
          assert.equal(stats[1]!.exists, false, 'skipped file not created');
          assert.equal(stats[0]!.exists && stats[2]!.exists, true);
          assert.equal(s.filePriority(1), 0);
          for (let p = 0; p < s.fileMap.pieceCount; p++) {
            assert.ok(await s.verifyPiece(p, sha1(pieceOf(content, s, p))), `piece ${p}`);
          }
          // Wanting the file later moves the kept-aside bytes into it.
          await s.setFilePriority(1, 4);
          assert.equal((await s.stat())[1]!.exists, true);
          for (let p = 0; p < s.fileMap.pieceCount; p++) {
            assert.ok(await s.verifyPiece(p, sha1(pieceOf(content, s, p))), `piece ${p} after un-skip`);
          }
        },
        [4, 0, 4],
      );
    });

    test('data persists across close and reopen', async () => {
      const place = await harness();
      try {
        const content = contentFor(MIXED, 9);
        const first = await place.open(MIXED);
        await writeAll(first, content);
        await first.flush();
        await first.close();
        await assert.rejects(first.readPiece(0), isCode('STORAGE_CLOSED'));
        const second = await place.open(MIXED);
        for (let p = 0; p < second.fileMap.pieceCount; p++) {
          assert.deepEqual(await second.readPiece(p), pieceOf(content, second, p), `piece ${p}`);
        }
        await second.close();
      } finally {
        await place.cleanup();
      }
    });

    test('concurrent writes to different blocks all land', async () => {
      const layout = makeLayout(
        [
          ['one', 100_000],
          ['two', 100_000],
        ],
        64 * 1024,
      );
      await withStorage(layout, async (s) => {
        const content = contentFor(layout, 5);
        const writes: Promise<void>[] = [];
        // Reverse order, all at once: nothing may depend on arrival order.
        for (let p = s.fileMap.pieceCount - 1; p >= 0; p--) {
          for (let b = s.fileMap.blockCount(p) - 1; b >= 0; b--) {
            const start = p * layout.pieceLengthBytes + b * 16384;
            writes.push(
              s.writeBlock(p, b * 16384, content.subarray(start, start + s.fileMap.blockLength(p, b))),
            );
          }
        }
        await Promise.all(writes);
        for (let p = 0; p < s.fileMap.pieceCount; p++) {
          assert.deepEqual(await s.readPiece(p), pieceOf(content, s, p));
        }
      });
    });

    test('rejects ranges outside their piece with STORAGE_OUT_OF_RANGE', async () => {
      await withStorage(MIXED, async (s) => {
        const last = s.fileMap.pieceCount - 1;
        await assert.rejects(s.readBlock(last + 1, 0, 1), isCode('STORAGE_OUT_OF_RANGE'));
        await assert.rejects(s.readBlock(0, 32 * 1024 - 10, 20), isCode('STORAGE_OUT_OF_RANGE'));
        await assert.rejects(
          s.writeBlock(last, s.fileMap.pieceLength(last), new Uint8Array(1)),
          isCode('STORAGE_OUT_OF_RANGE'),
        );
        await assert.rejects(s.readPiece(-1), isCode('STORAGE_OUT_OF_RANGE'));
        await assert.rejects(s.setFilePriority(99, 1), isCode('STORAGE_OUT_OF_RANGE'));
      });
    });

    test('hashPiece is the SHA-1 of the stored piece', async () => {
      await withStorage(MIXED, async (s) => {
        const content = contentFor(MIXED, 11);
        await writeAll(s, content);
        assert.deepEqual(await s.hashPiece(2), sha1(pieceOf(content, s, 2)));
      });
    });
  });
}
