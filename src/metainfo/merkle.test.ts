import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  fileMerkle,
  fileMerkleFromPieceRoots,
  MERKLE_BLOCK_BYTES,
  merkleRoot,
  rootFromPieceLayer,
  verifyPiece,
  zeroSubtreeRoot,
} from './merkle.js';

/** Independent reference: the whole tree at once, straight from BEP 52's wording. */
function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function reference(data: Uint8Array, pieceLength: number): { root: Buffer; layer: Buffer } {
  const leaves: Buffer[] = [];
  for (let i = 0; i < data.length; i += 16384) leaves.push(sha256(data.subarray(i, i + 16384)));
  const perPiece = pieceLength / 16384;
  let width = 1;
  while (width < leaves.length) width *= 2;
  // A file larger than one piece is padded at least to whole pieces (BEP 52 piece layers).
  if (data.length > pieceLength) width = Math.max(width, perPiece);
  while (leaves.length < width) leaves.push(Buffer.alloc(32));
  let level = leaves;
  let span = 1;
  let layer: Buffer[] = [];
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256(level[i]!, level[i + 1]!));
    level = next;
    span *= 2;
    if (span === perPiece) layer = level.slice(0, Math.ceil(data.length / pieceLength));
  }
  return { root: level[0]!, layer: data.length > pieceLength ? Buffer.concat(layer) : Buffer.alloc(0) };
}

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  if (n > 0) out[0] = 0;
  return out;
}

describe('BEP 52 merkle trees', () => {
  const pieceLength = 64 * 1024;
  const sizes = [
    1,
    16383,
    16384,
    16385,
    pieceLength - 1,
    pieceLength,
    pieceLength + 1,
    3 * pieceLength + 17,
    9 * pieceLength,
  ];
  for (const size of sizes) {
    test(`root and piece layer of a ${size}-byte file match an independent whole-tree computation`, () => {
      const data = bytes(size, size);
      const ref = reference(data, pieceLength);
      const got = fileMerkle(data, pieceLength);
      assert.equal(Buffer.from(got.root).toString('hex'), ref.root.toString('hex'));
      assert.equal(Buffer.from(got.pieceLayer).toString('hex'), ref.layer.toString('hex'));
      if (got.pieceLayer.length > 0) {
        assert.deepEqual(rootFromPieceLayer(got.pieceLayer, pieceLength), got.root);
      }
    });
  }

  test('a single block file has its leaf as root (no padding above one leaf)', () => {
    const data = bytes(100, 7);
    assert.deepEqual(Buffer.from(fileMerkle(data, pieceLength).root), sha256(data));
  });

  test('zero subtree roots are hashes of pairs of the level below', () => {
    assert.deepEqual(zeroSubtreeRoot(0), new Uint8Array(32));
    assert.deepEqual(Buffer.from(zeroSubtreeRoot(1)), sha256(new Uint8Array(32), new Uint8Array(32)));
    assert.deepEqual(zeroSubtreeRoot(2), merkleRoot([zeroSubtreeRoot(1), zeroSubtreeRoot(1)]));
  });

  test('verifyPiece accepts every piece of a file and rejects a corrupted one', () => {
    const data = bytes(3 * pieceLength + 5000, 3);
    const { pieceLayer } = fileMerkle(data, pieceLength);
    for (let i = 0; i < 4; i++) {
      const piece = data.subarray(i * pieceLength, (i + 1) * pieceLength);
      assert.equal(verifyPiece(piece, i, pieceLayer, pieceLength), true, `piece ${i}`);
    }
    const bad = data.slice(pieceLength, 2 * pieceLength);
    bad[100] = bad[100]! ^ 1;
    assert.equal(verifyPiece(bad, 1, pieceLayer, pieceLength), false);
    assert.equal(verifyPiece(data.subarray(0, pieceLength), 4, pieceLayer, pieceLength), false);
  });

  test('per-piece roots combine to the same tree as the whole file (the hasher path)', () => {
    const data = bytes(2 * pieceLength + 3 * MERKLE_BLOCK_BYTES + 1, 11);
    const roots: Uint8Array[] = [];
    let lastBlocks = 0;
    for (let off = 0; off < data.length; off += pieceLength) {
      const piece = data.subarray(off, off + pieceLength);
      const leaves: Uint8Array[] = [];
      for (let i = 0; i < piece.length; i += MERKLE_BLOCK_BYTES)
        leaves.push(sha256(piece.subarray(i, i + MERKLE_BLOCK_BYTES)));
      roots.push(merkleRoot(leaves));
      lastBlocks = leaves.length;
    }
    const got = fileMerkleFromPieceRoots(roots, lastBlocks, pieceLength);
    assert.deepEqual(Buffer.from(got.root), reference(data, pieceLength).root);
  });
});
