import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { parseQuery } from './query.js';
import { SqliteIndexStore } from './sqlite-store.js';
import { runStoreConformance, sampleEntry } from './store.conformance.js';

runStoreConformance('sqlite', async () => new SqliteIndexStore({ file: ':memory:' }));

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
