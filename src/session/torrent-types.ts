import type { Metainfo } from '../metainfo/types.js';
import type { SessionWarning } from './events.js';

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

/** The status of a torrent that moves no data (before metadata, stopped, failed to start). */
export function idleTorrentStatus(
  infoHash: string,
  name: string,
  state: TorrentState,
  error: string | null = null,
): TorrentStatus {
  return {
    infoHash,
    name,
    state,
    progress: 0,
    wantedBytes: 0,
    verifiedBytes: 0,
    downloadedBytes: 0,
    uploadedBytes: 0,
    downloadRate: 0,
    uploadRate: 0,
    peers: 0,
    seeds: 0,
    etaSeconds: null,
    error,
  };
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

export interface PeerEvent {
  readonly kind: 'connected' | 'disconnected' | 'banned';
  readonly address: string;
  readonly client?: string;
  readonly reason?: string;
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

export interface TorrentEvents {
  [key: string]: (...args: never[]) => void;
  metadata: (metainfo: Metainfo) => void;
  progress: (status: TorrentStatus) => void;
  piece: (piece: number) => void;
  done: () => void;
  error: (err: Error) => void;
  peer: (event: PeerEvent) => void;
  /** Something went wrong that the torrent survives; switch on `code` (see `SessionWarningCodes`). */
  warning: (warning: SessionWarning) => void;
  /** Paused or resumed by the user. */
  paused: () => void;
  resumed: () => void;
}

/** Per-torrent options a user chooses. */
export interface TorrentOptions {
  /** Download folder: every file path is resolved inside it. */
  readonly dir: string;
  /** Indices of files to download, as `peerdrop info` lists them (padding skipped, from 0); all when omitted. */
  readonly files?: readonly number[];
  readonly isSequential?: boolean;
  /** Bytes/s; Infinity or undefined for unlimited. */
  readonly downloadLimit?: number;
  readonly uploadLimit?: number;
  /** Extra peers to dial (`host:port`), e.g. magnet `x.pe`. */
  readonly peers?: readonly string[];
  /** Where fast-resume data is kept (default: a record in the session's state folder, outside `dir`). */
  readonly resumePath?: string;
  /** Trust existing data without hashing (`peerdrop share` just hashed it). */
  readonly isKnownComplete?: boolean;
  /** Max connections for this torrent (default 50). */
  readonly maxPeers?: number;
  /**
   * Serve what is there and never download (`peerdrop seed`): missing or damaged files are
   * reported by name (`SEED_DATA_INCOMPLETE`) and the torrent seeds the pieces it has.
   */
  readonly isSeedOnly?: boolean;
}
