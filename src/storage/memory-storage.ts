/**
 * `Storage` in memory, for tests and in-process simulations. Files are sparse (64 KiB chunks
 * allocated on first write), so a simulated 10 GiB torrent costs only what is written. A
 * fault hook lets tests fail any operation, e.g. `diskFullAfter(bytes)`.
 */
import { createHash } from 'node:crypto';
import { FileMap } from '../metainfo/file-map.js';
import { bytesEqual } from '../util/bytes.js';
import { type Clock, systemClock } from '../util/clock.js';
import { StorageError } from './errors.js';
import {
  checkFileIndex,
  checkPriority,
  type FilePriority,
  pieceLengthOrThrow,
  type Storage,
  type StorageLayout,
  type StoredFileStat,
  segmentSlices,
} from './storage.js';

const CHUNK_BYTES = 64 * 1024;

/** A sparse byte array: unwritten bytes read as zeros. */
export class SparseBytes {
  private readonly chunks = new Map<number, Uint8Array>();
  /** Highest offset written + 1 (the "file size" a filesystem would report). */
  sizeBytes = 0;

  write(offset: number, data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      const pos = offset + at;
      const index = Math.floor(pos / CHUNK_BYTES);
      const inChunk = pos - index * CHUNK_BYTES;
      const take = Math.min(CHUNK_BYTES - inChunk, data.length - at);
      let chunk = this.chunks.get(index);
      if (!chunk) {
        chunk = new Uint8Array(CHUNK_BYTES);
        this.chunks.set(index, chunk);
      }
      chunk.set(data.subarray(at, at + take), inChunk);
      at += take;
    }
    this.sizeBytes = Math.max(this.sizeBytes, offset + data.length);
  }

  read(offset: number, out: Uint8Array): void {
    let at = 0;
    while (at < out.length) {
      const pos = offset + at;
      const index = Math.floor(pos / CHUNK_BYTES);
      const inChunk = pos - index * CHUNK_BYTES;
      const take = Math.min(CHUNK_BYTES - inChunk, out.length - at);
      const chunk = this.chunks.get(index);
      if (chunk) out.set(chunk.subarray(inChunk, inChunk + take), at);
      else out.fill(0, at, at + take);
      at += take;
    }
  }
}

/** What persists across `close()` and reopen (the "disk" of the memory backend). */
export interface MemoryBacking {
  /** Per file: its bytes, or null when the file does not exist. */
  readonly files: (SparseBytes | null)[];
  readonly mtimesMs: number[];
  /** Bytes of skipped files kept aside (the parts file), per file index. */
  readonly parts: Map<number, SparseBytes>;
}

export type MemoryOperation = 'read' | 'write' | 'flush';

/** Return an error to make the operation fail (it then changes nothing), or undefined. */
export type MemoryFaultHook = (op: {
  readonly operation: MemoryOperation;
  readonly fileIndex: number;
  readonly lengthBytes: number;
}) => Error | undefined;

/** A fault hook that fails writes with `STORAGE_DISK_FULL` once `capacityBytes` are used. */
export function diskFullAfter(capacityBytes: number): MemoryFaultHook {
  let usedBytes = 0;
  return ({ operation, lengthBytes }) => {
    if (operation !== 'write') return undefined;
    if (usedBytes + lengthBytes > capacityBytes) {
      return new StorageError('STORAGE_DISK_FULL', 'write: no space left on device (simulated)', {
        operation: 'write',
        errno: 'ENOSPC',
      });
    }
    usedBytes += lengthBytes;
    return undefined;
  };
}

export interface MemoryStorageOptions {
  /** Reuse the data of an earlier instance (simulates reopening the same folder). */
  readonly backing?: MemoryBacking;
  readonly fault?: MemoryFaultHook;
  /** For modification times. */
  readonly clock?: Clock;
  readonly priorities?: readonly FilePriority[];
}

export function createMemoryBacking(fileCount: number): MemoryBacking {
  return { files: new Array(fileCount).fill(null), mtimesMs: new Array(fileCount).fill(0), parts: new Map() };
}

/** Open a memory storage (wanted zero-length files are created at once, as on disk). */
export function createMemoryStorage(
  layout: StorageLayout,
  options: MemoryStorageOptions = {},
): MemoryStorage {
  return new MemoryStorage(layout, options);
}

export class MemoryStorage implements Storage {
  readonly fileMap: FileMap;
  readonly backing: MemoryBacking;
  private readonly priorities: FilePriority[];
  private isClosed = false;

  constructor(
    private readonly layout: StorageLayout,
    private readonly options: MemoryStorageOptions = {},
  ) {
    this.fileMap = FileMap.fromMetainfo(layout);
    this.backing = options.backing ?? createMemoryBacking(layout.files.length);
    if (this.backing.files.length !== layout.files.length)
      throw new RangeError('backing does not match the layout');
    this.priorities = layout.files.map((_, i) => options.priorities?.[i] ?? 4);
    for (let i = 0; i < layout.files.length; i++) this.createIfEmpty(i);
  }

