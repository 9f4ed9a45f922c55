import { createHash } from 'node:crypto';
import {
  type BDict,
  type BValue,
  decodeDocument,
  isBytes,
  isDict,
  isList,
  keyBytes,
} from '../bencode/index.js';
import { bytesEqual, concatBytes, decodeUtf8Lenient, decodeUtf8Strict, utf8 } from '../util/bytes.js';
import { MetainfoError } from './errors.js';
import { infoHashV1, infoHashV2 } from './info-hash.js';
import {
  assertSafePath,
  checkComponent,
  findPathConflict,
  resolvePathConflicts,
  sanitizeComponent,
  sanitizePath,
} from './safe-path.js';
import { readTorrentExtras } from './torrent-extras.js';
import type { FileAttributes, Metainfo, TorrentFileEntry, TorrentVersion } from './types.js';

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
 * - v2-only torrents get explicit padding entries (`.pad/N`, flagged `isPadding`) for the
 *   BEP 52 alignment gaps, exactly where libtorrent puts them, so that every version has the
 *   same linear piece space (`offsetBytes`, `storageLengthBytes`).
 */

/** BEP 52 (and the issue): pieces are at least one 16 KiB block. */
export const MIN_PIECE_LENGTH_BYTES = 16 * 1024;
/** BEP 52: the merkle leaf size. */
export const MERKLE_BLOCK_BYTES = 16 * 1024;

/** Bounds on what a torrent may describe; checked before anything is built from it. */
export interface MetainfoLimits {
  /** Whole `.torrent` file (the bencode decoder refuses larger input before parsing). */
  readonly maxTorrentBytes: number;
  /** Largest piece length: 256 MiB (mktorrent's `-l 28`; nothing larger is made in practice). */
  readonly maxPieceLengthBytes: number;
  /** Sum of all file lengths, padding included: 1 PiB. */
  readonly maxTotalLengthBytes: number;
  readonly maxFileCount: number;
  readonly maxPieceCount: number;
}

export const DEFAULT_METAINFO_LIMITS: MetainfoLimits = {
  maxTorrentBytes: 64 * 1024 * 1024,
  maxPieceLengthBytes: 256 * 1024 * 1024,
  maxTotalLengthBytes: 2 ** 50,
  maxFileCount: 1_000_000,
  maxPieceCount: 1 << 22,
};

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

interface Ctx {
  readonly limits: MetainfoLimits;
  readonly sanitize: boolean;
  readonly pieceLength: number;
}

/** A file as read from the torrent, before path safety: `own` are its components below the name. */
interface RawFile {
  own: string[];
  lengthBytes: number;
  attributes: FileAttributes;
  symlinkPath?: string[];
  piecesRoot?: Uint8Array;
  field: string;
}

const NO_ATTRIBUTES: FileAttributes = {
  isPadding: false,
  isExecutable: false,
  isHidden: false,
  isSymlink: false,
};

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
  const files = finishPaths(rawFiles, safeName, isSingleFile, ctx).map((path, i): TorrentFileEntry => {
    const f = rawFiles[i]!;
    return {
      path,
      lengthBytes: f.lengthBytes,
      offsetBytes: layout.offsets[i]!,
      attributes: f.attributes,
      ...(f.symlinkPath ? { symlinkPath: f.symlinkPath } : {}),
      ...(f.piecesRoot ? { piecesRoot: f.piecesRoot } : {}),
    };
  });
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
  const doc = decodeDocument(bytes, { maxBytes: limits.maxTorrentBytes });
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

function decodeText(bytes: Uint8Array, field: string, ctx: Ctx): string {
  const text = decodeUtf8Strict(bytes);
  if (text !== null) return text;
  if (ctx.sanitize) return decodeUtf8Lenient(bytes).replace(/\uFFFD/g, '_');
  return fail('METAINFO_BAD_ENCODING', field, 'not valid UTF-8');
}

