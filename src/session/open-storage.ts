import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decode, encode, isDict } from '../bencode/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { safeJoin } from '../storage/safe-join.js';
import { Bitfield } from '../util/bitfield.js';
import { bytesEqual } from '../util/bytes.js';
import { PeerdropError } from '../util/errors.js';
import type { TorrentStorage } from './torrent.js';
import type { TorrentOptions } from './torrent-types.js';

/** What the session gets for a torrent: storage, the verified pieces, and the piece checker. */
export interface OpenedStorage {
  readonly storage: TorrentStorage;
  readonly have: Bitfield;
  readonly verifyPiece: (piece: number, data: Uint8Array) => Promise<boolean>;
}

interface Segment {
  readonly fileIndex: number;
  readonly fileOffset: number;
  readonly length: number;
}

/**
 * Open a torrent's data folder: map pieces to files, load fast-resume data (trusting it only
 * when every file's size and mtime still match), else hash whatever data exists.
 */
export async function openTorrentStorage(
  metainfo: Metainfo,
  options: TorrentOptions,
  onCheckProgress: (fraction: number) => void,
): Promise<OpenedStorage> {
  const storage = await FileStorage.open(metainfo, options.dir, options.resumePath);
  const verifyPiece = async (piece: number, data: Uint8Array) => pieceMatches(metainfo, piece, data);
  let have: Bitfield;
  if (options.isKnownComplete) have = Bitfield.full(metainfo.pieceCount);
  else
    have =
      (await storage.loadResume(verifyPiece)) ?? (await storage.checkExisting(verifyPiece, onCheckProgress));
  return { storage, have, verifyPiece };
}

function pieceMatches(m: Metainfo, piece: number, data: Uint8Array): boolean {
  if (m.pieceHashes) {
    const expected = m.pieceHashes.subarray(piece * 20, piece * 20 + 20);
    return bytesEqual(createHash('sha1').update(data).digest(), expected);
  }
  return false; // v2-only verification needs piece layers; not supported here yet
}

const MAX_OPEN_FILES = 64;

class FileStorage implements TorrentStorage {
  private readonly handles = new Map<number, Promise<FileHandle>>();
  private readonly paths: (string | null)[];

  private constructor(
    private readonly m: Metainfo,
    paths: (string | null)[],
    private readonly resumePath: string,
  ) {
    this.paths = paths;
  }

  static async open(m: Metainfo, dir: string, resumePath: string | undefined): Promise<FileStorage> {
    await mkdir(dir, { recursive: true });
    const paths: (string | null)[] = [];
    for (const f of m.files) paths.push(f.attributes.isPadding ? null : await safeJoin(dir, f.path));
    const key = Buffer.from(m.infoHash ?? m.infoHashV2!).toString('hex');
    return new FileStorage(m, paths, resumePath ?? join(dir, '.peerdrop', `${key}.resume`));
  }

  private segments(piece: number, offset: number, length: number): Segment[] {
    const start = piece * this.m.pieceLengthBytes + offset;
    const end = start + length;
    const out: Segment[] = [];
    for (let i = 0; i < this.m.files.length; i++) {
      const f = this.m.files[i]!;
      const fEnd = f.offsetBytes + f.lengthBytes;
      if (fEnd <= start || f.lengthBytes === 0) continue;
      if (f.offsetBytes >= end) break;
      const s = Math.max(start, f.offsetBytes);
      const e = Math.min(end, fEnd);
      out.push({ fileIndex: i, fileOffset: s - f.offsetBytes, length: e - s });
    }
    return out;
  }

  private handle(fileIndex: number): Promise<FileHandle> {
    const existing = this.handles.get(fileIndex);
    if (existing) return existing;
    if (this.handles.size >= MAX_OPEN_FILES) {
      const [oldestIndex, oldest] = this.handles.entries().next().value!;
      this.handles.delete(oldestIndex);
      void oldest.then((h) => h.close()).catch(() => {});
    }
    const path = this.paths[fileIndex]!;
    const opening = (async () => {
      await mkdir(dirname(path), { recursive: true });
      try {
        return await open(path, 'r+');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(err, path, 'open');
        return await open(path, 'w+').catch((e: unknown) => {
          throw storageError(e, path, 'create');
        });
      }
    })();
    this.handles.set(fileIndex, opening);
    opening.catch(() => this.handles.delete(fileIndex));
    return opening;
  }

  async writeBlock(piece: number, offset: number, data: Uint8Array): Promise<void> {
    let at = 0;
    for (const seg of this.segments(piece, offset, data.length)) {
      const part = data.subarray(at, at + seg.length);
      at += seg.length;
      if (this.paths[seg.fileIndex] === null) continue; // padding never reaches the disk
      const h = await this.handle(seg.fileIndex);
      await h.write(part, 0, part.length, seg.fileOffset).catch((e: unknown) => {
        throw storageError(e, this.paths[seg.fileIndex]!, 'write');
      });
    }
  }

  writePiece(piece: number, data: Uint8Array): Promise<void> {
    return this.writeBlock(piece, 0, data);
  }

