import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MetainfoError } from './errors.js';
import {
  assertSafePath,
  checkComponent,
  checkPath,
  findPathConflict,
  MAX_PATH_BYTES,
  MAX_PATH_DEPTH,
  resolvePathConflicts,
  sanitizeComponent,
  sanitizePath,
} from './safe-path.js';

describe('checkComponent', () => {
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['.', /not allowed/],
    ['..', /not allowed/],
    ['a/b', /"\/"/],
    ['a\\b', /backslash/],
    ['a\u0000b', /control/],
    ['tab\there', /control/],
    ['del\u007f', /control/],
    ['C:', /drive letter/],
    ['c:evil', /drive letter/],
    ['file.txt:stream', /":"/],
    ['trailing.', /ends with a dot/],
    ['trailing ', /ends with a dot or space/],
    ['CON', /reserved/],
    ['con', /reserved/],
    ['nul.txt', /reserved/],
    ['Com1.tar.gz', /reserved/],
    ['LPT9', /reserved/],
    ['x'.repeat(256), /255/],
    ['é'.repeat(128), /255/],
  ];
  for (const [component, reason] of refused) {
    test(`refuses ${JSON.stringify(component.slice(0, 20))}`, () => {
      assert.match(checkComponent(component) ?? 'accepted', reason);
    });
  }

  const accepted = [
    'a',
    'file.txt',
    '.hidden',
    '...a',
    'ünïcødé 名前.dat',
    'CONSOLE',
    'com0',
    'what?',
    'x'.repeat(255),
  ];
  for (const component of accepted) {
    test(`accepts ${JSON.stringify(component.slice(0, 20))}`, () => {
      assert.equal(checkComponent(component), null);
    });
  }
});

describe('checkPath and assertSafePath', () => {
  test('names the offending component index', () => {
    assert.deepEqual(checkPath(['a', '..', 'b']), { index: 1, reason: '".." is not allowed' });
  });

  test('refuses an empty path, an over-deep path and an over-long path', () => {
    assert.equal(checkPath([])?.index, -1);
    assert.match(checkPath(Array(MAX_PATH_DEPTH + 1).fill('a'))?.reason ?? '', /deeper/);
    assert.match(
      checkPath(Array(20).fill('x'.repeat(250)))?.reason ?? '',
      new RegExp(String(MAX_PATH_BYTES)),
    );
  });

  test('throws METAINFO_UNSAFE_PATH with the field and component in the message', () => {
    assert.throws(
      () => assertSafePath(['ok', '..'], 'info.files[3].path'),
      (err: unknown) =>
        err instanceof MetainfoError &&
        err.code === 'METAINFO_UNSAFE_PATH' &&
        err.message === 'info.files[3].path[1]: ".." is not allowed',
    );
  });
});

describe('sanitize', () => {
  const hostile = [
    '..',
    '.',
    '',
    'a/b',
    'C:',
    'a\\b',
    'nul',
    'Nul.txt',
    'end. ',
    'x\u0000y',
    'q?"<>|*',
    'é'.repeat(200) + '.mkv',
  ];
  for (const c of hostile) {
    test(`makes ${JSON.stringify(c.slice(0, 12))} safe, idempotently`, () => {
      const s = sanitizeComponent(c);
      assert.equal(checkComponent(s), null);
      assert.equal(sanitizeComponent(s), s);
    });
  }

  test('keeps the extension when shortening a long name', () => {
    const s = sanitizeComponent(`${'é'.repeat(200)}.mkv`);
    assert.ok(s.endsWith('.mkv'));
    assert.ok(new TextEncoder().encode(s).length <= 255);
  });

  test('sanitizePath always yields a safe path', () => {
    for (const p of [
      [],
      ['..', '..', 'etc', 'passwd'],
      Array(300).fill('a'),
      Array(40).fill('y'.repeat(250)),
    ]) {
      assert.equal(checkPath(sanitizePath(p)), null);
    }
  });
});

describe('path conflicts', () => {
  test('finds an exact duplicate', () => {
    assert.deepEqual(
      findPathConflict([
        ['t', 'a'],
        ['t', 'b'],
        ['t', 'a'],
      ]),
      { kind: 'duplicate', first: 0, second: 2 },
    );
  });

  test('finds duplicates that differ only in case or Unicode normalisation', () => {
    assert.equal(
      findPathConflict([
        ['t', 'A.txt'],
        ['t', 'a.txt'],
      ])?.kind,
      'duplicate',
    );
    assert.equal(
      findPathConflict([
        ['t', 'caf\u00e9'],
        ['t', 'cafe\u0301'],
      ])?.kind,
      'duplicate',
    );
  });

  test('finds a name that is both a file and a folder, in either order', () => {
    assert.deepEqual(
      findPathConflict([
        ['t', 'a'],
        ['t', 'a', 'b'],
      ]),
      { kind: 'file-and-folder', first: 0, second: 1 },
    );
    assert.deepEqual(
      findPathConflict([
        ['t', 'a', 'b'],
        ['t', 'a'],
      ]),
      { kind: 'file-and-folder', first: 0, second: 1 },
    );
  });

  test('skips padding files', () => {
    const paths = [
      ['t', '.pad', '16384'],
      ['t', 'x'],
      ['t', '.pad', '16384'],
    ];
    assert.equal(
      findPathConflict(paths, (i) => i !== 1),
      null,
    );
  });

  test('resolvePathConflicts renames so no conflict remains', () => {
    const paths = [
      ['t', 'a'],
      ['t', 'A'],
      ['t', 'a', 'b'],
      ['t', 'x.txt'],
      ['t', 'x.txt'],
      ['t', 'c', 'd'],
      ['t', 'c'],
    ];
    const out = resolvePathConflicts(paths);
    assert.equal(findPathConflict(out), null);
    assert.deepEqual(out[0], ['t', 'a']);
    assert.deepEqual(out[1], ['t', 'A (1)']);
    assert.deepEqual(out[4], ['t', 'x (1).txt']);
    assert.deepEqual(out[6], ['t', 'c (1)']);
  });
});
