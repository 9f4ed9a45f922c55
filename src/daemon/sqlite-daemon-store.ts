import Database from 'better-sqlite3';
import { PeerdropError } from '../util/errors.js';
import type {
  DaemonStore,
  NewTorrentRecord,
  TorrentPatch,
  TorrentRecord,
  TorrentSnapshot,
  TorrentSource,
} from './store.js';

type Row = Record<string, unknown>;

/** 2: `snapshot` (the last status of a torrent out of the engine). */
const SCHEMA_VERSION = 2;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS torrents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  info_hash TEXT NOT NULL UNIQUE,
  source_kind TEXT NOT NULL CHECK (source_kind IN ('torrent', 'magnet')),
  torrent BLOB,
  magnet TEXT,
  download_dir TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'paused')),
  added_at_ms INTEGER NOT NULL,
  labels TEXT NOT NULL DEFAULT '[]',
  file_priorities TEXT,
  limits TEXT NOT NULL DEFAULT '{"downloadBps":null,"uploadBps":null}',
  seed_goals TEXT NOT NULL DEFAULT '{"ratio":null,"seedSeconds":null}',
  snapshot TEXT
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * The daemon store on SQLite through better-sqlite3 (the index server's library). WAL lets
 * `peerdrop list` read the file while another process writes it; `synchronous = FULL` makes
 * each committed statement survive a `kill -9` and a power loss (with WAL, NORMAL would only
 * survive the former); the daemon writes a few rows per user action, so the cost does not
 * matter. Statements are prepared once (better-sqlite3 keeps them compiled) and reused.
 */
export class SqliteDaemonStore implements DaemonStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    this.db = new Database(file);
    // A second process (the CLI while the daemon writes) waits for the lock instead of failing.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    const version = Number(this.db.pragma('user_version', { simple: true }) ?? 0);
    if (version > SCHEMA_VERSION)
      throw new PeerdropError(
        'DAEMON_STORE_VERSION',
        `${file} was written by a newer peerdrop (schema ${version}); refusing to open it`,
      );
    this.db.exec(SCHEMA);
    // Version 1 files: the table exists without the column (CREATE IF NOT EXISTS left it).
    const columns = this.db.pragma('table_info(torrents)') as { name: string }[];
    if (!columns.some((c) => c.name === 'snapshot'))
      this.db.exec('ALTER TABLE torrents ADD COLUMN snapshot TEXT');
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** A prepared statement, compiled on first use (the SQL texts are a fixed, small set). */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  listTorrents(): TorrentRecord[] {
    return (this.stmt('SELECT * FROM torrents ORDER BY id').all() as Row[]).map(toRecord);
  }

  getTorrent(infoHash: string): TorrentRecord | null {
    const row = this.stmt('SELECT * FROM torrents WHERE info_hash = ?').get(infoHash) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  insertTorrent(r: NewTorrentRecord): TorrentRecord {
    const existing = this.getTorrent(r.infoHash);
    if (existing) return existing;
    this.stmt(
      `INSERT INTO torrents (info_hash, source_kind, torrent, magnet, download_dir, state, added_at_ms,
         labels, file_priorities, limits, seed_goals, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run([
      r.infoHash,
      r.source.kind,
      r.source.kind === 'torrent' ? Buffer.from(r.source.bytes) : null,
      r.source.kind === 'magnet' ? r.source.uri : r.magnet,
      r.downloadDir,
      r.state,
      r.addedAtMs,
      JSON.stringify(r.labels),
      r.filePriorities ? JSON.stringify(r.filePriorities) : null,
      JSON.stringify(r.limits),
      JSON.stringify(r.seedGoals),
      r.snapshot ? JSON.stringify(r.snapshot) : null,
    ]);
    return this.getTorrent(r.infoHash)!;
  }

  updateTorrent(infoHash: string, patch: TorrentPatch): TorrentRecord | null {
    const sets: string[] = [];
    const values: (string | number | Uint8Array | null)[] = [];
    const set = (column: string, value: string | number | Uint8Array | null) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (patch.source) {
      set('source_kind', patch.source.kind);
      if (patch.source.kind === 'torrent') set('torrent', Buffer.from(patch.source.bytes));
    }
    if (patch.state) set('state', patch.state);
    if (patch.labels) set('labels', JSON.stringify(patch.labels));
    if (patch.filePriorities !== undefined)
      set('file_priorities', patch.filePriorities ? JSON.stringify(patch.filePriorities) : null);
    if (patch.limits) set('limits', JSON.stringify(patch.limits));
    if (patch.seedGoals) set('seed_goals', JSON.stringify(patch.seedGoals));
    if (patch.downloadDir !== undefined) set('download_dir', patch.downloadDir);
    if (patch.snapshot !== undefined) set('snapshot', patch.snapshot ? JSON.stringify(patch.snapshot) : null);
    if (sets.length > 0)
      this.stmt(`UPDATE torrents SET ${sets.join(', ')} WHERE info_hash = ?`).run(...values, infoHash);
    return this.getTorrent(infoHash);
  }

  deleteTorrent(infoHash: string): void {
    this.stmt('DELETE FROM torrents WHERE info_hash = ?').run(infoHash);
  }

  getSettings(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const row of this.stmt('SELECT name, value FROM settings').all() as Row[])
      out[String(row.name)] = JSON.parse(String(row.value));
    return out;
  }

  setSettings(values: Readonly<Record<string, unknown>>): void {
    const entries = Object.entries(values);
    if (entries.length === 0) return;
    const upsert = this.stmt(
      'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
    );
    this.db.transaction(() => {
      for (const [name, value] of entries) upsert.run(name, JSON.stringify(value));
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toRecord(row: Row): TorrentRecord {
  const torrent = row.torrent instanceof Uint8Array ? new Uint8Array(row.torrent) : null;
  const magnet = typeof row.magnet === 'string' ? row.magnet : null;
  const source: TorrentSource =
    row.source_kind === 'torrent' && torrent
      ? { kind: 'torrent', bytes: torrent }
      : { kind: 'magnet', uri: magnet ?? '' };
  return {
    id: Number(row.id),
    infoHash: String(row.info_hash),
    source,
    magnet,
    downloadDir: String(row.download_dir),
    state: row.state === 'paused' ? 'paused' : 'active',
    addedAtMs: Number(row.added_at_ms),
    labels: JSON.parse(String(row.labels)) as string[],
    filePriorities: row.file_priorities ? (JSON.parse(String(row.file_priorities)) as number[]) : null,
    limits: JSON.parse(String(row.limits)) as TorrentRecord['limits'],
    seedGoals: JSON.parse(String(row.seed_goals)) as TorrentRecord['seedGoals'],
    snapshot: typeof row.snapshot === 'string' ? (JSON.parse(row.snapshot) as TorrentSnapshot) : null,
  };
}

/** Open the daemon store of a data folder (the one place the SQLite library is chosen). */
export function openDaemonStore(file: string): DaemonStore {
  return new SqliteDaemonStore(file);
}
