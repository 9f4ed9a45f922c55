import { createHash } from 'node:crypto';
import { type BDict, decodeDocument, isBytes, isDict } from '../bencode/index.js';
import { bytesEqual, concatBytes, decodeUtf8Strict, utf8 } from '../util/bytes.js';
import { MetainfoError } from './errors.js';
import {
  decodeText,
  type FileListCtx,
  fieldOf,
  mergeHybrid,
  pathFieldOf,
  type RawFile,
  readFileTree,
  readV1Files,
  withV2Padding,
} from './file-list.js';
import { infoHashV1, infoHashV2 } from './info-hash.js';
import { DEFAULT_METAINFO_LIMITS, type MetainfoLimits, torrentDecodeLimits } from './limits.js';
import {
  assertSafePath,
  checkComponent,
  PathConflictFinder,
  resolvePathConflicts,
  sanitizeComponent,
  sanitizePath,
} from './safe-path.js';
import { readTorrentExtras } from './torrent-extras.js';
import type { Metainfo, TorrentFileEntry, TorrentVersion } from './types.js';

export { DEFAULT_METAINFO_LIMITS, type MetainfoLimits } from './limits.js';

/**
 * `.torrent` parsing and validation: BEP 3 (v1), BEP 52 (v2 and hybrid), BEP 47 (padding,
 * attributes, symlinks), BEP 12 (announce-list), BEP 19 (url-list), BEP 27 (private).
 *
 * Choices (documented because torrents in the wild disagree):
 * - Info-hashes are taken over the exact `info` bytes of the input (never re-encoded).
 * - Required fields with a wrong type or value are errors (`MetainfoError` naming the field);
 *   optional informational fields (comment, created by, url-list entries, nodes…) with a wrong
 *   type are ignored, as libtorrent does, because they cannot make the data wrong.
 * - Text prefers `name.utf-8` / `path.utf-8` when present and valid UTF-8. Invalid UTF-8 in a
 *   path is refused (`METAINFO_BAD_ENCODING`): a replacement character could make two names
 *   collide. With `unsafePaths: 'sanitize'` it is decoded leniently and made safe instead.
 * - Paths must pass `safe-path.ts` (`METAINFO_UNSAFE_PATH`), and no two files may collide
 *   case-insensitively (`METAINFO_DUPLICATE_PATH`, `METAINFO_PATH_CONFLICT`); padding files are
 *   exempt from collision checks (libtorrent repeats `.pad/N` names; they never reach the disk).
 * - Limits (files, pieces, sizes, bencode values) are in `limits.ts`; parsing is linear in the
 *   number of files (a million-file torrent parses in seconds, see `bench/micro/metainfo.ts`).
 * - v2-only torrents get explicit padding entries (`.pad/N`, flagged `isPadding`) for the
 *   BEP 52 alignment gaps, exactly where libtorrent puts them, so that every version has the
 *   same linear piece space (`offsetBytes`, `storageLengthBytes`).
 */

/** BEP 52 (and the issue): pieces are at least one 16 KiB block. */
export const MIN_PIECE_LENGTH_BYTES = 16 * 1024;
/** BEP 52: the merkle leaf size. */
export const MERKLE_BLOCK_BYTES = 16 * 1024;

export interface ParseMetainfoOptions {
  /** `refuse` (default): an unsafe or colliding path is an error. `sanitize`: paths are made safe. */
  readonly unsafePaths?: 'refuse' | 'sanitize';
  /**
   * BEP 52 requires `piece layers` in a `.torrent`; metadata received from peers (BEP 9) has
   * only the info dictionary, so `parseInfoDictionary` sets this.
   */
  readonly allowMissingPieceLayers?: boolean;
  readonly limits?: Partial<MetainfoLimits>;
}

interface Ctx extends FileListCtx {
  readonly pieceLength: number;
}

