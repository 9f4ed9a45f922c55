/**
 * Fast resume: a record of the verified pieces plus each file's size and mtime at the time,
 * so a restart (even after `kill -9`) skips re-hashing, and data changed on disk behind our
 * back is caught.
 *
 * File format: `PDRESUM1` (8 bytes) ‖ SHA-1 of the body (20 bytes) ‖ body, where the body is a
 * bencoded dictionary. The checksum makes a torn or bit-flipped file detectable: such a file is
 * reported with a reason and never trusted. Written atomically: temp file, fsync, rename,
 * fsync of the folder.
 *
 * Trust rule: a file whose (exists, size, mtime in ms) differs from the record invalidates
 * every verified piece that touches it; those must be re-checked. Caveat: a change within the
 * same millisecond as the recorded mtime that keeps the size is not seen (libtorrent has the
 * same limit).
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileMap } from '../metainfo/file-map.js';
import { Bitfield } from '../util/bitfield.js';
import { bytesEqual } from '../util/bytes.js';
import { storageErrorFrom } from './errors.js';
import type { StoredFileStat } from './storage.js';

/**
 * The bencode codec (`encode`/`decode` of `src/bencode`), handed in because the layering
 * rules do not (yet) let storage import bencode.
 */
export interface ResumeCodec {
  encode(value: { readonly [key: string]: unknown }): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export interface ResumeData {
  readonly have: Bitfield;
  /** The files as they were when `have` was recorded, in torrent order. */
  readonly files: readonly StoredFileStat[];
  /** Identity of the torrent (its info-hash): a resume file of another torrent is refused. */
  readonly torrentId?: Uint8Array;
}

/** What loading a resume record concluded. */
export interface ResumeCheck {
  /** Pieces still trusted as verified. */
  readonly have: Bitfield;
  /** Pieces the record claimed but that touch a changed file: re-check them. */
  readonly recheck: readonly number[];
  readonly changedFiles: readonly number[];
}

export type ResumeLoad =
  | { readonly ok: true; readonly check: ResumeCheck }
  | { readonly ok: false; readonly reason: string };

const MAGIC = new TextEncoder().encode('PDRESUM1');
const HEADER_BYTES = MAGIC.length + 20;
/** A resume file is small (a bit per piece, a few numbers per file): refuse anything huge. */
export const MAX_RESUME_BYTES = 64 * 1024 * 1024;

/** Encode a resume record (pure). */
export function encodeResume(data: ResumeData, map: FileMap, codec: ResumeCodec): Uint8Array {
  const body = codec.encode({
    'piece length': map.pieceLengthBytes,
    'piece count': map.pieceCount,
    id: data.torrentId,
    have: data.have.toBytes(),
    files: data.files.map((f) => [f.exists ? 1 : 0, f.sizeBytes, f.mtimeMs]),
  });
  const out = new Uint8Array(HEADER_BYTES + body.length);
  out.set(MAGIC, 0);
  out.set(createHash('sha1').update(body).digest(), MAGIC.length);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Decode and validate a resume record (pure); anything off is a reason, never an exception. */
export function decodeResume(
  bytes: Uint8Array,
  map: FileMap,
  codec: ResumeCodec,
  torrentId?: Uint8Array,
): { ok: true; data: ResumeData } | { ok: false; reason: string } {
  if (bytes.length < HEADER_BYTES || !bytesEqual(bytes.subarray(0, MAGIC.length), MAGIC)) {
    return { ok: false, reason: 'not a peerdrop resume file' };
  }
  const body = bytes.subarray(HEADER_BYTES);
  const sum = new Uint8Array(createHash('sha1').update(body).digest());
  if (!bytesEqual(sum, bytes.subarray(MAGIC.length, HEADER_BYTES))) {
    return { ok: false, reason: 'checksum mismatch (torn or corrupted write)' };
  }
  let d: unknown;
  try {
    d = codec.decode(body);
  } catch (err) {
    return { ok: false, reason: `undecodable: ${(err as Error).message}` };
  }
  if (!(d instanceof Map)) return { ok: false, reason: 'not a dictionary' };
  if (d.get('piece length') !== map.pieceLengthBytes || d.get('piece count') !== map.pieceCount) {
    return { ok: false, reason: 'recorded for a different piece layout' };
  }
  const id = d.get('id');
  if (torrentId && !(id instanceof Uint8Array && bytesEqual(id, torrentId))) {
    return { ok: false, reason: 'recorded for a different torrent' };
  }
  const files = parseFiles(d.get('files'), map.fileCount);
  if (!files) return { ok: false, reason: 'bad file list' };
  const haveBytes = d.get('have');
  if (!(haveBytes instanceof Uint8Array)) return { ok: false, reason: 'missing piece bitfield' };
  try {
    const have = Bitfield.fromBytes(haveBytes, map.pieceCount);
    return { ok: true, data: { have, files, ...(id instanceof Uint8Array ? { torrentId: id } : {}) } };
  } catch (err) {
    return { ok: false, reason: `bad piece bitfield: ${(err as Error).message}` };
  }
}

function parseFiles(value: unknown, fileCount: number): StoredFileStat[] | null {
  if (!Array.isArray(value) || value.length !== fileCount) return null;
  const out: StoredFileStat[] = [];
  for (const rec of value) {
    if (!Array.isArray(rec) || rec.length !== 3) return null;
    const [exists, sizeBytes, mtimeMs] = rec as unknown[];
    if (!isSafeCount(exists) || !isSafeCount(sizeBytes) || !isSafeCount(mtimeMs) || exists > 1) return null;
    out.push({ exists: exists === 1, sizeBytes, mtimeMs });
  }
  return out;
}

function isSafeCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Compare the record with what is on disk now (pure): changed files invalidate their pieces. */
export function reconcileResume(
  data: ResumeData,
  current: readonly StoredFileStat[],
  map: FileMap,
): ResumeCheck {
  const have = data.have.clone();
  const recheck = new Set<number>();
  const changedFiles: number[] = [];
  for (let i = 0; i < map.fileCount; i++) {
    const was = data.files[i]!;
    const now = current[i] ?? { exists: false, sizeBytes: 0, mtimeMs: 0 };
    if (was.exists === now.exists && was.sizeBytes === now.sizeBytes && was.mtimeMs === now.mtimeMs) continue;
    changedFiles.push(i);
    const { first, endExclusive } = map.pieceRangeForFile(i);
    for (let p = first; p < endExclusive; p++) {
      if (have.get(p)) {
        have.clear(p);
        recheck.add(p);
      }
    }
  }
  return { have, recheck: [...recheck].sort((a, b) => a - b), changedFiles };
}

/**
 * Save a resume record atomically. Call it after `Storage.flush()`, with `files` from
 * `Storage.stat()` taken after that flush, so the recorded mtimes cover the recorded pieces.
 */
export async function saveResume(
  path: string,
  data: ResumeData,
  map: FileMap,
  codec: ResumeCodec,
): Promise<void> {
  await writeFileAtomic(path, encodeResume(data, map, codec));
}

/** Load and check a resume record against `current` (from `Storage.stat()`). */
export async function loadResume(
  path: string,
  options: { map: FileMap; codec: ResumeCodec; current: readonly StoredFileStat[]; torrentId?: Uint8Array },
): Promise<ResumeLoad> {
  let bytes: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_RESUME_BYTES) return { ok: false, reason: `resume file of ${size} bytes is too large` };
      bytes = await readFile(handle);
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? 'no resume file' : `unreadable: ${code ?? String(err)}` };
  }
  const decoded = decodeResume(bytes, options.map, options.codec, options.torrentId);
  if (!decoded.ok) return decoded;
  return { ok: true, check: reconcileResume(decoded.data, options.current, options.map) };
}

/** Write temp, fsync, rename over `path`, fsync the folder: readers see the old or the new file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const h = await open(tmp, 'w', 0o600);
    try {
      await h.writeFile(bytes);
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
  } catch (err) {
    throw storageErrorFrom(err, path, 'write');
  }
  // Make the rename itself durable; some filesystems refuse fsync on a folder, which is fine.
  const dir = await open(dirname(path), 'r').catch(() => null);
  await dir?.sync().catch(() => {});
  await dir?.close();
}
