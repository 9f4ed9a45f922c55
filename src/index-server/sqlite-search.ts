/**
 * Search over the SQLite index: how a query becomes FTS5 statements over the shards, and the
 * ranking done here rather than in SQL. See `search` for how a search stays bounded.
 */

import { hasText, type Phrase, toFts5 } from './query.js';
import { categoryToken, publisherToken, type SqliteIndexDb, shardTable } from './sqlite-db.js';
import {
  CANDIDATE_WINDOW,
  checkPaging,
  type SearchFilters,
  type SearchPage,
  type SearchRequest,
  toSearchHit,
} from './store.js';
import { type Row, rowToEntry } from './store-rows.js';

/** Entries (newest) looked at to tell a common phrase from a selective one. */
const PROBE_ROWS = 512;

// bm25 column weights: title, description, tags, files, meta (filter tokens never score).
const rank = (table: string): string => `bm25(${table}, 10.0, 1.0, 4.0, 2.0, 0.0)`;

const parseJson = (v: unknown): unknown => JSON.parse(String(v));

/**
 * Search. Text queries run in two steps, both bounded:
 *
 * 1. FTS5 alone picks the candidates: the newest CANDIDATE_WINDOW matches (a walk of the
 *    posting lists newest-first that stops at the window; FTS5 consumes `ORDER BY rowid DESC`)
 *    with their bm25 score, walking the shards newest first; once the newest SCAN_ROWS
 *    entries gave a page of matches, older shards are left unread (store.ts). The category
 *    and publisher filters are part of the MATCH (filter tokens in the `meta` column), so
 *    FTS5 intersects them like words: exact and selective at once, never a per-row lookup. Size and date filters need the row: they join
 *    `entries` (by rowid) only when present.
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
 */
export function searchSqlite(d: SqliteIndexDb, req: SearchRequest): SearchPage {
  const { offset, limit } = checkPaging(req.page, req.perPage);
  const rows = hasText(req.query) ? textSearch(d, req, offset, limit) : browse(d, req.filters, offset, limit);
  const results = rows.slice(0, limit).map((r) => toSearchHit(rowToEntry(r, parseJson)));
  return { results, page: req.page, perPage: req.perPage, hasMore: rows.length > limit };
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
function rankMatch(d: SqliteIndexDb, include: readonly Phrase[], hasFilterTokens: boolean): string | null {
  if (include.length < 2 && !hasFilterTokens) return null;
  const top = Number(d.one('SELECT max(rowid) AS m FROM entries')?.m ?? 0);
  const lo = Math.max(0, top - PROBE_ROWS + 1);
  const live = Number(
    d.one('SELECT count(*) AS n FROM entries WHERE rowid BETWEEN ? AND ?', lo, top)?.n ?? 0,
  );
  if (live === 0) return null;
  const selective: Phrase[] = [];
  for (const p of include) {
    const one = toFts5({ include: [p], exclude: [] });
    let hits = 0;
    for (let n = d.shardOf(top); n >= d.shardOf(lo); n--)
      if (d.hasShard(n)) {
        const t = shardTable(n);
        hits += Number(
          d.one(`SELECT count(*) AS n FROM ${t} WHERE ${t} MATCH ? AND rowid BETWEEN ? AND ?`, one, lo, top)
            ?.n ?? 0,
        );
      }
    if (hits * 2 <= live) selective.push(p);
  }
  if (selective.length === 0 || (selective.length === include.length && !hasFilterTokens)) return null;
  return toFts5({ include: selective, exclude: [] });
}

/**
 * Which of the candidates match an excluded phrase. Exclusions filter the candidate window
 * rather than being part of the MATCH: `a b -c` with a word `c` that most entries
 * contain would otherwise make FTS5 walk (and bm25 count) `c`'s whole posting list to find
 * the few entries without it. The trade-off: when an exclusion removes most of the newest
 * matches, fewer results come back (the window is not refilled from older entries).
 */
function excluded(
  d: SqliteIndexDb,
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
    const rows = d
      .stmt(`SELECT rowid AS rid FROM ${t} WHERE ${t} MATCH ? AND rowid BETWEEN ? AND ?`)
      .all(match, Math.min(...ids), Math.max(...ids)) as Row[];
    for (const r of rows) out.add(Number(r.rid));
  }
  return out;
}