/** A non-negative safe-integer length; a bigint (beyond 2^53) is too large by definition. */
function readLength(v: BValue | undefined, field: string): number {
  if (v === undefined) fail('METAINFO_MISSING_FIELD', field, 'missing');
  if (typeof v === 'bigint') fail('METAINFO_TOO_LARGE', field, `${v} is beyond 2^53`);
  if (typeof v !== 'number' || v < 0)
    fail(
      'METAINFO_BAD_LENGTH',
      field,
      `${isBytes(v) ? 'a string' : String(v)} is not a non-negative integer`,
    );
  return v;
}

function readAttributes(dict: BDict): FileAttributes {
  const attr = dict.get('attr');
  if (!isBytes(attr)) return NO_ATTRIBUTES;
  const s = decodeUtf8Lenient(attr);
  return {
    isPadding: s.includes('p'),
    isExecutable: s.includes('x'),
    isHidden: s.includes('h'),
    isSymlink: s.includes('l'),
  };
}

/** BEP 47: a symlink's target, relative to the torrent root. */
function readSymlink(dict: BDict, field: string, ctx: Ctx): string[] | undefined {
  const v = dict.get('symlink path');
  if (!isList(v))
    fail('METAINFO_MISSING_FIELD', `${field}.symlink path`, 'a symlink needs a list of components');
  return v.map((c, j) => {
    if (!isBytes(c)) fail('METAINFO_BAD_FIELD', `${field}.symlink path[${j}]`, 'not a string');
    return decodeText(c, `${field}.symlink path[${j}]`, ctx);
  });
}

function readPathList(entry: BDict, field: string, ctx: Ctx): string[] {
  const alt = entry.get('path.utf-8');
  if (isList(alt) && alt.length > 0 && alt.every(isBytes)) {
    const texts = alt.map((c) => decodeUtf8Strict(c));
    if (texts.every((t) => t !== null)) return texts as string[];
  }
  const v = entry.get('path');
  if (v === undefined) fail('METAINFO_MISSING_FIELD', `${field}.path`, 'missing');
  if (!isList(v)) fail('METAINFO_BAD_FIELD', `${field}.path`, 'not a list');
  if (v.length === 0) fail('METAINFO_UNSAFE_PATH', `${field}.path`, 'empty path');
  return v.map((c, j) => {
    if (!isBytes(c)) fail('METAINFO_BAD_FIELD', `${field}.path[${j}]`, 'not a string');
    return decodeText(c, `${field}.path[${j}]`, ctx);
  });
}

/** One file entry (v1 `files[i]`, the single-file info dict, or a v2 leaf). */
function readFileEntry(dict: BDict, own: string[], field: string, ctx: Ctx): RawFile {
  const attributes = readAttributes(dict);
  // BEP 47: a symlink's length is zero and may be omitted.
  const lengthBytes =
    attributes.isSymlink && !dict.has('length') ? 0 : readLength(dict.get('length'), `${field}.length`);
  if (attributes.isSymlink && lengthBytes !== 0)
    fail('METAINFO_BAD_LENGTH', `${field}.length`, 'a symlink has length 0');
  const symlinkPath = attributes.isSymlink ? readSymlink(dict, field, ctx) : undefined;
  return { own, lengthBytes, attributes, field, ...(symlinkPath ? { symlinkPath } : {}) };
}

function readV1Files(info: BDict, ctx: Ctx): { files: RawFile[]; isSingleFile: boolean } {
  const files = info.get('files');
  const hasLength = info.has('length');
  if (files !== undefined && hasLength)
    fail('METAINFO_AMBIGUOUS_LAYOUT', 'info', 'has both "length" and "files"');
  if (files === undefined) {
    if (!hasLength) fail('METAINFO_NO_FILES', 'info', 'has neither "length" nor "files"');
    return { files: [readFileEntry(info, [], 'info', ctx)], isSingleFile: true };
  }
  if (!isList(files)) fail('METAINFO_BAD_FIELD', 'info.files', 'not a list');
  if (files.length === 0) fail('METAINFO_NO_FILES', 'info.files', 'empty list');
  if (files.length > ctx.limits.maxFileCount) {
    fail(
      'METAINFO_TOO_MANY_FILES',
      'info.files',
      `${files.length} files exceed the limit of ${ctx.limits.maxFileCount}`,
    );
  }
  const out = files.map((entry, i) => {
    const field = `info.files[${i}]`;
    if (!isDict(entry)) fail('METAINFO_BAD_FIELD', field, 'not a dictionary');
    return readFileEntry(entry, readPathList(entry, field, ctx), field, ctx);
  });
  return { files: out, isSingleFile: false };
}

