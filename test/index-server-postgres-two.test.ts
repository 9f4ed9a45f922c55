import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { IndexClient } from '../src/index-server/client.js';
import type { EntryBody } from '../src/index-server/entry.js';
import { generateIdentity } from '../src/index-server/identity.js';
import { CLI_PATH } from './helpers/cli.js';
import { skipUnless } from './helpers/real-clients.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from './index-server-postgres.js';

// Issue 15: several `peerdrop index` processes on one PostgreSQL database serve one index.
// Two real CLI processes (no result cache between them to hide anything); what one accepts
// the other serves at once, and concurrent publishes through both end in one consistent state.
const skip = skipUnless('postgres');

let cluster: ThrowawayPostgres | undefined;
const servers: ChildProcess[] = [];

function startIndex(url: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [CLI_PATH, 'index', '--port', '0', '--postgres', url, '--scrape-interval', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  servers.push(child);
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`index did not start: ${out}`)), 30_000);
    const onData = (d: string): void => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.stderr?.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => reject(new Error(`index exited with ${code}: ${out}`)));
  });
}

function entry(word: string, n: number): Omit<EntryBody, 'publisher' | 'seq'> {
  const name = `${word}-${n}.bin`;
  return {
    infoHash: randomBytes(20).toString('hex'),
    infoHashV2: null,
    name,
    files: [{ path: [name], length: 1000 + n }],
    trackers: [],
    title: `${word} survey number ${n}`,
    description: 'two index processes, one database',
    tags: ['birds'],
    category: 'data',
  };
}

const ids = (r: { results: { infoHash: string | null }[] }): string[] =>
  r.results.map((h) => h.infoHash ?? '').sort();

let a: IndexClient;
let b: IndexClient;

if (skip === false) {
  before(async () => {
    cluster = await startThrowawayPostgres();
    // Both start at once: schema creation is serialised between them by an advisory lock.
    const [ua, ub] = await Promise.all([startIndex(cluster.url), startIndex(cluster.url)]);
    a = new IndexClient(ua);
    b = new IndexClient(ub);
  });

  after(() => {
    for (const s of servers) s.kill('SIGKILL');
    cluster?.stop();
  });

  test('two index processes on one PostgreSQL database: writes through one are read through the other', async () => {
    const me = generateIdentity();
    const e = entry('gannet', 1);
    assert.equal(await a.publish(me, e), 'created');
    const viaB = await b.get(e.infoHash!);
    assert.equal(viaB?.title, 'gannet survey number 1');
    assert.deepEqual(ids(await b.search('gannet survey')), [e.infoHash]);

    // Updated through B (B reads the seq A stored), seen by A.
    assert.equal(await b.publish(me, { ...e, title: 'gannet census' }), 'updated');
    assert.equal((await a.get(e.infoHash!))?.title, 'gannet census');
    assert.deepEqual(ids(await a.search('census')), [e.infoHash]);
    assert.deepEqual(ids(await a.search('"gannet survey"')), []);

    // Another key cannot take it over through either process.
    const other = generateIdentity();
    await assert.rejects(b.publish(other, e), (err: { code?: string }) => err.code === 'NOT_OWNER');

    // Removed through A: gone from B's gets and searches.
    await a.unpublish(me, e.infoHash!);
    assert.equal(await b.get(e.infoHash!), null);
    assert.deepEqual(ids(await b.search('gannet')), []);
  });

  test('concurrent publishes through both processes: both serve the same results, one owner per hash', async () => {
    const p1 = generateIdentity();
    const p2 = generateIdentity();
    // 16: each process's per-address write budget (burst) holds 8 publishes and the race.
    const batch = Array.from({ length: 16 }, (_, i) => entry('kittiwake', i));
    await Promise.all(batch.map((e, i) => (i % 2 === 0 ? a : b).publish(p1, e, { existing: null })));
    // The same new hash offered through both at once by two keys: exactly one wins.
    const contested = entry('fulmar', 0);
    const race = await Promise.allSettled([
      a.publish(p1, contested, { existing: null }),
      b.publish(p2, contested, { existing: null }),
    ]);
    assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(race));
    const owner = (await a.get(contested.infoHash!))?.publisher;
    assert.equal((await b.get(contested.infoHash!))?.publisher, owner);

    const want = batch.map((e) => e.infoHash!).sort();
    const fromA = await a.search('kittiwake', { perPage: 100 });
    const fromB = await b.search('kittiwake', { perPage: 100 });
    assert.deepEqual(ids(fromA), want);
    assert.deepEqual(ids(fromB), want);
    // Same order too (rank, then seeders, then age), not just the same set.
    assert.deepEqual(
      fromA.results.map((h) => h.infoHash),
      fromB.results.map((h) => h.infoHash),
    );
  });
}
