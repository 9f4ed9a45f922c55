/**
 * The SQLite index's connection and schema: opening (pragmas), the schema and its migration,
 * the full-text shards, cached prepared statements and transactions. The store's writes
 * (sqlite-store.ts) and searches (sqlite-search.ts) both go through one `SqliteIndexDb`.
 */
import Database from 'better-sqlite3';
import type { EntryBody } from './entry.js';
import { indexTokens } from './query.js';
import { fileNamesText, SCAN_ROWS } from './store.js';
import type { Row } from './store-rows.js';

export type Statement = Database.Statement;

/**
 * Schema version (PRAGMA user_version). 2 added the `meta` FTS column (filter tokens) and the
 * `_` token character; an older file is migrated on open by rebuilding the FTS table.
 */
const SCHEMA_VERSION = 2;

// `_` is a token character so that filter tokens (`_c<category>`, `_p<publisher>`) are one
// token each. Indexed text never contains `_` (indexTokens keeps letters and digits only) and
// neither does a parsed query, so a user's words can never match a filter token.
const ftsSchema = (table: string): string => `
CREATE VIRTUAL TABLE IF NOT EXISTS ${table} USING fts5(
  title, description, tags, files, meta,
  content='', contentless_delete=1, tokenize="unicode61 remove_diacritics 2 tokenchars '_'"
);
`;

/**
 * The full-text index is split into shards by rowid: `entries_fts_<rowid / SHARD_ROWS>`.
 *
 * Why: FTS5's bm25() computes each phrase's IDF by counting *every* row of the table that
 * matches the phrase, once per query. At a million entries that count, not the walk of the
 * newest matches, was most of a search's time (a common word: ~45 ms; a phrase of two common
 * words: ~175 ms, measured, WASM build). In a shard the count covers SHARD_ROWS rows at most.
 * A search walks the shards newest first and stops once it has CANDIDATE_WINDOW matches (or a
 * page of matches within the newest SCAN_ROWS entries), so a
 * common query touches one or two shards; a rare one visits all of them (each cheap).
 *
 * The trade-off: IDF and the average document length are per-shard statistics, so scores of
 * candidates from different shards are estimates of the same global figures rather than
 * exactly comparable (it matters only for queries with fewer matches than the window in the
 * newest shard, and only as ±noise in the IDF of rare words). New entries always land in the
 * newest shard, so old shards stop changing and their segments stay merged.
 */
export const SHARD_ROWS = 1 << 16;
const SHARD_TABLE = /^entries_fts_(\d+)$/;
export const shardTable = (n: number): string => `entries_fts_${n}`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  info_hash_v2 TEXT,
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  category TEXT NOT NULL,
  files TEXT NOT NULL,
  trackers TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  publisher TEXT NOT NULL,
  signature TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  seeders INTEGER,
  leechers INTEGER,
  checked_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_v2 ON entries(info_hash_v2) WHERE info_hash_v2 IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_published ON entries(published_at);