/** Parse and validate a `.torrent` file. Throws `MetainfoError` (or `BencodeError`) on bad input. */
export function parseMetainfo(bytes: Uint8Array, options: ParseMetainfoOptions = {}): Metainfo {
  const limits = { ...DEFAULT_METAINFO_LIMITS, ...options.limits };
  const { root, info, infoBytes } = decodeTorrent(bytes, limits);
  const version = detectVersion(info);
  const ctx: Ctx = {
    limits,
    sanitize: options.unsafePaths === 'sanitize',
    pieceLength: readPieceLength(info, limits),
  };
  const name = readName(info, ctx);
  const v1 = version !== 'v2' ? readV1Files(info, ctx) : null;
  const v2 = version !== 'v1' ? readFileTree(info, ctx) : null;
  if (v1 && v2) mergeHybrid(v1, v2);
  const isSingleFile = v1 ? v1.isSingleFile : v2!.isSingleFile;
  const rawFiles = v1 ? v1.files : withV2Padding(v2!.files, ctx.pieceLength);
  const layout = layOut(rawFiles, ctx);
  if (v1 && v2) checkHybridAlignment(rawFiles, layout.offsets, ctx.pieceLength);
  const { pieceCount, pieceHashes } = readPieceCount(info, v1 !== null, v2?.files ?? null, layout, ctx);
  const pieceLayers = v2
    ? readPieceLayers(root, v2.files, ctx, options.allowMissingPieceLayers ?? false)
    : new Map();

  const safeName = ctx.sanitize ? sanitizeComponent(name) : name;
  const paths = finishPaths(rawFiles, safeName, isSingleFile, ctx);
  const files = new Array<TorrentFileEntry>(rawFiles.length);
  for (let i = 0; i < rawFiles.length; i++) files[i] = fileEntry(rawFiles[i]!, paths[i]!, layout.offsets[i]!);
  return {
    version,
    infoHash: v1 ? infoHashV1(infoBytes) : null,
    infoHashV2: v2 ? infoHashV2(infoBytes) : null,
    name: safeName,
    pieceLengthBytes: ctx.pieceLength,
    pieceCount,
    totalLengthBytes: layout.totalLength,
    storageLengthBytes: layout.storageLength,
    files,
    isSingleFile,
    pieceHashes,
    pieceLayers,
    ...readTorrentExtras(root, info),
    infoBytes,
  };
}

/** Decode within the size limit; the info-hash input is the exact `info` byte span. */
function decodeTorrent(
  bytes: Uint8Array,
  limits: MetainfoLimits,
): { root: BDict; info: BDict; infoBytes: Uint8Array } {
  if (bytes.length > limits.maxTorrentBytes) {
    fail('METAINFO_TOO_LARGE', '', `torrent of ${bytes.length} bytes exceeds ${limits.maxTorrentBytes}`);
  }
  // Only the spans of top-level values are kept: the info-hash needs the `info` span, nothing more.
  const doc = decodeDocument(bytes, { ...torrentDecodeLimits(limits), spanDepth: 1 });
  const root = doc.value;
  if (!isDict(root)) fail('METAINFO_NOT_A_DICT', '', 'a torrent file must be a bencoded dictionary');
  const info = root.get('info');
  if (!isDict(info)) fail('METAINFO_MISSING_INFO', 'info', 'missing or not a dictionary');
  const span = doc.spanOf(info)!;
  return { root, info, infoBytes: bytes.subarray(span.start, span.end) };
}

/** v2 counts pieces per file (each starts on a boundary); v1 `pieces` must match the layout. */
function readPieceCount(
  info: BDict,
  hasV1: boolean,
  v2Files: readonly RawFile[] | null,
  layout: { storageLength: number },
  ctx: Ctx,
): { pieceCount: number; pieceHashes: Uint8Array | null } {
  const pieceCount = v2Files
    ? countV2Pieces(v2Files, ctx.pieceLength)
    : Math.ceil(layout.storageLength / ctx.pieceLength);
  if (pieceCount > ctx.limits.maxPieceCount) {
    fail(
      'METAINFO_TOO_LARGE',
      'info.piece length',
      `${pieceCount} pieces exceed the limit of ${ctx.limits.maxPieceCount}`,
    );
  }
  const pieceHashes = hasV1 ? readPieces(info, layout.storageLength, ctx.pieceLength) : null;
  if (pieceHashes && v2Files && pieceHashes.length / 20 !== pieceCount) {
    fail(
      'METAINFO_HYBRID_MISMATCH',
      'info.pieces',
      `v1 has ${pieceHashes.length / 20} pieces, v2 ${pieceCount}`,
    );
  }
  return { pieceCount, pieceHashes };
}

/**
 * Parse a bare info dictionary (BEP 9 metadata from peers): the same validation, no trackers,
 * and v2 piece layers are not required (they arrive later through hash requests).
 */
export function parseInfoDictionary(infoBytes: Uint8Array, options: ParseMetainfoOptions = {}): Metainfo {
  const wrapped = concatBytes([utf8('d4:info'), infoBytes, utf8('e')]);
  return parseMetainfo(wrapped, { ...options, allowMissingPieceLayers: true });
}

function fail(code: MetainfoError['code'], field: string, message: string): never {
  throw new MetainfoError(code, field, message);
}

