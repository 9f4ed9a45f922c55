/**
 * Index benchmark (issue 15): N synthetic entries bulk-published, then a mix of searches of
 * every kind; publish rate, bytes per entry, search p50/p99 overall and per kind, on SQLite or
 * on a throwaway PostgreSQL cluster. Targets at 1,000,000 entries: SQLite p99 < 50 ms,
 * PostgreSQL p99 < 100 ms, publish ≥ 5,000/s on both.
 *   npm run bench -- index --store sqlite|postgres --entries N [--searches N] [--json]
 *   npm run bench -- index --store sqlite --entries 100000 --soak 60 [--json]
 * Options: --db FILE keeps (and reuses) the SQLite file; --postgres URL uses that database
 * instead of a throwaway cluster; --cache keeps the store's result cache on (off by default,
 * so every timed search does its work). Signatures are not part of the publish rate (the HTTP
 * layer verifies them); the verify rate is reported separately as verifyPerSecond.
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { canonicalEntryBytes } from '../../src/index-server/entry.js';
import { generateIdentity, signEntry, verifyBytes } from '../../src/index-server/identity.js';
import { PostgresIndexStore } from '../../src/index-server/postgres-store.js';
import { parseQuery } from '../../src/index-server/query.js';
import { SqliteIndexStore } from '../../src/index-server/sqlite-store.js';
import type { IndexStore, PublishInput } from '../../src/index-server/store.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { startThrowawayPostgres } from '../../test/index-server-postgres.js';
import { runSoak, type SoakResult } from './soak.js';
import { type SearchCase, searchMix, syntheticEntries } from './workload.js';

export interface KindTimes {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** SQLite only: this process's CPU time per search (the store runs in it), p50/p99. */
  readonly cpuP50Ms?: number;
  readonly cpuP99Ms?: number;
}

export interface IndexBenchResult {
  readonly store: 'sqlite' | 'postgres';
  readonly entries: number;
  readonly publishPerSecond: number;
  /**
   * SQLite only: entries per CPU-second of this process during the load (on a machine shared
   * with other work, the wall-clock rate mostly measures the scheduler).
   */
  readonly publishPerCpuSecond?: number;
  /** 1-minute load average at the start and at the end of the run. */
  readonly loadAverage: readonly [number, number];
  readonly loadSeconds: number;
  readonly bytesPerEntry: number;
  readonly searches: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuP99Ms?: number;
  /** The same figures per query kind (one word, phrase, filters, ...), to see which kind is slow. */
  readonly perKind: Readonly<Record<string, KindTimes>>;
  readonly verifyPerSecond: number;
  readonly targets: { readonly p99Ms: number; readonly publishPerSecond: number };
  readonly soak?: SoakResult;
}

const PUBLISH_TARGET = 5000;
const P99_TARGET = { sqlite: 50, postgres: 100 } as const;
const NOW = 1_700_000_000_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const ms = (x: number): number => +x.toFixed(2);

interface LoadResult {
  readonly perSecond: number;
  readonly perCpuSecond: number;
  readonly seconds: number;
}

