/**
 * Index benchmark (issue 4): N synthetic entries (deterministic, Zipf-distributed realistic
 * words) bulk-published in batches, then a mix of searches; publish rate, search p50/p99 and
 * database bytes per entry, for SQLite and (if installed) a throwaway PostgreSQL.
 * Targets: publish ≥ 5,000 entries/s, search p99 < 50 ms at 1,000,000 entries.
 *   node --import tsx bench/versus/index.ts [entries=1000000] [sqlite|postgres|both]
 * Signatures are not part of the publish rate (the HTTP layer verifies them); the verify rate
 * is reported separately.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { canonicalEntryBytes, type EntryBody } from '../../src/index-server/entry.js';
import { generateIdentity, signEntry, verifyBytes } from '../../src/index-server/identity.js';
import { PostgresIndexStore } from '../../src/index-server/postgres-store.js';
import { parseQuery } from '../../src/index-server/query.js';
import { SqliteIndexStore } from '../../src/index-server/sqlite-store.js';
import type { IndexStore, PublishInput, SearchFilters } from '../../src/index-server/store.js';
import { toHex } from '../../src/util/bytes.js';
import { seededRandom } from '../../src/util/random.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { postgresBinDir, startThrowawayPostgres } from '../../test/index-server-postgres.js';

const WORDS = `linux ubuntu debian fedora arch kernel server desktop edition release final beta alpha live
install image iso disk boot usb mirror archive backup dataset open source library science
physics chemistry biology math lecture course university notes slides video audio music album
concert live studio remaster deluxe vinyl flac mp3 lossless soundtrack original score symphony
orchestra piano guitar jazz blues rock metal folk classical opera ambient electronic techno house
film movie documentary series season episode complete collection box set director cut extended
uncut subtitles english french german spanish italian japanese korean chinese russian dubbed
1080p 720p 2160p 4k hdr x264 x265 hevc av1 aac opus webm mkv mp4 avi ebook pdf epub novel
fiction history biography cookbook manual guide handbook tutorial programming python rust go
javascript typescript java haskell compiler database network security cryptography algorithms
game patch mod map pack texture sound effects sample drum loops photos wallpaper nature space
nasa hubble telescope mars moon earth ocean forest mountain river city night winter summer
spring autumn public domain creative commons archive org gutenberg wikipedia dump openstreetmap
planet weather climate census statistics survey report paper thesis journal proceedings volume
part chapter one two three four five six seven eight nine ten first second third new old
classic modern ultimate essential best greatest hits anthology edition remastered version`.split(/\s+/);
const EXT = ['mkv', 'mp4', 'flac', 'mp3', 'iso', 'pdf', 'epub', 'zip', 'tar', 'txt', 'jpg', 'csv'];
const CATEGORIES = ['video', 'audio', 'software', 'books', 'images', 'data', 'games', 'other'];

/** Zipf-ish word picker: rank r has weight 1/(r+1). */
function wordPicker(rand: ReturnType<typeof seededRandom>): () => string {
  const cum: number[] = [];
  let total = 0;
  for (let r = 0; r < WORDS.length; r++) {
    total += 1 / (r + 1);
    cum.push(total);
  }
  return () => {
    const x = rand.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return WORDS[lo]!;
  };
}

export function syntheticEntries(count: number, seed = 1): () => EntryBody | null {
  const rand = seededRandom(seed);
  const word = wordPicker(rand);
  const words = (n: number): string[] => Array.from({ length: n }, word);
  const publishers = Array.from({ length: 64 }, (_, i) => toHex(seededRandom(1000 + i).bytes(32)));
  let i = 0;
  return () => {
    if (i >= count) return null;
    const n = i++;
    const title = words(3 + rand.int(4)).join(' ');
    const name = `${title.replaceAll(' ', '.')}.${n}`;
    const files = Array.from({ length: 1 + rand.int(5) }, (_, k) => ({
      path: [name, `${words(2).join('_')}_${k}.${EXT[rand.int(EXT.length)]}`],
      length: 1 + rand.int(2 ** 31),
    }));
    return {
      infoHash: toHex(rand.bytes(20)),
      infoHashV2: null,
      name,
      files,
      trackers: ['udp://tracker.example.org:1337/announce'],
      title,
      description: words(8 + rand.int(13)).join(' '),
      tags: words(1 + rand.int(3)),
      category: CATEGORIES[rand.int(CATEGORIES.length)]!,
      seq: 1,
      publisher: publishers[rand.int(publishers.length)]!,
    };
  };
}

