/**
 * The memory `StorageFactory`, for simulations and tests: every torrent's data lives in a
 * `MemoryStorage` whose backing is kept per (download folder, info-hash), so opening the same
 * torrent in the same folder again finds what an earlier instance wrote (a restart), and
 * fast-resume records are kept in memory the same way.
 *
 * The disk is modelled on the injected `Scheduler`: each read, write and flush completes
 * `latencyMs` after it was issued (a number, or a function of the operation for variable
 * latency), behind a FIFO transfer queue (one for reads, one for writes) when `throughputBps` is set. A write's bytes land
 * when it completes, not when it is issued, so variable latency reorders writes the way a
 * real disk queue may — which is what exposes a piece hashed before its last writes landed.
 * With no latency and no throughput cap, operations complete in microtasks (no timer).
 */
import type { Scheduler } from '../util/clock.js';
import {
  createMemoryBacking,
  createMemoryStorage,
  type MemoryBacking,
  type MemoryFaultHook,
  type MemoryStorage,
} from './memory-storage.js';
import {
  type FilePriority,
  pieceLengthOrThrow,
  type Storage,
  type StorageLayout,
  type StoredFileStat,
} from './storage.js';
import type { OpenStorageRequest, StorageFactory } from './storage-factory.js';

/** One operation as the disk model sees it. */
export interface DiskOperation {
  readonly operation: 'read' | 'write' | 'flush';
  readonly lengthBytes: number;
}

export interface DiskModel {
  /** Time from issue to completion (besides queueing), ms; a function gives variable latency. */
  readonly latencyMs?: number | ((op: DiskOperation) => number);
  /**
   * Bytes/s the disk moves (default unlimited). Reads and writes each queue FIFO for it, apart
   * from each other: a read is not held up by a backlog of writes (the page cache serves it,
   * while writeback drains), so it can see a write issued before it that has not landed yet.
   */
  readonly throughputBps?: number;
}

export interface MemoryStorageFactoryOptions {
  /** Runs the disk model's delays, and dates file modifications (needed with a disk model). */
  readonly scheduler?: Scheduler;
  readonly disk?: DiskModel;
  /** Fail operations (see `diskFullAfter`). */
  readonly fault?: MemoryFaultHook;
}

/** Counters of what the modelled disk did. */
export interface DiskStats {
  readonly reads: number;
  readonly writes: number;
  readonly readBytes: number;
  readonly writtenBytes: number;
}

export interface MemoryStorageFactory extends StorageFactory {
  /** Put `content` (the torrent's linear piece space) into (dir, key), as if the files were there. */
  preload(
    layout: StorageLayout,
    place: Pick<OpenStorageRequest, 'dir' | 'key'>,
    content: Uint8Array,
  ): Promise<void>;
  /** The saved fast-resume record of (dir, key), if any. */
  resumeRecord(place: Pick<OpenStorageRequest, 'dir' | 'key'>): Uint8Array | undefined;
  /** Forget the data and record of (dir, key) (a wiped disk). */
  forget(place: Pick<OpenStorageRequest, 'dir' | 'key'>): void;
  stats(): DiskStats;
}

/** See the module comment. */
export function memoryStorageFactory(options: MemoryStorageFactoryOptions = {}): MemoryStorageFactory {
  const backings = new Map<string, MemoryBacking>();
  const records = new Map<string, Uint8Array>();
  const disk = new ModelledDisk(options);
  const placeKey = (p: Pick<OpenStorageRequest, 'dir' | 'key'>) => `${p.dir}\u0000${p.key}`;
  const backingFor = (layout: StorageLayout, place: Pick<OpenStorageRequest, 'dir' | 'key'>) => {
    const key = placeKey(place);
    let backing = backings.get(key);
    if (!backing || backing.files.length !== layout.files.length) {
      backing = createMemoryBacking(layout.files.length);
      backings.set(key, backing);
    }
    return backing;
  };
  const memoryOptions = (priorities?: readonly FilePriority[]) => ({
    ...(options.scheduler ? { clock: options.scheduler } : {}),
    ...(options.fault ? { fault: options.fault } : {}),
    ...(priorities ? { priorities } : {}),
  });
  return {
    name: 'memory',
    async open(layout, request) {
      const inner = createMemoryStorage(layout, {
        ...memoryOptions(request.priorities),
        backing: backingFor(layout, request),
      });
      return disk.isInstant ? inner : new DiskModelStorage(inner, disk);
    },
    async loadResume(request) {
      const bytes = records.get(placeKey(request));
      return bytes ? { ok: true, bytes: bytes.slice() } : { ok: false, reason: 'no resume record' };
    },
    async saveResume(request, bytes) {
      records.set(placeKey(request), bytes.slice());
    },
    async preload(layout, place, content) {
      if (content.length !== layout.storageLengthBytes)
        throw new RangeError(
          `content of ${content.length} bytes for a ${layout.storageLengthBytes}-byte torrent`,
        );
      // Straight into the backing: no fault hook, no disk time (the files were already there).
      const s = createMemoryStorage(layout, {
        ...(options.scheduler ? { clock: options.scheduler } : {}),
        backing: backingFor(layout, place),
      });
      for (let p = 0; p < s.fileMap.pieceCount; p++) {
        const start = p * s.fileMap.pieceLengthBytes;
        await s.writeBlock(p, 0, content.subarray(start, start + s.fileMap.pieceLength(p)));
      }
      await s.close();
    },
    resumeRecord(place) {
      return records.get(placeKey(place));
    },
    forget(place) {
      backings.delete(placeKey(place));
      records.delete(placeKey(place));
    },
    stats: () => disk.stats(),
  };
}

