import sqlite from 'node-sqlite3-wasm';
import type { EntryBody } from './entry.js';
import { entryId, totalSize } from './entry.js';
import { IndexError } from './errors.js';
import { hasText, indexTokens, toFts5 } from './query.js';
import {
  type AuditRecord,
  CANDIDATE_WINDOW,
  checkPaging,
  decidePublish,
  decideRemove,
  type Existing,
  fileNamesText,
  type HealthCandidate,
  type HealthUpdate,
  type IndexStats,
  type IndexStore,
  MAX_AUDIT_LIMIT,
  type PublishInput,
  type PublishOutcome,
  type SearchFilters,
  type SearchPage,
  type SearchRequest,
  type StoredEntry,
  toSearchHit,
} from './store.js';

type Database = InstanceType<typeof sqlite.Database>;
type Row = Record<string, unknown>;

/**
 * The embedded index store: SQLite (node-sqlite3-wasm, no native build) with an FTS5 table
 * over title, description, tags and file names. The FTS table is contentless
 * (`contentless_delete=1`): the text lives once, in `entries`, and the index only holds
 * postings, which keeps the file small. Ranking is bm25 (title weighs most), then seeders.
 */
export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  readonly file: string;
  /** SQLite page cache in KiB (default 32 MiB). */
  readonly cacheKiB?: number;
}

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
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(
  title, description, tags, files,
  content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
);
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

// bm25 column weights: title, description, tags, files.
const RANK = 'bm25(entries_fts, 10.0, 1.0, 4.0, 2.0)';
const MAX_CACHED_STATEMENTS = 64;

export class SqliteIndexStore implements IndexStore {
  private readonly db: Database;
  private readonly statements = new Map<string, ReturnType<Database['prepare']>>();

  constructor(options: SqliteStoreOptions) {
    this.db = new sqlite.Database(options.file);
    this.db.exec(`PRAGMA cache_size = -${options.cacheKiB ?? 32 * 1024}; PRAGMA synchronous = NORMAL;`);
    this.db.exec(SCHEMA);
  }

