/**
 * HTTP range requests on one file of a torrent (RFC 9110 §14): a pure range parser, content
 * types by extension, and the reader that serves only verified bytes. A piece the daemon has
 * not seen verified is either checked here against its SHA-1 (v1 and hybrid torrents: data
 * verified before this process started) or waited for, with a deadline, while the engine
 * fetches it first: the response holds a `TorrentReader` whose window (the requested offset and
 * a readahead) the picker serves before everything else; reading moves the window along.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Metainfo } from '../metainfo/types.js';
import { safeJoin } from '../storage/safe-join.js';
import { bytesEqual } from '../util/bytes.js';
import { PeerdropError } from '../util/errors.js';
import type { PieceWatch } from './piece-watch.js';

export type RangeResult =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/**
 * `Range: bytes=a-b | a- | -n` against a file of `size` bytes; `end` is inclusive. A header
 * that is not a single byte range is ignored (a full response), as RFC 9110 allows; a range
 * that starts past the end is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

const TYPES: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.mov': 'video/quicktime',
  '.avi': 'video/x-msvideo',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain; charset=utf-8',
  '.srt': 'text/plain; charset=utf-8',
  '.vtt': 'text/vtt; charset=utf-8',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.iso': 'application/octet-stream',
};

/**
 * Content type by extension. HTML, SVG and scripts are served as octet-stream on purpose:
 * a torrent's file must never run as a page of the daemon's origin.
 */
export function contentTypeFor(fileName: string): string {
  return TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}

export interface StreamSource {
  readonly key: string;
  readonly dir: string;
  readonly metainfo: Metainfo;
  readonly watch: PieceWatch;
  /** True when the engine says every wanted piece is verified (seeding) and this file is wanted. */
  isAllVerified(): boolean;
  /** Called when a needed piece is missing (a skipped file's priority is raised). */
  onMissing(): void;
  /** The reader now stands at this byte of the file: the engine's stream window moves there. */
  onRead?(fileOffsetBytes: number): void;
  readonly pieceTimeoutMs: number;
  readonly signal?: AbortSignal;
}

/** A needed piece did not arrive in time (503). */
export class PieceUnavailableError extends PeerdropError {
  constructor(message: string) {
    super('DAEMON_DATA_UNAVAILABLE', message);
  }
}

/** Make sure `piece` is verified: known, checked now against its hash, or waited for. */
export async function ensureVerified(src: StreamSource, piece: number): Promise<void> {
  if (src.watch.isVerified(src.key, piece)) return;
  if (src.isAllVerified() || (await checkPieceOnDisk(src, piece))) {
    src.watch.verified(src.key, piece);
    return;
  }
  src.onMissing();
  const ok = await src.watch.waitFor(src.key, piece, src.pieceTimeoutMs, src.signal);
  if (!ok) throw new PieceUnavailableError(`piece ${piece} is not downloaded yet`);
}

/** The verified bytes [start, end] of file `fileIndex`, one piece-sized chunk at a time. */
export async function* readVerifiedRange(
  src: StreamSource,
  fileIndex: number,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array> {
  const file = src.metainfo.files[fileIndex]!;
  const pl = src.metainfo.pieceLengthBytes;
  const handle = await open(await safeJoin(src.dir, file.path), 'r');
  try {
    let at = start;
    while (at <= end) {
      const absolute = file.offsetBytes + at;
      const piece = Math.floor(absolute / pl);
      src.onRead?.(at);
      await ensureVerified(src, piece);
      const pieceEnd = (piece + 1) * pl - file.offsetBytes; // exclusive, in file coordinates
      const length = Math.min(end + 1, pieceEnd) - at;
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, at);
      if (bytesRead !== length)
        throw new PieceUnavailableError(`short read at ${at} of ${file.path.join('/')}`);
      yield buffer;
      at += length;
    }
  } finally {
    await handle.close();
  }
}

/** Read a whole piece from the files it spans and compare its SHA-1 (v1 and hybrid only). */
async function checkPieceOnDisk(src: StreamSource, piece: number): Promise<boolean> {
  const m = src.metainfo;
  if (!m.pieceHashes) return false;
  const pl = m.pieceLengthBytes;
  const from = piece * pl;
  const to = Math.min(from + pl, m.storageLengthBytes);
  const hash = createHash('sha1');
  for (const f of m.files) {
    const a = Math.max(from, f.offsetBytes);
    const b = Math.min(to, f.offsetBytes + f.lengthBytes);
    if (a >= b) continue;
    if (f.attributes.isPadding) {
      hash.update(Buffer.alloc(b - a));
      continue;
    }
    const bytes = await readSpan(src.dir, f.path, a - f.offsetBytes, b - a);
    if (!bytes) return false;
    hash.update(bytes);
  }
  return bytesEqual(hash.digest(), m.pieceHashes.subarray(piece * 20, piece * 20 + 20));
}

async function readSpan(dir: string, path: readonly string[], at: number, length: number) {
  try {
    const handle = await open(await safeJoin(dir, path), 'r');
    try {
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, at);
      return bytesRead === length ? buffer : null;
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}
