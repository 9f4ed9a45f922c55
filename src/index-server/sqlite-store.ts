import sqlite from 'node-sqlite3-wasm';
import type { EntryBody } from './entry.js';
import { entryId } from './entry.js';
import { IndexError } from './errors.js';
import { hasText, indexTokens, type Phrase, toFts5 } from './query.js';
import {
  type AuditRecord,
  CANDIDATE_WINDOW,
  checkPaging,
  claimedHashes,
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
  pickByHash,
  type SearchFilters,
  type SearchPage,
  type SearchRequest,
  type StoredEntry,
  toSearchHit,
} from './store.js';
import { entryColumns, type Row, rowToAuditRecord, rowToEntry, rowToExisting } from './store-rows.js';

type Database = InstanceType<typeof sqlite.Database>;
type Statement = ReturnType<Database['prepare']>;
type BindValues = Parameters<Statement['run']>[0];

/** The three ways the store uses a prepared statement (see `stmt`). */
interface CachedStatement {
  run(values?: BindValues): ReturnType<Statement['run']>;
  all(values?: BindValues): ReturnType<Statement['all']>;
  get(values?: BindValues): ReturnType<Statement['get']>;
}

/** A row found by `existing`; `rowid` only for a live entry. */
type Found = Existing & { readonly rowid?: number };

/**
 * The embedded index store: SQLite (node-sqlite3-wasm, no native build) with FTS5 tables
 * (sharded by rowid, see SHARD_ROWS) over title, description, tags and file names, plus a
 * `meta` column of filter tokens. The FTS tables are contentless (`contentless_delete=1`):
 * the text lives once, in `entries`, and the index only holds postings, which keeps the file
 * small. Ranking is bm25 (title weighs most), then seeders. How a search stays bounded is
 * described at `search`.
 *
 * Measured and not taken (1M entries, see bench/versus/index.ts): native better-sqlite3 runs
 * the same FTS5 statements ~1.5–2× faster than this WASM build, but needs a source build
 * (node-gyp, nodedir) on Node 20; `detail=column`/`none` would shrink the posting lists but
 * FTS5 then refuses phrase queries; `mmap_size` has no effect through the WASM file VFS.
 */
export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  readonly file: string;
  /** SQLite page cache in KiB (default 32 MiB). */
  readonly cacheKiB?: number;
  /** Search result pages kept for repeated queries (default 256; 0 turns the cache off). */
  readonly resultCacheSize?: number;
  /**
   * Rows per full-text shard (default SHARD_ROWS). For tests (tiny shards exercise the
   * multi-shard paths); a file must always be opened with the same value.
   */
  readonly shardRows?: number;
}

/**
 * Schema version (PRAGMA user_version). 2 added the \`meta\` FTS column (filter tokens) and the
 * \`_\` token character; an older file is migrated on open by rebuilding the FTS table.
 */
const SCHEMA_VERSION = 2;

// \`_\` is a token character so that filter tokens (\`_c<category>\`, \`_p<publisher>\`) are one
// token each. Indexed text never contains \`_\` (indexTokens keeps letters and digits only) and
// neither does a parsed query, so a user's words can never match a filter token.
const ftsSchema = (table: string): string => `
CREATE VIRTUAL TABLE IF NOT EXISTS ${table} USING fts5(
  title, description, tags, files, meta,
  content='', contentless_delete=1, tokenize="unicode61 remove_diacritics 2 tokenchars '_'"
);
`;

/**
 * The full-text index is split into shards by rowid: \`entries_fts_<rowid / SHARD_ROWS>\`.
 *
 * Why: FTS5's bm25() computes each phrase's IDF by counting *every* row of the table that
 * matches the phrase, once per query. At a million entries that count, not the walk of the
 * newest matches, was most of a search's time (a common word: ~45 ms; a phrase of two common
 * words: ~175 ms, measured, WASM build). In a shard the count covers SHARD_ROWS rows at most.
 * A search walks the shards newest first and stops once it has CANDIDATE_WINDOW matches, so a
 * common query touches one or two shards; a rare one visits all of them (each cheap).
 *
 * The trade-off: IDF and the average document length are per-shard statistics, so scores of
 * candidates from different shards are estimates of the same global figures rather than
 * exactly comparable (it matters only for queries with fewer matches than the window in the
 * newest shard, and only as ±noise in the IDF of rare words). New entries always land in the
 * newest shard, so old shards stop changing and their segments stay merged.
 */
