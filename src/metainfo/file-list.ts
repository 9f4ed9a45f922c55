import { type BDict, type BValue, isBytes, isDict, isList, keyBytes } from '../bencode/index.js';
import { decodeUtf8Lenient, decodeUtf8Strict } from '../util/bytes.js';
import { MetainfoError } from './errors.js';
import type { MetainfoLimits } from './limits.js';
import type { FileAttributes } from './types.js';

/**
 * Reading the file list of a torrent (v1 `files`, the v1 single-file info dict, the BEP 52
 * `file tree`) into `RawFile`s, before path safety. One pass, linear in the number of files:
 * nothing per file that is not kept (a torrent can hold a million files), and the field name
 * used in error messages is only put together when there is an error.
 */

export interface FileListCtx {
  readonly limits: MetainfoLimits;
  readonly sanitize: boolean;
}

/** A file as read from the torrent, before path safety: `own` are its components below the name. */
export interface RawFile {
  own: string[];
  lengthBytes: number;
  attributes: FileAttributes;
  symlinkPath?: string[];
  piecesRoot?: Uint8Array;
  /** Where it came from, for error messages (see `fieldOf`). */
  readonly origin: FileOrigin;
}

/** `info.files[i]` (a number), the single-file `info` (-1), a v2 tree leaf, or padding after a file. */
export type FileOrigin = number | { readonly tree: true } | { readonly padFor: RawFile };

export const NO_ATTRIBUTES: FileAttributes = {
  isPadding: false,
  isExecutable: false,
  isHidden: false,
  isSymlink: false,
};

const PADDING_ATTRIBUTES: FileAttributes = { ...NO_ATTRIBUTES, isPadding: true };

/** The field a file's problems are reported under, e.g. `info.files[3]`. */
export function fieldOf(f: RawFile): string {
  const o = f.origin;
  if (typeof o === 'number') return o < 0 ? 'info' : `info.files[${o}]`;
  if ('tree' in o) return `info.file tree/${f.own.join('/')}`;
  return `${fieldOf(o.padFor)} (padding)`;
}

/** The field of a file's path (`info.files[3].path` for v1 lists). */
export function pathFieldOf(f: RawFile): string {
  return typeof f.origin === 'number' && f.origin >= 0 ? `${fieldOf(f)}.path` : fieldOf(f);
}

function fail(code: MetainfoError['code'], field: string, message: string): never {
  throw new MetainfoError(code, field, message);
}

/**
 * Text of a torrent string. ASCII (nearly every path) is taken as is; other bytes must be valid
 * UTF-8 unless sanitizing, where invalid sequences become `_`.
 */
export function decodeText(bytes: Uint8Array, field: string, ctx: FileListCtx): string {
  const text = decodeUtf8Strict(bytes);
  if (text !== null) return text;
  if (ctx.sanitize) return decodeUtf8Lenient(bytes).replace(/\uFFFD/g, '_');
  return fail('METAINFO_BAD_ENCODING', field, 'not valid UTF-8');
}

/** Why a `length` value is refused (only called once it is known to be wrong). */
function lengthError(v: BValue | undefined, field: string): never {
  if (v === undefined) fail('METAINFO_MISSING_FIELD', field, 'missing');
  if (typeof v === 'bigint') fail('METAINFO_TOO_LARGE', field, `${v} is beyond 2^53`);
  return fail(
    'METAINFO_BAD_LENGTH',
    field,
    `${isBytes(v) ? 'a string' : String(v)} is not a non-negative integer`,
  );
}

function readAttributes(dict: BDict): FileAttributes {
  const attr = dict.get('attr');
  if (!isBytes(attr) || attr.length === 0) return NO_ATTRIBUTES;
  const s = decodeUtf8Lenient(attr);
  const a = {
    isPadding: s.includes('p'),
    isExecutable: s.includes('x'),
    isHidden: s.includes('h'),
    isSymlink: s.includes('l'),
  };
  // Shared objects for the common cases: a million padded files need not mean a million objects.
  if (a.isPadding && !a.isExecutable && !a.isHidden && !a.isSymlink) return PADDING_ATTRIBUTES;
  if (!a.isPadding && !a.isExecutable && !a.isHidden && !a.isSymlink) return NO_ATTRIBUTES;
  return a;
}

