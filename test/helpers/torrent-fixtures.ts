import { createHash } from 'node:crypto';
import { type BEncodable, encode } from '../../src/bencode/index.js';
import { concatBytes } from '../../src/util/bytes.js';

/**
 * An independent, deliberately simple torrent writer for tests (v1, v2 and hybrid with
 * libtorrent-style padding). It is the oracle parser tests compare against, so it shares no
 * code with `src/metainfo`.
 */
export interface FixtureFile {
  readonly path: readonly string[];
  readonly data: Uint8Array;
}

export interface FixtureOptions {
  readonly name?: string;
  readonly pieceLength?: number;
  readonly version?: 'v1' | 'v2' | 'hybrid';
  /** Force a single-file layout (exactly one file, path = [name]). */
  readonly single?: boolean;
  /** Extra keys merged into the outer dictionary. */
  readonly outer?: Record<string, BEncodable>;
  /** Extra keys merged into (or overriding) the info dictionary. */
  readonly info?: Record<string, BEncodable | undefined>;
}

const BLOCK = 16384;
const ZERO32 = new Uint8Array(32);

function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(data).digest());
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** BEP 52 merkle tree of one file: its root and the layer where one hash covers a piece. */
export function fileMerkle(data: Uint8Array, pieceLength: number): { root: Uint8Array; layer: Uint8Array } {
  let level: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += BLOCK) level.push(sha256(data.subarray(i, i + BLOCK)));
  const blocksPerPiece = pieceLength / BLOCK;
  let width = 1;
  while (width < level.length) width *= 2;
  if (data.length > pieceLength) width = Math.max(width, blocksPerPiece);
  while (level.length < width) level.push(ZERO32);
  let span = 1;
  let layer: Uint8Array[] = level;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256(level[i]!, level[i + 1]!));
    level = next;
    span *= 2;
    if (span === blocksPerPiece) layer = level;
  }
  const pieces = Math.ceil(data.length / pieceLength);
  return { root: level[0]!, layer: concatBytes(layer.slice(0, pieces)) };
}

function pieceHashes(data: Uint8Array, pieceLength: number): Uint8Array {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += pieceLength) out.push(sha1(data.subarray(i, i + pieceLength)));
  return concatBytes(out);
}

function binary(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** Build a `.torrent` (bytes) for the given files. */
export function buildTorrent(unordered: readonly FixtureFile[], options: FixtureOptions = {}): Uint8Array {
  // BEP 52: a v2 file tree is ordered by its (sorted) keys, and a hybrid's v1 list must follow it.
  const files = options.version && options.version !== 'v1' ? [...unordered].sort(treeOrder) : unordered;
  const name = options.name ?? 'fixture';
  const pieceLength = options.pieceLength ?? BLOCK;
  const version = options.version ?? 'v1';
  const single = options.single ?? false;
  const info: Record<string, BEncodable | undefined> = { name, 'piece length': pieceLength };
  const outer: Record<string, BEncodable> = { announce: 'http://127.0.0.1:1/announce' };
  if (version !== 'v1') {
    const tree = new Map<string, BEncodable>();
    const layers = new Map<string, BEncodable>();
    for (const f of files) {
      const leaf: Record<string, BEncodable> = { length: f.data.length };
      if (f.data.length > 0) {
        const m = fileMerkle(f.data, pieceLength);
        leaf['pieces root'] = m.root;
        if (f.data.length > pieceLength) layers.set(binary(m.root), m.layer);
      }
      insertTree(tree, single ? [name] : f.path, new Map([['', leaf]]));
    }
    info['meta version'] = 2;
    info['file tree'] = tree;
    outer['piece layers'] = layers;
  }
  if (version !== 'v2') {
    const entries: Record<string, BEncodable>[] = [];
    const chunks: Uint8Array[] = [];
    files.forEach((f) => {
      entries.push({ length: f.data.length, path: [...f.path] });
      chunks.push(f.data);
      const tail = f.data.length % pieceLength;
      if (version === 'hybrid' && tail !== 0) {
        const gap = pieceLength - tail;
        entries.push({ attr: 'p', length: gap, path: ['.pad', String(gap)] });
        chunks.push(new Uint8Array(gap));
      }
    });
    if (single) info.length = files[0]!.data.length;
    else info.files = entries;
    info.pieces = pieceHashes(concatBytes(chunks), pieceLength);
  }
  Object.assign(info, options.info);
  for (const [k, v] of Object.entries(info)) if (v === undefined) delete info[k];
  return encode({ ...outer, info, ...options.outer } as BEncodable);
}

function treeOrder(a: FixtureFile, b: FixtureFile): number {
  const enc = new TextEncoder();
  for (let i = 0; i < Math.min(a.path.length, b.path.length); i++) {
    const x = binary(enc.encode(a.path[i]!));
    const y = binary(enc.encode(b.path[i]!));
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.path.length - b.path.length;
}

function insertTree(tree: Map<string, BEncodable>, path: readonly string[], leaf: BEncodable): void {
  let node = tree;
  path.forEach((component, i) => {
    // Map keys are binary strings (one char per byte): encode the component as UTF-8 first.
    const c = binary(new TextEncoder().encode(component));
    if (i === path.length - 1) {
      node.set(c, leaf);
      return;
    }
    let child = node.get(c);
    if (!(child instanceof Map)) {
      child = new Map<string, BEncodable>();
      node.set(c, child);
    }
    node = child as Map<string, BEncodable>;
  });
}

/** Deterministic bytes (with a NUL first, to catch text-versus-bytes bugs). */
export function fixtureBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  if (length > 0) out[0] = 0;
  return out;
}
