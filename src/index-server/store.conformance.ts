import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import type { EntryBody } from './entry.js';
import { IndexError } from './errors.js';
import { parseQuery } from './query.js';
import type { IndexStore, PublishInput, SearchFilters } from './store.js';

/**
 * The one conformance suite every `IndexStore` backend must pass (run by
 * `sqlite-store.test.ts` and `postgres-store.test.ts`). `open` gives a fresh, empty store.
 */
export type StoreFactory = () => Promise<IndexStore>;

const ALICE = 'a1'.repeat(32);
const BOB = 'b2'.repeat(32);
const SIG = '5'.repeat(128);

function hash(label: string, bytes = 20): string {
  return createHash('sha256')
    .update(label)
    .digest('hex')
    .slice(0, bytes * 2);
}

export function sampleEntry(label: string, over: Partial<EntryBody> = {}): EntryBody {
  return {
    infoHash: hash(label),
    infoHashV2: null,
    name: `${label}-name`,
    files: [{ path: [`${label}-name`, 'readme.txt'], length: 1000 }],
    trackers: ['http://127.0.0.1:1/announce'],
    title: `Sample ${label}`,
    description: 'nothing special',
    tags: ['misc'],
    category: 'other',
    seq: 1,
    publisher: ALICE,
    ...over,
  };
}

function input(entry: EntryBody): PublishInput {
  return { entry, signature: SIG };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof IndexError && err.code === code);
}

async function names(
  store: IndexStore,
  q: string,
  filters: SearchFilters = {},
  perPage = 50,
): Promise<string[]> {
  const page = await store.search({ query: parseQuery(q), filters, page: 1, perPage });
  return page.results.map((r) => r.name);
}

