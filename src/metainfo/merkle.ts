import { createHash } from 'node:crypto';
import { bytesEqual } from '../util/bytes.js';

/**
 * BEP 52 merkle trees ("File tree" and "piece layers" sections).
 *
 * - A file is cut into 16 KiB blocks; a leaf is the SHA-256 of one block (the last block is
 *   hashed as it is, shorter, never zero-filled).
 * - The leaves are padded to a power of two with leaves of 32 zero bytes, and each parent is
 *   SHA-256(left ‖ right). The root is the file's `pieces root`.
 * - The *piece layer* is the layer in which one node covers one piece (`pieceLength / 16 KiB`
 *   leaves). It exists only for files larger than one piece; there the tree has at least
 *   `blocksPerPiece` leaves, so the last piece's node is the root of a full piece-sized subtree
 *   whose missing leaves are zero. Nodes for pieces beyond the file are not in the layer; when
 *   hashing the layer up to the root they are the root of an all-zero piece-sized subtree.
 * - A file of at most one piece has no piece layer; its root is the tree of its own leaves
 *   padded only to the next power of two (not to a whole piece).
 *
 * Pure apart from SHA-256 (node:crypto); storage reuses this for v2 verification.
 */

/** BEP 52: the leaf size of the merkle tree (and the wire block size). */
export const MERKLE_BLOCK_BYTES = 16 * 1024;
/** Size of a SHA-256 digest: every node in the tree. */
export const MERKLE_HASH_BYTES = 32;

const ZERO_HASH = new Uint8Array(MERKLE_HASH_BYTES);
/** zeroSubtreeRoots[h] = root of a subtree of 2^h zero leaves (cached; h ≤ 63). */
const zeroSubtreeRoots: Uint8Array[] = [ZERO_HASH];

/** SHA-256 of `left ‖ right`: one parent node. */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(left).update(right).digest());
}

/** SHA-256 of one block: one leaf. */
export function blockHash(block: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(block).digest());
}

/** Root of a subtree of `2^height` zero leaves (the padding node at that height). */
export function zeroSubtreeRoot(height: number): Uint8Array {
  if (!Number.isInteger(height) || height < 0 || height > 63) throw new RangeError(`bad height ${height}`);
  while (zeroSubtreeRoots.length <= height) {
    const below = zeroSubtreeRoots[zeroSubtreeRoots.length - 1]!;
    zeroSubtreeRoots.push(hashPair(below, below));
  }
  return zeroSubtreeRoots[height]!;
}

/** Smallest power of two ≥ n (1 for n ≤ 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** log2 of a power of two. */
function log2(powerOfTwo: number): number {
  return Math.round(Math.log2(powerOfTwo));
}

/**
 * Leaf hashes of `data`, one per 16 KiB block (the last one shorter). Empty data has no leaves.
 */
export function leafHashes(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += MERKLE_BLOCK_BYTES) {
    out.push(blockHash(data.subarray(i, i + MERKLE_BLOCK_BYTES)));
  }
  return out;
}

/**
 * Root of a tree over `nodes` (all at one height `padHeight` above the leaves), padded on the
 * right to `width` nodes (a power of two ≥ nodes.length; default the next power of two) with
 * the zero-subtree root of that height.
 */
export function merkleRoot(
  nodes: readonly Uint8Array[],
  width = nextPowerOfTwo(nodes.length),
  padHeight = 0,
): Uint8Array {
  if (nodes.length === 0) throw new RangeError('merkle tree of no nodes');
  if (width < nodes.length || nextPowerOfTwo(width) !== width) throw new RangeError(`bad width ${width}`);
  let level: Uint8Array[] = [...nodes];
  let height = padHeight;
  for (let w = width; w > 1; w /= 2) {
    const pad = zeroSubtreeRoot(height);
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashPair(level[i]!, level[i + 1] ?? pad));
    level = next;
    height++;
  }
  return level[0]!;
}

/**
 * Lift the root of a subtree of `fromLeaves` leaves (a power of two, data at its left) to the
 * root of `toLeaves` leaves by pairing it with zero subtrees: the last piece of a file whose
 * blocks don't fill a piece.
 */
