import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../../test/helpers/tmp.js';
import { parseQuery } from './query.js';
import { SqliteIndexStore } from './sqlite-store.js';
import { runStoreConformance, sampleEntry } from './store.conformance.js';

runStoreConformance('sqlite', async () => new SqliteIndexStore({ file: ':memory:' }));
// Two rows per full-text shard: every search walks several shards and merges their candidates.
runStoreConformance('sqlite-sharded', async () => new SqliteIndexStore({ file: ':memory:', shardRows: 2 }));

test('sqlite: entries survive closing and reopening the database file', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const file = `${dir.path}/index.db`;
  const a = new SqliteIndexStore({ file });
  await a.publish(
    { entry: sampleEntry('persist', { title: 'Durable Dugong' }), signature: '0'.repeat(128) },
    1,
  );
  await a.close();
  const b = new SqliteIndexStore({ file });
  t.after(() => b.close());
  const page = await b.search({ query: parseQuery('dugong'), filters: {}, page: 1, perPage: 5 });
  assert.deepEqual(
    page.results.map((r) => r.name),
    ['persist-name'],
  );
});

test('sqlite: a file of the first schema (one FTS table) is migrated and stays searchable', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const file = `${dir.path}/old.db`;
  const a = new SqliteIndexStore({ file });
  await a.publish(
    { entry: sampleEntry('legacy', { title: 'Ancient Axolotl' }), signature: '0'.repeat(128) },
    1,
  );
  await a.close();
  // Turn it into a schema-1 file: no shards, the old FTS table, user_version 0.
  const raw = new Database(file);
  for (const r of raw
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'entries_fts_[0-9]*'")
    .all() as { name: string }[])
    if (/^entries_fts_\d+$/.test(String(r.name))) raw.exec(`DROP TABLE ${String(r.name)}`);
  raw.exec(`CREATE VIRTUAL TABLE entries_fts USING fts5(title, description, tags, files, content='', contentless_delete=1);
    PRAGMA user_version = 0;`);
  raw.close();
  const b = new SqliteIndexStore({ file });
  t.after(() => b.close());
  const page = await b.search({
    query: parseQuery('axolotl'),
    filters: { category: 'other' },
    page: 1,
    perPage: 5,
  });
  assert.deepEqual(
    page.results.map((r) => r.name),
    ['legacy-name'],
  );
});

test('sqlite: a statement that fails mid-write leaves the store usable: the next unrelated write succeeds', async (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const file = `${dir.path}/index.db`;
  const a = new SqliteIndexStore({ file });
  for (const label of ['one', 'two'])
    await a.publish({ entry: sampleEntry(label), signature: '0'.repeat(128) }, 1);
  await a.close();
  // A trigger that aborts one particular UPDATE stands in for any failure inside a statement
  // (a constraint, a full disk): the store's cached UPDATE statement fails mid-step.
  const raw = new Database(file);
  raw.exec(`CREATE TRIGGER refuse_boom BEFORE UPDATE ON entries WHEN NEW.title = 'boom'
    BEGIN SELECT RAISE(ABORT, 'boom refused'); END;`);
  raw.close();
  const b = new SqliteIndexStore({ file });
  t.after(() => b.close());
  let seq = 2;
  for (let round = 0; round < 3; round++) {
    await assert.rejects(
      b.publish({ entry: sampleEntry('one', { title: 'boom', seq: seq++ }), signature: '0'.repeat(128) }, 2),
      /boom refused/,
    );
    assert.equal(
      await b.publish(
        { entry: sampleEntry('two', { title: `fine ${round}`, seq: seq++ }), signature: '0'.repeat(128) },
        3,
      ),
      'updated',
    );
  }
  assert.equal((await b.get(sampleEntry('one').infoHash!))?.title, 'Sample one');
  assert.equal((await b.get(sampleEntry('two').infoHash!))?.title, 'fine 2');
});

test('sqlite: a search stops at a page found in the newest scanRows entries, and walks on when short of one', async (t) => {
  // Two rows a shard, a scan bound of four rows: 8 matching entries, the newest 4 hold a page of 2.
  const s = new SqliteIndexStore({ file: ':memory:', shardRows: 2, scanRows: 4, resultCacheSize: 0 });
  t.after(() => s.close());
  for (let i = 0; i < 8; i++)
    await s.publish(
      { entry: sampleEntry(`walrus${i}`, { title: `Wandering Walrus ${i}` }), signature: '0'.repeat(128) },
      1,
    );
  const search = async (perPage: number) =>
    (await s.search({ query: parseQuery('walrus'), filters: {}, page: 1, perPage })).results
      .map((r) => r.name)
      .sort();
  // A page of 2 (+1 for hasMore) is found among the newest entries: the oldest are not reached.
  const small = await search(2);
  assert.equal(small.length, 2);
  for (const n of small) assert.ok(Number(/walrus(\d)/.exec(n)![1]) >= 3, n);
  // A page of 8 is more than the newest rows hold: the walk goes on to the oldest shard.
  assert.equal((await search(8)).length, 8);
});