export function runStoreConformance(backend: string, open: StoreFactory): void {
  const opened: IndexStore[] = [];
  const fresh = async (): Promise<IndexStore> => {
    const s = await open();
    opened.push(s);
    return s;
  };
  after(async () => {
    for (const s of opened) await s.close();
  });
  const t = (name: string, fn: (s: IndexStore) => Promise<void>): void => {
    test(`${backend}: ${name}`, async () => fn(await fresh()));
  };

  t('a published entry can be fetched by its v1 and v2 hashes with every field intact', async (s) => {
    const e = sampleEntry('hybrid', { infoHashV2: hash('hybrid-v2', 32), tags: ['linux', 'iso'] });
    assert.equal(await s.publish(input(e), 1000), 'created');
    for (const h of [e.infoHash!, e.infoHashV2!]) {
      const got = await s.get(h);
      assert.ok(got);
      assert.equal(got.name, e.name);
      assert.deepEqual(got.files, e.files);
      assert.deepEqual(got.tags, ['linux', 'iso']);
      assert.deepEqual(got.trackers, e.trackers);
      assert.equal(got.sizeBytes, 1000);
      assert.equal(got.publishedAtMs, 1000);
      assert.equal(got.signature, SIG);
      assert.equal(got.seeders, null);
    }
    assert.equal(await s.get(hash('absent')), null);
  });

  t('an update with a larger seq replaces the searchable text', async (s) => {
    await s.publish(input(sampleEntry('u', { title: 'Old Walrus' })), 1000);
    assert.equal(await s.publish(input(sampleEntry('u', { title: 'New Narwhal', seq: 2 })), 2000), 'updated');
    assert.deepEqual(await names(s, 'walrus'), []);
    assert.deepEqual(await names(s, 'narwhal'), ['u-name']);
    const got = await s.get(hash('u'));
    assert.equal(got?.seq, 2);
    assert.equal(got?.publishedAtMs, 1000);
    assert.equal(got?.updatedAtMs, 2000);
  });

  t('a replayed or reordered update (seq not greater) is refused and changes nothing', async (s) => {
    await s.publish(input(sampleEntry('r', { seq: 5, title: 'Keep Me' })), 1000);
    await rejectsWith(
      s.publish(input(sampleEntry('r', { seq: 5, title: 'Replay' })), 2000),
      'SEQ_NOT_INCREASING',
    );
    await rejectsWith(
      s.publish(input(sampleEntry('r', { seq: 4, title: 'Older' })), 2000),
      'SEQ_NOT_INCREASING',
    );
    assert.equal((await s.get(hash('r')))?.title, 'Keep Me');
  });

  t('another publisher cannot update or remove an entry', async (s) => {
    await s.publish(input(sampleEntry('own')), 1000);
    await rejectsWith(s.publish(input(sampleEntry('own', { publisher: BOB, seq: 9 })), 2000), 'NOT_OWNER');
    await rejectsWith(s.remove(hash('own'), BOB, 9, 2000), 'NOT_OWNER');
    assert.equal((await s.get(hash('own')))?.publisher, ALICE);
  });

  t('an owner removal hides the entry and an old signed entry cannot bring it back', async (s) => {
    await s.publish(input(sampleEntry('gone', { title: 'Vanishing Act', seq: 3 })), 1000);
    await rejectsWith(s.remove(hash('gone'), ALICE, 3, 2000), 'SEQ_NOT_INCREASING');
    await s.remove(hash('gone'), ALICE, 4, 2000);
    assert.equal(await s.get(hash('gone')), null);
    assert.deepEqual(await names(s, 'vanishing'), []);
    await rejectsWith(s.publish(input(sampleEntry('gone', { seq: 3 })), 3000), 'SEQ_NOT_INCREASING');
    await rejectsWith(s.publish(input(sampleEntry('gone', { seq: 9, publisher: BOB })), 3000), 'NOT_OWNER');
    await rejectsWith(s.remove(hash('gone'), ALICE, 5, 3000), 'NOT_FOUND');
    assert.equal(
      await s.publish(input(sampleEntry('gone', { seq: 5, title: 'Back Again' })), 3000),
      'created',
    );
    assert.deepEqual(await names(s, 'back again'), ['gone-name']);
  });

  t('an admin takedown removes the entry for good and is written to the audit log', async (s) => {
    await s.publish(input(sampleEntry('bad', { title: 'Infringing Thing' })), 1000);
    await s.takedown(hash('bad'), 'DMCA notice #42', 'admin', 5000);
    assert.equal(await s.get(hash('bad')), null);
    assert.deepEqual(await names(s, 'infringing'), []);
    await rejectsWith(s.publish(input(sampleEntry('bad', { seq: 99 })), 6000), 'TAKEN_DOWN');
    await rejectsWith(s.takedown(hash('bad'), 'again', 'admin', 7000), 'NOT_FOUND');
    await rejectsWith(s.takedown(hash('never'), 'x', 'admin', 7000), 'NOT_FOUND');
    const log = await s.auditLog(10);
    assert.deepEqual(log, [
      { id: hash('bad'), action: 'takedown', reason: 'DMCA notice #42', actor: 'admin', atMs: 5000 },
    ]);
    const st = await s.stats();
    assert.equal(st.entries, 0);
    assert.equal(st.takedowns, 1);
  });

  t('full-text search covers title, description, tags and file names', async (s) => {
    await s.publish(input(sampleEntry('t1', { title: 'Aardvark Documentary' })), 1);
    await s.publish(input(sampleEntry('t2', { description: 'filmed in the Okavango delta' })), 1);
    await s.publish(input(sampleEntry('t3', { tags: ['lossless', 'flac'] })), 1);
    await s.publish(
      input(sampleEntry('t4', { files: [{ path: ['dir', 'Zebra_Crossing.mkv'], length: 5 }] })),
      1,
    );
    assert.deepEqual(await names(s, 'aardvark'), ['t1-name']);
    assert.deepEqual(await names(s, 'OKAVANGO'), ['t2-name']);
    assert.deepEqual(await names(s, 'flac'), ['t3-name']);
    assert.deepEqual(await names(s, 'zebra crossing'), ['t4-name']);
    assert.deepEqual(await names(s, 'zebra_crossing.mkv'), ['t4-name']);
  });

  t('results rank a title match above a file-name match, then by seeders', async (s) => {
    await s.publish(input(sampleEntry('low', { files: [{ path: ['quokka.txt'], length: 1 }] })), 1);
    await s.publish(input(sampleEntry('top', { title: 'Quokka' })), 1);
    await s.publish(input(sampleEntry('top2', { title: 'Quokka' })), 1);
    await s.updateHealth([
      { id: hash('top'), seeders: 1, leechers: 0, checkedAtMs: 10 },
      { id: hash('top2'), seeders: 50, leechers: 3, checkedAtMs: 10 },
    ]);
    assert.deepEqual(await names(s, 'quokka'), ['top2-name', 'top-name', 'low-name']);
    const page = await s.search({ query: parseQuery('quokka'), filters: {}, page: 1, perPage: 1 });
    assert.equal(page.results[0]?.seeders, 50);
    assert.equal(page.results[0]?.leechers, 3);
    assert.match(page.results[0]?.magnet ?? '', /^magnet:\?xt=urn:btih:[0-9a-f]{40}&dn=top2-name&tr=/);
  });

  t('phrases must be adjacent and excluded words remove results', async (s) => {
    await s.publish(input(sampleEntry('p1', { title: 'red green blue' })), 1);
    await s.publish(input(sampleEntry('p2', { title: 'green red blue' })), 1);
    assert.deepEqual((await names(s, '"red green"')).sort(), ['p1-name']);
    assert.deepEqual((await names(s, 'red green')).sort(), ['p1-name', 'p2-name']);
    assert.deepEqual(await names(s, 'blue -"green red"'), ['p1-name']);
  });

  t('FTS operators and SQL metacharacters in a query are plain words', async (s) => {
    await s.publish(input(sampleEntry('sql', { title: "Robert'); DROP TABLE entries;-- NEAR OR" })), 1);
    await s.publish(input(sampleEntry('other', { title: 'unrelated' })), 1);
    const hostile = [
      "'; DROP TABLE entries; --",
      'robert OR unrelated',
      'NEAR(robert table)',
      'title:robert',
      'robert*',
      '"unterminated',
      '^robert',
      '(((',
      '\\x00 \u0000 %_ $1 ?',
      'e.tsv @@ q',
      '!!robert | & <->',
    ];
    for (const q of hostile) await s.search({ query: parseQuery(q), filters: {}, page: 1, perPage: 10 });
    assert.deepEqual(await names(s, 'robert OR near'), ['sql-name']);
    assert.deepEqual(await names(s, 'robert OR unrelated'), []);
    assert.deepEqual(await names(s, "'); DROP TABLE entries;--"), ['sql-name']);
    assert.deepEqual(await names(s, 'table:entries'), ['sql-name']);
    assert.equal((await s.stats()).entries, 2);
  });

  t('filters narrow by category, size range, publication date and publisher', async (s) => {
    await s.publish(
      input(sampleEntry('f1', { category: 'video', files: [{ path: ['a'], length: 100 }] })),
      1000,
    );
    await s.publish(
      input(sampleEntry('f2', { category: 'audio', files: [{ path: ['b'], length: 5000 }] })),
      2000,
    );
    await s.publish(
      input(sampleEntry('f3', { category: 'video', publisher: BOB, files: [{ path: ['c'], length: 9000 }] })),
      3000,
    );
    assert.deepEqual((await names(s, 'sample', { category: 'video' })).sort(), ['f1-name', 'f3-name']);
    assert.deepEqual(await names(s, 'sample', { minSizeBytes: 1000, maxSizeBytes: 6000 }), ['f2-name']);
    assert.deepEqual((await names(s, 'sample', { sinceMs: 2000 })).sort(), ['f2-name', 'f3-name']);
    assert.deepEqual(await names(s, 'sample', { publisher: BOB }), ['f3-name']);
    assert.deepEqual(await names(s, '', { category: 'video' }), ['f3-name', 'f1-name']);
    assert.deepEqual(await names(s, 'sample', { category: 'books' }), []);
  });

  t('pagination returns disjoint pages and refuses pages beyond the result window', async (s) => {
    await s.publishBatch(
      Array.from({ length: 25 }, (_, i) => input(sampleEntry(`pg${i}`, { title: 'Pangolin' }))),
      1,
    );
    const seen = new Set<string>();
    for (const page of [1, 2, 3]) {
      const r = await s.search({ query: parseQuery('pangolin'), filters: {}, page, perPage: 10 });
      assert.equal(r.results.length, page === 3 ? 5 : 10);
      assert.equal(r.hasMore, page < 3);
      for (const x of r.results) seen.add(x.name);
    }
    assert.equal(seen.size, 25);
    await rejectsWith(
      s.search({ query: parseQuery('x'), filters: {}, page: 1e9, perPage: 10 }),
      'PAGE_OUT_OF_RANGE',
    );
    await rejectsWith(
      s.search({ query: parseQuery('x'), filters: {}, page: 1, perPage: 1000 }),
      'PAGE_OUT_OF_RANGE',
    );
    await rejectsWith(
      s.search({ query: parseQuery('x'), filters: {}, page: 0, perPage: 10 }),
      'PAGE_OUT_OF_RANGE',
    );
  });

  t('a batch is all or nothing', async (s) => {
    await s.publish(input(sampleEntry('taken', { publisher: BOB })), 1);
    const batch = [
      input(sampleEntry('b1')),
      input(sampleEntry('taken', { seq: 7 })),
      input(sampleEntry('b2')),
    ];
    await rejectsWith(s.publishBatch(batch, 2), 'NOT_OWNER');
    assert.equal(await s.get(hash('b1')), null);
    assert.equal((await s.stats()).entries, 1);
  });

  t('health candidates come never-checked first and updates are stored', async (s) => {
    await s.publish(input(sampleEntry('h1')), 1);
    await s.publish(input(sampleEntry('h2', { infoHash: null, infoHashV2: hash('h2v2', 32) })), 1);
    await s.updateHealth([{ id: hash('h1'), seeders: 4, leechers: 2, checkedAtMs: 100 }]);
    const c = await s.healthCandidates(10, 1000);
    assert.deepEqual(
      c.map((x) => x.id),
      [hash('h2v2', 32), hash('h1')],
    );
    assert.equal(c[0]?.infoHash, null);
    assert.deepEqual(c[1]?.trackers, ['http://127.0.0.1:1/announce']);
    assert.deepEqual(await s.healthCandidates(10, 50), [c[0]]);
    const got = await s.get(hash('h1'));
    assert.equal(got?.seeders, 4);
    assert.equal(got?.checkedAtMs, 100);
  });

  t('a v2-only entry has a null v1 hash and a btmh magnet', async (s) => {
    const v2 = hash('only-v2', 32);
    await s.publish(input(sampleEntry('v2only', { infoHash: null, infoHashV2: v2, title: 'Capybara' })), 1);
    const [hit] = (await s.search({ query: parseQuery('capybara'), filters: {}, page: 1, perPage: 5 }))
      .results;
    assert.equal(hit?.infoHash, null);
    assert.equal(hit?.infoHashV2, v2);
    assert.ok(hit?.magnet.includes(`xt=urn:btmh:1220${v2}`));
  });

  t('an entry cannot take over a v2 hash that another entry already holds', async (s) => {
    const v2 = hash('shared', 32);
    await s.publish(input(sampleEntry('x1', { infoHash: null, infoHashV2: v2 })), 1);
    await rejectsWith(s.publish(input(sampleEntry('x2', { infoHashV2: v2 })), 1), 'HASH_CONFLICT');
  });

  t('a taken-down v2 hash never comes back through an update or publish of another entry', async (s) => {
    const t1 = hash('td-v1');
    const t2 = hash('td-v2', 32);
    await s.publish(input(sampleEntry('td', { infoHash: t1, infoHashV2: t2, title: 'Banned Banana' })), 1);
    await s.publish(input(sampleEntry('host', { title: 'Innocent Host' })), 1);
    await s.takedown(t1, 'court order', 'admin', 2);
    // Alice's live entry tries to adopt the taken-down v2 hash, by update.
    await rejectsWith(s.publish(input(sampleEntry('host', { infoHashV2: t2, seq: 2 })), 3), 'TAKEN_DOWN');
    // A new hybrid entry, a pure v2 entry and another publisher: all refused.
    await rejectsWith(s.publish(input(sampleEntry('fresh', { infoHashV2: t2 })), 3), 'TAKEN_DOWN');
    await rejectsWith(
      s.publish(input(sampleEntry('v2only', { infoHash: null, infoHashV2: t2, publisher: BOB })), 3),
      'TAKEN_DOWN',
    );
    await rejectsWith(
      s.publish(input(sampleEntry('td', { infoHash: t1, infoHashV2: null, seq: 9 })), 3),
      'TAKEN_DOWN',
    );
    assert.equal(await s.get(t2), null);
    assert.equal((await s.get(hash('host')))?.infoHashV2, null);
    assert.deepEqual(await names(s, 'banned'), []);
    // The host entry still updates normally.
    assert.equal(await s.publish(input(sampleEntry('host', { seq: 3, title: 'Still Here' })), 4), 'updated');
  });

  t('a pure v2 entry taken down by its hash stays down as the v2 hash of any entry', async (s) => {
    const v2 = hash('pure-v2-td', 32);
    await s.publish(input(sampleEntry('p2', { infoHash: null, infoHashV2: v2 })), 1);
    await s.publish(input(sampleEntry('other', { publisher: BOB })), 1);
    await s.takedown(v2, 'abuse', 'admin', 2);
    await rejectsWith(
      s.publish(input(sampleEntry('p2', { infoHash: null, infoHashV2: v2, seq: 5 })), 3),
      'TAKEN_DOWN',
    );
    await rejectsWith(
      s.publish(input(sampleEntry('other', { infoHashV2: v2, seq: 2, publisher: BOB })), 3),
      'TAKEN_DOWN',
    );
    await rejectsWith(s.publish(input(sampleEntry('n', { infoHashV2: v2 })), 3), 'TAKEN_DOWN');
    assert.equal(await s.get(v2), null);
  });

  t('a takedown by v2 hash, or of an owner-removed entry, keeps both of its hashes down', async (s) => {
    const a1 = hash('rm-v1');
    const a2 = hash('rm-v2', 32);
    await s.publish(input(sampleEntry('rm', { infoHash: a1, infoHashV2: a2 })), 1);
    await s.remove(a1, ALICE, 2, 2);
    await s.takedown(a2, 'after removal', 'admin', 3);
    await rejectsWith(
      s.publish(input(sampleEntry('rm', { infoHash: a1, infoHashV2: a2, seq: 3 })), 4),
      'TAKEN_DOWN',
    );
    await rejectsWith(
      s.publish(input(sampleEntry('x', { infoHash: null, infoHashV2: a2 })), 4),
      'TAKEN_DOWN',
    );
    const b1 = hash('byv2-v1');
    const b2 = hash('byv2-v2', 32);
    await s.publish(input(sampleEntry('byv2', { infoHash: b1, infoHashV2: b2 })), 1);
    await s.takedown(b2, 'by v2', 'admin', 3);
    assert.equal(await s.get(b1), null);
    await rejectsWith(
      s.publish(input(sampleEntry('byv2', { infoHash: b1, infoHashV2: null, seq: 4 })), 4),
      'TAKEN_DOWN',
    );
    // An own removed entry (a tombstone that is not taken down) matched first must not hide a
    // takedown matched second.
    await s.publish(input(sampleEntry('mine')), 1);
    await s.remove(hash('mine'), ALICE, 2, 2);
    await rejectsWith(s.publish(input(sampleEntry('mine', { infoHashV2: b2, seq: 3 })), 4), 'TAKEN_DOWN');
    assert.equal(await s.publish(input(sampleEntry('mine', { seq: 4 })), 5), 'created');
  });

  t("an update onto another publisher's hash is HASH_CONFLICT and the store stays usable", async (s) => {
    const c2 = hash('bob-v2', 32);
    const h1 = hash('bob-hy-v1');
    const h2 = hash('bob-hy-v2', 32);
    await s.publish(input(sampleEntry('mine', { title: 'Mine Marmot' })), 1);
    await s.publish(input(sampleEntry('bob2', { infoHash: null, infoHashV2: c2, publisher: BOB })), 1);
    await s.publish(input(sampleEntry('bobhy', { infoHash: h1, infoHashV2: h2, publisher: BOB })), 1);
    await s.publish(input(sampleEntry('unrelated')), 1);
    let seq = 2;
    const collisions = [
      sampleEntry('mine', { infoHashV2: c2, seq: seq++ }), // update onto a pure v2 entry's hash
      sampleEntry('mine', { infoHashV2: h2, seq: seq++ }), // update onto a hybrid's v2 hash
      sampleEntry('new1', { infoHashV2: c2 }), // a new hybrid with a held v2 hash
      sampleEntry('new2', { infoHash: null, infoHashV2: h2 }), // a new pure v2 entry = a hybrid's v2
    ];
    for (const e of collisions) {
      await rejectsWith(s.publish(input(e), 2), 'HASH_CONFLICT');
      // The next, unrelated update must succeed: nothing was left half-done.
      assert.equal(await s.publish(input(sampleEntry('unrelated', { seq: seq++ })), 3), 'updated');
    }
    const mine = await s.get(hash('mine'));
    assert.equal(mine?.infoHashV2, null);
    assert.equal(mine?.seq, 1);
    assert.equal((await s.get(c2))?.publisher, BOB);
    assert.equal((await s.get(h2))?.id, h1);
    assert.equal(await s.get(hash('new1')), null);
    assert.deepEqual(await names(s, 'marmot'), ['mine-name']);
    assert.equal((await s.stats()).entries, 4);
  });

  t("a hash held by another publisher's removed entry is a conflict too", async (s) => {
    const v2 = hash('gone-v2', 32);
    await s.publish(input(sampleEntry('bobs', { infoHashV2: v2, publisher: BOB })), 1);
    await s.remove(hash('bobs'), BOB, 2, 2);
    await rejectsWith(s.publish(input(sampleEntry('grab', { infoHashV2: v2 })), 3), 'HASH_CONFLICT');
    await rejectsWith(
      s.publish(input(sampleEntry('grab2', { infoHash: null, infoHashV2: v2 })), 3),
      'HASH_CONFLICT',
    );
    assert.equal(await s.publish(input(sampleEntry('grab', { seq: 1 })), 3), 'created');
  });

  t('a batch with a hash conflict inside is refused whole and the store stays usable', async (s) => {
    const v2 = hash('batch-v2', 32);
    await s.publish(input(sampleEntry('held', { infoHash: null, infoHashV2: v2, publisher: BOB })), 1);
    await rejectsWith(
      s.publishBatch([input(sampleEntry('ok1')), input(sampleEntry('clash', { infoHashV2: v2 }))], 2),
      'HASH_CONFLICT',
    );
    const twin = hash('twin-v2', 32);
    await rejectsWith(
      s.publishBatch(
        [
          input(sampleEntry('twin1', { infoHashV2: twin })),
          input(sampleEntry('twin2', { infoHashV2: twin })),
        ],
        2,
      ),
      'HASH_CONFLICT',
    );
    assert.equal(await s.get(hash('ok1')), null);
    assert.equal(await s.get(twin), null);
    await s.publishBatch([input(sampleEntry('ok1')), input(sampleEntry('ok2'))], 3);
    assert.equal((await s.stats()).entries, 3);
  });

  t('stats count entries, publishers and tombstones', async (s) => {
    await s.publish(input(sampleEntry('s1')), 1);
    await s.publish(input(sampleEntry('s2', { publisher: BOB })), 1);
    await s.publish(input(sampleEntry('s3')), 1);
    await s.remove(hash('s3'), ALICE, 2, 2);
    assert.deepEqual(await s.stats(), { entries: 2, publishers: 2, tombstones: 1, takedowns: 0 });
  });
}