/** BEP 52 `file tree`: a nested dictionary whose leaves are `{"": {length, pieces root}}`. */
function readFileTree(info: BDict, ctx: Ctx): { files: RawFile[]; isSingleFile: boolean } {
  const tree = info.get('file tree');
  if (tree === undefined) fail('METAINFO_MISSING_FIELD', 'info.file tree', 'missing (meta version 2)');
  if (!isDict(tree)) fail('METAINFO_BAD_FILE_TREE', 'info.file tree', 'not a dictionary');
  const out: RawFile[] = [];
  walkTree(tree, [], out, ctx);
  const only = tree.size === 1 ? [...tree.values()][0] : undefined;
  const isSingleFile = out.length === 1 && isDict(only) && only.has('');
  return { files: out, isSingleFile };
}

function walkTree(node: BDict, prefix: string[], out: RawFile[], ctx: Ctx): void {
  const where = `info.file tree${prefix.map((p) => `/${p}`).join('')}`;
  if (node.size === 0) fail('METAINFO_BAD_FILE_TREE', where, 'empty directory');
  for (const [key, child] of node) {
    if (key === '') fail('METAINFO_BAD_FILE_TREE', where, 'a directory cannot also be a file');
    if (!isDict(child)) fail('METAINFO_BAD_FILE_TREE', `${where}/${key}`, 'not a dictionary');
    const path = [...prefix, decodeText(keyBytes(key), `${where}/${key}`, ctx)];
    const leaf = child.get('');
    if (leaf === undefined) {
      walkTree(child, path, out, ctx);
      continue;
    }
    const field = `info.file tree/${path.join('/')}`;
    if (!isDict(leaf) || child.size !== 1)
      fail('METAINFO_BAD_FILE_TREE', field, 'a file entry must be {"": {...}} only');
    if (out.length >= ctx.limits.maxFileCount) {
      fail('METAINFO_TOO_MANY_FILES', 'info.file tree', `more than ${ctx.limits.maxFileCount} files`);
    }
    const file = readFileEntry(leaf, path, field, ctx);
    if (file.attributes.isPadding)
      fail('METAINFO_BAD_FILE_TREE', field, 'padding files do not belong in a v2 file tree');
    const root = leaf.get('pieces root');
    if (file.lengthBytes > 0 && !file.attributes.isSymlink) {
      if (!isBytes(root) || root.length !== 32) {
        fail(
          'METAINFO_BAD_PIECES_ROOT',
          `${field}.pieces root`,
          'a non-empty file needs a 32-byte pieces root',
        );
      }
      file.piecesRoot = root;
    }
    out.push(file);
  }
}

/** Hybrid: the v1 file list (minus padding) must describe exactly the files of the v2 tree. */
function mergeHybrid(v1: { files: RawFile[] }, v2: { files: RawFile[]; isSingleFile: boolean }): void {
  const real = v1.files.filter((f) => !f.attributes.isPadding);
  if (real.length !== v2.files.length) {
    fail(
      'METAINFO_HYBRID_MISMATCH',
      'info.files',
      `v1 lists ${real.length} files, the v2 file tree ${v2.files.length}`,
    );
  }
  real.forEach((f, i) => {
    const t = v2.files[i]!;
    // A single-file v1 entry has no own components; its v2 twin is the tree's only key.
    const samePath = f.own.length === 0 ? v2.isSingleFile : f.own.join('\0') === t.own.join('\0');
    if (!samePath || f.lengthBytes !== t.lengthBytes) {
      fail('METAINFO_HYBRID_MISMATCH', f.field, `differs from ${t.field} (path or length)`);
    }
    if (t.piecesRoot) f.piecesRoot = t.piecesRoot;
  });
}

