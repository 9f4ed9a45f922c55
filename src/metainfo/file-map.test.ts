import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BLOCK_LENGTH_BYTES, FileMap } from './file-map.js';

/** Files from lengths, offsets accumulated (the v1 linear layout). */
function layout(lengths: number[], pieceLengthBytes: number): FileMap {
  let offset = 0;
  const files = lengths.map((lengthBytes) => {
    const f = { offsetBytes: offset, lengthBytes };
    offset += lengthBytes;
    return f;
  });
  return new FileMap({ files, pieceLengthBytes, totalLengthBytes: offset });
}

describe('FileMap', () => {
  test('a single file splits into full pieces and a short last piece', () => {
    const m = layout([100], 32);
    assert.equal(m.pieceCount, 4);
    assert.deepEqual(
      [0, 1, 2, 3].map((p) => m.pieceLength(p)),
      [32, 32, 32, 4],
    );
    assert.deepEqual(m.segmentsForPiece(3), [{ fileIndex: 0, fileOffset: 96, length: 4 }]);
  });

  test('a piece spanning three files yields one segment per file, in order', () => {
    const m = layout([10, 5, 30], 32);
    assert.deepEqual(m.segmentsForPiece(0), [
      { fileIndex: 0, fileOffset: 0, length: 10 },
      { fileIndex: 1, fileOffset: 0, length: 5 },
      { fileIndex: 2, fileOffset: 0, length: 17 },
    ]);
    assert.deepEqual(m.segmentsForPiece(1), [{ fileIndex: 2, fileOffset: 17, length: 13 }]);
  });

  test('zero-length files never appear in segments and cover no piece', () => {
    const m = layout([0, 16, 0, 0, 16, 0], 32);
    assert.deepEqual(m.segmentsForPiece(0), [
      { fileIndex: 1, fileOffset: 0, length: 16 },
      { fileIndex: 4, fileOffset: 0, length: 16 },
    ]);
    assert.deepEqual(m.pieceRangeForFile(0), { first: 0, endExclusive: 0 });
    assert.deepEqual(m.pieceRangeForFile(2), { first: 0, endExclusive: 0 });
    // A trailing empty file sits at the end of the space: its range is empty and past the last piece.
    assert.deepEqual(m.pieceRangeForFile(5), { first: 1, endExclusive: 1 });
  });

  test('padding files are mapped like any other file (the backend decides they never touch disk)', () => {
    // BEP 47: file a (20 bytes), 12 bytes padding to the 32-byte boundary, file b (40 bytes).
    const m = layout([20, 12, 40], 32);
    assert.deepEqual(m.segmentsForPiece(0), [
      { fileIndex: 0, fileOffset: 0, length: 20 },
      { fileIndex: 1, fileOffset: 0, length: 12 },
    ]);
    assert.deepEqual(m.pieceRangeForFile(2), { first: 1, endExclusive: 3 });
    assert.equal(m.pieceLength(2), 8);
  });

  test('pieceRangeForFile includes pieces shared with neighbouring files', () => {
    const m = layout([40, 50, 6], 32);
    assert.deepEqual(m.pieceRangeForFile(0), { first: 0, endExclusive: 2 });
    assert.deepEqual(m.pieceRangeForFile(1), { first: 1, endExclusive: 3 });
    assert.deepEqual(m.pieceRangeForFile(2), { first: 2, endExclusive: 3 });
  });

  test('segmentsForRange maps a block inside a piece across a file boundary', () => {
    const m = layout([40, 50], 32);
    assert.deepEqual(m.segmentsForRange(1, 4, 10), [
      { fileIndex: 0, fileOffset: 36, length: 4 },
      { fileIndex: 1, fileOffset: 0, length: 6 },
    ]);
    assert.deepEqual(m.segmentsForRange(1, 4, 0), []);
  });

  test('blocks are 16 KiB with a short last block', () => {
    const piece = 64 * 1024;
    const m = layout([piece + 20_000], piece);
    assert.equal(m.blockCount(0), 4);
    assert.equal(m.blockCount(1), 2);
    assert.equal(m.blockLength(1, 0), BLOCK_LENGTH_BYTES);
    assert.equal(m.blockLength(1, 1), 20_000 - BLOCK_LENGTH_BYTES);
  });

  test('rejects out-of-range pieces, blocks, files and ranges', () => {
    const m = layout([100], 32);
    assert.throws(() => m.pieceLength(4), RangeError);
    assert.throws(() => m.pieceLength(-1), RangeError);
    assert.throws(() => m.pieceLength(1.5), RangeError);
    assert.throws(() => m.blockLength(0, 1), RangeError);
    assert.throws(() => m.pieceRangeForFile(1), RangeError);
    assert.throws(() => m.segmentsForRange(3, 0, 5), RangeError);
    assert.throws(() => m.segmentsForRange(0, -1, 5), RangeError);
  });

  test('rejects layouts whose files are not contiguous or do not match the total', () => {
    const files = [
      { offsetBytes: 0, lengthBytes: 10 },
      { offsetBytes: 11, lengthBytes: 10 },
    ];
    assert.throws(() => new FileMap({ files, pieceLengthBytes: 16, totalLengthBytes: 21 }), RangeError);
    assert.throws(
      () =>
        new FileMap({
          files: [{ offsetBytes: 0, lengthBytes: 10 }],
          pieceLengthBytes: 16,
          totalLengthBytes: 11,
        }),
      RangeError,
    );
    assert.throws(() => new FileMap({ files: [], pieceLengthBytes: 0, totalLengthBytes: 0 }), RangeError);
  });

  test('an empty torrent space has no pieces', () => {
    const m = layout([0, 0], 32);
    assert.equal(m.pieceCount, 0);
    assert.throws(() => m.segmentsForPiece(0), RangeError);
  });

  test('segments of every piece cover each file exactly once (randomised layouts)', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 50; round++) {
      const lengths = Array.from({ length: 1 + next(8) }, () => (next(4) === 0 ? 0 : next(200)));
      const m = layout(lengths, 1 << (4 + next(4)));
      const covered = lengths.map(() => 0);
      for (let p = 0; p < m.pieceCount; p++) {
        let sum = 0;
        for (const s of m.segmentsForPiece(p)) {
          assert.equal(s.fileOffset, covered[s.fileIndex], 'segments are in file order');
          covered[s.fileIndex]! += s.length;
          sum += s.length;
          const r = m.pieceRangeForFile(s.fileIndex);
          assert.ok(p >= r.first && p < r.endExclusive);
        }
        assert.equal(sum, m.pieceLength(p));
      }
      assert.deepEqual(covered, lengths);
    }
  });
});
