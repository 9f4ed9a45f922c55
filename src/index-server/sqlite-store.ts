import type { EntryBody } from './entry.js';
import { entryId } from './entry.js';
import { IndexError } from './errors.js';
import { SHARD_ROWS, SqliteIndexDb } from './sqlite-db.js';
import { ResultCache, searchSqlite } from './sqlite-search.js';
import {
  type AuditRecord,
  claimedHashes,
  decidePublish,
  decideRemove,
  type Existing,
  type HealthCandidate,
  type HealthUpdate,
  type IndexStats,
  type IndexStore,
  MAX_AUDIT_LIMIT,
  type PublishInput,
  type PublishOutcome,
  pickByHash,
  type SearchPage,
  type SearchRequest,
  type StoredEntry,
} from './store.js';
import { entryColumns, type Row, rowToAuditRecord, rowToEntry, rowToExisting } from './store-rows.js';

export { SHARD_ROWS };

/** A row found by `existing`; `rowid` only for a live entry. */
type Found = Existing & { readonly rowid?: number };

/**
 * The embedded index store: SQLite through the native better-sqlite3, with FTS5 tables
 * (sharded by rowid, see SHARD_ROWS in sqlite-db.ts) over title, description, tags and file
 * names, plus a `meta` column of filter tokens. The FTS tables are contentless
 * (`contentless_delete=1`): the text lives once, in `entries`, and the index only holds
 * postings, which keeps the file small. Ranking is bm25 (title weighs most), then seeders.
 * The file is in WAL mode and memory-mapped. Three files: sqlite-db.ts (connection, schema,
 * migration, shards, statements), sqlite-search.ts (queries), this one (writes).
 *
 * Measured: better-sqlite3 runs the same FTS5 statements ~1.5–2× faster than the WASM build
 * used before (issue 15). Not taken: `detail=column`/`none` would shrink the posting lists
 * but FTS5 then refuses phrase queries.
 *
 * One process per file: the result cache and the shard list are this process's.
 */
export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  readonly file: string;
  /** SQLite page cache in KiB (default 32 MiB). */
  readonly cacheKiB?: number;
  /** Bytes of the file mapped into memory (default 1 GiB; 0 turns mmap off). */
  readonly mmapBytes?: number;
  /** Search result pages kept for repeated queries (default 256; 0 turns the cache off). */
  readonly resultCacheSize?: number;
  /**
   * Rows per full-text shard (default SHARD_ROWS). For tests (tiny shards exercise the
   * multi-shard paths); a file must always be opened with the same value.
   */
  readonly shardRows?: number;
  /** See SCAN_ROWS (store.ts); for tests. */
  readonly scanRows?: number;
}

