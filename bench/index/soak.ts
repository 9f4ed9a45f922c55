/**
 * A bounded soak of the index server (helper of bench/index/index.ts, `--soak SECONDS`):
 * workers send signed publishes and searches through the HTTP API for a fixed time; the heap
 * (after a forced GC) and RSS are sampled every second, and a sample of answers is checked:
 * every published entry is read back and compared, and every 10th search is compared with the
 * store's own answer (and, for PostgreSQL, with a second store on the same database, as a
 * second `peerdrop index` process would answer).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startIndexServer } from '../../src/index-server/http-api.js';
import { generateIdentity, signEntry } from '../../src/index-server/identity.js';
import { parseQuery } from '../../src/index-server/query.js';
import type { IndexStore, SearchFilters } from '../../src/index-server/store.js';
import { searchMix, syntheticEntries } from './workload.js';

export interface SoakResult {
  readonly seconds: number;
  readonly publishes: number;
  readonly searches: number;
  readonly checked: number;
  readonly wrong: number;
  readonly errors: number;
  readonly heapStartMb: number;
  readonly heapEndMb: number;
  readonly heapMaxMb: number;
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  /** Least-squares slope of the post-GC heap over the run's second half, in MB per minute. */
  readonly heapSlopeMbPerMin: number;
  readonly flat: boolean;
  readonly firstWrong?: string;
}

const WORKERS = 8;

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (ys[i]! - my);
    den += (i - mx) ** 2;
  }
  return num / den;
}

const mb = (b: number): number => +(b / 1024 / 1024).toFixed(1);

function searchUrl(base: string, q: string, f: SearchFilters): string {
  const u = new URL('api/search', base);
  u.searchParams.set('q', q);
  if (f.category) u.searchParams.set('category', f.category);
  if (f.minSizeBytes !== undefined) u.searchParams.set('minSize', String(f.minSizeBytes));
  return u.href;
}

export async function runSoak(o: {
  store: IndexStore;
  seconds: number;
  reopen?: () => Promise<IndexStore>;
}): Promise<SoakResult> {
  const gc = gcFunction();
  const server = await startIndexServer({
    store: o.store,
    port: 0,
    bind: '127.0.0.1',
    rateLimit: { requestsPerSecond: 1e9, burst: 1e9, maxClients: 16 },
  });
  const second = o.reopen ? await o.reopen() : null;
  const id = generateIdentity();
  const next = syntheticEntries(10_000_000, 4242);
  const cases = searchMix(5000, 777);
  const counts = { publishes: 0, searches: 0, checked: 0, wrong: 0, errors: 0 };
  let firstWrong: string | undefined;
  const wrong = (what: string): void => {
    counts.wrong++;
    firstWrong ??= what;
  };
  const heap: number[] = [];
  const rss: number[] = [];
  const sample = (): void => {
    gc();
    const m = process.memoryUsage();
    heap.push(m.heapUsed);
    rss.push(m.rss);
  };
  sample();
  const sampler = setInterval(sample, 1000);
  const deadline = performance.now() + o.seconds * 1000;
  let n = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const i = n++;
      try {
        if (i % 4 === 0) {
          const body = next();
          if (!body) break;
          const { publisher: _p, ...unsigned } = body;
          const signed = signEntry(id, unsigned);
          const r = await fetch(new URL('api/entries', server.url), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(signed),
          });
          await r.body?.cancel();
          if (r.status !== 201) throw new Error(`publish answered ${r.status}`);
          counts.publishes++;
          const back = await fetch(new URL(`api/entries/${signed.entry.infoHash}`, server.url));
          const got = (await back.json()) as { entry?: { title?: string; publisher?: string } };
          counts.checked++;
          if (got.entry?.title !== signed.entry.title || got.entry?.publisher !== id.publicKeyHex)
            wrong(`entry ${signed.entry.infoHash} read back as ${JSON.stringify(got).slice(0, 200)}`);
        } else {
          const c = cases[i % cases.length]!;
          const r = await fetch(searchUrl(server.url, c.q, c.filters));
          const page = (await r.json()) as { results?: { name: string }[] };
          if (r.status !== 200 || !page.results) throw new Error(`search answered ${r.status}`);
          counts.searches++;
          if (i % 10 === w % 10) {
            // Compared right away; a publish landing in between can change the answer, so a
            // mismatch is asked again once before it counts as wrong.
            const req = { query: parseQuery(c.q), filters: c.filters, page: 1, perPage: 20 };
            const names = page.results.map((x) => x.name).join('|');
            const direct = async (s: IndexStore) =>
              (await s.search(req)).results.map((x) => x.name).join('|');
            counts.checked++;
            if ((await direct(o.store)) !== names) {
              const again = (await (
                await fetch(searchUrl(server.url, c.q, c.filters))
              ).json()) as typeof page;
              if ((await direct(o.store)) !== again.results?.map((x) => x.name).join('|'))
                wrong(`search ${JSON.stringify(c)} differs from the store's answer`);
            }
            if (second && (await direct(second)) !== (await direct(o.store)))
              wrong(`search ${JSON.stringify(c)}: a second store on the database answers differently`);
          }
        }
      } catch (err) {
        counts.errors++;
        firstWrong ??= String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  clearInterval(sampler);
  sample();
  await server.close();
  await second?.close();
  const half = heap.slice(Math.floor(heap.length / 2));
  const slopeMbPerMin = mb(slope(half) * 60);
  return {
    seconds: o.seconds,
    ...counts,
    heapStartMb: mb(heap[0]!),
    heapEndMb: mb(heap.at(-1)!),
    heapMaxMb: mb(Math.max(...heap)),
    rssStartMb: mb(rss[0]!),
    rssEndMb: mb(rss.at(-1)!),
    heapSlopeMbPerMin: slopeMbPerMin,
    // Flat: the heap's trend over the second half stays under 2 MB a minute.
    flat: Math.abs(slopeMbPerMin) < 2,
    ...(firstWrong ? { firstWrong } : {}),
  };
}
