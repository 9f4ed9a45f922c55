import pg from 'pg';
import type { EntryBody } from './entry.js';
import { entryId } from './entry.js';
import { IndexError } from './errors.js';
import { hasText, indexTokens, toPgTsquery } from './query.js';
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
  SCAN_ROWS,
  type SearchFilters,
  type SearchPage,
  type SearchRequest,
  type StoredEntry,
  toSearchHit,
} from './store.js';
import { entryColumns, type Row, rowToAuditRecord, rowToEntry, rowToExisting } from './store-rows.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** A row found by `existing`; `rowid` only for a live entry. */
type Found = Existing & { readonly rowid?: string };

/** PostgreSQL's unique_violation (a UNIQUE index refused a row). */
function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '23505';
}

/**
 * The PostgreSQL index store, for deployments that outgrow one machine. Full-text search is
 * a stored generated `tsvector` (weights: title A, tags B, file names C, description D) with a
 * GIN index; queries are built by `toPgTsquery` from parsed phrases, every phrase a bound
 * parameter to `phraseto_tsquery` (plain text, no operator syntax). Ranking: ts_rank, then
 * seeders. The `simple` configuration (no stemming) matches SQLite's unicode61 tokenizer.
 */
export interface PostgresStoreOptions {
  readonly connectionString: string;
  /**
   * A read replica for searches (`--postgres-read`); writes, reads by hash and the rest use
   * the primary, so a publisher always reads its own writes. A replica lags by its replay delay.
   */
  readonly readConnectionString?: string;
  readonly maxConnections?: number;
  /** Per-statement timeout (default 5 s), so one slow query cannot hold a connection. */
  readonly statementTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  rowid BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  info_hash_v2 TEXT UNIQUE,
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  tags JSONB NOT NULL,
  category TEXT NOT NULL,
  files JSONB NOT NULL,
  trackers JSONB NOT NULL,
  size_bytes BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  publisher TEXT NOT NULL,
  signature TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  seeders INTEGER,
  leechers INTEGER,
  checked_at BIGINT,
  tsv tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_tsv ON entries USING gin(tsv);
CREATE INDEX IF NOT EXISTS entries_published ON entries(published_at);
CREATE INDEX IF NOT EXISTS entries_category ON entries(category, published_at);
CREATE INDEX IF NOT EXISTS entries_publisher ON entries(publisher, published_at);
CREATE INDEX IF NOT EXISTS entries_checked ON entries(checked_at);
CREATE TABLE IF NOT EXISTS tombstones (
  id TEXT PRIMARY KEY,
  info_hash_v2 TEXT,
  publisher TEXT NOT NULL,
  seq BIGINT NOT NULL,
  taken_down BOOLEAN NOT NULL
);
CREATE INDEX IF NOT EXISTS tombstones_v2 ON tombstones(info_hash_v2);
CREATE TABLE IF NOT EXISTS audit_log (
  n BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at BIGINT NOT NULL
);
`;

const ENTRY_COLUMNS =
  'info_hash_v2, name, title, description, tags, category, files, trackers, size_bytes, tsv';

// The tsvector is computed from JS-normalised tokens (see indexTokens), weighted by field.
const TSV_SQL = `setweight(to_tsvector('simple', $10), 'A') || setweight(to_tsvector('simple', $11), 'B') ||
  setweight(to_tsvector('simple', $12), 'C') || setweight(to_tsvector('simple', $13), 'D')`;

/** Rowid spans searched newest first, growing ×8 (see search); the third ends at SCAN_ROWS. */
const SPANS = [16_384, 131_072, SCAN_ROWS, 1_048_576, Number.POSITIVE_INFINITY] as const;

export class PostgresIndexStore implements IndexStore {
  private readonly pool: pg.Pool;
  /** Where searches go: the replica's pool, or the primary's. */
  private readonly read: pg.Pool;

  private constructor(pool: pg.Pool, read: pg.Pool | null) {
    this.pool = pool;
    this.read = read ?? pool;
  }

  /** Connect and create the schema if needed. */
  static async open(options: PostgresStoreOptions): Promise<PostgresIndexStore> {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 8,
      statement_timeout: options.statementTimeoutMs ?? 5000,
    });
    try {
      // Serialise schema creation between processes starting at once.
      await pool.query('SELECT pg_advisory_lock(7346001)');
      await pool.query(SCHEMA);
      await pool.query('SELECT pg_advisory_unlock(7346001)');
    } catch (err) {
      await pool.end();
      throw new IndexError('INDEX_UNAVAILABLE', `PostgreSQL: ${(err as Error).message}`, { cause: err });
    }
    const read = options.readConnectionString
      ? new pg.Pool({
          connectionString: options.readConnectionString,
          max: options.maxConnections ?? 8,
          statement_timeout: options.statementTimeoutMs ?? 5000,
        })
      : null;
    return new PostgresIndexStore(pool, read);
  }

  /**
   * One transaction on one pooled connection. A failure rolls back; a connection whose
   * ROLLBACK fails too is destroyed rather than handed back to the pool in an unknown state.
   */
  private async transaction<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Every live row and tombstone holding any of `hashes`, as id or as v2 hash, row-locked
   * (FOR UPDATE) so that concurrent publishes of one key serialise.
   */
  private async existing(c: Queryable, hashes: readonly string[]): Promise<Found[]> {
    const live = await c.query(
      `SELECT rowid, id, info_hash_v2, publisher, seq FROM entries
       WHERE id = ANY($1::text[]) OR info_hash_v2 = ANY($1::text[]) FOR UPDATE`,
      [hashes],
    );
    const dead = await c.query(
      `SELECT id, info_hash_v2, publisher, seq, taken_down FROM tombstones
       WHERE id = ANY($1::text[]) OR info_hash_v2 = ANY($1::text[]) FOR UPDATE`,
      [hashes],
    );
    return [
      ...(live.rows as Row[]).map((r) => ({
        ...rowToExisting(r),
        rowid: String(r.rowid),
        isLive: true,
        isTakenDown: false,
      })),
      ...(dead.rows as Row[]).map((r) => ({
        ...rowToExisting(r),
        isLive: false,
        isTakenDown: r.taken_down === true,
      })),
    ];
  }

  private async publishOne(c: Queryable, input: PublishInput, nowMs: number): Promise<PublishOutcome> {
    const e = input.entry;
    const id = entryId(e);
    const { action, own } = decidePublish(await this.existing(c, claimedHashes(e)), e);
    const cols = columns(e);
    if (action === 'update' && own?.rowid !== undefined) {
      await c.query(
        `UPDATE entries SET (${ENTRY_COLUMNS}, seq, signature, updated_at) =
           ($1, $2, $3, $4, $5, $6, $7, $8, $9, ${TSV_SQL}, $14, $15, $16) WHERE rowid = $17`,
        [...cols, e.seq, input.signature, nowMs, own.rowid],
      );
      return 'updated';
    }
    if (own) await c.query('DELETE FROM tombstones WHERE id = $1', [own.id]);
    await c.query(
      `INSERT INTO entries (${ENTRY_COLUMNS}, seq, signature, id, publisher, published_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, ${TSV_SQL}, $14, $15, $16, $17, $18, $19)`,
      [...cols, e.seq, input.signature, id, e.publisher, nowMs, nowMs],
    );
    return 'created';
  }

  async publish(input: PublishInput, nowMs: number): Promise<PublishOutcome> {
    return this.withUniqueRetry(() => this.transaction((c) => this.publishOne(c, input, nowMs)));
  }

  /**
   * A batch of new entries (the bulk-load case: no key in it is live, buried or repeated) is
   * one multi-row INSERT over \`unnest\`ed arrays: one round trip instead of three per entry.
   * Anything else (an update, a re-publish after removal, a duplicate key) takes the per-entry
   * path with its ownership and seq checks; both are one transaction, all or nothing. A
   * concurrent publish of one of the keys makes the fast INSERT fail on the unique index; the
   * batch is then retried on the per-entry path, which sees the winner.
   */
  async publishBatch(inputs: readonly PublishInput[], nowMs: number): Promise<void> {
    if (inputs.length === 0) return;
    const keys = new Set<string>();
    let fresh = true;
    for (const { entry } of inputs)
      for (const k of claimedHashes(entry)) {
        if (keys.has(k)) fresh = false;
        keys.add(k);
      }
    if (fresh) {
      try {
        const done = await this.transaction(async (c) => {
          const all = [...keys];
          const hit = await c.query(
            `SELECT 1 FROM entries WHERE id = ANY($1) OR info_hash_v2 = ANY($1)
             UNION ALL SELECT 1 FROM tombstones WHERE id = ANY($1) OR info_hash_v2 = ANY($1) LIMIT 1`,
            [all],
          );
          if (hit.rows.length > 0) return false;
          await this.insertMany(c, inputs, nowMs);
          return true;
        });
        if (done) return;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    await this.withUniqueRetry(() =>
      this.transaction(async (c) => {
        for (const input of inputs) await this.publishOne(c, input, nowMs);
      }),
    );
  }

  private async insertMany(c: Queryable, inputs: readonly PublishInput[], nowMs: number): Promise<void> {
    const cols: unknown[][] = Array.from({ length: 17 }, () => []);
    for (const { entry: e, signature } of inputs) {
      const row = [...columns(e), e.seq, signature, entryId(e), e.publisher];
      for (let i = 0; i < row.length; i++) cols[i]!.push(row[i]);
    }
    await c.query(
      `INSERT INTO entries (${ENTRY_COLUMNS}, seq, signature, id, publisher, published_at, updated_at)
       SELECT v2, name, title, description, tags::jsonb, category, files::jsonb, trackers::jsonb, size,
         setweight(to_tsvector('simple', ta), 'A') || setweight(to_tsvector('simple', tb), 'B') ||
         setweight(to_tsvector('simple', tc), 'C') || setweight(to_tsvector('simple', td), 'D'),
         seq, signature, id, publisher, $17, $17
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[],
         $15::text[], $16::text[], $18::text[])
         AS u(v2, name, title, description, tags, category, files, trackers, size, ta, tb, tc, td, seq,
           signature, id, publisher)`,
      [...cols.slice(0, 16), nowMs, cols[16]],
    );
  }

  /**
   * Two first publishes of one key race on the UNIQUE index; the loser retries and sees the
   * winner (then gets the ownership or HASH_CONFLICT answer). A second violation is reported as
   * HASH_CONFLICT, never as a raw driver error.
   */
  private async withUniqueRetry<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    try {
      return await fn();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new IndexError('HASH_CONFLICT', 'one of these info-hashes already belongs to another entry', {
        cause: err,
      });
    }
  }

  async remove(hash: string, publisher: string, seq: number, _nowMs: number): Promise<void> {
    await this.transaction(async (c) => {
      const found = pickByHash(await this.existing(c, [hash]));
      decideRemove(found, publisher, seq);
      await this.bury(c, found!, publisher, seq, false);
    });
  }

  /** Replace the live row (if any) by a tombstone that keeps both hashes; a takedown sticks. */
  private async bury(
    c: Queryable,
    found: Found,
    publisher: string,
    seq: number,
    isTakedown: boolean,
  ): Promise<void> {
    if (found.rowid !== undefined) await c.query('DELETE FROM entries WHERE rowid = $1', [found.rowid]);
    await c.query(
      `INSERT INTO tombstones (id, info_hash_v2, publisher, seq, taken_down) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, taken_down = tombstones.taken_down OR excluded.taken_down`,
      [found.id, found.infoHashV2, publisher, seq, isTakedown],
    );
  }

  async get(hash: string): Promise<StoredEntry | null> {
    const r = await this.pool.query('SELECT * FROM entries WHERE id = $1 OR info_hash_v2 = $1', [hash]);
    const row = r.rows[0] as Row | undefined;
    return row ? rowToEntry(row, asJson) : null;
  }

  /**
   * Search. Browsing (no words) is an index walk, newest first. A text query ranks the newest
   * CANDIDATE_WINDOW matches (see store.ts), found without touching older ones: the GIN index
   * alone would hand back *every* match (a bitmap of half the table for a common word, each row
   * then read from the heap, rechecked, ranked and sorted: 1.2 s at 500k entries). Instead the
   * candidates are collected newest first in rowid spans that grow ×8 (SPANS), each span a
   * bounded query; a common word fills the window in the first span (16k rows), a rare one
   * reaches the last, unbounded span, where the GIN bitmap is small because the word is rare.
   * Candidates carry only (rowid, score, seeders); they are ordered here and only the page's
   * rows are read in full. The results are exactly those of ranking the newest window in SQL.
   */
  async search(req: SearchRequest): Promise<SearchPage> {
    const { offset, limit } = checkPaging(req.page, req.perPage);
    const rows = hasText(req.query)
      ? await this.textSearch(req, offset, limit)
      : await this.browse(req.filters, offset, limit);
    const results = rows.slice(0, limit).map((row) => toSearchHit(rowToEntry(row, asJson)));
    return { results, page: req.page, perPage: req.perPage, hasMore: rows.length > limit };
  }

  private async browse(filters: SearchFilters, offset: number, limit: number): Promise<Row[]> {
    const params: unknown[] = [];
    const where = filterSql(filters, params);
    params.push(limit + 1, offset);
    const r = await this.read.query(
      `SELECT e.* FROM entries e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY e.published_at DESC, e.rowid DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return r.rows as Row[];
  }

  private async textSearch(req: SearchRequest, offset: number, limit: number): Promise<Row[]> {
    const window = Math.max(CANDIDATE_WINDOW, offset + limit + 1);
    const top = Number((await this.read.query('SELECT coalesce(max(rowid), 0) AS m FROM entries')).rows[0].m);
    const ts = toPgTsquery(req.query, 1);
    const cands: { rid: number; score: number; s: number }[] = [];
    let hi = top;
    const enough = offset + limit + 1;
    for (const span of SPANS) {
      if (cands.length >= window || hi <= 0) break;
      // The second bound (SCAN_ROWS): a page found in the newest entries ends the walk.
      if (cands.length >= enough && hi <= top - SCAN_ROWS) break;
      const lo = span === Number.POSITIVE_INFINITY ? 0 : Math.max(0, top - span);
      const params: unknown[] = [...ts.params];
      const where = filterSql(req.filters, params);
      params.push(hi);
      const upper = `e.rowid <= $${params.length}`;
      let lower = '';
      if (lo > 0) {
        params.push(lo);
        lower = ` AND e.rowid > $${params.length}`;
      }
      params.push(window - cands.length);
      const r = await this.read.query(
        `SELECT e.rowid AS rid, ts_rank(e.tsv, query.q) AS score, coalesce(e.seeders, -1) AS s
         FROM entries e, (SELECT ${ts.sql} AS q) AS query
         WHERE e.tsv @@ query.q AND ${upper}${lower}${where.map((w) => ` AND ${w}`).join('')}
         ORDER BY e.rowid DESC LIMIT $${params.length}`,
        params,
      );
      for (const c of r.rows as Row[])
        cands.push({ rid: Number(c.rid), score: Number(c.score), s: Number(c.s) });
      hi = lo;
    }
    if (cands.length <= offset) return [];
    cands.sort((a, b) => b.score - a.score || b.s - a.s || a.rid - b.rid);
    const ids = cands.slice(offset, offset + limit + 1).map((c) => c.rid);
    const r = await this.read.query('SELECT * FROM entries WHERE rowid = ANY($1::bigint[])', [ids]);
    const byId = new Map((r.rows as Row[]).map((row) => [Number(row.rowid), row]));
    return ids.map((id) => byId.get(id)).filter((row): row is Row => row !== undefined);
  }

  async takedown(hash: string, reason: string, actor: string, nowMs: number): Promise<void> {
    await this.transaction(async (c) => {
      const found = pickByHash(await this.existing(c, [hash]));
      if (!found || (!found.isLive && found.isTakenDown)) throw new IndexError('NOT_FOUND', 'no such entry');
      await this.bury(c, found, found.publisher, found.seq, true);
      await c.query('INSERT INTO audit_log (id, action, reason, actor, at) VALUES ($1, $2, $3, $4, $5)', [
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
    const r = await this.pool.query('SELECT * FROM audit_log ORDER BY n DESC LIMIT $1', [n]);
    return (r.rows as Row[]).map(rowToAuditRecord);
  }

  async healthCandidates(limit: number, checkedBeforeMs: number): Promise<HealthCandidate[]> {
    const r = await this.pool.query(
      `SELECT id, info_hash_v2, trackers FROM entries WHERE checked_at IS NULL OR checked_at < $1
       ORDER BY checked_at ASC NULLS FIRST LIMIT $2`,
      [checkedBeforeMs, Math.max(1, Math.floor(limit))],
    );
    return (r.rows as Row[]).map((row) => {
      const id = String(row.id);
      return {
        id,
        infoHash: id.length === 40 ? id : null,
        infoHashV2: (row.info_hash_v2 as string | null) ?? null,
        trackers: row.trackers as string[],
      };
    });
  }

  async updateHealth(updates: readonly HealthUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.pool.query(
      `UPDATE entries e SET seeders = u.s, leechers = u.l, checked_at = u.c
       FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[]) AS u(id, s, l, c) WHERE e.id = u.id`,
      [
        updates.map((u) => u.id),
        updates.map((u) => u.seeders),
        updates.map((u) => u.leechers),
        updates.map((u) => u.checkedAtMs),
      ],
    );
  }

  async stats(): Promise<IndexStats> {
    const r = await this.pool.query(`SELECT
      (SELECT count(*) FROM entries) AS entries,
      (SELECT count(DISTINCT publisher) FROM entries) AS publishers,
      (SELECT count(*) FROM tombstones) AS tombstones,
      (SELECT count(*) FROM tombstones WHERE taken_down) AS takedowns`);
    const row = r.rows[0] as Row;
    return {
      entries: Number(row.entries),
      publishers: Number(row.publishers),
      tombstones: Number(row.tombstones),
      takedowns: Number(row.takedowns),
    };
  }

  /** Fresh planner statistics (after a bulk load; autovacuum does this on a live server). */
  async maintenance(): Promise<void> {
    // Not under the per-statement timeout: at a million rows VACUUM ANALYZE takes longer.
    const c = await this.pool.connect();
    try {
      await c.query('SET statement_timeout = 0');
      await c.query('VACUUM ANALYZE entries');
      await c.query('RESET statement_timeout');
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    if (this.read !== this.pool) await this.read.end();
    await this.pool.end();
  }
}

function columns(e: EntryBody): unknown[] {
  return [
    ...entryColumns(e),
    indexTokens(`${e.title} ${e.name}`),
    indexTokens(e.tags.join(' ')),
    indexTokens(fileNamesText(e.files)),
    indexTokens(e.description),
  ];
}

function filterSql(f: SearchFilters, params: unknown[]): string[] {
  const where: string[] = [];
  const add = (sql: string, v: unknown): void => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.category !== undefined) add('e.category = ?', f.category);
  if (f.minSizeBytes !== undefined) add('e.size_bytes >= ?', f.minSizeBytes);
  if (f.maxSizeBytes !== undefined) add('e.size_bytes <= ?', f.maxSizeBytes);
  if (f.sinceMs !== undefined) add('e.published_at >= ?', f.sinceMs);
  if (f.publisher !== undefined) add('e.publisher = ?', f.publisher);
  return where;
}

/** `jsonb` columns come back parsed. */
const asJson = (v: unknown): unknown => v;