  async readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let at = 0;
    for (const seg of this.segments(piece, offset, length)) {
      if (this.paths[seg.fileIndex] !== null) {
        const h = await this.handle(seg.fileIndex);
        await h.read(out, at, seg.length, seg.fileOffset).catch((e: unknown) => {
          throw storageError(e, this.paths[seg.fileIndex]!, 'read');
        });
      }
      at += seg.length;
    }
    return out;
  }

  readPiece(piece: number): Promise<Uint8Array> {
    const len = Math.min(
      this.m.pieceLengthBytes,
      this.m.storageLengthBytes - piece * this.m.pieceLengthBytes,
    );
    return this.readBlock(piece, 0, len);
  }

  /** Hash whatever exists on disk (pieces of missing or short files are skipped). */
  async checkExisting(
    verify: (piece: number, data: Uint8Array) => Promise<boolean>,
    onProgress: (fraction: number) => void,
  ): Promise<Bitfield> {
    const have = new Bitfield(this.m.pieceCount);
    const sizes = await Promise.all(
      this.paths.map((p) =>
        p
          ? stat(p).then(
              (s) => s.size,
              () => -1,
            )
          : 0,
      ),
    );
    if (sizes.every((s) => s <= 0)) return have;
    for (let p = 0; p < this.m.pieceCount; p++) {
      const len = Math.min(this.m.pieceLengthBytes, this.m.storageLengthBytes - p * this.m.pieceLengthBytes);
      const segs = this.segments(p, 0, len);
      const complete = segs.every(
        (s) => this.paths[s.fileIndex] === null || (sizes[s.fileIndex] ?? -1) >= s.fileOffset + s.length,
      );
      if (complete && (await verify(p, await this.readPiece(p)))) have.set(p);
      if (p % 64 === 0) onProgress(p / this.m.pieceCount);
    }
    return have;
  }

  /**
   * Trust the resume record for files whose size and mtime are unchanged; for a file changed
   * behind our back (or still being written when the process was killed), re-hash just the
   * pieces the record claims in that file. Null when there is no usable record.
   */
  async loadResume(verify: (piece: number, data: Uint8Array) => Promise<boolean>): Promise<Bitfield | null> {
    let raw: Uint8Array;
    try {
      raw = await readFile(this.resumePath);
    } catch {
      return null;
    }
    let have: Bitfield;
    const changed: number[] = [];
    try {
      const d = decode(raw);
      if (!isDict(d)) return null;
      const bits = d.get('have');
      const files = d.get('files');
      if (!(bits instanceof Uint8Array) || !Array.isArray(files) || files.length !== this.paths.length)
        return null;
      have = Bitfield.fromBytes(bits, this.m.pieceCount);
      for (let i = 0; i < this.paths.length; i++) {
        const p = this.paths[i];
        const rec = files[i];
        if (!p || !Array.isArray(rec)) continue;
        const st = await stat(p).catch(() => null);
        if (!st || st.size !== rec[0] || Math.round(st.mtimeMs) !== rec[1]) changed.push(i);
      }
    } catch {
      return null; // a torn or foreign resume file is never trusted
    }
    for (const fileIndex of changed) {
      const f = this.m.files[fileIndex]!;
      if (f.lengthBytes === 0) continue;
      const first = Math.floor(f.offsetBytes / this.m.pieceLengthBytes);
      const last = Math.floor((f.offsetBytes + f.lengthBytes - 1) / this.m.pieceLengthBytes);
      for (let p = first; p <= last; p++) {
        if (
          have.get(p) &&
          !(await this.readPiece(p).then(
            (data) => verify(p, data),
            () => false,
          ))
        )
          have.clear(p);
      }
    }
    return have;
  }

  /**
   * No fsync of the data first: the resume record must survive `kill -9`, and after a process
   * crash written data is in the page cache anyway. After a power loss the recorded mtimes no
   * longer match (or pieces fail re-checks); libtorrent makes the same trade.
   */
  async saveResume(have: Bitfield): Promise<void> {
    const files: [number, number][] = [];
    for (const p of this.paths) {
      const st = p ? await stat(p).catch(() => null) : null;
      files.push(st ? [st.size, Math.round(st.mtimeMs)] : [-1, 0]);
    }
    await mkdir(dirname(this.resumePath), { recursive: true });
    const tmp = `${this.resumePath}.tmp`;
    await writeFile(tmp, encode({ have: have.toBytes(), files }));
    await rename(tmp, this.resumePath);
  }

  /** On completion: create wanted files that never received data (zero-length ones) at full size. */
  async ensureFiles(isWanted: (fileIndex: number) => boolean): Promise<void> {
    for (let i = 0; i < this.paths.length; i++) {
      const p = this.paths[i];
      if (!p || !isWanted(i)) continue;
      const h = await this.handle(i);
      const st = await h.stat();
      if (st.size < this.m.files[i]!.lengthBytes) await h.truncate(this.m.files[i]!.lengthBytes);
    }
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(all.map(async (h) => (await h).close()));
  }
}

function storageError(err: unknown, path: string, op: string): PeerdropError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const map: Record<string, string> = {
    ENOSPC: 'STORAGE_DISK_FULL',
    EDQUOT: 'STORAGE_DISK_FULL',
    EACCES: 'STORAGE_PERMISSION',
    EPERM: 'STORAGE_PERMISSION',
    EROFS: 'STORAGE_READ_ONLY',
  };
  return new PeerdropError(map[code] ?? 'STORAGE_IO', `${op} ${path}: ${code}`, { cause: err });
}
