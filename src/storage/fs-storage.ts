/**
 * `Storage` on the filesystem. Design notes:
 *  - Paths come only from `safeJoin` (resolved once per file, on first use).
 *  - Files are created on first write (or at open for wanted zero-length files) and extended
 *    with `truncate` to their full length: sparse, never preallocated block by block.
 *  - Positional reads and writes on `FileHandle`s (pread/pwrite), never mmap. At most
 *    `maxOpenFiles` handles stay open (LRU); a handle in use is never closed under a caller.
 *  - Skipped files (priority 0) that do not exist are not created: their bytes in pieces
 *    shared with wanted files go to a sparse "parts" file at their linear offset, and move
 *    into the real file when it becomes wanted (like libtorrent's part file).
 *  - Every fs failure becomes a `StorageError` with the path and the operation.
 */
import { createHash } from 'node:crypto';
import { constants, type FileHandle, lstat, open, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileMap, type FileSegment } from '../metainfo/file-map.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { PeerdropError } from '../util/errors.js';
import { StorageError, storageErrorFrom } from './errors.js';
import { type FileRange, type HashPool, ZERO_FILL_PATH } from './hash-pool.js';
import { makeDirs, safeJoin } from './safe-join.js';
import {
  boundaryPieces,
  checkFileIndex,
  checkPriority,
  type FilePriority,
  pieceLengthOrThrow,
  type Storage,
  type StorageLayout,
  type StoredFileStat,
  segmentSlices,
  segmentsOrThrow,
} from './storage.js';

export interface FsStorageOptions {
  /** The download folder; every file path is `safeJoin(rootDir, file.path)`. */
  readonly rootDir: string;
  /** Where bytes of skipped files go; default a hidden file in `rootDir` named from the layout. */
  readonly partsPath?: string;
  /** Open file handles kept at most (LRU); default 64. */
  readonly maxOpenFiles?: number;
  readonly priorities?: readonly FilePriority[];
  /** Hash pieces in worker threads (else on the calling thread). */
  readonly hashPool?: HashPool;
}

const DEFAULT_MAX_OPEN_FILES = 64;

/** The parts file's index in handle bookkeeping. */
const PARTS = -1;

interface OpenFile {
  /** Null: opened for reading and the file does not exist. */
  readonly handle: Promise<FileHandle | null>;
  readonly isWritable: boolean;
  users: number;
  isDirty: boolean;
  /** Replaced or evicted: close once the last user is done. */
  isRetired: boolean;
}

/** Open a torrent's data folder (creates it and the wanted zero-length files). */
export async function openFsStorage(layout: StorageLayout, options: FsStorageOptions): Promise<FsStorage> {
  await makeDirs(options.rootDir);
  const storage = new FsStorage(layout, options);
  for (let i = 0; i < layout.files.length; i++) await storage.createIfEmpty(i);
  return storage;
}

export class FsStorage implements Storage {
  readonly fileMap: FileMap;
  readonly partsPath: string;
  private readonly priorities: FilePriority[];
  private readonly paths = new Map<number, Promise<string>>();
  private readonly handles = new Map<number, OpenFile>();
  private readonly maxOpenFiles: number;
  /** Per skipped file: whether it exists on disk (then it is used as it is). */
  private readonly skippedExists = new Map<number, boolean>();
  /** Pieces written to the parts file during this session, per file (migrated with the boundaries). */
  private readonly partsPieces = new Map<number, Set<number>>();
  private parts: OpenFile | undefined;
  /** Files closed (LRU eviction) with writes not yet synced; `flush` syncs them by path. */
  private readonly dirtyClosed = new Set<number>();
  private isClosed = false;

  constructor(
    private readonly layout: StorageLayout,
    private readonly options: FsStorageOptions,
  ) {
    this.fileMap = FileMap.fromMetainfo(layout);
    this.priorities = layout.files.map((_, i) => options.priorities?.[i] ?? 4);
    this.maxOpenFiles = Math.max(1, options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES);
    this.partsPath = options.partsPath ?? join(options.rootDir, `.peerdrop-parts-${layoutId(layout)}`);
  }