/** BEP 52: check `meta version` first, so a future version gets a clear message. */
function detectVersion(info: BDict): TorrentVersion {
  const meta = info.get('meta version');
  if (meta === undefined) return 'v1';
  if (meta !== 2) fail('METAINFO_BAD_VERSION', 'info.meta version', `unsupported version ${String(meta)}`);
  return info.has('pieces') ? 'hybrid' : 'v2';
}

function readPieceLength(info: BDict, limits: MetainfoLimits): number {
  const v = info.get('piece length');
  if (v === undefined) fail('METAINFO_MISSING_FIELD', 'info.piece length', 'missing');
  const n = typeof v === 'number' ? v : -1;
  if (n < MIN_PIECE_LENGTH_BYTES || n > limits.maxPieceLengthBytes || (n & (n - 1)) !== 0) {
    fail(
      'METAINFO_BAD_PIECE_LENGTH',
      'info.piece length',
      `${String(v)} is not a power of two between ${MIN_PIECE_LENGTH_BYTES} and ${limits.maxPieceLengthBytes}`,
    );
  }
  return n;
}

function readName(info: BDict, ctx: Ctx): string {
  const alt = info.get('name.utf-8');
  const altText = isBytes(alt) ? decodeUtf8Strict(alt) : null;
  if (altText !== null) return altText;
  const v = info.get('name');
  if (v === undefined) fail('METAINFO_MISSING_FIELD', 'info.name', 'missing');
  if (!isBytes(v)) fail('METAINFO_BAD_FIELD', 'info.name', 'not a string');
  return decodeText(v, 'info.name', ctx);
}

/** Hybrid: every non-empty file must start on a piece boundary (BEP 52 via BEP 47 padding). */
function checkHybridAlignment(
  files: readonly RawFile[],
  offsets: readonly number[],
  pieceLength: number,
): void {
  files.forEach((f, i) => {
    if (!f.attributes.isPadding && f.lengthBytes > 0 && offsets[i]! % pieceLength !== 0) {
      fail('METAINFO_HYBRID_MISMATCH', fieldOf(f), 'does not start on a piece boundary');
    }
  });
}

function layOut(
  files: readonly RawFile[],
  ctx: Ctx,
): { offsets: number[]; storageLength: number; totalLength: number } {
  const offsets: number[] = [];
  let storageLength = 0;
  let totalLength = 0;
  for (const f of files) {
    offsets.push(storageLength);
    storageLength += f.lengthBytes;
    if (!f.attributes.isPadding) totalLength += f.lengthBytes;
    // Checked at every step, so the sum stays a safe integer.
    if (storageLength > ctx.limits.maxTotalLengthBytes) {
      fail(
        'METAINFO_TOO_LARGE',
        fieldOf(f),
        `total length exceeds the limit of ${ctx.limits.maxTotalLengthBytes} bytes`,
      );
    }
  }
  return { offsets, storageLength, totalLength };
}

function countV2Pieces(files: readonly RawFile[], pieceLength: number): number {
  let n = 0;
  for (const f of files) n += Math.ceil(f.lengthBytes / pieceLength);
  return n;
}

function readPieces(info: BDict, storageLength: number, pieceLength: number): Uint8Array {
  const pieces = info.get('pieces');
  if (pieces === undefined) fail('METAINFO_MISSING_FIELD', 'info.pieces', 'missing');
  if (!isBytes(pieces)) fail('METAINFO_BAD_FIELD', 'info.pieces', 'not a string');
  if (pieces.length % 20 !== 0) {
    fail('METAINFO_PIECES_MISMATCH', 'info.pieces', `length ${pieces.length} is not a multiple of 20`);
  }
  const expected = Math.ceil(storageLength / pieceLength);
  if (pieces.length / 20 !== expected) {
    fail(
      'METAINFO_PIECES_MISMATCH',
      'info.pieces',
      `has ${pieces.length / 20} hashes but ${storageLength} bytes in pieces of ${pieceLength} need ${expected}`,
    );
  }
  return pieces;
}

/**
 * BEP 52 `piece layers`: every file larger than one piece has a layer of
 * ceil(length / piece length) SHA-256 hashes whose merkle root is its `pieces root`.
 */
