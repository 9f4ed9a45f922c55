import { type BEncodable, binaryKey as bytesKey, encode, RawBencode } from '../bencode/index.js';
import { compareBytes, utf8 } from '../util/bytes.js';
import { PeerdropError } from '../util/errors.js';
import { infoHashV1, infoHashV2 } from './info-hash.js';
import { MERKLE_HASH_BYTES } from './merkle.js';
import { pieceLengthProblem } from './piece-length.js';
import type { TorrentVersion } from './types.js';

/**
 * Building `.torrent` bytes (pure: hashes in, bytes out). What goes into `info` decides the
 * info-hash, so it follows the reference tools exactly:
 *
 * - v1 (as mktorrent 1.1): files ordered by their full path bytes (`a-b` < `a.txt` < `a/b`),
 *   empty files included, `info` holds only `name`, `piece length`, `pieces`, `files` or
 *   `length`, plus `private` (when private) and `source` (when given). No attributes.
 * - v2 and hybrid (as libtorrent 2.0.8 `create_torrent`): files ordered component by component
 *   (the order of the BEP 52 `file tree`), `meta version` 2, `file tree` leaves with `length`,
 *   `pieces root` (non-empty files) and BEP 47 `attr` "x" for executable files. A hybrid's v1
 *   `files` list follows the same order; when it has more than one file, every non-empty file
 *   whose end is not on a piece boundary — the last one too — is followed by a padding file
 *   `{attr: "p", length: N, path: [".pad", "N"]}`. A single file has no padding.
 * - `creation date`, `created by`, `comment`, trackers and web seeds are outside `info`.
 */

export type BuildErrorCode = 'BUILD_BAD_PIECE_LENGTH' | 'BUILD_BAD_INPUT';

/** Input to `buildTorrent` that can't describe a valid torrent. */
export class TorrentBuildError extends PeerdropError {
  declare readonly code: BuildErrorCode;
  constructor(code: BuildErrorCode, message: string) {
    super(code, message);
  }
}

/** One file of a new torrent. */
export interface BuildFile {
  /** Components relative to the torrent's root folder; `[name]` for a single file. */
  readonly path: readonly string[];
  readonly lengthBytes: number;
  /** BEP 47 `x`; written in v2/hybrid only (libtorrent does; mktorrent never does). */
  readonly isExecutable?: boolean;
  /** BEP 52: merkle root of the file's blocks (non-empty files, v2/hybrid). */
  readonly piecesRoot?: Uint8Array;
  /** BEP 52: piece layer (files longer than one piece, v2/hybrid). */
  readonly pieceLayer?: Uint8Array;
}

/** Fields outside the info-hash (plus `private` and `source`, which are inside). */
export interface TorrentOptions {
  /** BEP 12 tiers; the first URL also becomes `announce`. */
  readonly announceTiers?: readonly (readonly string[])[];
  /** BEP 19 web seeds (`url-list`). */
  readonly webSeeds?: readonly string[];
  /** BEP 27: `private` = 1 inside info. */
  readonly isPrivate?: boolean;
  /** `source` inside info (private trackers use it to make the info-hash unique). */
  readonly source?: string;
  readonly comment?: string;
  readonly createdBy?: string;
  /** Seconds since the epoch (callers pass the clock's time; nothing here reads one). */
  readonly creationDate?: number;
}

export interface BuildTorrentInput {
  readonly name: string;
  readonly version: TorrentVersion;
  /** A single file: `length` in v1, the file tree is `{name: …}` in v2. */
  readonly isSingleFile: boolean;
  /** Files in torrent order (see `sortFilesForVersion`), padding not included. */
  readonly files: readonly BuildFile[];
  readonly pieceLengthBytes: number;
  /** v1/hybrid: 20-byte SHA-1 per piece, over the padded layout of `layoutFiles`. */
  readonly pieceHashes?: Uint8Array;
  readonly options?: TorrentOptions;
}

export interface BuiltTorrent {
  readonly torrentBytes: Uint8Array;
  readonly infoBytes: Uint8Array;
  readonly infoHash: Uint8Array | null;
  readonly infoHashV2: Uint8Array | null;
}

/** mktorrent's order: the full path (components joined with `/`) compared as bytes. */
export function compareV1Paths(a: readonly string[], b: readonly string[]): number {
  return compareBytes(utf8(a.join('/')), utf8(b.join('/')));
}