/** The disk: completion times for operations, and counters. */
class ModelledDisk {
  private readonly busyUntilMs = { read: 0, write: 0, flush: 0 };
  private readonly counters = { reads: 0, writes: 0, readBytes: 0, writtenBytes: 0 };
  readonly isInstant: boolean;

  constructor(private readonly options: MemoryStorageFactoryOptions) {
    const d = options.disk;
    this.isInstant = d === undefined || ((d.latencyMs ?? 0) === 0 && d.throughputBps === undefined);
    if (!this.isInstant && !options.scheduler) throw new RangeError('a disk model needs a scheduler');
  }

  stats(): DiskStats {
    return { ...this.counters };
  }

  /** Resolves when `op` completes on the modelled disk. */
  wait(op: DiskOperation): Promise<void> {
    if (op.operation === 'read') {
      this.counters.reads++;
      this.counters.readBytes += op.lengthBytes;
    } else if (op.operation === 'write') {
      this.counters.writes++;
      this.counters.writtenBytes += op.lengthBytes;
    }
    const scheduler = this.options.scheduler!;
    const disk = this.options.disk ?? {};
    const now = scheduler.now();
    let doneMs = now;
    if (disk.throughputBps !== undefined) {
      doneMs = Math.max(now, this.busyUntilMs[op.operation]) + (op.lengthBytes * 1000) / disk.throughputBps;
      this.busyUntilMs[op.operation] = doneMs;
    }
    const latency = typeof disk.latencyMs === 'function' ? disk.latencyMs(op) : (disk.latencyMs ?? 0);
    doneMs += Math.max(0, latency);
    return new Promise((resolve) => {
      scheduler.setTimer(doneMs - now, resolve);
    });
  }
}

/** A memory storage behind the modelled disk: each operation takes effect when it completes. */
class DiskModelStorage implements Storage {
  constructor(
    private readonly inner: MemoryStorage,
    private readonly disk: ModelledDisk,
  ) {}

  get fileMap() {
    return this.inner.fileMap;
  }

  async readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    await this.disk.wait({ operation: 'read', lengthBytes: length });
    return this.inner.readBlock(piece, offset, length);
  }

  async writeBlock(piece: number, offset: number, data: Uint8Array): Promise<void> {
    // The caller may reuse its buffer once we return; the bytes land later, so keep a copy.
    const copy = data.slice();
    await this.disk.wait({ operation: 'write', lengthBytes: data.length });
    return this.inner.writeBlock(piece, offset, copy);
  }

  async readPiece(piece: number): Promise<Uint8Array> {
    const length = pieceLengthOrThrow(this.inner.fileMap, piece);
    await this.disk.wait({ operation: 'read', lengthBytes: length });
    return this.inner.readPiece(piece);
  }

  async hashPiece(piece: number): Promise<Uint8Array> {
    await this.disk.wait({ operation: 'read', lengthBytes: pieceLengthOrThrow(this.inner.fileMap, piece) });
    return this.inner.hashPiece(piece);
  }

  async verifyPiece(piece: number, expected: Uint8Array): Promise<boolean> {
    await this.disk.wait({ operation: 'read', lengthBytes: pieceLengthOrThrow(this.inner.fileMap, piece) });
    return this.inner.verifyPiece(piece, expected);
  }

  setFilePriority(fileIndex: number, priority: FilePriority): Promise<void> {
    return this.inner.setFilePriority(fileIndex, priority);
  }

  filePriority(fileIndex: number): FilePriority {
    return this.inner.filePriority(fileIndex);
  }

  stat(): Promise<StoredFileStat[]> {
    return this.inner.stat();
  }

  async flush(): Promise<void> {
    await this.disk.wait({ operation: 'flush', lengthBytes: 0 });
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
