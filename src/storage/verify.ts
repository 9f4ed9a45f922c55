/**
 * Check data that already exists against a torrent's hashes (startup check, `peerdrop seed`,
 * pieces invalidated by fast resume). The file reading and hashing happen in the hash pool's
 * workers; this module only plans ranges and compares digests.
 *
 *  - v1 / hybrid: SHA-1 of each piece of the linear piece space (padding reads as zeros).
 *  - pure v2: per file, SHA-256 leaves of each piece (BEP 52), reduced to the piece node and
 *    compared with the file's piece layer, or for a file of one piece with its `pieces root`.
 *    Piece indices then run over files in order, each file starting a new piece.
 */
import { MERKLE_HASH_BYTES, merkleRoot, nextPowerOfTwo, pieceNode } from '../metainfo/merkle.js';
import { Bitfield } from '../util/bitfield.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import type { FileRange, HashPool } from './hash-pool.js';
import type { Storage, StorageLayout } from './storage.js';

export interface VerifyOptions {
  readonly hashPool: HashPool;
  /** Only these pieces (e.g. the ones fast resume could not vouch for); default all. */
  readonly pieces?: Iterable<number>;
  /** Called after each checked piece with (checked, total). */
  readonly onProgress?: (checkedPieces: number, totalPieces: number) => void;
  readonly signal?: AbortSignal;
}

/** A storage whose pieces can be read by the hash workers directly (the fs backend). */
export interface RangeSource {
  rangesForPiece(piece: number): Promise<FileRange[]>;
}

/** v1 check: the returned bitfield has a bit for every piece whose stored data matches. */
export async function verifyV1(
  storage: Storage & Partial<RangeSource>,
  pieceHashes: Uint8Array,
  options: VerifyOptions,
): Promise<Bitfield> {
  const count = storage.fileMap.pieceCount;
  if (pieceHashes.length !== count * 20)
    throw new RangeError(`${pieceHashes.length / 20} hashes for ${count} pieces`);
  const have = new Bitfield(count);
  const todo = [...(options.pieces ?? range(count))];
  const expected = (p: number) => pieceHashes.subarray(p * 20, p * 20 + 20);
  let checked = 0;
  if (!storage.rangesForPiece) {
    // No files to hand to workers (memory backend): hash what the storage reads.
    for (const p of todo) {
      options.signal?.throwIfAborted();
      if (await storage.verifyPiece(p, expected(p))) have.set(p);
      options.onProgress?.(++checked, todo.length);
    }
    return have;
  }
  const ranges: FileRange[][] = [];
  for (const p of todo) ranges.push(await storage.rangesForPiece(p));
  const job = { algorithm: 'sha1' as const, pieces: ranges, allowMissing: true, signal: options.signal };
  for await (const { index, digest } of options.hashPool.hashPiecesIter(job)) {
    const p = todo[index]!;
    if (digest && bytesEqual(digest, expected(p))) have.set(p);
    options.onProgress?.(++checked, todo.length);
  }
  return have;
}

/** What a v2 check needs from the torrent (a `Metainfo` satisfies it). */
export interface V2Layout extends StorageLayout {
  readonly files: readonly (StorageLayout['files'][number] & { readonly piecesRoot?: Uint8Array })[];
  readonly pieceLayers: ReadonlyMap<string, Uint8Array>;
}

/**
 * Pure v2 check. `pathOf` gives each file's path on disk (the fs backend's `filePath`). The
 * bitfield is indexed by v2 piece (files in order, each starting a new piece).
 */
export async function verifyV2(
  layout: V2Layout,
  pathOf: (fileIndex: number) => Promise<string>,
  options: VerifyOptions,
): Promise<Bitfield> {
  const pieceLength = layout.pieceLengthBytes;
  const plan = await planV2(layout, pathOf);
  const have = new Bitfield(plan.pieceCount);
  const wanted = options.pieces ? new Set(options.pieces) : null;
  const todo = plan.pieces.filter((p) => !wanted || wanted.has(p.piece));
  const job = {
    algorithm: 'sha256' as const,
    mode: 'blocks' as const,
    pieces: todo.map((p) => [p.range]),
    allowMissing: true,
    signal: options.signal,
  };
  let checked = 0;
  for await (const { index, digest } of options.hashPool.hashPiecesIter(job)) {
    const p = todo[index]!;
    if (digest && bytesEqual(v2Node(digest, p.isWholeFile, pieceLength), p.expected)) have.set(p.piece);
    options.onProgress?.(++checked, todo.length);
  }
  return have;
}

interface V2Piece {
  readonly piece: number;
  readonly range: FileRange;
  readonly expected: Uint8Array;
  /** The file fits in one piece: compare with its root (leaves padded to a power of two only). */
  readonly isWholeFile: boolean;
}

async function planV2(
  layout: V2Layout,
  pathOf: (fileIndex: number) => Promise<string>,
): Promise<{ pieceCount: number; pieces: V2Piece[] }> {
  const pieceLength = layout.pieceLengthBytes;
  const pieces: V2Piece[] = [];
  let piece = 0;
  for (let i = 0; i < layout.files.length; i++) {
    const f = layout.files[i]!;
    if (f.attributes.isPadding || f.lengthBytes === 0) continue;
    if (!f.piecesRoot) throw new RangeError(`file ${i} has no pieces root`);
    const count = Math.ceil(f.lengthBytes / pieceLength);
    const path = await pathOf(i);
    const layer = count > 1 ? layout.pieceLayers.get(binaryKey(f.piecesRoot)) : undefined;
    if (count > 1 && (!layer || layer.length !== count * MERKLE_HASH_BYTES)) {
      throw new RangeError(`file ${i} (root ${toHex(f.piecesRoot)}) has no usable piece layer`);
    }
    for (let k = 0; k < count; k++) {
      const offset = k * pieceLength;
      pieces.push({
        piece: piece + k,
        range: { path, offset, length: Math.min(pieceLength, f.lengthBytes - offset) },
        expected: layer ? layer.subarray(k * MERKLE_HASH_BYTES, (k + 1) * MERKLE_HASH_BYTES) : f.piecesRoot,
        isWholeFile: count === 1,
      });
    }
    piece += count;
  }
  return { pieceCount: piece, pieces };
}

/** The node to compare: a piece-layer entry, or the root of a file that fits in one piece. */
function v2Node(leafBytes: Uint8Array, isWholeFile: boolean, pieceLength: number): Uint8Array {
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < leafBytes.length; i += MERKLE_HASH_BYTES)
    leaves.push(leafBytes.subarray(i, i + MERKLE_HASH_BYTES));
  return isWholeFile ? merkleRoot(leaves, nextPowerOfTwo(leaves.length)) : pieceNode(leaves, pieceLength);
}

/** Piece layer keys are binary strings, one char per byte (see bencode types). */
function binaryKey(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}
