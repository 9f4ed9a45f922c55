import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { fileMerkle } from '../metainfo/merkle.js';
import { openFsStorage } from './fs-storage.js';
import { createHashPool, type HashPool } from './hash-pool.js';
import { createMemoryStorage } from './memory-storage.js';
import { contentFor, makeLayout, writeAll } from './storage.conformance.js';
import { type V2Layout, verifyV1, verifyV2 } from './verify.js';

function v1Hashes(content: Uint8Array, pieceLength: number): Uint8Array {
  const n = Math.ceil(content.length / pieceLength);
  const out = new Uint8Array(n * 20);
  for (let p = 0; p < n; p++) {
    out.set(
      createHash('sha1')
        .update(content.subarray(p * pieceLength, (p + 1) * pieceLength))
        .digest(),
      p * 20,
    );
  }
  return out;
}

const binaryKey = (b: Uint8Array) => String.fromCharCode(...b);

describe('verify', () => {
  let pool: HashPool;
  before(() => {
    pool = createHashPool({ threads: 2 });
  });
  after(() => pool.close());

  const layout = makeLayout(
    [
      ['a', 50_000],
      ['.pad/0', 15_536],
      ['b', 40_000],
      ['missing', 30_000],
    ],
    32 * 1024,
  );

  test('v1: marks matching pieces, not corrupted, missing or skipped ones, and reports progress', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const content = contentFor(layout, 2);
    const s = await openFsStorage(layout, { rootDir: dir.path, priorities: [4, 4, 4, 0] });
    await writeAll(s, content.subarray(0, layout.files[3]!.offsetBytes));
    await s.writeBlock(1, 100, new Uint8Array([content[32 * 1024 + 100]! ^ 1])); // corrupt piece 1
    const progress: number[] = [];
    const have = await verifyV1(s, v1Hashes(content, 32 * 1024), {
      hashPool: pool,
      onProgress: (done, total) => progress.push(done / total),
    });
    // a: pieces 0-1, padding ends piece 1, b: pieces 2-3 (boundary with `missing` in piece 3).
    assert.equal(have.toString(), '* *  ');
    assert.equal(progress.at(-1), 1);
    assert.equal(progress.length, s.fileMap.pieceCount);
    await s.close();
  });

  test('v1: checks only the pieces asked for, and the memory backend falls back to reading', async () => {
    const content = contentFor(layout, 5);
    const m = createMemoryStorage(layout);
    await writeAll(m, content);
    const have = await verifyV1(m, v1Hashes(content, 32 * 1024), { hashPool: pool, pieces: [0, 2] });
    assert.deepEqual(
      [0, 1, 2].map((p) => have.get(p)),
      [true, false, true],
    );
  });

  test('v1: an aborted check stops with the abort reason', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const s = await openFsStorage(layout, { rootDir: dir.path });
    const ac = new AbortController();
    ac.abort(new Error('cancelled'));
    await assert.rejects(
      verifyV1(s, v1Hashes(contentFor(layout), 32 * 1024), { hashPool: pool, signal: ac.signal }),
      /cancelled/,
    );
    await s.close();
  });

  test('v2: compares piece nodes with piece layers, and small files with their root', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const pieceLength = 64 * 1024;
    const big = contentFor(makeLayout([['x', 200_000]], pieceLength), 3);
    const small = contentFor(makeLayout([['x', 20_000]], pieceLength), 4);
    const bigTree = fileMerkle(big, pieceLength);
    const smallTree = fileMerkle(small, pieceLength);
    const v2: V2Layout = {
      ...makeLayout(
        [
          ['big', big.length],
          ['small', small.length],
        ],
        pieceLength,
      ),
      pieceLayers: new Map([[binaryKey(bigTree.root), bigTree.pieceLayer]]),
    };
    const files = v2.files.map((f, i) => ({ ...f, piecesRoot: i === 0 ? bigTree.root : smallTree.root }));
    const withRoots: V2Layout = { ...v2, files };
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(`${dir.path}/t`);
    const corrupt = big.slice();
    corrupt[pieceLength * 2 + 7]! ^= 0xff; // piece 2 of big
    writeFileSync(`${dir.path}/t/big`, corrupt);
    writeFileSync(`${dir.path}/t/small`, small);
    const s = await openFsStorage(withRoots, { rootDir: dir.path });
    const have = await verifyV2(withRoots, (i) => s.filePath(i), { hashPool: pool });
    // big has 4 pieces (the last short), small 1: pieces 0..4.
    assert.equal(have.length, 5);
    assert.equal(have.toString(), '** **');
    await s.close();
  });
});