export function padSubtreeRoot(root: Uint8Array, fromLeaves: number, toLeaves: number): Uint8Array {
  let out = root;
  for (let h = log2(fromLeaves); 2 ** h < toLeaves; h++) out = hashPair(out, zeroSubtreeRoot(h));
  return out;
}

/**
 * The node covering one piece, from the leaves of that piece (at most `blocksPerPiece`): padded
 * with zero leaves to a whole piece. This is the piece layer entry of that piece.
 */
export function pieceNode(pieceLeaves: readonly Uint8Array[], pieceLengthBytes: number): Uint8Array {
  const blocksPerPiece = pieceLengthBytes / MERKLE_BLOCK_BYTES;
  if (pieceLeaves.length > blocksPerPiece) throw new RangeError('more leaves than a piece holds');
  return merkleRoot(pieceLeaves, blocksPerPiece);
}

/**
 * Root of a file from its piece layer (concatenated 32-byte nodes, one per piece), padding the
 * layer to a power of two with zero piece-sized subtrees.
 */
export function rootFromPieceLayer(layer: Uint8Array, pieceLengthBytes: number): Uint8Array {
  const nodes: Uint8Array[] = [];
  for (let i = 0; i < layer.length; i += MERKLE_HASH_BYTES)
    nodes.push(layer.subarray(i, i + MERKLE_HASH_BYTES));
  return merkleRoot(nodes, nextPowerOfTwo(nodes.length), log2(pieceLengthBytes / MERKLE_BLOCK_BYTES));
}

/** A file's `pieces root` and piece layer (empty when the file fits in one piece). */
export interface FileMerkle {
  readonly root: Uint8Array;
  readonly pieceLayer: Uint8Array;
}

/**
 * Root and piece layer of a non-empty file from its per-piece nodes, where each node is the root
 * of that piece's own leaves padded only to the next power of two (what a hasher that sees one
 * piece at a time produces). Handles the "file ≤ one piece" case (no layer, no piece padding).
 */
export function fileMerkleFromPieceRoots(
  pieceRoots: readonly Uint8Array[],
  lastPieceBlocks: number,
  pieceLengthBytes: number,
): FileMerkle {
  const blocksPerPiece = pieceLengthBytes / MERKLE_BLOCK_BYTES;
  if (pieceRoots.length === 0) throw new RangeError('an empty file has no merkle tree');
  if (pieceRoots.length === 1) return { root: pieceRoots[0]!, pieceLayer: new Uint8Array(0) };
  const layer = new Uint8Array(pieceRoots.length * MERKLE_HASH_BYTES);
  pieceRoots.forEach((r, i) => {
    const isLast = i === pieceRoots.length - 1;
    const node = isLast ? padSubtreeRoot(r, nextPowerOfTwo(lastPieceBlocks), blocksPerPiece) : r;
    layer.set(node, i * MERKLE_HASH_BYTES);
  });
  return { root: rootFromPieceLayer(layer, pieceLengthBytes), pieceLayer: layer };
}

/** Root and piece layer of a whole non-empty file held in memory (tests, small files). */
export function fileMerkle(data: Uint8Array, pieceLengthBytes: number): FileMerkle {
  const roots: Uint8Array[] = [];
  let lastBlocks = 0;
  for (let off = 0; off < data.length; off += pieceLengthBytes) {
    const leaves = leafHashes(data.subarray(off, off + pieceLengthBytes));
    roots.push(merkleRoot(leaves));
    lastBlocks = leaves.length;
  }
  return fileMerkleFromPieceRoots(roots, lastBlocks, pieceLengthBytes);
}

/**
 * Check one piece of a file (larger than one piece) against its piece layer: hash its blocks,
 * pad with zero leaves to a whole piece, compare with the layer's node for `pieceIndex`.
 */
export function verifyPiece(
  pieceData: Uint8Array,
  pieceIndex: number,
  pieceLayer: Uint8Array,
  pieceLengthBytes: number,
): boolean {
  const start = pieceIndex * MERKLE_HASH_BYTES;
  if (pieceIndex < 0 || start + MERKLE_HASH_BYTES > pieceLayer.length) return false;
  if (pieceData.length === 0 || pieceData.length > pieceLengthBytes) return false;
  const node = pieceNode(leafHashes(pieceData), pieceLengthBytes);
  const expected = pieceLayer.subarray(start, start + MERKLE_HASH_BYTES);
  return bytesEqual(node, expected);
}
