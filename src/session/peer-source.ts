/**
 * Peer sources: everything that tells a torrent about peers — trackers, the DHT, LAN discovery,
 * PEX, `x.pe`/`--peer`, incoming connections — feeds one `PeerBook` per torrent from the
 * moment the torrent is added (the magnet phase included), through the same sink. A new source
 * is a `PeerSourceFactory` in `SessionOptions.peerSources`; nothing in `Torrent` changes.
 */
import type { PeerAddress, PeerOrigin } from '../swarm/peer-book.js';
import type { SessionWarning } from './events.js';

export interface PeerSourceContext {
  /** The 20-byte info-hash peers know the torrent by (v1, or truncated v2). */
  readonly infoHash: Uint8Array;
  /** The full 32-byte v2 info-hash, when the torrent has one (BEP 52 trackers and DHT). */
  readonly infoHashV2: Uint8Array | null;
  /** Tracker tiers from the torrent or magnet link (empty when there are none). */
  readonly announceTiers: readonly (readonly string[])[];
  /** BEP 27: private torrents use only their trackers (no DHT, PEX or LSD). */
  readonly isPrivate: boolean;
  /** Our listen port, for announces. */
  listenPort(): number;
  /** Transfer totals for announces; `left` counts only wanted data still missing. */
  stats(): { uploaded: number; downloaded: number; left: number };
  /** Report peers; the book deduplicates, caps and backs off. */
  addPeers(addresses: readonly PeerAddress[], origin: PeerOrigin): void;
  warn(w: SessionWarning): void;
}

export interface PeerSource {
  readonly name: string;
  start(): void;
  /** The download finished (trackers send `completed`). */
  completed(): void;
  stop(): Promise<void>;
  /** BEP 5: a peer told us its DHT port (`port` message); the DHT adds it as a node. */
  onDhtPort?(address: PeerAddress): void;
  /** Per-source state for status displays (`trackers()` in the handle). */
  describe?(): PeerSourceStatus[];
}

export interface PeerSourceStatus {
  readonly source: string;
  /** Tracker URL, `dht`, `lsd`… */
  readonly name: string;
  readonly status: 'idle' | 'working' | 'ok' | 'error' | 'stopped';
  readonly peers: number;
  readonly message: string | null;
  /** When the next announce is due (scheduler ms), if known. */
  readonly nextAnnounceMs: number | null;
}

/** Makes a torrent's peer source; null when it does not apply (e.g. DHT on a private torrent). */
export interface PeerSourceFactory {
  readonly name: string;
  create(context: PeerSourceContext): PeerSource | null;
}
