import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type BEncodable, BencodeError, type BValue, decode, encode } from '../src/bencode/index.js';
import { MetainfoError } from '../src/metainfo/errors.js';
import { type ParseMetainfoOptions, parseMetainfo } from '../src/metainfo/parse.js';
import { checkPath, findPathConflict } from '../src/metainfo/safe-path.js';
import type { Metainfo } from '../src/metainfo/types.js';
import { toHex } from '../src/util/bytes.js';
import { buildTorrent, fixtureBytes } from '../test/helpers/torrent-fixtures.js';
import { fuzzParams } from './fuzz-config.js';

const corpusDir = new URL('./corpus/metainfo/', import.meta.url).pathname;
const corpus = readdirSync(corpusDir).map((name) => ({
  name,
  bytes: new Uint8Array(readFileSync(join(corpusDir, name))),
}));
const valid = corpus.filter((c) => c.name.startsWith('valid.'));

/** Parse; only our documented errors may escape, and anything accepted must hold the invariants. */
function parseOrRefuse(bytes: Uint8Array, options?: ParseMetainfoOptions): Metainfo | null {
  let m: Metainfo;
  try {
    m = parseMetainfo(bytes, options);
  } catch (err) {
    if (err instanceof MetainfoError || err instanceof BencodeError) return null;
    throw err;
  }
  assertInvariants(m);
  return m;
}

function assertInvariants(m: Metainfo): void {
  const isPad = (i: number) => m.files[i]!.attributes.isPadding;
  for (const f of m.files)
    assert.equal(checkPath(f.path), null, `unsafe path accepted: ${JSON.stringify(f.path)}`);
  assert.equal(
    findPathConflict(
      m.files.map((f) => f.path),
      isPad,
    ),
    null,
  );
  const total = m.files.reduce((s, f) => s + (f.attributes.isPadding ? 0 : f.lengthBytes), 0);
  assert.equal(m.totalLengthBytes, total);
  assert.ok(Number.isSafeInteger(m.storageLengthBytes) && m.storageLengthBytes >= total);
  if (m.infoHash) assert.equal(toHex(m.infoHash), createHash('sha1').update(m.infoBytes).digest('hex'));
  if (m.infoHashV2) assert.equal(toHex(m.infoHashV2), createHash('sha256').update(m.infoBytes).digest('hex'));
  if (m.pieceHashes) assert.equal(m.pieceHashes.length, 20 * m.pieceCount);
  assert.ok(m.pieceCount >= Math.ceil(total / m.pieceLengthBytes));
}

/** Arbitrary bencode values to splice into valid torrents. */
const { value: bvalue } = fc.letrec<{ value: BValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(0, 1, -1, 2, 16384, 2 ** 53 - 1),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).filter((n) => n > 2n ** 53n || n < -(2n ** 53n)),
    fc
      .constantFrom('..', '.', '', '/', 'C:', 'con', 'a\u0000', 'A.BIN', 'a.bin')
      .map((s) => new TextEncoder().encode(s)),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(fc.tuple(fc.constantFrom('length', 'path', 'attr', '', 'pieces root', 'x'), tie('value')), {
        maxLength: 4,
      })
      .map((entries) => new Map(entries)),
  ),
}));

/** Replace the value at a random path inside the decoded document. */
function spliceAt(root: BValue, choices: readonly number[], replacement: BValue): BValue {
  let node = root;
  for (const choice of choices) {
    const children: [unknown, BValue][] =
      node instanceof Map
        ? [...node.entries()]
        : Array.isArray(node)
          ? node.map((v, i) => [i, v] as [unknown, BValue])
          : [];
    if (children.length === 0) break;
    const [key, child] = children[choice % children.length]!;
    if (!(child instanceof Map || Array.isArray(child)) || choice % 3 === 0) {
      if (node instanceof Map) node.set(key as string, replacement);
      else (node as BValue[])[key as number] = replacement;
      return root;
    }
    node = child;
  }
  return root;
}

describe('metainfo fuzz', () => {
  test('the committed corpus: valid seeds parse, hostile seeds are refused with their code', () => {
    assert.ok(valid.length >= 4 && corpus.length >= 12);
    for (const { name, bytes } of corpus) {
      if (name.startsWith('valid.')) {
        assert.ok(parseOrRefuse(bytes), `${name} should parse`);
        continue;
      }
      const code = name.split('.')[0]!;
      assert.throws(
        () => parseMetainfo(bytes),
        (err: unknown) => err instanceof MetainfoError && err.code === code,
        name,
      );
    }
  });

  test('hostile corpus seeds parse in sanitize mode to safe paths, or are refused for non-path reasons', () => {
    for (const { name, bytes } of corpus) {
      const m = parseOrRefuse(bytes, { unsafePaths: 'sanitize' });
      if (/PATH/.test(name)) assert.ok(m, `${name} should be sanitized, not refused`);
    }
  });

  test('random bytes raise only MetainfoError or BencodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void parseOrRefuse(b)),
      fuzzParams(2000),
    );
  });

  test('byte-mutated valid torrents raise only documented errors; accepted ones hold the invariants', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (seed, muts, sanitize) => {
          const bytes = seed.bytes.slice();
          for (const [pos, byte] of muts) bytes[pos % bytes.length] = byte;
          parseOrRefuse(bytes, { unsafePaths: sanitize ? 'sanitize' : 'refuse' });
        },
      ),
      fuzzParams(2000),
    );
  });

  test('structurally mutated valid torrents raise only documented errors; accepted ones hold the invariants', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        bvalue,
        fc.boolean(),
        (seed, choices, replacement, sanitize) => {
          const doc = spliceAt(decode(seed.bytes), choices, replacement);
          parseOrRefuse(encode(doc as BEncodable), { unsafePaths: sanitize ? 'sanitize' : 'refuse' });
        },
      ),
      fuzzParams(2000),
    );
  });

  test('any file names become safe, conflict-free paths in sanitize mode', () => {
    const component = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('..', '.', '', 'CON', 'nul.txt', 'a.', 'C:', 'x\\y', 'A', 'a'),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(component, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        (paths) => {
          const files = paths.map((path, i) => ({ path, data: fixtureBytes(i * 7) }));
          const m = parseOrRefuse(buildTorrent(files, { name: 'n' }), { unsafePaths: 'sanitize' });
          assert.ok(m, 'sanitize mode accepts any names');
          assert.equal(m.files.length, files.length);
        },
      ),
      fuzzParams(500),
    );
  });
});
