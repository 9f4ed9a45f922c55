import type { Metainfo } from '../metainfo/types.js';
import { PeerdropError } from '../util/errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { TorrentEvents, TorrentStatus } from './torrent-types.js';

/** What a handle needs from the session's private torrent entry. */
export interface TorrentControl {
  readonly infoHash: string;
  metainfo(): Metainfo | null;
  status(): TorrentStatus;
  isDone(): boolean;
  addPeer(hostPort: string): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * The public face of one torrent in a session (libtorrent's `torrent_handle`): typed
 * events, a status snapshot, and control. The implementation stays private to the session.
 */
export class TorrentHandle extends TypedEmitter<TorrentEvents> {
  constructor(private readonly control: TorrentControl) {
    super();
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

  /** @internal The session forwards the torrent's events through here. */
  dispatch<K extends keyof TorrentEvents>(event: K, ...args: Parameters<TorrentEvents[K]>): void {
    this.emit(event, ...args);
  }
}