  async readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    this.checkOpen();
    const out = new Uint8Array(length); // zeros wherever nothing was written
    for (const { segment, bytes } of segmentSlices(this.fileMap, piece, offset, out)) {
      if (!this.isPadding(segment.fileIndex)) await this.readSegment(segment, bytes);
    }
    return out;
  }

  async writeBlock(piece: number, offset: number, data: Uint8Array): Promise<void> {
    this.checkOpen();
    for (const { segment, bytes } of segmentSlices(this.fileMap, piece, offset, data)) {
      if (!this.isPadding(segment.fileIndex)) await this.writeSegment(piece, segment, bytes);
    }
  }

  async readPiece(piece: number): Promise<Uint8Array> {
    return this.readBlock(piece, 0, pieceLengthOrThrow(this.fileMap, piece));
  }

  async hashPiece(piece: number): Promise<Uint8Array> {
    const data = await this.readPiece(piece);
    // The buffer is ours and whole: move it to the worker instead of copying.
    if (this.options.hashPool) return this.options.hashPool.digest('sha1', data, { transfer: true });
    return new Uint8Array(createHash('sha1').update(data).digest());
  }

  async verifyPiece(piece: number, expected: Uint8Array): Promise<boolean> {
    return bytesEqual(await this.hashPiece(piece), expected);
  }

  async setFilePriority(fileIndex: number, priority: FilePriority): Promise<void> {
    this.checkOpen();
    checkFileIndex(this.fileMap, fileIndex);
    checkPriority(priority);
    const wasSkipped = this.priorities[fileIndex] === 0;
    this.priorities[fileIndex] = priority;
    if (priority === 0) {
      this.skippedExists.delete(fileIndex);
      return;
    }
    if (wasSkipped && !(await this.fileExists(fileIndex))) await this.migrateParts(fileIndex);
    this.skippedExists.delete(fileIndex);
    await this.createIfEmpty(fileIndex);
  }

  filePriority(fileIndex: number): FilePriority {
    checkFileIndex(this.fileMap, fileIndex);
    return this.priorities[fileIndex]!;
  }

  async stat(): Promise<StoredFileStat[]> {
    this.checkOpen();
    const out: StoredFileStat[] = [];
    for (let i = 0; i < this.layout.files.length; i++) out.push(await this.statFile(i));
    return out;
  }

  /** The path on disk of file `fileIndex` (through `safeJoin`). */
  async filePath(fileIndex: number): Promise<string> {
    checkFileIndex(this.fileMap, fileIndex);
    return this.pathOf(fileIndex);
  }

  /**
   * The file ranges (paths on disk) that make up `piece`, for hashing in a worker: padding as
   * zero-fill ranges, bytes of absent skipped files in the parts file.
   */
  async rangesForPiece(piece: number): Promise<FileRange[]> {
    this.checkOpen();
    const ranges: FileRange[] = [];
    for (const seg of segmentsOrThrow(this.fileMap, piece, 0, pieceLengthOrThrow(this.fileMap, piece))) {
      if (this.isPadding(seg.fileIndex)) ranges.push({ path: ZERO_FILL_PATH, offset: 0, length: seg.length });
      else if (await this.usesParts(seg.fileIndex)) {
        const offset = this.fileMap.fileOffset(seg.fileIndex) + seg.fileOffset;
        ranges.push({ path: this.partsPath, offset, length: seg.length });
      } else
        ranges.push({ path: await this.pathOf(seg.fileIndex), offset: seg.fileOffset, length: seg.length });
    }
    return ranges;
  }

  async flush(): Promise<void> {
    this.checkOpen();
    await this.syncAll();
  }

  async close(options: { readonly sync?: boolean } = {}): Promise<void> {
    if (this.isClosed) return;
    try {
      if (options.sync !== false) await this.syncAll();
    } finally {
      this.isClosed = true;
      const all = [...this.handles.values()];
      if (this.parts) all.push(this.parts);
      this.handles.clear();
      this.parts = undefined;
      await Promise.allSettled(all.map(closeQuietly));
    }
    // The parts file is only needed while some file is skipped.
    if (this.priorities.every((p) => p !== 0)) await unlink(this.partsPath).catch(() => {});
  }

  /** Create a wanted zero-length file now (files with content are created on first write). */
  async createIfEmpty(fileIndex: number): Promise<void> {
    const f = this.layout.files[fileIndex]!;
    if (f.lengthBytes !== 0 || f.attributes.isPadding || this.priorities[fileIndex] === 0) return;
    await this.withFile(fileIndex, true, async () => {});
  }

  private async readSegment(seg: FileSegment, target: Uint8Array): Promise<void> {
    if (await this.usesParts(seg.fileIndex)) {
      const position = this.fileMap.fileOffset(seg.fileIndex) + seg.fileOffset;
      await this.withParts(false, (h) => readFully(h, target, position, this.partsPath));
      return;
    }
    const path = await this.pathOf(seg.fileIndex);
    await this.withFile(seg.fileIndex, false, (h) => readFully(h, target, seg.fileOffset, path));
  }

  private async writeSegment(piece: number, seg: FileSegment, data: Uint8Array): Promise<void> {
    if (await this.usesParts(seg.fileIndex)) {
      const position = this.fileMap.fileOffset(seg.fileIndex) + seg.fileOffset;
      await this.withParts(true, (h) => writeFully(h, data, position, this.partsPath));
      const pieces = this.partsPieces.get(seg.fileIndex) ?? new Set<number>();
      this.partsPieces.set(seg.fileIndex, pieces.add(piece));
      return;
    }
    const path = await this.pathOf(seg.fileIndex);
    await this.withFile(seg.fileIndex, true, (h) => writeFully(h, data, seg.fileOffset, path));
  }

  /** A skipped file that does not exist keeps its bytes in the parts file. */
  private async usesParts(fileIndex: number): Promise<boolean> {
    if (this.priorities[fileIndex] !== 0) return false;
    let exists = this.skippedExists.get(fileIndex);
    if (exists === undefined) {
      exists = await this.fileExists(fileIndex);
      this.skippedExists.set(fileIndex, exists);
    }
    return !exists;
  }

  /** Move a formerly skipped file's bytes from the parts file into the (new) file. */
  private async migrateParts(fileIndex: number): Promise<void> {
    const pieces = new Set([
      ...boundaryPieces(this.fileMap, fileIndex),
      ...(this.partsPieces.get(fileIndex) ?? []),
    ]);
    this.partsPieces.delete(fileIndex);
    if (!(await exists(this.partsPath))) return;
    const path = await this.pathOf(fileIndex);
    for (const piece of [...pieces].sort((a, b) => a - b)) {
      for (const seg of this.fileMap.segmentsForPiece(piece)) {
        if (seg.fileIndex !== fileIndex) continue;
        const buf = new Uint8Array(seg.length);
        const position = this.fileMap.fileOffset(fileIndex) + seg.fileOffset;
        await this.withParts(false, (h) => readFully(h, buf, position, this.partsPath));
        await this.withFile(fileIndex, true, (h) => writeFully(h, buf, seg.fileOffset, path));
      }
    }
  }

  private async statFile(fileIndex: number): Promise<StoredFileStat> {
    if (this.isPadding(fileIndex)) return ABSENT;
    const path = await this.pathOf(fileIndex);
    try {
      const st = await lstat(path);
      return { exists: true, sizeBytes: st.size, mtimeMs: Math.round(st.mtimeMs) };
    } catch (err) {
      if (isMissing(err)) return ABSENT;
      throw storageErrorFrom(err, path, 'stat');
    }
  }

  private async fileExists(fileIndex: number): Promise<boolean> {
    return exists(await this.pathOf(fileIndex));
  }

  private pathOf(fileIndex: number): Promise<string> {
    let path = this.paths.get(fileIndex);
    if (!path) {
      path = resolveFilePath(this.options.rootDir, this.layout.files[fileIndex]!.path);
      this.paths.set(fileIndex, path);
      path.catch(() => this.paths.delete(fileIndex)); // retry later (e.g. after a permission fix)
    }
    return path;
  }

  /**
   * Run `fn` with file `fileIndex` open. Reading an absent file runs nothing (the caller's
   * buffer stays zero); writing creates it at its full (sparse) length. Concurrent callers
   * share one open.
   */
  private async withFile(
    fileIndex: number,
    forWrite: boolean,
    fn: (h: FileHandle) => Promise<void>,
  ): Promise<void> {
    let entry = this.handles.get(fileIndex);
    if (entry && forWrite && !entry.isWritable) {
      this.retire(fileIndex, entry); // opened read-only (seeding, or absent): reopen for writing
      entry = undefined;
    }
    if (entry) {
      this.handles.delete(fileIndex); // LRU: move to the most recent end
      this.handles.set(fileIndex, entry);
    } else {
      const created: OpenFile = {
        handle: this.openFile(fileIndex, forWrite),
        isWritable: forWrite,
        users: 0,
        isDirty: false,
        isRetired: false,
      };
      const forget = () => {
        if (this.handles.get(fileIndex) === created) this.handles.delete(fileIndex);
      };
      created.handle.then((h) => h ?? forget(), forget);
      this.handles.set(fileIndex, created);
      entry = created;
    }
    entry.users++;
    this.evictIdle();
    await this.use(entry, forWrite, fn, fileIndex);
  }

  /** `entry.users` was already counted by the caller. */
  private async use(
    entry: OpenFile,
    forWrite: boolean,
    fn: (h: FileHandle) => Promise<void>,
    fileIndex: number,
  ): Promise<void> {
    try {
      const h = await entry.handle;
      if (!h) return;
      await fn(h);
      if (forWrite) {
        entry.isDirty = true;
        this.dirtyClosed.delete(fileIndex);
      }
    } finally {
      entry.users--;
      if (entry.isRetired && entry.users === 0) await this.closeEntry(entry, fileIndex);
    }
  }

  private async openFile(fileIndex: number, forWrite: boolean, isRetry = false): Promise<FileHandle | null> {
    const path = await this.pathOf(fileIndex);
    const file = this.layout.files[fileIndex]!;
    try {
      const h = await open(path, forWrite ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY);
      if (forWrite) await extendSparse(h, file.lengthBytes, path);
      if (this.priorities[fileIndex] === 0) this.skippedExists.set(fileIndex, true);
      return h;
    } catch (err) {
      if (isMissing(err) && !forWrite) return null;
      // One retry after making the folders: ENOENT again means the folder exists but takes no files.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && forWrite && !isRetry) {
        await makeDirs(dirname(path));
        return this.openFile(fileIndex, true, true);
      }
      throw storageErrorFrom(err, path, forWrite ? 'create' : 'open');
    }
  }

  private async withParts(forWrite: boolean, fn: (h: FileHandle) => Promise<void>): Promise<void> {
    if (this.parts && forWrite && !this.parts.isWritable) {
      const old = this.parts;
      this.parts = undefined;
      old.isRetired = true;
      if (old.users === 0) await this.closeEntry(old, PARTS);
    }
    if (!this.parts) {
      const flags = forWrite ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY;
      const handle = open(this.partsPath, flags).catch((e: unknown) => {
        if (isMissing(e) && !forWrite) return null; // nothing was kept aside: reads stay zero
        throw storageErrorFrom(e, this.partsPath, 'open');
      });
      const created: OpenFile = { handle, isWritable: forWrite, users: 0, isDirty: false, isRetired: false };
      const forget = () => {
        if (this.parts === created) this.parts = undefined;
      };
      handle.then((h) => h ?? forget(), forget);
      this.parts = created;
    }
    this.parts.users++;
    await this.use(this.parts, forWrite, fn, PARTS);
  }

  private retire(fileIndex: number, entry: OpenFile): void {
    this.handles.delete(fileIndex);
    entry.isRetired = true;
    if (entry.users === 0) void this.closeEntry(entry, fileIndex);
  }

  /** Close a handle; if it held unsynced writes, `flush` will sync the file by reopening it. */
  private async closeEntry(entry: OpenFile, fileIndex: number): Promise<void> {
    if (entry.isDirty) this.dirtyClosed.add(fileIndex);
    await closeQuietly(entry);
  }

  /** Close least recently used idle handles beyond the cap (busy ones are skipped). */
  private evictIdle(): void {
    if (this.handles.size <= this.maxOpenFiles) return;
    for (const [index, entry] of this.handles) {
      if (this.handles.size <= this.maxOpenFiles) break;
      if (entry.users === 0) this.retire(index, entry);
    }
  }

  /** fsync (data only) every file written since the last sync. */
  private async syncAll(): Promise<void> {
    const open = [...this.handles.entries()].filter(([, f]) => f.isDirty);
    if (this.parts?.isDirty) open.push([PARTS, this.parts]);
    for (const [index, f] of open) {
      f.isDirty = false;
      const h = await f.handle;
      await h?.datasync().catch(async (e: unknown) => {
        f.isDirty = true;
        throw storageErrorFrom(e, await this.pathFor(index), 'sync');
      });
    }
    for (const index of [...this.dirtyClosed]) {
      const path = await this.pathFor(index);
      await syncPath(path);
      this.dirtyClosed.delete(index);
    }
  }

  private pathFor(index: number): Promise<string> {
    return index === PARTS ? Promise.resolve(this.partsPath) : this.pathOf(index);
  }

  private isPadding(fileIndex: number): boolean {
    return this.layout.files[fileIndex]!.attributes.isPadding;
  }

  private checkOpen(): void {
    if (this.isClosed) throw new StorageError('STORAGE_CLOSED', 'storage is closed');
  }
}