  async readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    this.checkOpen();
    const out = new Uint8Array(length);
    for (const { segment: seg, bytes } of segmentSlices(this.fileMap, piece, offset, out)) {
      this.fault('read', seg.fileIndex, seg.length);
      if (this.isPadding(seg.fileIndex)) continue; // zeros
      const store = this.backing.files[seg.fileIndex] ?? this.backing.parts.get(seg.fileIndex);
      store?.read(seg.fileOffset, bytes);
    }
    return out;
  }

  async writeBlock(piece: number, offset: number, data: Uint8Array): Promise<void> {
    this.checkOpen();
    for (const { segment: seg, bytes } of segmentSlices(this.fileMap, piece, offset, data)) {
      if (this.isPadding(seg.fileIndex)) continue;
      this.fault('write', seg.fileIndex, seg.length);
      this.storeFor(seg.fileIndex).write(seg.fileOffset, bytes);
      this.touch(seg.fileIndex);
    }
  }

  async readPiece(piece: number): Promise<Uint8Array> {
    return this.readBlock(piece, 0, pieceLengthOrThrow(this.fileMap, piece));
  }

  async hashPiece(piece: number): Promise<Uint8Array> {
    return new Uint8Array(
      createHash('sha1')
        .update(await this.readPiece(piece))
        .digest(),
    );
  }

  async verifyPiece(piece: number, expected: Uint8Array): Promise<boolean> {
    return bytesEqual(await this.hashPiece(piece), expected);
  }

  async setFilePriority(fileIndex: number, priority: FilePriority): Promise<void> {
    this.checkOpen();
    checkFileIndex(this.fileMap, fileIndex);
    checkPriority(priority);
    this.priorities[fileIndex] = priority;
    if (priority === 0) return;
    const parts = this.backing.parts.get(fileIndex);
    if (parts && !this.backing.files[fileIndex]) {
      // The kept-aside bytes become the file (the memory store can move them whole).
      this.backing.files[fileIndex] = parts;
      this.backing.parts.delete(fileIndex);
      this.touch(fileIndex);
    }
    this.createIfEmpty(fileIndex);
  }

  filePriority(fileIndex: number): FilePriority {
    checkFileIndex(this.fileMap, fileIndex);
    return this.priorities[fileIndex]!;
  }

  async stat(): Promise<StoredFileStat[]> {
    this.checkOpen();
    return this.backing.files.map((f, i) =>
      f ? { exists: true, sizeBytes: f.sizeBytes, mtimeMs: this.backing.mtimesMs[i]! } : ABSENT,
    );
  }

  async flush(): Promise<void> {
    this.checkOpen();
    this.fault('flush', -1, 0);
  }

  async close(): Promise<void> {
    this.isClosed = true;
  }

  /** Where a file's bytes go: the file itself, or the parts store while it is skipped and absent. */
  private storeFor(fileIndex: number) {
    const existing = this.backing.files[fileIndex];
    if (existing) return existing;
    if (this.priorities[fileIndex] === 0) {
      let parts = this.backing.parts.get(fileIndex);
      if (!parts) {
        parts = new SparseBytes();
        this.backing.parts.set(fileIndex, parts);
      }
      return parts;
    }
    const created = new SparseBytes();
    this.backing.files[fileIndex] = created;
    return created;
  }

  private createIfEmpty(fileIndex: number): void {
    const f = this.layout.files[fileIndex]!;
    if (f.lengthBytes === 0 && !f.attributes.isPadding && this.priorities[fileIndex] !== 0) {
      if (!this.backing.files[fileIndex]) {
        this.backing.files[fileIndex] = new SparseBytes();
        this.touch(fileIndex);
      }
    }
  }

  /** Modification times strictly increase, so a change is always visible to fast resume. */
  private touch(fileIndex: number): void {
    const now = Math.round((this.options.clock ?? systemClock).now());
    this.backing.mtimesMs[fileIndex] = Math.max(now, this.backing.mtimesMs[fileIndex]! + 1);
  }

  private isPadding(fileIndex: number): boolean {
    return this.layout.files[fileIndex]!.attributes.isPadding;
  }

  private fault(operation: MemoryOperation, fileIndex: number, lengthBytes: number): void {
    const err = this.options.fault?.({ operation, fileIndex, lengthBytes });
    if (err) throw err;
  }

  private checkOpen(): void {
    if (this.isClosed) throw new StorageError('STORAGE_CLOSED', 'storage is closed');
  }
}

const ABSENT: StoredFileStat = { exists: false, sizeBytes: 0, mtimeMs: 0 };