CREATE INDEX IF NOT EXISTS entries_category ON entries(category, published_at);
CREATE INDEX IF NOT EXISTS entries_publisher ON entries(publisher, published_at);
CREATE INDEX IF NOT EXISTS entries_checked ON entries(checked_at);
CREATE TABLE IF NOT EXISTS tombstones (
  id TEXT PRIMARY KEY,
  info_hash_v2 TEXT,
  publisher TEXT NOT NULL,
  seq INTEGER NOT NULL,
  taken_down INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tombstones_v2 ON tombstones(info_hash_v2);
CREATE TABLE IF NOT EXISTS audit_log (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at INTEGER NOT NULL
);
`;

// Several statements per shard (insert, delete, search variants).
const MAX_CACHED_STATEMENTS = 1024;
// Rows re-indexed per read while migrating (better-sqlite3 forbids writes during an iterate).
const MIGRATE_CHUNK = 10_000;

/** The text an entry contributes to the full-text index. */
export type IndexedText = Pick<
  EntryBody,
  'title' | 'name' | 'description' | 'tags' | 'files' | 'category' | 'publisher'
>;

export interface SqliteDbOptions {
  readonly file: string;
  readonly cacheKiB?: number;
  readonly shardRows?: number;
  /** Bytes of the file mapped into memory (default 1 GiB; 0 turns mmap off). */
  readonly mmapBytes?: number;
  /** Newest rows a search walks once it has a page (default SCAN_ROWS; tests set it small). */
  readonly scanRows?: number;
}

export class SqliteIndexDb {
  readonly db: Database.Database;
  readonly shardRows: number;
  readonly scanRows: number;
  /** Shard numbers present in the file, ascending. */
  shards: number[] = [];
  private readonly statements = new Map<string, Statement>();
  /** Called at the start of every write transaction (the result cache drops itself). */
  onWrite: () => void = () => {};

  constructor(options: SqliteDbOptions) {
    this.db = new Database(options.file);
    this.shardRows = options.shardRows ?? SHARD_ROWS;
    this.scanRows = options.scanRows ?? SCAN_ROWS;
    // WAL: searches read while a publish writes, and a commit is one sequential append.
    // synchronous=NORMAL with WAL loses at most the last commits on power loss, never the file.
    // temp_store=memory: the few sorts SQLite still does (browse pages) never touch temp files.
    if (options.file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma(`cache_size = -${options.cacheKiB ?? 32 * 1024}`);
    this.db.pragma(`mmap_size = ${options.mmapBytes ?? 1024 * 1024 * 1024}`);
    this.db.pragma('busy_timeout = 5000');
    // Checkpoint every 64 MiB of WAL rather than 4 MiB: hot index pages written by a burst
    // of publishes are copied back to the file once, not once per 4 MiB.
    this.db.pragma('wal_autocheckpoint = 16384');
    this.db.exec(SCHEMA);
    this.shards = this.loadShards();
    this.migrate();
  }

  shardOf(rowid: number): number {
    return Math.floor(rowid / this.shardRows);
  }

  hasShard(n: number): boolean {
    return this.shards.includes(n);
  }

  private loadShards(): number[] {
    const rows = this.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'entries_fts_%'")
      .all() as Row[];
    const out: number[] = [];
    for (const r of rows) {
      const m = SHARD_TABLE.exec(String(r.name));
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** The shard table for a rowid, created on first use (inside the caller's transaction). */
  private shardFor(rowid: number): string {
    const n = this.shardOf(rowid);
    if (!this.shards.includes(n)) {
      this.db.exec(ftsSchema(shardTable(n)));
      this.shards = [...this.shards, n].sort((a, b) => a - b);
    }
    return shardTable(n);
  }

  /** Creates the FTS shards, or rebuilds them from `entries` for a file of an older schema. */
  private migrate(): void {
    const version = Number(this.db.pragma('user_version', { simple: true }) ?? 0);
    if (version >= SCHEMA_VERSION) return;
    this.transaction(() => {
      this.db.exec('DROP TABLE IF EXISTS entries_fts');
      for (const n of this.loadShards()) this.db.exec(`DROP TABLE ${shardTable(n)}`);
      this.shards = [];
      const chunk = this.db.prepare(
        `SELECT rowid, name, title, description, tags, category, files, publisher FROM entries
         WHERE rowid > ? ORDER BY rowid LIMIT ${MIGRATE_CHUNK}`,
      );
      for (let after = 0; ; ) {
        const rows = chunk.all(after) as Row[];
        if (rows.length === 0) break;
        for (const r of rows)
          this.indexText(Number(r.rowid), {
            name: String(r.name),
            title: String(r.title),
            description: String(r.description),
            tags: JSON.parse(String(r.tags)),
            category: String(r.category),
            files: JSON.parse(String(r.files)),
            publisher: String(r.publisher),
          });
        after = Number(rows.at(-1)!.rowid);
      }
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
  }

  /**
   * A cached prepared statement. better-sqlite3 resets a statement after a failed step, so a
   * statement that failed (a constraint, a busy file) is safe to reuse. The cache is bounded
   * because statement texts name shard tables.
   */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** The first row of a single-row query, or undefined. */
  one(sql: string, ...params: unknown[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  /** Every write goes through here (BEGIN IMMEDIATE: a writer never upgrades a read lock). */
  transaction<T>(fn: () => T): T {
    this.onWrite();
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      this.shards = this.loadShards(); // a shard created in the transaction is gone again
      throw err;
    }
  }

  indexText(rowid: number, e: IndexedText): void {
    this.stmt(
      `INSERT INTO ${this.shardFor(rowid)} (rowid, title, description, tags, files, meta) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      rowid,
      indexTokens(`${e.title}\n${e.name}`),
      indexTokens(e.description),
      indexTokens(e.tags.join(' ')),
      indexTokens(fileNamesText(e.files)),
      `${categoryToken(e.category)} ${publisherToken(e.publisher)}`,
    );
  }

  unindexText(rowid: number): void {
    const n = this.shardOf(rowid);
    if (this.shards.includes(n)) this.stmt(`DELETE FROM ${shardTable(n)} WHERE rowid = ?`).run(rowid);
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (!this.db.open) return;
    this.statements.clear();
    this.db.close();
  }
}

/** The `meta` FTS token of a category (`[a-z0-9][a-z0-9-]*`; `-` is a separator to FTS5). */
export function categoryToken(category: string): string {
  return `_c${category.replaceAll('-', '_')}`;
}

/** The `meta` FTS token of a publisher key (64 hex; anything else simply matches nothing). */
export function publisherToken(publisher: string): string {
  return `_p${publisher.toLowerCase().replace(/[^0-9a-z]/g, '_')}`;
}