/** Browsing without words: newest first (an index walk, not a sort of every row). */
function browse(d: SqliteIndexDb, filters: SearchFilters, offset: number, limit: number): Row[] {
  const { where, params } = filterSql(filters);
  const sql = `SELECT e.* FROM entries e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY e.published_at DESC, e.rowid DESC LIMIT ? OFFSET ?`;
  return d.stmt(sql).all(...params, limit + 1, offset) as Row[];
}

interface Candidate {
  readonly rid: number;
  score: number;
}

function textSearch(d: SqliteIndexDb, req: SearchRequest, offset: number, limit: number): Row[] {
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
  const rankOn = rankMatch(d, req.query.include, tokens.length > 0);
  let cands: Candidate[] = [];
  const perShard = new Map<number, number[]>();
  const enough = offset + limit + 1;
  const newest = Number(d.one('SELECT max(rowid) AS m FROM entries')?.m ?? 0);
  for (let i = d.shards.length - 1; i >= 0 && cands.length < window; i--) {
    // The second bound (SCAN_ROWS): a page found in the newest entries ends the walk.
    if (cands.length >= enough && (d.shards[i]! + 1) * d.shardRows <= newest - d.scanRows) break;
    const t = shardTable(d.shards[i]!);
    const score = rankOn === null ? `${rank(t)} AS score` : '0 AS score';
    const sql = where.length
      ? `SELECT ${t}.rowid AS rid, ${score} FROM ${t} JOIN entries e ON e.rowid = ${t}.rowid
         WHERE ${t} MATCH ? AND ${where.join(' AND ')} ORDER BY ${t}.rowid DESC LIMIT ?`
      : `SELECT rowid AS rid, ${score} FROM ${t} WHERE ${t} MATCH ? ORDER BY rowid DESC LIMIT ?`;
    const ids: number[] = [];
    const found: Candidate[] = [];
    for (const c of d.stmt(sql).all(match, ...params, window - cands.length) as Row[]) {
      found.push({ rid: Number(c.rid), score: Number(c.score) });
      ids.push(Number(c.rid));
    }
    if (rankOn !== null && ids.length) {
      const scores = new Map<number, number>();
      for (const r of d
        .stmt(
          `SELECT rowid AS rid, ${rank(t)} AS score FROM ${t} WHERE ${t} MATCH ? AND rowid BETWEEN ? AND ?`,
        )
        .all(rankOn, ids.at(-1)!, ids[0]!) as Row[])
        scores.set(Number(r.rid), Number(r.score));
      for (const c of found) c.score = scores.get(c.rid) ?? 0;
    }
    cands.push(...found);
    if (ids.length) perShard.set(d.shards[i]!, ids);
  }
  if (req.query.exclude.length && cands.length) {
    const out = excluded(d, match, req.query.exclude, perShard);
    cands = cands.filter((c) => !out.has(c.rid));
  }
  if (cands.length <= offset) return [];
  return pageRows(d, cands, offset, limit);
}

/**
 * Orders the candidates by (score, seeders desc, rowid) and fetches the page's rows. Only what
 * can land on this page (or decide hasMore) gets its seeders read: the first
 * offset+limit+1 by score, plus any tied with the last of them.
 */
function pageRows(d: SqliteIndexDb, cands: Candidate[], offset: number, limit: number): Row[] {
  cands.sort((a, b) => a.score - b.score || a.rid - b.rid);
  const need = Math.min(cands.length, offset + limit + 1);
  const cut = cands[need - 1]!.score;
  let n = need;
  while (n < cands.length && cands[n]!.score === cut) n++;
  const order = cands.slice(0, n);
  const seeders = new Map<number, number>();
  for (const r of d
    .stmt(
      'SELECT rowid AS rid, coalesce(seeders, -1) AS s FROM entries WHERE rowid IN (SELECT value FROM json_each(?))',
    )
    .all(JSON.stringify(order.map((c) => c.rid))) as Row[])
    seeders.set(Number(r.rid), Number(r.s));
  order.sort((a, b) => a.score - b.score || seeders.get(b.rid)! - seeders.get(a.rid)! || a.rid - b.rid);
  const pageIds = order.slice(offset, offset + limit + 1).map((c) => c.rid);
  const byId = new Map<number, Row>();
  for (const r of d
    .stmt('SELECT * FROM entries WHERE rowid IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(pageIds)) as Row[])
    byId.set(Number(r.rowid), r);
  return pageIds.map((id) => byId.get(id)).filter((r): r is Row => r !== undefined);
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

/**
 * A small LRU of search pages. Hot queries (a front page, a popular word) repeat far more
 * often than the index changes; any write clears it, so a cached page is never stale.
 */
export class ResultCache {
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