/** BEP 52 file tree order: component by component, each compared as bytes; a prefix first. */
export function compareTreePaths(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareBytes(utf8(a[i]!), utf8(b[i]!));
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Files in the order a torrent of `version` lists them. */
export function sortFilesForVersion<T extends { readonly path: readonly string[] }>(
  files: readonly T[],
  version: TorrentVersion,
): T[] {
  const cmp = version === 'v1' ? compareV1Paths : compareTreePaths;
  return [...files].sort((x, y) => cmp(x.path, y.path));
}

/** Where each file sits in the v1 piece space and the padding after it. */
export interface FileLayout {
  /** Byte offset of each file (input order). */
  readonly offsets: readonly number[];
  /** BEP 47 padding after each file (0 for none). */
  readonly padAfter: readonly number[];
  /** Length of the piece space, padding included. */
  readonly storageLengthBytes: number;
}

/** Lay files out in the piece space: libtorrent's hybrid padding rule (module comment). */
export function layoutFiles(
  lengths: readonly number[],
  pieceLengthBytes: number,
  version: TorrentVersion,
): FileLayout {
  const pads = version === 'hybrid' && lengths.length > 1;
  const offsets: number[] = [];
  const padAfter: number[] = [];
  let offset = 0;
  for (const length of lengths) {
    offsets.push(offset);
    offset += length;
    const tail = offset % pieceLengthBytes;
    const pad = pads && length > 0 && tail !== 0 ? pieceLengthBytes - tail : 0;
    padAfter.push(pad);
    offset += pad;
  }
  return { offsets, padAfter, storageLengthBytes: offset };
}

/** Build the `.torrent` bytes and the info-hash(es). Throws `TorrentBuildError` on bad input. */
export function buildTorrent(input: BuildTorrentInput): BuiltTorrent {
  checkInput(input);
  const info = new Map<string, BEncodable>();
  info.set('name', input.name);
  info.set('piece length', input.pieceLengthBytes);
  if (input.options?.isPrivate) info.set('private', 1);
  if (input.options?.source !== undefined) info.set('source', input.options.source);
  const hasV1 = input.version !== 'v2';
  const hasV2 = input.version !== 'v1';
  if (hasV1) addV1Fields(info, input);
  if (hasV2) {
    info.set('meta version', 2);
    info.set('file tree', fileTree(input));
  }
  const infoBytes = encode(info);
  const torrentBytes = encode(outerDict(input, infoBytes));
  return {
    torrentBytes,
    infoBytes,
    infoHash: hasV1 ? infoHashV1(infoBytes) : null,
    infoHashV2: hasV2 ? infoHashV2(infoBytes) : null,
  };
}

function fail(code: BuildErrorCode, message: string): never {
  throw new TorrentBuildError(code, message);
}

function checkInput(input: BuildTorrentInput): void {
  const problem = pieceLengthProblem(input.pieceLengthBytes);
  if (problem) fail('BUILD_BAD_PIECE_LENGTH', problem);
  if (input.name === '' || input.name.includes('/'))
    fail('BUILD_BAD_INPUT', `bad torrent name "${input.name}"`);
  if (input.files.length === 0) fail('BUILD_BAD_INPUT', 'a torrent needs at least one file');
  if (input.isSingleFile && input.files.length !== 1)
    fail('BUILD_BAD_INPUT', 'a single-file torrent has one file');
  for (const f of input.files) {
    if (!Number.isSafeInteger(f.lengthBytes) || f.lengthBytes < 0)
      fail('BUILD_BAD_INPUT', `bad length for ${f.path.join('/')}`);
    if (f.path.length === 0 || f.path.some((c) => c === '' || c.includes('/')))
      fail('BUILD_BAD_INPUT', `bad path ${JSON.stringify(f.path)}`);
  }
  if (input.version !== 'v1') checkV2Files(input);
}

function checkV2Files(input: BuildTorrentInput): void {
  for (const f of input.files) {
    const name = f.path.join('/');
    if (f.lengthBytes > 0 && f.piecesRoot?.length !== MERKLE_HASH_BYTES)
      fail('BUILD_BAD_INPUT', `${name}: needs a 32-byte pieces root`);
    const pieces = Math.ceil(f.lengthBytes / input.pieceLengthBytes);
    const layerBytes = pieces > 1 ? pieces * MERKLE_HASH_BYTES : 0;
    if ((f.pieceLayer?.length ?? 0) !== layerBytes)
      fail('BUILD_BAD_INPUT', `${name}: piece layer must be ${layerBytes} bytes`);
  }
}

function addV1Fields(info: Map<string, BEncodable>, input: BuildTorrentInput): void {
  const lengths = input.files.map((f) => f.lengthBytes);
  const layout = layoutFiles(lengths, input.pieceLengthBytes, input.version);
  const pieceCount = Math.ceil(layout.storageLengthBytes / input.pieceLengthBytes);
  if (input.pieceHashes?.length !== pieceCount * 20)
    fail('BUILD_BAD_INPUT', `pieces must be ${pieceCount * 20} bytes (${pieceCount} pieces)`);
  info.set('pieces', input.pieceHashes);
  if (input.isSingleFile) {
    info.set('length', lengths[0]!);
    return;
  }
  const list: BEncodable[] = [];
  input.files.forEach((f, i) => {
    const entry: Record<string, BEncodable> = { length: f.lengthBytes, path: [...f.path] };
    if (input.version === 'hybrid' && f.isExecutable) entry.attr = 'x';
    list.push(entry);
    const pad = layout.padAfter[i]!;
    if (pad > 0) list.push({ attr: 'p', length: pad, path: ['.pad', String(pad)] });
  });
  info.set('files', list);
}

/** Map keys are binary strings (one char per byte), as the bencode data model wants. */
function binaryKey(text: string): string {
  return bytesKey(utf8(text));
}

function fileTree(input: BuildTorrentInput): Map<string, BEncodable> {
  const tree = new Map<string, BEncodable>();
  for (const f of input.files) {
    const leaf = new Map<string, BEncodable>([['length', f.lengthBytes]]);
    if (f.lengthBytes > 0) leaf.set('pieces root', f.piecesRoot!);
    if (f.isExecutable) leaf.set('attr', 'x');
    const path = input.isSingleFile ? [input.name] : f.path;
    let node = tree;
    path.forEach((component, i) => {
      const key = binaryKey(component);
      const existing = node.get(key);
      if (i === path.length - 1) {
        if (existing !== undefined)
          fail('BUILD_BAD_INPUT', `duplicate or conflicting path ${path.join('/')}`);
        node.set(key, new Map([['', leaf]]));
        return;
      }
      if (existing === undefined) node.set(key, new Map<string, BEncodable>());
      const child = node.get(key);
      if (!(child instanceof Map) || child.has(''))
        fail('BUILD_BAD_INPUT', `${path.join('/')}: a file is also a folder`);
      node = child as Map<string, BEncodable>;
    });
  }
  return tree;
}

function outerDict(input: BuildTorrentInput, infoBytes: Uint8Array): Map<string, BEncodable> {
  const o = input.options ?? {};
  const outer = new Map<string, BEncodable>();
  const tiers = (o.announceTiers ?? []).map((t) => [...t]).filter((t) => t.length > 0);
  if (tiers.length > 0) outer.set('announce', tiers[0]![0]!);
  // BEP 12: announce-list only when there is more than one tracker (mktorrent does the same).
  if (tiers.flat().length > 1) outer.set('announce-list', tiers);
  if (o.comment !== undefined) outer.set('comment', o.comment);
  if (o.createdBy !== undefined) outer.set('created by', o.createdBy);
  if (o.creationDate !== undefined) outer.set('creation date', o.creationDate);
  const seeds = o.webSeeds ?? [];
  if (seeds.length === 1) outer.set('url-list', seeds[0]!);
  else if (seeds.length > 1) outer.set('url-list', [...seeds]);
  // Embed exactly the bytes that were hashed.
  outer.set('info', new RawBencode(infoBytes));
  if (input.version !== 'v1') outer.set('piece layers', pieceLayers(input.files));
  return outer;
}

function pieceLayers(files: readonly BuildFile[]): Map<string, BEncodable> {
  const layers = new Map<string, BEncodable>();
  for (const f of files) {
    if (f.pieceLayer && f.pieceLayer.length > 0 && f.piecesRoot) {
      layers.set(bytesKey(f.piecesRoot), f.pieceLayer);
    }
  }
  return layers;
}
