/**
 * The daemon's JSON as the page reads it (src/daemon/daemon.ts `TorrentView`, routes-api.ts).
 * Written out here rather than imported, so the browser build never pulls server code in.
 */
export type TorrentState =
  | 'metadata'
  | 'checking'
  | 'downloading'
  | 'seeding'
  | 'paused'
  | 'error'
  | 'stopped';

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
}

export interface TorrentView {
  readonly infoHash: string;
  readonly id: number;
  readonly name: string;
  readonly state: TorrentState;
  readonly progress: number;
  readonly wantedBytes: number;
  readonly verifiedBytes: number;
  readonly downloadedBytes: number;
  readonly uploadedBytes: number;
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly peers: number;
  readonly seeds: number;
  readonly etaSeconds: number | null;
  readonly error: string | null;
  readonly knownPeers?: number;
  readonly sources?: readonly string[];
  readonly downloadDir: string;
  readonly addedAtMs: number;
  readonly labels: readonly string[];
  readonly limits: { readonly downloadBps: number | null; readonly uploadBps: number | null };
  readonly seedGoals: { readonly ratio: number | null; readonly seedSeconds: number | null };
  readonly magnet: string | null;
  readonly totalBytes: number | null;
  readonly fileCount: number | null;
}

export interface FileView {
  readonly index: number;
  readonly path: string;
  readonly lengthBytes: number;
  readonly priority: number;
  readonly verifiedBytes?: number;
}

export interface PeerInfo {
  readonly address: string;
  readonly client: string;
  readonly isIncoming: boolean;
  readonly progress: number;
  readonly downloadRate: number;
  readonly uploadRate: number;
  readonly amChoking: boolean;
  readonly amInterested: boolean;
  readonly peerChoking: boolean;
  readonly peerInterested: boolean;
}

export interface PeerSourceStatus {
  readonly source: string;
  readonly name: string;
  readonly status: 'idle' | 'working' | 'ok' | 'error' | 'stopped';
  readonly peers: number;
  readonly message: string | null;
  readonly nextAnnounceMs: number | null;
}

export interface Settings {
  readonly downloadDir: string;
  readonly globalDownloadBps: number | null;
  readonly globalUploadBps: number | null;
  readonly peerPort: number;
  readonly seedRatio: number | null;
  readonly [key: string]: unknown;
}

export interface SessionStats {
  readonly version: string;
  readonly peerPort: number;
  readonly torrents: number;
  readonly downloadRate: number;
  readonly uploadRate: number;
}

/** One finding of the safe-sharing scan (src/daemon/safe-share.ts), shown before sharing. */
export interface ShareFinding {
  readonly path: string;
  readonly kind?: string;
  readonly reason?: string;
  readonly [key: string]: unknown;
}

export interface ShareResult {
  readonly torrent: TorrentView;
  readonly magnet: string;
  readonly name: string;
  readonly findings: readonly ShareFinding[];
}

export interface BrowseEntry {
  readonly name: string;
  readonly isDir: boolean;
  readonly sizeBytes: number;
}

export interface BrowseResult {
  readonly root: string;
  readonly path: string;
  readonly entries: readonly BrowseEntry[];
}

export interface SearchResult {
  readonly infoHash: string | null;
  readonly infoHashV2: string | null;
  readonly name: string;
  readonly title: string;
  readonly category: string;
  readonly sizeBytes: number;
  readonly magnet: string;
  readonly seeders: number | null;
  readonly leechers: number | null;
  readonly publishedAt: string;
}

/** The diagnosis route's answer (GET /api/torrents/:id/diagnosis), when the daemon has it. */
export interface Diagnosis {
  readonly reasons: readonly {
    readonly code: string;
    readonly message: string;
    readonly severity?: string;
  }[];
  readonly [key: string]: unknown;
}
