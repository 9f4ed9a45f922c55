/**
 * The daemon's JSON as the page reads it. The torrent, file and peer shapes are the daemon's own
 * (src/daemon/view-types.ts, src/session/status-types.ts: leaves with no server code), imported
 * type-only, so esbuild drops them and the browser bundle never pulls server code in. The rest
 * is written out here: the page reads only these fields of those answers.
 */
import type { TorrentView } from '../src/daemon/view-types.js';

export type { FileView, TorrentView } from '../src/daemon/view-types.js';
export type { PeerInfo } from '../src/session/status-types.js';
/** The engine's states and `queued` (waiting for a slot in the daemon's queue). */
export type TorrentState = TorrentView['state'];

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
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
