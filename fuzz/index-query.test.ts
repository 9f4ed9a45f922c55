import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { IndexError } from '../src/index-server/errors.js';
import { parseQuery, toFts5 } from '../src/index-server/query.js';
import { SqliteIndexStore } from '../src/index-server/sqlite-store.js';
import { sampleEntry } from '../src/index-server/store.conformance.js';
import { fuzzParams } from './fuzz-config.js';

// Oracles: parseQuery throws only our IndexError; every parsed query runs on SQLite FTS5 without
// an SQL error; tokens are plain letters/digits (no operator can survive).
const store = new SqliteIndexStore({ file: ':memory:' });
after(() => store.close());

const ftsy = fc.constantFrom(
  '"',
  '-',
  '*',
  '^',
  ':',
  '(',
  ')',
  'AND',
  'OR',
  'NOT',
  'NEAR',
  "'",
  ';',
  '--',
  '\\',
  '%',
  '_',
  '\u0000',
  ' ',
  'é',
  '😀',
  '\uD800',
);
const queryArb = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.array(fc.oneof(ftsy, fc.string({ maxLength: 6 })), { maxLength: 40 }).map((xs) => xs.join('')),
  fc.array(fc.oneof(ftsy, fc.constantFrom('linux', 'iso', 'x')), { maxLength: 20 }).map((xs) => xs.join(' ')),
);

test('random query strings parse to plain tokens or fail with our own error codes', () => {
  fc.assert(
    fc.property(queryArb, (q) => {
      try {
        const parsed = parseQuery(q);
        for (const p of [...parsed.include, ...parsed.exclude])
          for (const t of p) assert.match(t, /^[\p{L}\p{N}]+$/u);
      } catch (err) {
        assert.ok(err instanceof IndexError, String(err));
        assert.ok(['QUERY_TOO_LONG', 'QUERY_INVALID'].includes(err.code));
      }
    }),
    fuzzParams(2000),
  );
});

test('every parsed query runs on SQLite FTS5 without an SQL error', async () => {
  await store.publish(
    { entry: sampleEntry('fz', { title: 'linux iso NEAR OR "quoted"' }), signature: '0'.repeat(128) },
    1,
  );
  await fc.assert(
    fc.asyncProperty(queryArb, async (q) => {
      let parsed: ReturnType<typeof parseQuery>;
      try {
        parsed = parseQuery(q);
      } catch (err) {
        assert.ok(err instanceof IndexError);
        return;
      }
      const page = await store.search({ query: parsed, filters: {}, page: 1, perPage: 5 });
      assert.ok(page.results.length <= 1, toFts5(parsed));
    }),
    fuzzParams(500),
  );
});
