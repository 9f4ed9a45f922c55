import { type EntryBody, type EntryFile, entryId, entryMagnet } from './entry.js';
import { IndexError } from './errors.js';
import type { ParsedQuery } from './query.js';

/**
 * The one storage interface of the index, implemented by `sqlite-store.ts` (embedded default)
 * and `postgres-store.ts`, and checked by one conformance suite (`store.conformance.ts`).
 *
 * Entries are keyed by their id (v1 hash, else v2 hash) and can be fetched by either hash.
 * Removing or taking down an entry leaves a tombstone (publisher, last seq, taken-down flag),
 * so an old signed entry replayed after a removal cannot bring it back, and a taken-down
 * entry stays down. Signatures are checked before the store (by the HTTP API); the store
 * owns the ownership and `seq` rules, applied atomically inside one transaction.
 */

export interface StoredEntry extends EntryBody {
  readonly id: string;
  readonly signature: string;
  readonly sizeBytes: number;
  /** Milliseconds since the epoch (server clock), first publication. */
  readonly publishedAtMs: number;
  readonly updatedAtMs: number;
  readonly seeders: number | null;
  readonly leechers: number | null;
  readonly checkedAtMs: number | null;
}

export interface SearchFilters {
  readonly category?: string;
  readonly minSizeBytes?: number;
  readonly maxSizeBytes?: number;
  /** Published at or after (ms since the epoch). */
  readonly sinceMs?: number;
  readonly publisher?: string;
}

export interface SearchRequest {
  readonly query: ParsedQuery;
  readonly filters: SearchFilters;
  /** 1-based. */
  readonly page: number;
  readonly perPage: number;
}

export interface SearchHit {
  readonly infoHash: string | null;
  readonly infoHashV2: string | null;
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly category: string;
  readonly sizeBytes: number;
  readonly fileCount: number;
  readonly publisher: string;
  readonly publishedAtMs: number;
  readonly seeders: number | null;
  readonly leechers: number | null;
  readonly checkedAtMs: number | null;
  readonly magnet: string;
  /** The entry's trackers (also in the magnet): what health is scraped from. */
  readonly trackers: readonly string[];
}

export interface SearchPage {
  readonly results: readonly SearchHit[];
  readonly page: number;
  readonly perPage: number;
  /** Whether another page may follow (the store fetches perPage + 1). */
  readonly hasMore: boolean;
}

export interface PublishInput {
  readonly entry: EntryBody;
  readonly signature: string;
}

export type PublishOutcome = 'created' | 'updated';

export interface AuditRecord {
  readonly id: string;
  readonly action: 'takedown';
  readonly reason: string;
  readonly actor: string;
  readonly atMs: number;
}

export interface HealthUpdate {
  readonly id: string;
  readonly seeders: number;
  readonly leechers: number;
  readonly checkedAtMs: number;
}

export interface HealthCandidate {
  readonly id: string;
  readonly infoHash: string | null;
  readonly infoHashV2: string | null;
  readonly trackers: readonly string[];
}

export interface IndexStats {
  readonly entries: number;
  readonly publishers: number;
  readonly tombstones: number;
  readonly takedowns: number;
}

export interface IndexStore {
  /**
   * Insert or update (same publisher, larger seq). NOT_OWNER, SEQ_NOT_INCREASING, TAKEN_DOWN,
   * HASH_CONFLICT. A failed publish changes nothing and leaves the store usable.
   */
  publish(input: PublishInput, nowMs: number): Promise<PublishOutcome>;
  /** Many entries in one transaction (bulk load); all or nothing. */
  publishBatch(inputs: readonly PublishInput[], nowMs: number): Promise<void>;
  /** Owner removal: NOT_FOUND, NOT_OWNER, SEQ_NOT_INCREASING. */
  remove(hash: string, publisher: string, seq: number, nowMs: number): Promise<void>;
  /** By v1 or v2 hash; null if absent, removed or taken down. */
  get(hash: string): Promise<StoredEntry | null>;
  search(req: SearchRequest): Promise<SearchPage>;
  /** Admin: remove any entry for good and record why. NOT_FOUND if unknown. */
  takedown(hash: string, reason: string, actor: string, nowMs: number): Promise<void>;
  auditLog(limit: number): Promise<AuditRecord[]>;
  /** Entries whose health is oldest (never checked first), for the health updater. */
  healthCandidates(limit: number, checkedBeforeMs: number): Promise<HealthCandidate[]>;
  updateHealth(updates: readonly HealthUpdate[]): Promise<void>;
  stats(): Promise<IndexStats>;
  close(): Promise<void>;
}

export const MAX_PER_PAGE = 100;
export const DEFAULT_PER_PAGE = 20;
/** Deep pagination is refused: offset + perPage may not pass this. */
export const MAX_RESULT_WINDOW = 10_000;
export const MAX_AUDIT_LIMIT = 1000;
/**
 * Relevance is computed among the newest this-many matches of a text query (at least
 * offset + perPage). Scoring every match of a common word costs time linear in the index
 * (hundreds of ms at a million entries); walking the posting list newest-first and stopping
 * keeps a search bounded. The trade-off: for a query matching more entries than this, an old
 * but very relevant entry can rank below newer ones; narrow the query to reach it.
 * 1000, not 5000: a score costs ~10-20 µs a candidate in SQLite (bm25's docsize and position
 * reads) and in PostgreSQL (ts_rank on a detoasted tsvector); at a million entries 5000 put
 * one-word searches at ~25 ms of CPU and common two-word ones past 50 (issue 15, measured).
 */