export const SHARD_ROWS = 1 << 16;
/** Entries (newest) looked at to tell a common phrase from a selective one. */
const PROBE_ROWS = 512;
const SHARD_TABLE = /^entries_fts_(\d+)$/;
const shardTable = (n: number): string => `entries_fts_${n}`;

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

// bm25 column weights: title, description, tags, files, meta (filter tokens never score).
const rank = (table: string): string => `bm25(${table}, 10.0, 1.0, 4.0, 2.0, 0.0)`;
// Several statements per shard (insert, delete, search variants).
const MAX_CACHED_STATEMENTS = 1024;

export class SqliteIndexStore implements IndexStore {
  private readonly db: Database;
  private readonly statements = new Map<string, Statement>();
  private readonly cache: ResultCache;
  private shards: number[] = [];
  private readonly shardRows: number;

  constructor(options: SqliteStoreOptions) {
    this.db = new sqlite.Database(options.file);
    this.cache = new ResultCache(options.resultCacheSize ?? 256);
    this.shardRows = options.shardRows ?? SHARD_ROWS;
    // temp_store=memory: the few sorts SQLite still does (browse pages) never touch temp files.
    this.db.exec(
      `PRAGMA cache_size = -${options.cacheKiB ?? 32 * 1024}; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;`,
    );
    this.db.exec(SCHEMA);
    this.shards = this.loadShards();
    this.migrate();
  }

  private shardOf(rowid: number): number {
    return Math.floor(rowid / this.shardRows);
  }

  /** Shard numbers present in the file, ascending. */
  private loadShards(): number[] {
    const rows = this.db.all(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'entries_fts_%'",
    ) as Row[];
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

  /** Creates the FTS table, or rebuilds it from \`entries\` for a file of an older schema. */
  private migrate(): void {
    const version = Number((this.db.get('PRAGMA user_version') as Row | null)?.user_version ?? 0);
    if (version >= SCHEMA_VERSION) return;
    this.transaction(() => {
      this.db.exec('DROP TABLE IF EXISTS entries_fts');
      for (const n of this.loadShards()) this.db.exec(`DROP TABLE ${shardTable(n)}`);
      this.shards = [];
      const all = this.db.prepare(
        'SELECT rowid, name, title, description, tags, category, files, publisher FROM entries',
      );
      for (const r of all.iterate() as IterableIterator<Row>)
        this.indexText(Number(r.rowid), {
          name: String(r.name),
          title: String(r.title),
          description: String(r.description),
          tags: JSON.parse(String(r.tags)),
          category: String(r.category),
          files: JSON.parse(String(r.files)),
          publisher: String(r.publisher),
        });
      all.finalize();
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }

  /**
   * A cached prepared statement. A statement whose step failed (a constraint, a busy file) is
   * finalised and dropped, never reused: the WASM binding's next bind would fail on the reset
   * that reports the old error, turning the next unrelated request into a 500. `get` steps to
   * the end (all our single-row queries return at most two rows) so that no statement is left
   * mid-step holding a read open.
   */
  private stmt(sql: string): CachedStatement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.clearStatements();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    const prepared = s;
    const guard = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        this.dropStatement(sql, prepared);
        throw err;
      }
    };
    return {
      run: (values) => guard(() => prepared.run(values)),
      all: (values) => guard(() => prepared.all(values)),
      get: (values) => guard(() => prepared.all(values)[0] ?? null),
    };
  }

  private dropStatement(sql: string, s: Statement): void {
    if (this.statements.get(sql) === s) this.statements.delete(sql);
    try {
      s.finalize();
    } catch {
      // finalize reports the failed step's error again; the statement is gone either way.
    }
  }

