/**
 * The daemon's durable state behind a small interface: one implementation file per SQLite
 * library (`sqlite-daemon-store.ts` today, node-sqlite3-wasm like the index server), so a
 * switch of library changes one file. Every write is its own committed transaction: after a
 * `kill -9` the store holds each torrent as it was after the last acknowledged API call.
 */
import type { FileRisk } from '../metainfo/file-risk.js';

export type TorrentRunState = 'active' | 'paused';

/** How the torrent was added: `.torrent` bytes (or bytes built once a magnet's metadata came), or a magnet. */
export type TorrentSource =
  | { readonly kind: 'torrent'; readonly bytes: Uint8Array }
  | { readonly kind: 'magnet'; readonly uri: string };

export interface TorrentLimitsRecord {
  /** Bytes/s, null for unlimited. */
  readonly downloadBps: number | null;
  readonly uploadBps: number | null;
}

export interface SeedGoals {
  /** Stop seeding at this upload/download ratio (null: no goal). */
  readonly ratio: number | null;
  /** Stop seeding after this many seconds of seeding (null: no goal). */
  readonly seedSeconds: number | null;
}

/**
 * A torrent's last status, kept for when it is not in the engine (paused, or waiting in the
 * queue): what the list shows of it without opening its storage. Written when it leaves the
 * engine and when it completes.
 */
export interface TorrentSnapshot {
  readonly name: string;
  readonly progress: number;
  readonly wantedBytes: number;
  readonly verifiedBytes: number;
  readonly downloadedBytes: number;
  readonly uploadedBytes: number;
  readonly totalBytes: number | null;
  readonly fileCount: number | null;
  /** File names that look disguised (metainfo/file-risk.ts), found when the metainfo was known. */
  readonly nameRisks?: readonly FileRisk[];
}

export interface TorrentRecord {
  /** Small stable number (Transmission RPC ids), assigned by the store. */
  readonly id: number;
  /** Hex wire info-hash, the engine's key. */
  readonly infoHash: string;
  readonly source: TorrentSource;
  /** Also kept for a torrent whose metadata came later, to show where it came from. */
  readonly magnet: string | null;
  readonly downloadDir: string;
  readonly state: TorrentRunState;
  readonly addedAtMs: number;
  readonly labels: readonly string[];
  /** Per-file priorities (0..7) once known; null means every file at the default. */
  readonly filePriorities: readonly number[] | null;
  readonly limits: TorrentLimitsRecord;
  readonly seedGoals: SeedGoals;
  /** Null until the torrent first left the engine or completed. */
  readonly snapshot: TorrentSnapshot | null;
}

export type NewTorrentRecord = Omit<TorrentRecord, 'id'>;

export type TorrentPatch = Partial<
  Pick<
    TorrentRecord,
    'source' | 'state' | 'labels' | 'filePriorities' | 'limits' | 'seedGoals' | 'downloadDir' | 'snapshot'
  >
>;

export interface DaemonStore {
  listTorrents(): TorrentRecord[];
  getTorrent(infoHash: string): TorrentRecord | null;
  /** Insert (or return the existing record of the same info-hash). */
  insertTorrent(record: NewTorrentRecord): TorrentRecord;
  updateTorrent(infoHash: string, patch: TorrentPatch): TorrentRecord | null;
  deleteTorrent(infoHash: string): void;
  /** Settings as JSON values by name. */
  getSettings(): Record<string, unknown>;
  setSettings(values: Readonly<Record<string, unknown>>): void;
  close(): void;
}