const INSERT_ENTRY = `INSERT INTO entries (info_hash_v2, name, title, description, tags, category, files, trackers,
  size_bytes, seq, signature, id, publisher, published_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const UPDATE_ENTRY = `UPDATE entries SET info_hash_v2 = ?, name = ?, title = ?, description = ?, tags = ?, category = ?,
  files = ?, trackers = ?, size_bytes = ?, seq = ?, signature = ?, updated_at = ? WHERE rowid = ?`;
const LIVE_BY_HASH = `SELECT rowid, id, info_hash_v2, publisher, seq FROM entries
  WHERE id IN (SELECT value FROM json_each(@list)) OR info_hash_v2 IN (SELECT value FROM json_each(@list))`;
const DEAD_BY_HASH = `SELECT id, info_hash_v2, publisher, seq, taken_down FROM tombstones
  WHERE id IN (SELECT value FROM json_each(@list)) OR info_hash_v2 IN (SELECT value FROM json_each(@list))`;

export class SqliteIndexStore implements IndexStore {
  private readonly d: SqliteIndexDb;
  private readonly cache: ResultCache;

  constructor(options: SqliteStoreOptions) {
    this.cache = new ResultCache(options.resultCacheSize ?? 256);
    this.d = new SqliteIndexDb({
      file: options.file,
      ...(options.cacheKiB === undefined ? {} : { cacheKiB: options.cacheKiB }),
      ...(options.mmapBytes === undefined ? {} : { mmapBytes: options.mmapBytes }),
      ...(options.shardRows === undefined ? {} : { shardRows: options.shardRows }),
      ...(options.scanRows === undefined ? {} : { scanRows: options.scanRows }),
    });
    // Any write drops the cached result pages, so a cached page is never stale.
    this.d.onWrite = () => this.cache.clear();
  }

  /** Every live row and tombstone holding any of `hashes`, as id or as v2 hash. */
  private existing(hashes: readonly string[]): Found[] {
    const list = { list: JSON.stringify(hashes) };
    const live = this.d.stmt(LIVE_BY_HASH).all(list) as Row[];
    const dead = this.d.stmt(DEAD_BY_HASH).all(list) as Row[];
    return [
      ...live.map((r) => ({ ...rowToExisting(r), rowid: Number(r.rowid), isLive: true, isTakenDown: false })),
      ...dead.map((r) => ({ ...rowToExisting(r), isLive: false, isTakenDown: Number(r.taken_down) === 1 })),
    ];
  }

  private publishOne(input: PublishInput, nowMs: number): PublishOutcome {
    const e = input.entry;
    const id = entryId(e);
    const { action, own } = decidePublish(this.existing(claimedHashes(e)), e);
    const rowid = own?.rowid;
    if (action === 'update' && rowid !== undefined) {
      this.d.unindexText(rowid);
      this.d.stmt(UPDATE_ENTRY).run(...entryColumns(e), e.seq, input.signature, nowMs, rowid);
      this.d.indexText(rowid, e);
      return 'updated';
    }
    if (own) this.d.stmt('DELETE FROM tombstones WHERE id = ?').run(own.id);
    this.insert(e, input.signature, id, nowMs);
    return 'created';
  }

  async publish(input: PublishInput, nowMs: number): Promise<PublishOutcome> {
    return this.d.transaction(() => this.publishOne(input, nowMs));
  }

  /**
   * One transaction for the whole batch: one WAL commit instead of one per entry. A batch of
   * new entries (the bulk-load case: no key in it is live, buried or repeated) skips the
   * per-entry ownership lookups: one lookup of all its keys says none exists, and the
   * transaction keeps that true. Anything else takes the per-entry path.
   */
  async publishBatch(inputs: readonly PublishInput[], nowMs: number): Promise<void> {
    const keys = new Set<string>();
    let fresh = true;
    for (const { entry } of inputs)
      for (const k of claimedHashes(entry)) {
        if (keys.has(k)) fresh = false;
        keys.add(k);
      }
    this.d.transaction(() => {
      if (fresh && this.existing([...keys]).length === 0)
        for (const { entry: e, signature } of inputs) this.insert(e, signature, entryId(e), nowMs);
      else for (const input of inputs) this.publishOne(input, nowMs);
    });
  }

  private insert(e: EntryBody, signature: string, id: string, nowMs: number): void {
    const r = this.d
      .stmt(INSERT_ENTRY)
      .run(...entryColumns(e), e.seq, signature, id, e.publisher, nowMs, nowMs);
    this.d.indexText(Number(r.lastInsertRowid), e);
  }

  async remove(hash: string, publisher: string, seq: number, _nowMs: number): Promise<void> {
    this.d.transaction(() => {
      const found = pickByHash(this.existing([hash]));
      decideRemove(found, publisher, seq);
      this.bury(found!, publisher, seq, false);
    });
  }

  /** Replace the live row (if any) by a tombstone that keeps both hashes; a takedown sticks. */
  private bury(found: Found, publisher: string, seq: number, isTakedown: boolean): void {
    if (found.rowid !== undefined) {
      this.d.unindexText(found.rowid);
      this.d.stmt('DELETE FROM entries WHERE rowid = ?').run(found.rowid);
    }
    this.d
      .stmt(
        `INSERT INTO tombstones (id, info_hash_v2, publisher, seq, taken_down) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, taken_down = max(taken_down, excluded.taken_down)`,
      )
      .run(found.id, found.infoHashV2, publisher, seq, isTakedown ? 1 : 0);
  }

  async get(hash: string): Promise<StoredEntry | null> {
    const row = this.d.one('SELECT * FROM entries WHERE id = ? OR info_hash_v2 = ?', hash, hash);
    return row ? rowToEntry(row, parseJson) : null;
  }

  /** See searchSqlite; results are cached (bounded LRU, keyed by the request), dropped on any write. */
  async search(req: SearchRequest): Promise<SearchPage> {
    const key = this.cache.enabled ? JSON.stringify([req.query, req.filters, req.page, req.perPage]) : '';
    const cached = this.cache.get(key);
    if (cached) return cached;
    const page = searchSqlite(this.d, req);
    this.cache.set(key, page);
    return page;
  }

  async takedown(hash: string, reason: string, actor: string, nowMs: number): Promise<void> {
    this.d.transaction(() => {
      const found = pickByHash(this.existing([hash]));
      if (!found || (!found.isLive && found.isTakenDown)) throw new IndexError('NOT_FOUND', 'no such entry');
      this.bury(found, found.publisher, found.seq, true);
      this.d
        .stmt('INSERT INTO audit_log (id, action, reason, actor, at) VALUES (?, ?, ?, ?, ?)')
        .run(found.id, 'takedown', reason, actor, nowMs);
    });
  }

  async auditLog(limit: number): Promise<AuditRecord[]> {
    const n = Math.max(1, Math.min(MAX_AUDIT_LIMIT, Math.floor(limit)));
    const rows = this.d.stmt('SELECT * FROM audit_log ORDER BY n DESC LIMIT ?').all(n) as Row[];
    return rows.map(rowToAuditRecord);
  }

  async healthCandidates(limit: number, checkedBeforeMs: number): Promise<HealthCandidate[]> {
    const rows = this.d
      .stmt(
        `SELECT id, info_hash_v2, trackers FROM entries WHERE checked_at IS NULL OR checked_at < ?
         ORDER BY checked_at IS NOT NULL, checked_at LIMIT ?`,
      )
      .all(checkedBeforeMs, Math.max(1, Math.floor(limit))) as Row[];
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
    this.d.transaction(() => {
      const update = this.d.stmt('UPDATE entries SET seeders = ?, leechers = ?, checked_at = ? WHERE id = ?');
      for (const u of updates) update.run(u.seeders, u.leechers, u.checkedAtMs, u.id);
    });
  }

  async stats(): Promise<IndexStats> {
    const one = (sql: string): number => Number(this.d.one(sql)?.n ?? 0);
    return {
      entries: one('SELECT count(*) AS n FROM entries'),
      publishers: one('SELECT count(DISTINCT publisher) AS n FROM entries'),
      tombstones: one('SELECT count(*) AS n FROM tombstones'),
      takedowns: one('SELECT count(*) AS n FROM tombstones WHERE taken_down = 1'),
    };
  }

  async close(): Promise<void> {
    this.d.close();
  }
}

const parseJson = (v: unknown): unknown => JSON.parse(String(v));