  private clearStatements(): void {
    for (const [sql, s] of [...this.statements]) this.dropStatement(sql, s);
  }

  /** Every write goes through here, so this is also where the result cache is dropped. */
  private transaction<T>(fn: () => T): T {
    this.cache?.clear();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.rollback();
      throw err;
    }
  }

  /** Roll back whatever the failed transaction did; the connection is usable afterwards. */
  private rollback(): void {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // A statement still in progress can make ROLLBACK fail: drop them all and try again.
      this.clearStatements();
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    }
    this.shards = this.loadShards(); // a shard created in the transaction is gone again
  }

  /** Every live row and tombstone holding any of `hashes`, as id or as v2 hash. */
  private existing(hashes: readonly string[]): Found[] {
    const list = JSON.stringify(hashes);
    const live = this.stmt(
      `SELECT rowid, id, info_hash_v2, publisher, seq FROM entries
       WHERE id IN (SELECT value FROM json_each(?1)) OR info_hash_v2 IN (SELECT value FROM json_each(?1))`,
    ).all([list]) as Row[];
    const dead = this.stmt(
      `SELECT id, info_hash_v2, publisher, seq, taken_down FROM tombstones
       WHERE id IN (SELECT value FROM json_each(?1)) OR info_hash_v2 IN (SELECT value FROM json_each(?1))`,
    ).all([list]) as Row[];
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
      this.unindexText(rowid);
      this.stmt(
        `UPDATE entries SET info_hash_v2 = ?, name = ?, title = ?, description = ?, tags = ?, category = ?,
           files = ?, trackers = ?, size_bytes = ?, seq = ?, signature = ?, updated_at = ? WHERE rowid = ?`,
      ).run([...this.columns(e), e.seq, input.signature, nowMs, rowid]);
      this.indexText(rowid, e);
      return 'updated';
    }
    if (own) this.stmt('DELETE FROM tombstones WHERE id = ?').run([own.id]);
    const r = this.stmt(
      `INSERT INTO entries (info_hash_v2, name, title, description, tags, category, files, trackers, size_bytes,
         seq, signature, id, publisher, published_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run([...this.columns(e), e.seq, input.signature, id, e.publisher, nowMs, nowMs]);
    this.indexText(Number(r.lastInsertRowid), e);
    return 'created';
  }

  private columns(e: EntryBody): (string | number | null)[] {
    return entryColumns(e);
  }

  private indexText(
    rowid: number,
    e: Pick<EntryBody, 'title' | 'name' | 'description' | 'tags' | 'files' | 'category' | 'publisher'>,
  ): void {
    this.stmt(
      `INSERT INTO ${this.shardFor(rowid)} (rowid, title, description, tags, files, meta) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run([
      rowid,
      indexTokens(`${e.title}\n${e.name}`),
      indexTokens(e.description),
      indexTokens(e.tags.join(' ')),
      indexTokens(fileNamesText(e.files)),
      `${categoryToken(e.category)} ${publisherToken(e.publisher)}`,
    ]);
  }

  private unindexText(rowid: number): void {
    if (this.shards.includes(this.shardOf(rowid)))
      this.stmt(`DELETE FROM ${shardTable(this.shardOf(rowid))} WHERE rowid = ?`).run([rowid]);
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
      const found = pickByHash(this.existing([hash]));
      decideRemove(found, publisher, seq);
      this.bury(found!, publisher, seq, false);
    });
  }

  /** Replace the live row (if any) by a tombstone that keeps both hashes; a takedown sticks. */
  private bury(found: Found, publisher: string, seq: number, isTakedown: boolean): void {
    if (found.rowid !== undefined) {
      this.unindexText(found.rowid);
      this.stmt('DELETE FROM entries WHERE rowid = ?').run([found.rowid]);
    }
    this.stmt(
      `INSERT INTO tombstones (id, info_hash_v2, publisher, seq, taken_down) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, taken_down = max(taken_down, excluded.taken_down)`,
    ).run([found.id, found.infoHashV2, publisher, seq, isTakedown ? 1 : 0]);
  }

  async get(hash: string): Promise<StoredEntry | null> {
    const row = this.stmt('SELECT * FROM entries WHERE id = ? OR info_hash_v2 = ?').get([
      hash,
      hash,
    ]) as Row | null;
    return row ? rowToEntry(row, parseJson) : null;
  }

  /**
   * Search. Text queries run in two steps, both bounded:
   *
   * 1. FTS5 alone picks the candidates: the newest CANDIDATE_WINDOW matches (a walk of the
   *    posting lists newest-first that stops at the window; FTS5 consumes \`ORDER BY rowid DESC\`)
   *    with their bm25 score. The category and publisher filters are part of the MATCH (filter
   *    tokens in the \`meta\` column), so FTS5 intersects them like words: exact and selective at
   *    once, never a per-row lookup. Size and date filters need the row: they join
   *    \`entries\` (by rowid) only when present.
   * 2. The candidates are ranked here, in JS, by score; only the ones that can reach the page
   *    (the first offset+perPage+1, plus any tied on score with the last of them) get their
   *    seeders read, for the (score, seeders desc, rowid) order, and only the page's rows are
   *    fetched in full. The old single statement joined every candidate with its (wide,
   *    ~1 KiB) row to sort by seeders: thousands of random page reads per query.
   *
   * Same results as ranking the window in SQL, with far less I/O. What stays linear in the
   * index is FTS5 walking posting lists when a query matches few entries spread over many
   * that contain its words (rarely adjacent common words in a phrase, an exclusion of a word
   * most matches contain): those read the posting lists to the end.
   *
   * Results are cached (bounded LRU, keyed by the request) and the cache is dropped on any write.
   */
  async search(req: SearchRequest): Promise<SearchPage> {
    const { offset, limit } = checkPaging(req.page, req.perPage);
    const key = this.cache.enabled ? JSON.stringify([req.query, req.filters, offset, limit]) : '';
    const cached = this.cache.get(key);
    if (cached) return { ...cached, page: req.page, perPage: req.perPage };
    const rows = hasText(req.query)
      ? this.textSearch(req, offset, limit)
      : this.browse(req.filters, offset, limit);
    const results = rows.slice(0, limit).map((r) => toSearchHit(rowToEntry(r, parseJson)));
    const page: SearchPage = { results, page: req.page, perPage: req.perPage, hasMore: rows.length > limit };
    this.cache.set(key, page);
    return page;
  }

  /**
   * FTS5's bm25() counts, for every phrase of the MATCH, all rows of the table that contain
   * it (for the IDF), on every query. A word most entries contain costs a walk of a huge posting
   * list for that count, yet FTS5 clamps the IDF of a phrase in more than half the rows to
   * ~1e-6: its share of the score is nil. So when a query mixes such common phrases (or filter
   * tokens, which never score) with selective ones, the candidates are matched with the whole
   * expression but scored by a second statement whose MATCH holds only the selective phrases
   * (every candidate matches it), over the candidates' rowid span. Returns that MATCH, or null
   * when one statement does (all phrases selective, or all common: then the common words' tf
   * is the only signal and the dense match stops early anyway).
   *
   * Whether a phrase is common is estimated from the newest PROBE_ROWS entries (a bounded
   * count): a trade-off, as a word can be common lately and rare in older shards.
   */
  private rankMatch(include: readonly Phrase[], hasFilterTokens: boolean): string | null {
    if (include.length < 2 && !hasFilterTokens) return null;
    const top = Number((this.stmt('SELECT max(rowid) AS m FROM entries').get() as Row | null)?.m ?? 0);
    const lo = Math.max(0, top - PROBE_ROWS + 1);
    const live = Number(
      (
        this.stmt('SELECT count(*) AS n FROM entries WHERE rowid BETWEEN ? AND ?').get([
          lo,
          top,
        ]) as Row | null
      )?.n ?? 0,
    );
    if (live === 0) return null;
    const selective: Phrase[] = [];
    for (const p of include) {
      const one = toFts5({ include: [p], exclude: [] });
      let hits = 0;
      for (let n = this.shardOf(top); n >= this.shardOf(lo); n--)
        if (this.shards.includes(n)) {
          const t = shardTable(n);
          hits += Number(
            (
              this.stmt(`SELECT count(*) AS n FROM ${t} WHERE ${t} MATCH ? AND rowid BETWEEN ? AND ?`).get([
                one,
                lo,
                top,
              ]) as Row | null
            )?.n ?? 0,
          );
        }
      if (hits * 2 <= live) selective.push(p);
    }
    if (selective.length === 0 || (selective.length === include.length && !hasFilterTokens)) return null;
    return toFts5({ include: selective, exclude: [] });
  }

  /**
   * Which of the candidates match an excluded phrase. Exclusions filter the candidate window
   * rather than being part of the MATCH: \`a b -c\` with a word \`c\` that most entries
   * contain would otherwise make FTS5 walk (and bm25 count) \`c\`'s whole posting list to find
   * the few entries without it. The trade-off: when an exclusion removes most of the newest
   * matches, fewer results come back (the window is not refilled from older entries).
   */
  private excluded(
    positive: string,
    exclude: readonly Phrase[],
    perShard: ReadonlyMap<number, number[]>,
  ): Set<number> {
    // Candidates that match the positive part AND an excluded phrase: FTS5 intersects the
    // posting lists (skipping through a common excluded word with the rarer positive ones),
    // within the candidates' rowid span, without bm25.
    const match = `(${positive}) AND (${exclude.map((p) => toFts5({ include: [p], exclude: [] })).join(' OR ')})`;
    const out = new Set<number>();
    for (const [shard, ids] of perShard) {
      const t = shardTable(shard);
      const rows = this.stmt(
        `SELECT rowid AS rid FROM ${t} WHERE ${t} MATCH ? AND rowid BETWEEN ? AND ?`,
      ).all([match, Math.min(...ids), Math.max(...ids)]);
      for (const r of rows as Row[]) out.add(Number(r.rid));
    }
    return out;
  }

  /** Browsing without words: newest first (an index walk, not a sort of every row). */
  private browse(filters: SearchFilters, offset: number, limit: number): Row[] {
    const { where, params } = filterSql(filters);
    const sql = `SELECT e.* FROM entries e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.published_at DESC, e.rowid DESC LIMIT ? OFFSET ?`;
    return this.stmt(sql).all([...params, limit + 1, offset]) as Row[];
  }

  private textSearch(req: SearchRequest, offset: number, limit: number): Row[] {
    const f = req.filters;
    let match = toFts5({ include: req.query.include, exclude: [] });
    const tokens: string[] = [];
    if (f.category !== undefined) tokens.push(categoryToken(f.category));
    if (f.publisher !== undefined) tokens.push(publisherToken(f.publisher));
    if (tokens.length) match = `(${match}) AND ${tokens.map((t) => `"${t}"`).join(' AND ')}`;
    const { where, params } = filterSql({
      ...(f.minSizeBytes === undefined ? {} : { minSizeBytes: f.minSizeBytes }),
      ...(f.maxSizeBytes === undefined ? {} : { maxSizeBytes: f.maxSizeBytes }),
      ...(f.sinceMs === undefined ? {} : { sinceMs: f.sinceMs }),
    });
    const window = Math.max(CANDIDATE_WINDOW, offset + limit + 1);
    // Split ranking from matching when some words are common: see rankMatch.
    const rankOn = this.rankMatch(req.query.include, tokens.length > 0);
    let cands: { rid: number; score: number }[] = [];
    const perShard = new Map<number, number[]>();
    for (let i = this.shards.length - 1; i >= 0 && cands.length < window; i--) {
      const t = shardTable(this.shards[i]!);
      const score = rankOn === null ? `${rank(t)} AS score` : '0 AS score';
      const sql = where.length
        ? `SELECT ${t}.rowid AS rid, ${score} FROM ${t} JOIN entries e ON e.rowid = ${t}.rowid
           WHERE ${t} MATCH ? AND ${where.join(' AND ')} ORDER BY ${t}.rowid DESC LIMIT ?`
        : `SELECT rowid AS rid, ${score} FROM ${t} WHERE ${t} MATCH ? ORDER BY rowid DESC LIMIT ?`;
      const ids: number[] = [];
      const found: { rid: number; score: number }[] = [];
      for (const c of this.stmt(sql).all([match, ...params, window - cands.length]) as Row[]) {
        found.push({ rid: Number(c.rid), score: Number(c.score) });
        ids.push(Number(c.rid));
      }
      if (rankOn !== null && ids.length) {
        const scores = new Map<number, number>();
        for (const r of this.stmt(
          `SELECT rowid AS rid, ${rank(t)} AS score FROM ${t} WHERE ${t} MATCH ? AND rowid BETWEEN ? AND ?`,
        ).all([rankOn, ids.at(-1)!, ids[0]!]) as Row[])
          scores.set(Number(r.rid), Number(r.score));
        for (const c of found) c.score = scores.get(c.rid) ?? 0;
      }
      cands.push(...found);
      if (ids.length) perShard.set(this.shards[i]!, ids);
    }
    if (req.query.exclude.length && cands.length) {
      const excluded = this.excluded(match, req.query.exclude, perShard);
      cands = cands.filter((c) => !excluded.has(c.rid));
    }
    if (cands.length <= offset) return [];
    cands.sort((a, b) => a.score - b.score || a.rid - b.rid);
    // Everything that can land on this page (or decide hasMore): the first `need`, plus ties.
    const need = Math.min(cands.length, offset + limit + 1);
    const cut = cands[need - 1]!.score;
    let n = need;
    while (n < cands.length && cands[n]!.score === cut) n++;
    const ids = cands.slice(0, n).map((c) => c.rid);
    const seeders = new Map<number, number>();
    for (const r of this.stmt(
      'SELECT rowid AS rid, coalesce(seeders, -1) AS s FROM entries WHERE rowid IN (SELECT value FROM json_each(?))',
    ).all([JSON.stringify(ids)]) as { rid: number; s: number }[])
      seeders.set(Number(r.rid), Number(r.s));
    const order = cands.slice(0, n);
    order.sort((a, b) => a.score - b.score || seeders.get(b.rid)! - seeders.get(a.rid)! || a.rid - b.rid);
    const pageIds = order.slice(offset, offset + limit + 1).map((c) => c.rid);
    const byId = new Map<number, Row>();
    for (const r of this.stmt('SELECT * FROM entries WHERE rowid IN (SELECT value FROM json_each(?))').all([
      JSON.stringify(pageIds),
    ]) as Row[])
      byId.set(Number(r.rowid), r);
    return pageIds.map((id) => byId.get(id)!).filter((r) => r !== undefined);
  }

  async takedown(hash: string, reason: string, actor: string, nowMs: number): Promise<void> {
    this.transaction(() => {
      const found = pickByHash(this.existing([hash]));
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
    return rows.map(rowToAuditRecord);
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

/** The \`meta\` FTS token of a category (\`[a-z0-9][a-z0-9-]*\`; \`-\` is a separator to FTS5). */
function categoryToken(category: string): string {
  return `_c${category.replaceAll('-', '_')}`;
}

/** The \`meta\` FTS token of a publisher key (64 hex; anything else simply matches nothing). */
function publisherToken(publisher: string): string {
  return `_p${publisher.toLowerCase().replace(/[^0-9a-z]/g, '_')}`;
}

/**
 * A small LRU of search pages. Hot queries (a front page, a popular word) repeat far more
 * often than the index changes; any write clears it, so a cached page is never stale.
 */
class ResultCache {
  private readonly map = new Map<string, SearchPage>();

  constructor(private readonly max: number) {}

  get enabled(): boolean {
    return this.max > 0;
  }

  get(key: string): SearchPage | undefined {
    if (!this.enabled) return undefined;
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }

  set(key: string, page: SearchPage): void {
    if (!this.enabled) return;
    this.map.set(key, page);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  clear(): void {
    this.map.clear();
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

const parseJson = (v: unknown): unknown => JSON.parse(String(v));