/** BEP 47: a symlink's target, relative to the torrent root. */
function readSymlink(dict: BDict, field: string, ctx: FileListCtx): string[] {
  const v = dict.get('symlink path');
  if (!isList(v))
    fail('METAINFO_MISSING_FIELD', `${field}.symlink path`, 'a symlink needs a list of components');
  return v.map((c, j) => {
    if (!isBytes(c)) fail('METAINFO_BAD_FIELD', `${field}.symlink path[${j}]`, 'not a string');
    return decodeText(c, `${field}.symlink path[${j}]`, ctx);
  });
}

function readPathList(entry: BDict, index: number, ctx: FileListCtx): string[] {
  const alt = entry.get('path.utf-8');
  if (isList(alt) && alt.length > 0) {
    const texts = utf8List(alt);
    if (texts) return texts;
  }
  const v = entry.get('path');
  if (!isList(v) || v.length === 0) {
    const field = `info.files[${index}].path`;
    if (v === undefined) fail('METAINFO_MISSING_FIELD', field, 'missing');
    if (!isList(v)) fail('METAINFO_BAD_FIELD', field, 'not a list');
    fail('METAINFO_UNSAFE_PATH', field, 'empty path');
  }
  const out = new Array<string>(v.length);
  for (let j = 0; j < v.length; j++) {
    const c = v[j];
    if (!isBytes(c)) fail('METAINFO_BAD_FIELD', `info.files[${index}].path[${j}]`, 'not a string');
    out[j] = decodeUtf8Strict(c) ?? decodeText(c, `info.files[${index}].path[${j}]`, ctx);
  }
  return out;
}

/** `path.utf-8` is used only when every component is a string of valid UTF-8. */
function utf8List(list: readonly BValue[]): string[] | null {
  const out = new Array<string>(list.length);
  for (let j = 0; j < list.length; j++) {
    const c = list[j];
    const text = isBytes(c) ? decodeUtf8Strict(c) : null;
    if (text === null) return null;
    out[j] = text;
  }
  return out;
}

/** One file entry (v1 `files[i]`, the single-file info dict, or a v2 leaf). */
function readFileEntry(dict: BDict, own: string[], origin: FileOrigin, ctx: FileListCtx): RawFile {
  const attributes = readAttributes(dict);
  const file: RawFile = { own, lengthBytes: 0, attributes, origin };
  // BEP 47: a symlink's length is zero and may be omitted.
  if (!attributes.isSymlink || dict.has('length')) {
    const v = dict.get('length');
    // Field names are put together only on the error path (a million files, one string each, adds up).
    if (typeof v !== 'number' || v < 0) lengthError(v, `${fieldOf(file)}.length`);
    file.lengthBytes = v;
  }
  if (attributes.isSymlink) {
    if (file.lengthBytes !== 0)
      fail('METAINFO_BAD_LENGTH', `${fieldOf(file)}.length`, 'a symlink has length 0');
    file.symlinkPath = readSymlink(dict, fieldOf(file), ctx);
  }
  return file;
}

