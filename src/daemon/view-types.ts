/**
 * The torrent and file views the HTTP API, the Transmission RPC and the CLI show: the engine's
 * status plus the daemon's record. A leaf (type imports from leaves only), so the web page
 * (ui/api-types.ts) takes these shapes as they are, with no server code in its build or typecheck.
 */
import type { FileRisk } from '../metainfo/file-risk.js';
import type { TorrentState, TorrentStatus } from '../session/status-types.js';
import type { SeedGoals, TorrentLimitsRecord } from './store.js';

export interface FileView {
  readonly index: number;
  readonly path: string;
  readonly lengthBytes: number;
  readonly priority: number;
}

/** One torrent as the API shows it: the engine's status plus the daemon's record. */
export interface TorrentView extends Omit<TorrentStatus, 'state'> {
  /** The engine's state, or `queued`: waiting for a free slot in the download or seed queue. */
  readonly state: TorrentState | 'queued';
  readonly id: number;
  /** Place in the queue among torrents the user wants running (0 first); null when paused. */
  readonly queuePosition: number | null;
  readonly seededSeconds: number;
  /** Files that look disguised (double extension, bidi characters, content not matching the name). */
  readonly warnings: readonly FileRisk[];
  readonly downloadDir: string;
  readonly addedAtMs: number;
  readonly labels: readonly string[];
  readonly limits: TorrentLimitsRecord;
  readonly seedGoals: SeedGoals;
  readonly magnet: string | null;
  readonly totalBytes: number | null;
  readonly fileCount: number | null;
}