export const CANDIDATE_WINDOW = 1000;
/**
 * The second bound: once the newest SCAN_ROWS entries hold a page of matches (offset +
 * perPage + 1), older entries are not searched even if the window is not full. A selective
 * query (a common word with a rare one, a category, a size filter) otherwise walks every
 * shard / span of the index to fill the window: at a million entries, 13 of 16 SQLite shards
 * and ~60 ms. The trade-off: such a query ranks among the matches of the newest quarter
 * million entries; one with fewer matches there than a page still searches everything.
 */
export const SCAN_ROWS = 262_144;
export const MAX_REASON_CHARS = 2000;

/**
 * A live row or tombstone that holds one of the hashes a publish or removal names. Both
 * stores look up every row holding any of an entry's hashes, in either column (`id`, or
 * `info_hash_v2`), so the rule below sees all of them, not the first one a query returns.
 */
export interface Existing {
  readonly id: string;
  readonly infoHashV2: string | null;
  readonly publisher: string;
  readonly seq: number;
  readonly isTakenDown: boolean;
  readonly isLive: boolean;
}

/** The hashes an entry claims: its id (v1, else v2) and its v2 hash, without repeats. */
export function claimedHashes(e: Pick<EntryBody, 'infoHash' | 'infoHashV2'>): string[] {
  const out = [entryId(e)];
  if (e.infoHashV2 !== null && e.infoHashV2 !== out[0]) out.push(e.infoHashV2);
  return out;
}

/**
 * The ownership/seq rule, shared by every backend: throws, or says insert vs update and which
 * row is the entry's own. `found` is every row holding any of {@link claimedHashes}.
 *
 * - A taken-down hash never comes back: not as the same entry, not as the v2 (or v1) hash of
 *   another entry, not through an update that adds it to a live entry.
 * - A hash held by a different entry (live or removed) is a `HASH_CONFLICT`: one hash names
 *   one torrent, so two entries can never share one (the unique index would otherwise fail
 *   mid-write).
 * - Then the entry's own row decides: same publisher, larger seq.
 */
export function decidePublish<T extends Existing>(
  found: readonly T[],
  entry: EntryBody,
): { action: 'insert' | 'update'; own: T | null } {
  if (found.some((r) => r.isTakenDown))
    throw new IndexError('TAKEN_DOWN', 'one of these info-hashes was taken down by the index operator');
  const id = entryId(entry);
  const other = found.find((r) => r.id !== id);
  if (other)
    throw new IndexError(
      'HASH_CONFLICT',
      other.publisher === entry.publisher
        ? `one of these info-hashes already belongs to your entry ${other.id}`
        : `one of these info-hashes already belongs to another publisher's entry ${other.id}`,
    );
  const own = found.find((r) => r.id === id) ?? null;
  if (own === null) return { action: 'insert', own };
  if (own.publisher !== entry.publisher)
    throw new IndexError('NOT_OWNER', 'this entry belongs to another publisher key');
  if (entry.seq <= own.seq)
    throw new IndexError(
      'SEQ_NOT_INCREASING',
      `seq ${entry.seq} is not greater than the stored seq ${own.seq}`,
    );
  return { action: own.isLive ? 'update' : 'insert', own };
}

/** The row a removal or takedown by one hash acts on: the live entry if any, else a tombstone. */
export function pickByHash<T extends Existing>(found: readonly T[]): T | null {
  return found.find((r) => r.isLive) ?? found[0] ?? null;
}

export function decideRemove(existing: Existing | null, publisher: string, seq: number): void {
  if (existing === null || !existing.isLive) throw new IndexError('NOT_FOUND', 'no such entry');
  if (existing.publisher !== publisher)
    throw new IndexError('NOT_OWNER', 'this entry belongs to another publisher key');
  if (seq <= existing.seq)
    throw new IndexError(
      'SEQ_NOT_INCREASING',
      `seq ${seq} is not greater than the stored seq ${existing.seq}`,
    );
}

/** Checks a search request's paging; both stores call it first. */
export function checkPaging(page: number, perPage: number): { offset: number; limit: number } {
  if (!Number.isSafeInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE)
    throw new IndexError('PAGE_OUT_OF_RANGE', `perPage must be 1..${MAX_PER_PAGE}`);
  if (!Number.isSafeInteger(page) || page < 1 || (page - 1) * perPage + perPage > MAX_RESULT_WINDOW)
    throw new IndexError('PAGE_OUT_OF_RANGE', `page must be 1..${Math.floor(MAX_RESULT_WINDOW / perPage)}`);
  return { offset: (page - 1) * perPage, limit: perPage };
}

/** Text that full-text search indexes for an entry's files (path components, space separated). */
export function fileNamesText(files: readonly EntryFile[]): string {
  return files.map((f) => f.path.join(' ')).join('\n');
}

/** Build the public search hit from a stored entry. */
export function toSearchHit(e: StoredEntry): SearchHit {
  return {
    infoHash: e.infoHash,
    infoHashV2: e.infoHashV2,
    name: e.name,
    title: e.title,
    description: e.description,
    tags: e.tags,
    category: e.category,
    sizeBytes: e.sizeBytes,
    fileCount: e.files.length,
    publisher: e.publisher,
    publishedAtMs: e.publishedAtMs,
    seeders: e.seeders,
    leechers: e.leechers,
    checkedAtMs: e.checkedAtMs,
    magnet: entryMagnet(e),
    trackers: e.trackers,
  };
}