/** Hybrid: every non-empty file must start on a piece boundary (BEP 52 via BEP 47 padding). */
function checkHybridAlignment(
  files: readonly RawFile[],
  offsets: readonly number[],
  pieceLength: number,
): void {
  files.forEach((f, i) => {
    if (!f.attributes.isPadding && f.lengthBytes > 0 && offsets[i]! % pieceLength !== 0) {
      fail('METAINFO_HYBRID_MISMATCH', f.field, 'does not start on a piece boundary');
    }
  });
}

/** v2-only: make the implied alignment gaps explicit, as libtorrent does (`.pad/<length>`). */
function withV2Padding(files: readonly RawFile[], pieceLength: number): RawFile[] {
  const out: RawFile[] = [];
  for (const f of files) {
    out.push(f);
    const tail = f.lengthBytes % pieceLength;
    if (tail !== 0) {
      const gap = pieceLength - tail;
      out.push({
        own: ['.pad', String(gap)],
        lengthBytes: gap,
        attributes: { ...NO_ATTRIBUTES, isPadding: true },
        field: `${f.field} (padding)`,
      });
    }
  }
  return out;
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
        f.field,
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
      fail('METAINFO_BAD_PIECE_LAYER', 'piece layers', `no layer for ${f.field}`);
    }
    const expected = 32 * Math.ceil(f.lengthBytes / ctx.pieceLength);
    if (!isBytes(layer) || layer.length !== expected) {
      fail('METAINFO_BAD_PIECE_LAYER', 'piece layers', `layer for ${f.field} must be ${expected} bytes`);
    }
    if (!bytesEqual(merkleRootOfLayer(layer, ctx.pieceLength), f.piecesRoot)) {
      fail(
        'METAINFO_BAD_PIECE_LAYER',
        'piece layers',
        `layer for ${f.field} does not hash to its pieces root`,
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

/**
 * Apply the path rules: the full path is `[name, ...own]` for multi-file torrents, `[name]`
 * for a v1 single file, `own` (the tree key) for a v2 single file.
 */
function finishPaths(files: readonly RawFile[], name: string, isSingleFile: boolean, ctx: Ctx): string[][] {
  const full = files.map((f) => (isSingleFile ? (f.own.length === 0 ? [name] : f.own) : [name, ...f.own]));
  const isPad = (i: number) => files[i]!.attributes.isPadding;
  if (ctx.sanitize) {
    for (const f of files) if (f.symlinkPath) f.symlinkPath = sanitizePath(f.symlinkPath);
    return resolvePathConflicts(full.map(sanitizePath), isPad);
  }
  const nameProblem = checkComponent(name);
  if (nameProblem) fail('METAINFO_UNSAFE_PATH', 'info.name', nameProblem);
  files.forEach((f, i) => {
    const own = full[i]!.slice(isSingleFile ? 0 : 1);
    if (own.length > 0) assertSafePath(own, f.field === 'info' ? 'info.name' : fieldForPath(f));
    if (f.symlinkPath) assertSafePath(f.symlinkPath, `${f.field}.symlink path`);
  });
  const conflict = findPathConflict(full, isPad);
  if (conflict) {
    const a = files[conflict.first]!.field;
    const b = files[conflict.second]!.field;
    if (conflict.kind === 'duplicate')
      fail('METAINFO_DUPLICATE_PATH', b, `same path as ${a} (compared case-insensitively)`);
    fail('METAINFO_PATH_CONFLICT', b, `a name that is both a file and a folder (see ${a})`);
  }
  return full;
}

function fieldForPath(f: RawFile): string {
  return f.field.startsWith('info.files[') ? `${f.field}.path` : f.field;
}