function readPieceLayers(
  root: BDict,
  files: readonly RawFile[],
  ctx: Ctx,
  allowMissing: boolean,
): Map<string, Uint8Array> {
  const layers = root.get('piece layers');
  const out = new Map<string, Uint8Array>();
  if (layers === undefined && allowMissing) return out;
  if (layers !== undefined && !isDict(layers))
    fail('METAINFO_BAD_PIECE_LAYER', 'piece layers', 'not a dictionary');
  for (const f of files) {
    if (!f.piecesRoot || f.lengthBytes <= ctx.pieceLength) continue;
    const key = binaryString(f.piecesRoot);
    if (out.has(key)) continue;
    const layer = layers?.get(key);
    if (layer === undefined) {
      if (allowMissing) continue;
      fail('METAINFO_BAD_PIECE_LAYER', 'piece layers', `no layer for ${fieldOf(f)}`);
    }
    const expected = 32 * Math.ceil(f.lengthBytes / ctx.pieceLength);
    if (!isBytes(layer) || layer.length !== expected) {
      fail('METAINFO_BAD_PIECE_LAYER', 'piece layers', `layer for ${fieldOf(f)} must be ${expected} bytes`);
    }
    if (!bytesEqual(merkleRootOfLayer(layer, ctx.pieceLength), f.piecesRoot)) {
      fail(
        'METAINFO_BAD_PIECE_LAYER',
        'piece layers',
        `layer for ${fieldOf(f)} does not hash to its pieces root`,
      );
    }
    out.set(key, layer);
  }
  return out;
}

function binaryString(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * Merkle root from one layer of piece hashes (BEP 52): leaves beyond the file are 32 zero
 * bytes, so a missing piece-level node is the root of a piece-sized subtree of zero leaves;
 * the layer is padded with those to a power of two and hashed pairwise up to the root.
 */
function merkleRootOfLayer(layer: Uint8Array, pieceLength: number): Uint8Array {
  let pad: Uint8Array = new Uint8Array(32);
  for (let span = MERKLE_BLOCK_BYTES; span < pieceLength; span *= 2) pad = sha256(pad, pad);
  let level: Uint8Array[] = [];
  for (let i = 0; i < layer.length; i += 32) level.push(layer.subarray(i, i + 32));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256(level[i]!, level[i + 1] ?? pad));
    level = next;
    pad = sha256(pad, pad);
  }
  return level[0]!;
}

function fileEntry(f: RawFile, path: readonly string[], offsetBytes: number): TorrentFileEntry {
  // One object shape for every file, with the optional keys only where they apply.
  const entry: { -readonly [K in keyof TorrentFileEntry]: TorrentFileEntry[K] } = {
    path,
    lengthBytes: f.lengthBytes,
    offsetBytes,
    attributes: f.attributes,
  };
  if (f.symlinkPath) entry.symlinkPath = f.symlinkPath;
  if (f.piecesRoot) entry.piecesRoot = f.piecesRoot;
  return entry;
}

/**
 * Apply the path rules: the full path is `[name, ...own]` for multi-file torrents, `[name]`
 * for a v1 single file, `own` (the tree key) for a v2 single file. One pass: each path is
 * checked and fed to the conflict finder as it is made.
 */
function finishPaths(files: readonly RawFile[], name: string, isSingleFile: boolean, ctx: Ctx): string[][] {
  const full = new Array<string[]>(files.length);
  for (let i = 0; i < files.length; i++) {
    const own = files[i]!.own;
    full[i] = isSingleFile ? (own.length === 0 ? [name] : own) : [name, ...own];
  }
  const isPad = (i: number) => files[i]!.attributes.isPadding;
  if (ctx.sanitize) {
    for (const f of files) if (f.symlinkPath) f.symlinkPath = sanitizePath(f.symlinkPath);
    return resolvePathConflicts(full.map(sanitizePath), isPad);
  }
  const nameProblem = checkComponent(name);
  if (nameProblem) fail('METAINFO_UNSAFE_PATH', 'info.name', nameProblem);
  const conflicts = new PathConflictFinder();
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    if (f.own.length > 0) assertSafePath(f.own, pathFieldOf(f));
    if (f.symlinkPath) assertSafePath(f.symlinkPath, `${fieldOf(f)}.symlink path`);
    if (f.attributes.isPadding) continue;
    const conflict = conflicts.add(full[i]!, i);
    if (!conflict) continue;
    const a = fieldOf(files[conflict.first]!);
    const b = fieldOf(files[conflict.second]!);
    if (conflict.kind === 'duplicate')
      fail('METAINFO_DUPLICATE_PATH', b, `same path as ${a} (compared case-insensitively)`);
    fail('METAINFO_PATH_CONFLICT', b, `a name that is both a file and a folder (see ${a})`);
  }
  return full;
}