async function load(store: IndexStore, count: number, batch: number): Promise<LoadResult> {
  const next = syntheticEntries(count);
  let busyMs = 0;
  let cpuMs = 0;
  const started = performance.now();
  let buf: PublishInput[] = [];
  const flush = async (): Promise<void> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await store.publishBatch(buf, NOW);
    busyMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuMs += (c.user + c.system) / 1000;
    buf = [];
  };
  // Only the store's time counts: generating the synthetic entries is the benchmark's work.
  for (let e = next(); e !== null; e = next()) {
    buf.push({ entry: e, signature: '0'.repeat(128) });
    if (buf.length >= batch) await flush();
  }
  if (buf.length) await flush();
  return {
    perSecond: count / (busyMs / 1000),
    perCpuSecond: count / (cpuMs / 1000),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Times every case once, after a warm-up on a *different* mix (another seed), so the timed
 * queries are not answered from anything the warm-up filled.
 */
async function searchTimes(
  store: IndexStore,
  cases: readonly SearchCase[],
  withCpu: boolean,
): Promise<{ all: number[]; allCpu: number[]; perKind: Record<string, KindTimes> }> {
  for (const c of searchMix(50, 12345))
    await store.search({ query: parseQuery(c.q), filters: c.filters, page: 1, perPage: 20 });
  const all: number[] = [];
  const allCpu: number[] = [];
  const byKind = new Map<string, { wall: number[]; cpu: number[] }>();
  for (const c of cases) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await store.search({ query: parseQuery(c.q), filters: c.filters, page: 1, perPage: 20 });
    const dt = performance.now() - t0;
    const cu = process.cpuUsage(c0);
    const cpu = (cu.user + cu.system) / 1000;
    all.push(dt);
    allCpu.push(cpu);
    const list = byKind.get(c.kind) ?? { wall: [], cpu: [] };
    byKind.set(c.kind, list);
    list.wall.push(dt);
    list.cpu.push(cpu);
  }
  const perKind: Record<string, KindTimes> = {};
  for (const [kind, { wall, cpu }] of [...byKind].sort((a, b) => a[0].localeCompare(b[0]))) {
    wall.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    perKind[kind] = {
      n: wall.length,
      p50Ms: ms(percentile(wall, 50)),
      p99Ms: ms(percentile(wall, 99)),
      maxMs: ms(wall.at(-1) ?? 0),
      ...(withCpu ? { cpuP50Ms: ms(percentile(cpu, 50)), cpuP99Ms: ms(percentile(cpu, 99)) } : {}),
    };
  }
  return { all: all.sort((a, b) => a - b), allCpu: allCpu.sort((a, b) => a - b), perKind };
}

function verifyRate(n = 500): number {
  const id = generateIdentity();
  const next = syntheticEntries(n, 99);
  const signed = [];
  for (let e = next(); e !== null; e = next()) signed.push(signEntry(id, e));
  const t0 = performance.now();
  for (const s of signed) verifyBytes(s.entry.publisher, canonicalEntryBytes(s.entry), s.signature);
  return n / ((performance.now() - t0) / 1000);
}

export interface BenchOptions {
  readonly store: 'sqlite' | 'postgres';
  readonly entries: number;
  readonly searches?: number;
  /** SQLite: keep (and reuse when it already holds `entries`) this file. */
  readonly dbFile?: string;
  /** PostgreSQL: this database instead of a throwaway cluster (its tables are used as found). */
  readonly postgresUrl?: string;
  readonly resultCache?: boolean;
  /** Seconds of mixed publishes and searches through the HTTP server after the load. */
  readonly soakSeconds?: number;
}

interface Opened {
  readonly store: IndexStore;
  readonly size: () => Promise<number>;
  /** A second store on the same database (PostgreSQL: another pool, as a second process would). */
  readonly reopen?: () => Promise<IndexStore>;
  close(): Promise<void>;
}

async function openSqlite(o: BenchOptions): Promise<Opened> {
  const dir = o.dbFile ? null : tempDir('peerdrop-index-bench-');
  const file = o.dbFile ?? join(dir!.path, 'index.db');
  const store = new SqliteIndexStore({
    file,
    cacheKiB: 256 * 1024,
    resultCacheSize: o.resultCache ? 256 : 0,
  });
  const size = async (): Promise<number> => {
    let n = statSync(file).size;
    for (const extra of ['-wal', '-shm'])
      try {
        n += statSync(file + extra).size;
      } catch {
        // not there
      }
    return n;
  };
  return {
    store,
    size,
    close: async () => {
      await store.close();
      dir?.cleanup();
    },
  };
}

async function openPostgres(o: BenchOptions): Promise<Opened> {
  const cluster = o.postgresUrl
    ? null
    : await startThrowawayPostgres({ sharedBuffers: '1GB', workMem: '64MB' });
  const url = o.postgresUrl ?? cluster!.url;
  const store = await PostgresIndexStore.open({ connectionString: url });
  const size = async (): Promise<number> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query(
        "SELECT pg_total_relation_size('entries') + pg_total_relation_size('tombstones') AS n",
      );
      return Number(r.rows[0].n);
    } finally {
      await c.end();
    }
  };
  return {
    store,
    size,
    reopen: () => PostgresIndexStore.open({ connectionString: url }),
    close: async () => {
      await store.close();
      cluster?.stop();
    },
  };
}

