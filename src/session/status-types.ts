/**
 * What a torrent shows of itself (status, files, peers): plain data with no imports, shared by the
 * engine, the daemon's API and the web page (ui/ imports these types; nothing of the engine comes
 * with them).
 */
export type TorrentState =
  | 'metadata'
  | 'checking'
  | 'downloading'
  | 'seeding'
  | 'paused'
  | 'error'
  | 'stopped';

/** A snapshot for progress displays and the API; cheap to build once a second. */
export interface TorrentStatus {
  readonly infoHash: string;
  readonly name: string;
  readonly state: TorrentState;
  /** 0..1 over the wanted pieces. */
  readonly progress: number;
  readonly wantedBytes: number;
  readonly verifiedBytes: number;
  readonly downloadedBytes: number;
  readonly uploadedBytes: number;
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly peers: number;
  readonly seeds: number;
  /** Seconds to completion at the current rate, or null when unknown. */
  readonly etaSeconds: number | null;
  readonly error: string | null;
  /** Peer addresses heard of (all sources), and connection attempts under way. */
  readonly knownPeers?: number;
  /** Names of the peer sources running (`tracker`, `dht`, `lsd`…; `manual` peers are always possible). */
  readonly sources?: readonly string[];
}

/** One file of the torrent, as users see it (padding files left out; index as `peerdrop info` lists). */
export interface FileStatus {
  readonly index: number;
  /** Path inside the torrent, components joined with `/`. */
  readonly path: string;
  readonly lengthBytes: number;
  /** Bytes of the file inside verified pieces. */
  readonly verifiedBytes: number;
  /** 0 = skipped, 1..7 = low..high. */
  readonly priority: number;
}

/** One connected peer, for displays and the API. */
export interface PeerInfo {
  /** `ip:port` (IPv6 in brackets). */
  readonly address: string;
  readonly client: string;
  readonly isIncoming: boolean;
  /** 0..1 of the torrent the peer has. */
  readonly progress: number;
  /** Bytes/s from and to the peer. */
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly amChoking: boolean;
  readonly amInterested: boolean;
  readonly peerChoking: boolean;
  readonly peerInterested: boolean;
}