  private stmt(sql: string): ReturnType<Database['prepare']> {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.clearStatements();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private clearStatements(): void {
    for (const s of this.statements.values()) s.finalize();
    this.statements.clear();
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private existing(id: string, v2: string | null): (Existing & { rowid?: number; id: string }) | null {
    const live = this.stmt(
      'SELECT rowid, id, publisher, seq FROM entries WHERE id = ? OR (? IS NOT NULL AND info_hash_v2 = ?)',
    ).get([id, v2, v2]) as Row | null;
    if (live)
      return {
        rowid: Number(live.rowid),
        id: String(live.id),
        publisher: String(live.publisher),
        seq: Number(live.seq),
        isLive: true,
        isTakenDown: false,
      };
    const dead = this.stmt(
      'SELECT id, publisher, seq, taken_down FROM tombstones WHERE id = ? OR (? IS NOT NULL AND info_hash_v2 = ?)',
    ).get([id, v2, v2]) as Row | null;
    if (!dead) return null;
    return {
      id: String(dead.id),
      publisher: String(dead.publisher),
      seq: Number(dead.seq),
      isLive: false,
      isTakenDown: Number(dead.taken_down) === 1,
    };
  }

  private publishOne(input: PublishInput, nowMs: number): PublishOutcome {
    const e = input.entry;
    const id = entryId(e);
    const found = this.existing(id, e.infoHashV2);
    if (found && found.id !== id)
      throw new IndexError('ENTRY_EXISTS', 'another entry already holds one of these info-hashes');
    const action = decidePublish(found, e);
    if (action === 'update' && found?.rowid !== undefined) {
      this.stmt('DELETE FROM entries_fts WHERE rowid = ?').run([found.rowid]);
      this.stmt(
        `UPDATE entries SET info_hash_v2 = ?, name = ?, title = ?, description = ?, tags = ?, category = ?,
           files = ?, trackers = ?, size_bytes = ?, seq = ?, signature = ?, updated_at = ? WHERE rowid = ?`,
      ).run([...this.columns(e), e.seq, input.signature, nowMs, found.rowid]);
      this.indexText(found.rowid, e);
      return 'updated';
    }
    if (found) this.stmt('DELETE FROM tombstones WHERE id = ?').run([found.id]);
    const r = this.stmt(
      `INSERT INTO entries (info_hash_v2, name, title, description, tags, category, files, trackers, size_bytes,
         seq, signature, id, publisher, published_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run([...this.columns(e), e.seq, input.signature, id, e.publisher, nowMs, nowMs]);
    this.indexText(Number(r.lastInsertRowid), e);
    return 'created';
  }

  private columns(e: EntryBody): (string | number | null)[] {
    return [
      e.infoHashV2,
      e.name,
      e.title,
      e.description,
      JSON.stringify(e.tags),
      e.category,
      JSON.stringify(e.files),
      JSON.stringify(e.trackers),
      totalSize(e.files),
    ];
  }

  private indexText(rowid: number, e: EntryBody): void {
    this.stmt('INSERT INTO entries_fts (rowid, title, description, tags, files) VALUES (?, ?, ?, ?, ?)').run([
      rowid,
      indexTokens(`${e.title}\n${e.name}`),
      indexTokens(e.description),
      indexTokens(e.tags.join(' ')),
      indexTokens(fileNamesText(e.files)),
    ]);
  }

  async publish(input: PublishInput, nowMs: number): Promise<PublishOutcome> {
    return this.transaction(() => this.publishOne(input, nowMs));
  }

  async publishBatch(inputs: readonly PublishInput[], nowMs: number): Promise<void> {
    this.transaction(() => {
      for (const input of inputs) this.publishOne(input, nowMs);
    });
  }

  async remove(hash: string, publisher: string, seq: number, _nowMs: number): Promise<void> {
    this.transaction(() => {
      const found = this.existing(hash, hash);
      decideRemove(found, publisher, seq);
      this.bury(found!, publisher, seq, false);
    });
  }

  private bury(
    found: Existing & { rowid?: number; id: string },
    publisher: string,
    seq: number,
    isTakedown: boolean,
  ): void {
    const row = this.stmt('SELECT info_hash_v2 FROM entries WHERE rowid = ?').get([
      found.rowid ?? -1,
    ]) as Row | null;
    const v2 = (row?.info_hash_v2 as string | null | undefined) ?? null;
    if (found.rowid !== undefined) {
      this.stmt('DELETE FROM entries_fts WHERE rowid = ?').run([found.rowid]);
      this.stmt('DELETE FROM entries WHERE rowid = ?').run([found.rowid]);
    }
    this.stmt(
      `INSERT INTO tombstones (id, info_hash_v2, publisher, seq, taken_down) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, taken_down = max(taken_down, excluded.taken_down)`,
    ).run([found.id, v2, publisher, seq, isTakedown ? 1 : 0]);
  }

  async get(hash: string): Promise<StoredEntry | null> {
    const row = this.stmt('SELECT * FROM entries WHERE id = ? OR info_hash_v2 = ?').get([
      hash,
      hash,
    ]) as Row | null;
    return row ? rowToEntry(row) : null;
  }

  async search(req: SearchRequest): Promise<SearchPage> {
    const { offset, limit } = checkPaging(req.page, req.perPage);
    const { where, params } = filterSql(req.filters);
    let sql: string;
    const values: (string | number)[] = [];
    if (hasText(req.query)) {
      // Rank within the newest CANDIDATE_WINDOW matches: a common word then costs a bounded
      // walk of its posting list (newest first) instead of scoring every match.
      sql = `SELECT e.* FROM (
          SELECT entries_fts.rowid AS rid, ${RANK} AS score FROM entries_fts JOIN entries e ON e.rowid = entries_fts.rowid
          WHERE entries_fts MATCH ?${where.map((w) => ` AND ${w}`).join('')}
          ORDER BY entries_fts.rowid DESC LIMIT ?
        ) c JOIN entries e ON e.rowid = c.rid
        ORDER BY c.score, coalesce(e.seeders, -1) DESC, e.rowid LIMIT ? OFFSET ?`;
      values.push(toFts5(req.query), ...params, Math.max(CANDIDATE_WINDOW, offset + limit + 1));
      params.length = 0;
    } else {
      // Browsing without words: newest first (an index walk, not a sort of every row).
      sql = `SELECT e.* FROM entries e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.published_at DESC, e.rowid DESC LIMIT ? OFFSET ?`;
    }
    values.push(...params, limit + 1, offset);
    const rows = this.stmt(sql).all(values) as Row[];
    const results = rows.slice(0, limit).map((r) => toSearchHit(rowToEntry(r)));
    return { results, page: req.page, perPage: req.perPage, hasMore: rows.length > limit };
  }

  async takedown(hash: string, reason: string, actor: string, nowMs: number): Promise<void> {
    this.transaction(() => {
      const found = this.existing(hash, hash);
      if (!found || (!found.isLive && found.isTakenDown)) throw new IndexError('NOT_FOUND', 'no such entry');
      this.bury(found, found.publisher, found.seq, true);
      this.stmt('INSERT INTO audit_log (id, action, reason, actor, at) VALUES (?, ?, ?, ?, ?)').run([
        found.id,
        'takedown',
        reason,
        actor,
        nowMs,
      ]);
    });
  }

  async auditLog(limit: number): Promise<AuditRecord[]> {
    const n = Math.max(1, Math.min(MAX_AUDIT_LIMIT, Math.floor(limit)));
    const rows = this.stmt('SELECT * FROM audit_log ORDER BY n DESC LIMIT ?').all([n]) as Row[];
    return rows.map((r) => ({
      id: String(r.id),
      action: 'takedown',
      reason: String(r.reason),
      actor: String(r.actor),
      atMs: Number(r.at),
    }));
  }

  async healthCandidates(limit: number, checkedBeforeMs: number): Promise<HealthCandidate[]> {
    const rows = this.stmt(
      `SELECT id, info_hash_v2, trackers FROM entries WHERE checked_at IS NULL OR checked_at < ?
       ORDER BY checked_at IS NOT NULL, checked_at LIMIT ?`,
    ).all([checkedBeforeMs, Math.max(1, Math.floor(limit))]) as Row[];
    return rows.map((r) => {
      const id = String(r.id);
      return {
        id,
        infoHash: id.length === 40 ? id : null,
        infoHashV2: (r.info_hash_v2 as string | null) ?? null,
        trackers: JSON.parse(String(r.trackers)) as string[],
      };
    });
  }

  async updateHealth(updates: readonly HealthUpdate[]): Promise<void> {
    this.transaction(() => {
      for (const u of updates)
        this.stmt('UPDATE entries SET seeders = ?, leechers = ?, checked_at = ? WHERE id = ?').run([
          u.seeders,
          u.leechers,
          u.checkedAtMs,
          u.id,
        ]);
    });
  }

  async stats(): Promise<IndexStats> {
    const one = (sql: string): number => Number((this.stmt(sql).get() as Row | null)?.n ?? 0);
    return {
      entries: one('SELECT count(*) AS n FROM entries'),
      publishers: one('SELECT count(DISTINCT publisher) AS n FROM entries'),
      tombstones: one('SELECT count(*) AS n FROM tombstones'),
      takedowns: one('SELECT count(*) AS n FROM tombstones WHERE taken_down = 1'),
    };
  }

  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    this.clearStatements();
    this.db.close();
  }
}

function filterSql(f: SearchFilters): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (f.category !== undefined) where.push('e.category = ?') && params.push(f.category);
  if (f.minSizeBytes !== undefined) where.push('e.size_bytes >= ?') && params.push(f.minSizeBytes);
  if (f.maxSizeBytes !== undefined) where.push('e.size_bytes <= ?') && params.push(f.maxSizeBytes);
  if (f.sinceMs !== undefined) where.push('e.published_at >= ?') && params.push(f.sinceMs);
  if (f.publisher !== undefined) where.push('e.publisher = ?') && params.push(f.publisher);
  return { where, params };
}

function nullableNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function rowToEntry(r: Row): StoredEntry {
  const id = String(r.id);
  return {
    id,
    infoHash: id.length === 40 ? id : null,
    infoHashV2: (r.info_hash_v2 as string | null) ?? null,
    name: String(r.name),
    files: JSON.parse(String(r.files)),
    trackers: JSON.parse(String(r.trackers)),
    title: String(r.title),
    description: String(r.description),
    tags: JSON.parse(String(r.tags)),
    category: String(r.category),
    seq: Number(r.seq),
    publisher: String(r.publisher),
    signature: String(r.signature),
    sizeBytes: Number(r.size_bytes),
    publishedAtMs: Number(r.published_at),
    updatedAtMs: Number(r.updated_at),
    seeders: nullableNumber(r.seeders),
    leechers: nullableNumber(r.leechers),
    checkedAtMs: nullableNumber(r.checked_at),
  };
}
