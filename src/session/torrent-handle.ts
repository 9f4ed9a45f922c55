import type { Metainfo } from '../metainfo/types.js';
import type { FilePriority } from '../storage/storage.js';
import type { PieceRange } from '../swarm/types.js';
import { PeerdropError } from '../util/errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { PeerSourceStatus } from './peer-source.js';
import { type ReaderOptions, TorrentReader } from './torrent-reader.js';
import type { FileStatus, PeerInfo, TorrentEvents, TorrentStatus } from './torrent-types.js';

export { DEFAULT_READAHEAD_BYTES, type ReaderOptions, TorrentReader } from './torrent-reader.js';

/** Per-torrent limits in bytes/s; `Infinity` is unlimited. */
export interface TorrentLimits {
  readonly downloadBps?: number;
  readonly uploadBps?: number;
}

/** What a handle needs from the session's private torrent slot. */
export interface TorrentControl {
  readonly infoHash: string;
  metainfo(): Metainfo | null;
  status(): TorrentStatus;
  isDone(): boolean;
  addPeer(hostPort: string): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  remove(): Promise<void>;
  setFilePriority(fileIndex: number, priority: FilePriority): Promise<void>;
  filePriorities(): FilePriority[] | null;
  setLimits(limits: TorrentLimits): void;
  peers(): PeerInfo[];
  trackers(): PeerSourceStatus[];
  files(): FileStatus[] | null;
  /**
   * Streaming: reader `id` needs pieces `[firstPiece, endPiece)` before all others (an empty
   * range releases them). Absent where nothing downloads (a dormant torrent's handle).
   */
  setStreamWindow?(id: string, window: PieceRange): void;
}

/** How the session raises a handle's events (kept out of the public handle). */
export type TorrentEmit = <K extends keyof TorrentEvents>(
  event: K,
  ...args: Parameters<TorrentEvents[K]>
) => void;

/** Make a handle and the function that raises its events (for the session only). */
export function createTorrentHandle(control: TorrentControl): { handle: TorrentHandle; emit: TorrentEmit } {
  let emit: TorrentEmit | null = null;
  const handle = new TorrentHandle(control, (e) => {
    emit = e;
  });
  return { handle, emit: emit! };
}

/**
 * The public face of one torrent in a session (libtorrent's `torrent_handle`): typed
 * events, a status snapshot, and control. The implementation stays private to the session.
 */
export class TorrentHandle extends TypedEmitter<TorrentEvents> {
  private readerCount = 0;
  /** @internal Made by the session (`createTorrentHandle`). */
  constructor(
    private readonly control: TorrentControl,
    exposeEmit: (emit: TorrentEmit) => void,
  ) {
    super();
    exposeEmit((event, ...args) => this.emit(event, ...args));
  }

  /** Hex v1 info-hash (or truncated v2 for v2-only torrents): the torrent's id in the session. */
  get infoHash(): string {
    return this.control.infoHash;
  }

  /** Null until metadata is known (magnet links). */
  get metainfo(): Metainfo | null {
    return this.control.metainfo();
  }

  status(): TorrentStatus {
    return this.control.status();
  }

  /** Dial this peer (`host:port` or `[v6]:port`). */
  addPeer(hostPort: string): void {
    this.control.addPeer(hostPort);
  }

  pause(): Promise<void> {
    return this.control.pause();
  }

  resume(): Promise<void> {
    return this.control.resume();
  }

  /** Change one file's priority (index as `peerdrop info` lists files; 0 skips the file). */
  setFilePriority(fileIndex: number, priority: FilePriority): Promise<void> {
    return this.control.setFilePriority(fileIndex, priority);
  }

  /** Per-file priorities, or null before the metadata is known. */
  filePriorities(): FilePriority[] | null {
    return this.control.filePriorities();
  }

  /** Per-torrent bandwidth limits in bytes/s (Infinity: unlimited). */
  setLimits(limits: TorrentLimits): void {
    this.control.setLimits(limits);
  }

  /** Each file with its verified bytes and priority, or null before the metadata is known. */
  files(): FileStatus[] | null {
    return this.control.files();
  }

  /** The peers connected now. */
  peers(): PeerInfo[] {
    return this.control.peers();
  }

  /** Each tracker (and other peer source) with its state. */
  trackers(): PeerSourceStatus[] {
    return this.control.trackers();
  }

  /**
   * Stream a file while it downloads: the pieces from `offsetBytes` to `readaheadBytes` ahead
   * are fetched before any other, in order, until the reader moves (`seek`, `advanceTo`) or
   * is closed. Several readers may be open at once (each gets its next piece early). The file
   * index is as `files()` lists them; a file of priority 0 stays skipped (raise it first).
   */
  createReader(fileIndex: number, options: ReaderOptions = {}): TorrentReader {
    const metainfo = this.metainfo;
    if (!metainfo) throw new PeerdropError('TORRENT_METADATA_PENDING', 'the file list is not known yet');
    const file = metainfo.files.filter((f) => !f.attributes.isPadding)[fileIndex];
    if (!file) throw new RangeError(`file ${fileIndex} does not exist`);
    const id = `reader-${++this.readerCount}`;
    return new TorrentReader(file, metainfo.pieceLengthBytes, options, (window) =>
      this.control.setStreamWindow?.(id, window),
    );
  }

  /** Stop and forget the torrent (data on disk is kept). */
  remove(): Promise<void> {
    return this.control.remove();
  }

  /**
   * Resolves when every wanted piece is verified; rejects on a torrent error or when `signal`
   * aborts (the torrent keeps running: abort only stops waiting).
   */
  done(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.control.isDone()) return Promise.resolve();
    const { signal } = options;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        offDone();
        offError();
        signal?.removeEventListener('abort', onAbort);
      };
      const offDone = this.on('done', () => {
        cleanup();
        resolve();
      });
      const offError = this.on('error', (err: Error) => {
        cleanup();
        reject(err);
      });
      const onAbort = () => {
        cleanup();
        reject(signal?.reason ?? new PeerdropError('ABORTED', 'aborted'));
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
