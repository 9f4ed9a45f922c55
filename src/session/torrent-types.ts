import type { Metainfo } from '../metainfo/types.js';
import type { SessionWarning } from './events.js';
import type { TorrentState, TorrentStatus } from './status-types.js';

export type { FileStatus, PeerInfo, TorrentState, TorrentStatus } from './status-types.js';

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

export interface PeerEvent {
  readonly kind: 'connected' | 'disconnected' | 'banned';
  readonly address: string;
  readonly client?: string;
  readonly reason?: string;
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