const ABSENT: StoredFileStat = { exists: false, sizeBytes: 0, mtimeMs: 0 };

async function resolveFilePath(rootDir: string, components: readonly string[]): Promise<string> {
  try {
    return await safeJoin(rootDir, components);
  } catch (err) {
    if (err instanceof PeerdropError && err.code === 'METAINFO_UNSAFE_PATH') {
      throw new StorageError('STORAGE_UNSAFE_PATH', err.message, { operation: 'resolve', cause: err });
    }
    throw storageErrorFrom(err, join(rootDir, ...components), 'resolve');
  }
}

async function readFully(h: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let at = 0;
  while (at < target.length) {
    const { bytesRead } = await h.read(target, at, target.length - at, position + at).catch((e: unknown) => {
      throw storageErrorFrom(e, path, 'read');
    });
    if (bytesRead === 0) return; // past the end of a short file: the rest stays zero
    at += bytesRead;
  }
}

async function writeFully(h: FileHandle, data: Uint8Array, position: number, path: string): Promise<void> {
  let at = 0;
  while (at < data.length) {
    const { bytesWritten } = await h.write(data, at, data.length - at, position + at).catch((e: unknown) => {
      throw storageErrorFrom(e, path, 'write');
    });
    at += bytesWritten;
  }
}

/** Give a regular file its full length without allocating blocks (a sparse file). */
async function extendSparse(h: FileHandle, lengthBytes: number, path: string): Promise<void> {
  const st = await h.stat();
  if (!st.isFile() || st.size >= lengthBytes) return;
  await h.truncate(lengthBytes).catch((e: unknown) => {
    throw storageErrorFrom(e, path, 'truncate');
  });
}

async function syncPath(path: string): Promise<void> {
  let h: FileHandle | undefined;
  try {
    h = await open(path, constants.O_RDONLY);
    await h.datasync();
  } catch (err) {
    if (!isMissing(err)) throw storageErrorFrom(err, path, 'sync');
  } finally {
    await h?.close().catch(() => {});
  }
}

async function closeQuietly(f: OpenFile): Promise<void> {
  await (await f.handle.catch(() => null))?.close().catch(() => {});
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw storageErrorFrom(err, path, 'stat');
  }
}

/** A short stable name for a layout (file paths and lengths), for the default parts file. */
function layoutId(layout: StorageLayout): string {
  const h = createHash('sha1');
  for (const f of layout.files) h.update(`${f.path.join('/')}\0${f.lengthBytes}\n`);
  return toHex(new Uint8Array(h.digest())).slice(0, 16);
}