export function readV1Files(info: BDict, ctx: FileListCtx): { files: RawFile[]; isSingleFile: boolean } {
  const files = info.get('files');
  const hasLength = info.has('length');
  if (files !== undefined && hasLength)
    fail('METAINFO_AMBIGUOUS_LAYOUT', 'info', 'has both "length" and "files"');
  if (files === undefined) {
    if (!hasLength) fail('METAINFO_NO_FILES', 'info', 'has neither "length" nor "files"');
    return { files: [readFileEntry(info, [], -1, ctx)], isSingleFile: true };
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
  const out = new Array<RawFile>(files.length);
  for (let i = 0; i < files.length; i++) {
    const entry = files[i];
    if (!isDict(entry)) fail('METAINFO_BAD_FIELD', `info.files[${i}]`, 'not a dictionary');
    out[i] = readFileEntry(entry, readPathList(entry, i, ctx), i, ctx);
    // The decoded list is the parser's own (see `parseMetainfo`): each entry is released once
    // read, so the bencode tree and the file list are not both in memory at their full size.
    files[i] = 0;
  }
  return { files: out, isSingleFile: false };
}

const TREE: FileOrigin = { tree: true };

/** BEP 52 `file tree`: a nested dictionary whose leaves are `{"": {length, pieces root}}`. */
export function readFileTree(info: BDict, ctx: FileListCtx): { files: RawFile[]; isSingleFile: boolean } {
  const tree = info.get('file tree');
  if (tree === undefined) fail('METAINFO_MISSING_FIELD', 'info.file tree', 'missing (meta version 2)');
  if (!isDict(tree)) fail('METAINFO_BAD_FILE_TREE', 'info.file tree', 'not a dictionary');
  const only = tree.size === 1 ? tree.values().next().value : undefined;
  const isSingleFile = isDict(only) && only.has('');
  const out: RawFile[] = [];
  walkTree(tree, [], out, ctx);
  return { files: out, isSingleFile };
}

/** Recursion depth is bounded by the decoder's nesting limit. */
function walkTree(node: BDict, prefix: string[], out: RawFile[], ctx: FileListCtx): void {
  const where = () => `info.file tree${prefix.map((p) => `/${p}`).join('')}`;
  if (node.size === 0) fail('METAINFO_BAD_FILE_TREE', where(), 'empty directory');
  for (const [key, child] of node) {
    if (key === '') fail('METAINFO_BAD_FILE_TREE', where(), 'a directory cannot also be a file');
    if (!isDict(child)) fail('METAINFO_BAD_FILE_TREE', `${where()}/${key}`, 'not a dictionary');
    const path = [...prefix, keyText(key, where, ctx)];
    const leaf = child.get('');
    if (leaf === undefined) {
      walkTree(child, path, out, ctx);
      node.delete(key); // released once read, as in `readV1Files`
      continue;
    }
    const field = () => `info.file tree/${path.join('/')}`;
    if (!isDict(leaf) || child.size !== 1)
      fail('METAINFO_BAD_FILE_TREE', field(), 'a file entry must be {"": {...}} only');
    if (out.length >= ctx.limits.maxFileCount) {
      fail('METAINFO_TOO_MANY_FILES', 'info.file tree', `more than ${ctx.limits.maxFileCount} files`);
    }
    const file = readFileEntry(leaf, path, TREE, ctx);
    if (file.attributes.isPadding)
      fail('METAINFO_BAD_FILE_TREE', field(), 'padding files do not belong in a v2 file tree');
    const root = leaf.get('pieces root');
    if (file.lengthBytes > 0 && !file.attributes.isSymlink) {
      if (!isBytes(root) || root.length !== 32) {
        fail(
          'METAINFO_BAD_PIECES_ROOT',
          `${field()}.pieces root`,
          'a non-empty file needs a 32-byte pieces root',
        );
      }
      file.piecesRoot = root;
    }
    out.push(file);
    node.delete(key);
  }
}

/** A file tree key is a binary string: ASCII is already its text, anything else is decoded. */
function keyText(key: string, where: () => string, ctx: FileListCtx): string {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) >= 0x80) return decodeText(keyBytes(key), `${where()}/${key}`, ctx);
  }
  return key;
}

/** Hybrid: the v1 file list (minus padding) must describe exactly the files of the v2 tree. */
export function mergeHybrid(v1: { files: RawFile[] }, v2: { files: RawFile[]; isSingleFile: boolean }): void {
  const real = v1.files.filter((f) => !f.attributes.isPadding);
  if (real.length !== v2.files.length) {
    fail(
      'METAINFO_HYBRID_MISMATCH',
      'info.files',
      `v1 lists ${real.length} files, the v2 file tree ${v2.files.length}`,
    );
  }
  for (let i = 0; i < real.length; i++) {
    const f = real[i]!;
    const t = v2.files[i]!;
    // A single-file v1 entry has no own components; its v2 twin is the tree's only key.
    const samePath = f.own.length === 0 ? v2.isSingleFile : sameComponents(f.own, t.own);
    if (!samePath || f.lengthBytes !== t.lengthBytes) {
      fail('METAINFO_HYBRID_MISMATCH', fieldOf(f), `differs from ${fieldOf(t)} (path or length)`);
    }
    if (t.piecesRoot) f.piecesRoot = t.piecesRoot;
  }
}

function sameComponents(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** v2-only: make the implied alignment gaps explicit, as libtorrent does (`.pad/<length>`). */
export function withV2Padding(files: readonly RawFile[], pieceLength: number): RawFile[] {
  const out: RawFile[] = [];
  for (const f of files) {
    out.push(f);
    const tail = f.lengthBytes % pieceLength;
    if (tail !== 0) {
      const gap = pieceLength - tail;
      out.push({
        own: ['.pad', String(gap)],
        lengthBytes: gap,
        attributes: PADDING_ATTRIBUTES,
        origin: { padFor: f },
      });
    }
  }
  return out;
}
