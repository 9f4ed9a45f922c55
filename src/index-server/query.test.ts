import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_QUERY_CHARS, parseQuery, toFts5, toPgTsquery } from './query.js';

test('words, quoted phrases and exclusions are parsed into plain tokens', () => {
  assert.deepEqual(parseQuery('Ubuntu "server edition" -desktop -"live cd"'), {
    include: [['ubuntu'], ['server', 'edition']],
    exclude: [['desktop'], ['live', 'cd']],
  });
  assert.deepEqual(parseQuery('x264.MKV'), { include: [['x264', 'mkv']], exclude: [] });
  assert.deepEqual(parseQuery('  '), { include: [], exclude: [] });
  assert.deepEqual(parseQuery('"unterminated phrase'), {
    include: [['unterminated', 'phrase']],
    exclude: [],
  });
});

test('FTS operators become plain words and the FTS5 rendering quotes every phrase', () => {
  const q = parseQuery('a OR b NEAR(c) -"d e" NOT*');
  assert.equal(toFts5(q), '("a" AND "or" AND "b" AND "near c" AND "not") NOT ("d e")');
  const pg = toPgTsquery(q, 3);
  assert.deepEqual(pg.params, ['a', 'or', 'b', 'near c', 'not', 'd e']);
  assert.ok(pg.sql.includes('$3') && pg.sql.includes('$8') && !pg.sql.includes('$9'));
});

test('too long, too many terms or only exclusions are refused with our codes', () => {
  assert.throws(() => parseQuery('a'.repeat(MAX_QUERY_CHARS + 1)), { code: 'QUERY_TOO_LONG' });
  assert.throws(() => parseQuery(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ')), {
    code: 'QUERY_INVALID',
  });
  assert.throws(() => parseQuery('-alone'), { code: 'QUERY_INVALID' });
  assert.throws(() => parseQuery('x'.repeat(65)), { code: 'QUERY_INVALID' });
});