export async function benchIndex(o: BenchOptions): Promise<IndexBenchResult> {
  const opened = o.store === 'postgres' ? await openPostgres(o) : await openSqlite(o);
  try {
    const { store } = opened;
    const load0 = loadavg()[0]!;
    const already = (await store.stats()).entries;
    const loaded =
      already >= o.entries
        ? { perSecond: 0, perCpuSecond: 0, seconds: 0 }
        : await load(store, o.entries - already, 2000);
    if (o.store === 'postgres') await analyze(store);
    // SQLite runs in this process, so its CPU time per search is measurable; PostgreSQL's is not.
    const withCpu = o.store === 'sqlite';
    const { all, allCpu, perKind } = await searchTimes(store, searchMix(o.searches ?? 500), withCpu);
    const soak =
      o.soakSeconds && o.soakSeconds > 0
        ? await runSoak({
            store,
            seconds: o.soakSeconds,
            ...(opened.reopen ? { reopen: opened.reopen } : {}),
          })
        : undefined;
    return {
      store: o.store,
      entries: o.entries,
      publishPerSecond: Math.round(loaded.perSecond),
      ...(withCpu ? { publishPerCpuSecond: Math.round(loaded.perCpuSecond) } : {}),
      loadAverage: [load0, loadavg()[0]!],
      loadSeconds: +loaded.seconds.toFixed(1),
      bytesPerEntry: Math.round((await opened.size()) / Math.max(1, o.entries)),
      searches: all.length,
      p50Ms: ms(percentile(all, 50)),
      p99Ms: ms(percentile(all, 99)),
      maxMs: ms(all.at(-1) ?? 0),
      ...(withCpu ? { cpuP99Ms: ms(percentile(allCpu, 99)) } : {}),
      perKind,
      verifyPerSecond: Math.round(verifyRate()),
      targets: { p99Ms: P99_TARGET[o.store], publishPerSecond: PUBLISH_TARGET },
      ...(soak ? { soak } : {}),
    };
  } finally {
    await opened.close();
  }
}

/** Fresh planner statistics after a bulk load, as autovacuum would give a live server. */
async function analyze(store: IndexStore): Promise<void> {
  await (store as PostgresIndexStore).maintenance?.();
}

function text(r: IndexBenchResult): string {
  const lines = [
    `${r.store}, ${r.entries} entries: publish ${r.publishPerSecond}/s (target ≥ ${r.targets.publishPerSecond}` +
      `${r.publishPerCpuSecond ? `; ${r.publishPerCpuSecond}/CPU-s` : ''}), load ${r.loadSeconds} s, ` +
      `${r.bytesPerEntry} bytes/entry, search p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (target < ${r.targets.p99Ms}` +
      `${r.cpuP99Ms === undefined ? '' : `; CPU p99 ${r.cpuP99Ms} ms`}), max ${r.maxMs} ms, load average ${r.loadAverage.map((x) => x.toFixed(1)).join(' → ')}`,
    ...Object.entries(r.perKind).map(
      ([k, t]) =>
        `  ${k.padEnd(11)} n=${String(t.n).padStart(4)}  p50 ${t.p50Ms} ms  p99 ${t.p99Ms} ms` +
        (t.cpuP99Ms === undefined ? '' : `  CPU p50 ${t.cpuP50Ms} ms  p99 ${t.cpuP99Ms} ms`),
    ),
  ];
  if (r.soak) lines.push(`  soak: ${JSON.stringify(r.soak)}`);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'sqlite' },
      entries: { type: 'string', default: '100000' },
      searches: { type: 'string', default: '500' },
      json: { type: 'boolean', default: false },
      db: { type: 'string' },
      postgres: { type: 'string' },
      cache: { type: 'boolean', default: false },
      soak: { type: 'string' },
    },
  });
  if (values.store !== 'sqlite' && values.store !== 'postgres') {
    process.stderr.write('--store must be sqlite or postgres\n');
    process.exit(2);
  }
  const r = await benchIndex({
    store: values.store,
    entries: Number(values.entries),
    searches: Number(values.searches),
    resultCache: values.cache,
    ...(values.db ? { dbFile: values.db } : {}),
    ...(values.postgres ? { postgresUrl: values.postgres } : {}),
    ...(values.soak ? { soakSeconds: Number(values.soak) } : {}),
  });
  process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : text(r));
}