interface SearchCase {
  readonly kind: string;
  readonly q: string;
  readonly filters: SearchFilters;
}

export function searchMix(n: number, seed = 7): SearchCase[] {
  const rand = seededRandom(seed);
  const word = wordPicker(rand);
  const rare = (): string => WORDS[WORDS.length - 1 - rand.int(60)]!;
  const kinds = [
    (): SearchCase => ({ kind: 'oneWord', q: word(), filters: {} }),
    (): SearchCase => ({ kind: 'twoWords', q: `${word()} ${word()}`, filters: {} }),
    (): SearchCase => ({ kind: 'rareCommon', q: `${rare()} ${word()}`, filters: {} }),
    (): SearchCase => ({ kind: 'phrase', q: `"${word()} ${word()}"`, filters: {} }),
    (): SearchCase => ({
      kind: 'category',
      q: `${word()} ${rare()}`,
      filters: { category: CATEGORIES[rand.int(8)]! },
    }),
    (): SearchCase => ({ kind: 'exclusion', q: `${word()} ${word()} -${word()}`, filters: {} }),
    (): SearchCase => ({
      kind: 'sizeFilter',
      q: `${rare()} ${rare()}`,
      filters: { minSizeBytes: 1_000_000 },
    }),
  ];
  return Array.from({ length: n }, () => kinds[rand.int(kinds.length)]!());
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export interface KindTimes {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface IndexBenchResult {
  readonly backend: string;
  readonly entries: number;
  readonly publishPerSec: number;
  readonly searches: number;
  readonly searchP50Ms: number;
  readonly searchP99Ms: number;
  readonly searchMaxMs: number;
  /** The same figures per query kind (one word, phrase, filters, ...), to see which kind is slow. */
  readonly byKind: Readonly<Record<string, KindTimes>>;
  readonly bytesPerEntry: number;
  readonly verifyPerSec: number;
}

async function load(store: IndexStore, count: number, batch: number): Promise<number> {
  const next = syntheticEntries(count);
  const started = performance.now();
  let buf: PublishInput[] = [];
  for (let e = next(); e !== null; e = next()) {
    buf.push({ entry: e, signature: '0'.repeat(128) });
    if (buf.length >= batch) {
      await store.publishBatch(buf, 1_700_000_000_000);
      buf = [];
    }
  }
  if (buf.length) await store.publishBatch(buf, 1_700_000_000_000);
  return count / ((performance.now() - started) / 1000);
}

const ms = (x: number): number => +x.toFixed(2);

/**
 * Times every case once, after a warm-up on a *different* mix (another seed), so the timed
 * queries are not answered from a result cache the warm-up filled. Returns per-case times.
 */
async function searchTimes(
  store: IndexStore,
  cases: readonly SearchCase[],
): Promise<{ all: number[]; byKind: Record<string, KindTimes> }> {
  for (const c of searchMix(20, 12345))
    await store.search({ query: parseQuery(c.q), filters: c.filters, page: 1, perPage: 20 });
  const all: number[] = [];
  const perKind = new Map<string, number[]>();
  for (const c of cases) {
    const t0 = performance.now();
    await store.search({ query: parseQuery(c.q), filters: c.filters, page: 1, perPage: 20 });
    const dt = performance.now() - t0;
    all.push(dt);
    const list = perKind.get(c.kind) ?? [];
    perKind.set(c.kind, list);
    list.push(dt);
  }
  const byKind: Record<string, KindTimes> = {};
  for (const [kind, list] of perKind) {
    list.sort((a, b) => a - b);
    byKind[kind] = {
      n: list.length,
      p50Ms: ms(percentile(list, 50)),
      p99Ms: ms(percentile(list, 99)),
      maxMs: ms(list.at(-1) ?? 0),
    };
  }
  return { all: all.sort((a, b) => a - b), byKind };
}

function verifyRate(n = 2000): number {
  const id = generateIdentity();
  const next = syntheticEntries(n, 99);
  const signed = [];
  for (let e = next(); e !== null; e = next()) signed.push(signEntry(id, e));
  const t0 = performance.now();
  for (const s of signed) verifyBytes(s.entry.publisher, canonicalEntryBytes(s.entry), s.signature);
  return n / ((performance.now() - t0) / 1000);
}

async function measure(
  backend: string,
  store: IndexStore,
  count: number,
  size: () => Promise<number>,
  searches: number,
  total = count,
): Promise<IndexBenchResult> {
  const publishPerSec = count > 0 ? await load(store, count, 2000) : 0;
  const { all: times, byKind } = await searchTimes(store, searchMix(searches));
  return {
    backend,
    entries: total,
    publishPerSec: Math.round(publishPerSec),
    searches: times.length,
    searchP50Ms: ms(percentile(times, 50)),
    searchP99Ms: ms(percentile(times, 99)),
    searchMaxMs: ms(times.at(-1) ?? 0),
    byKind,
    bytesPerEntry: Math.round((await size()) / total),
    verifyPerSec: Math.round(verifyRate(500)),
  };
}

/**
 * \`keepFile\`: load into that file and keep it; when it already holds \`count\` entries, skip
 * the load (publishPerSec is then 0) and only search: for iterating on queries.
 * \`resultCacheSize\`: 0 measures every search without the store's result cache.
 */
export async function benchSqlite(
  count: number,
  searches = 500,
  opts: { keepFile?: string; resultCacheSize?: number } = {},
): Promise<IndexBenchResult> {
  const dir = opts.keepFile ? null : tempDir('peerdrop-index-bench-');
  const file = opts.keepFile ?? join(dir!.path, 'index.db');
  const store = new SqliteIndexStore({
    file,
    cacheKiB: 256 * 1024,
    ...(opts.resultCacheSize === undefined ? {} : { resultCacheSize: opts.resultCacheSize }),
  });
  try {
    const loaded = (await store.stats()).entries === count;
    return await measure(
      'sqlite',
      store,
      loaded ? 0 : count,
      async () => statSync(file).size,
      searches,
      count,
    );
  } finally {
    await store.close();
    dir?.cleanup();
  }
}

export async function benchPostgres(count: number, searches = 500): Promise<IndexBenchResult | null> {
  if (postgresBinDir() === null) return null;
  const cluster = await startThrowawayPostgres();
  try {
    const store = await PostgresIndexStore.open({ connectionString: cluster.url });
    try {
      const size = async (): Promise<number> => {
        const c = new pg.Client({ connectionString: cluster.url });
        await c.connect();
        await c.query('VACUUM ANALYZE');
        const r = await c.query(
          "SELECT pg_total_relation_size('entries') + pg_total_relation_size('tombstones') AS n",
        );
        await c.end();
        return Number(r.rows[0].n);
      };
      return await measure('postgres', store, count, size, searches);
    } finally {
      await store.close();
    }
  } finally {
    cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 1_000_000);
  const which = process.argv[3] ?? 'both';
  // PEERDROP_INDEX_BENCH_DB=FILE keeps (and reuses) the SQLite file; PEERDROP_INDEX_BENCH_CACHE=0
  // turns the store's result cache off.
  const keepFile = process.env.PEERDROP_INDEX_BENCH_DB;
  const cacheEnv = process.env.PEERDROP_INDEX_BENCH_CACHE;
  const opts = {
    ...(keepFile ? { keepFile } : {}),
    ...(cacheEnv === undefined ? {} : { resultCacheSize: Number(cacheEnv) }),
  };
  if (which !== 'postgres') process.stdout.write(`${JSON.stringify(await benchSqlite(count, 500, opts))}\n`);
  if (which !== 'sqlite') process.stdout.write(`${JSON.stringify(await benchPostgres(count))}\n`);
}
