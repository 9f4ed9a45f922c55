import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { utf8 } from '../util/bytes.js';
import {
  BencodeError,
  type BValue,
  decode,
  decodeDocument,
  decodePrefix,
  encode,
  RawBencode,
} from './index.js';

const b = (s: string) => utf8(s);

function rejects(
  input: string | Uint8Array,
  code: string,
  offset?: number,
  options?: Parameters<typeof decode>[1],
) {
  const bytes = typeof input === 'string' ? b(input) : input;
  assert.throws(
    () => decode(bytes, options),
    (err: unknown) => {
      assert.ok(err instanceof BencodeError, `expected BencodeError, got ${String(err)}`);
      assert.equal(err.code, code);
      if (offset !== undefined) assert.equal(err.offset, offset);
      return true;
    },
  );
}

describe('bencode decode', () => {
  test('decodes integers, strings, lists and dicts', () => {
    assert.equal(decode(b('i42e')), 42);
    assert.equal(decode(b('i-7e')), -7);
    assert.equal(decode(b('i0e')), 0);
    assert.deepEqual(decode(b('4:spam')), b('spam'));
    assert.deepEqual(decode(b('0:')), new Uint8Array(0));
    assert.deepEqual(decode(b('l4:spami1ee')), [b('spam'), 1]);
    const d = decode(b('d3:cow3:moo4:spaml1:a1:bee')) as Map<string, BValue>;
    assert.deepEqual([...d.keys()], ['cow', 'spam']);
    assert.deepEqual(d.get('cow'), b('moo'));
  });

  test('integers beyond 2^53 decode as bigint, safe ones as number', () => {
    assert.equal(decode(b('i9007199254740991e')), 9007199254740991);
    assert.equal(decode(b('i9007199254740992e')), 9007199254740992n);
    assert.equal(decode(b('i-123456789012345678901234567890e')), -123456789012345678901234567890n);
  });

  test('strings are byte-exact, including NUL and invalid UTF-8', () => {
    const raw = Uint8Array.from([0x33, 0x3a, 0x00, 0xff, 0x80]);
    assert.deepEqual(decode(raw), Uint8Array.from([0x00, 0xff, 0x80]));
  });

  test('dict keys are compared as bytes (binary strings)', () => {
    const input = Uint8Array.from([...b('d1:'), 0xff, ...b('i1e1:'), 0x00, ...b('i2ee')]);
    // 0xff sorts after 0x00, so this input is unsorted but accepted by default.
    const d = decode(input) as Map<string, BValue>;
    assert.equal(d.get('\xff'), 1);
    assert.equal(d.get('\x00'), 2);
    rejects(input, 'BENCODE_UNSORTED_KEYS', 7, { allowUnsortedKeys: false });
  });

  test('rejects malformed input with a code and offset', () => {
    rejects('', 'BENCODE_EMPTY', 0);
    rejects('i01e', 'BENCODE_LEADING_ZERO', 0);
    rejects('i-0e', 'BENCODE_NEGATIVE_ZERO', 0);
    rejects('ie', 'BENCODE_BAD_INTEGER', 0);
    rejects('i-e', 'BENCODE_BAD_INTEGER', 0);
    rejects('i12', 'BENCODE_TRUNCATED', 3);
    rejects('i1x2e', 'BENCODE_BAD_INTEGER', 2);
    rejects('01:a', 'BENCODE_LEADING_ZERO', 0);
    rejects('5:abc', 'BENCODE_TRUNCATED', 0);
    rejects('3', 'BENCODE_TRUNCATED', 1);
    rejects('3x:abc', 'BENCODE_BAD_STRING_LENGTH', 1);
    rejects('l', 'BENCODE_TRUNCATED', 1);
    rejects('d3:fooe', 'BENCODE_UNEXPECTED_BYTE', 6);
    rejects('di1ei2ee', 'BENCODE_KEY_NOT_STRING', 1);
    rejects('dlei2ee', 'BENCODE_KEY_NOT_STRING', 1);
    rejects('d1:ai1e1:ai2ee', 'BENCODE_DUPLICATE_KEY', 7);
    rejects('i1ei2e', 'BENCODE_TRAILING_DATA', 3);
    rejects('e', 'BENCODE_UNEXPECTED_BYTE', 0);
    rejects('x', 'BENCODE_UNEXPECTED_BYTE', 0);
  });

  test('limits hold before allocation', () => {
    rejects('l'.repeat(65) + 'e'.repeat(65), 'BENCODE_TOO_DEEP', 64);
    rejects('li1ei2ei3ee', 'BENCODE_TOO_MANY_ITEMS', undefined, { maxItems: 3 });
    rejects('4:spam', 'BENCODE_TOO_LARGE', 0, { maxBytes: 5 });
    rejects(`i${'9'.repeat(100)}e`, 'BENCODE_BAD_INTEGER', 0);
    // A forged length far beyond the input is refused without reading or allocating.
    rejects('999999999999:x', 'BENCODE_TRUNCATED', 0);
    rejects('9999999999999999:x', 'BENCODE_BAD_STRING_LENGTH', 0);
  });

  test('deep nesting within the limit does not use the call stack', () => {
    const depth = 100_000;
    const input = b('l'.repeat(depth) + 'e'.repeat(depth));
    let v = decode(input, { maxDepth: depth }) as BValue[];
    for (let i = 1; i < depth; i++) v = v[0] as BValue[];
    assert.deepEqual(v, []);
  });

  test('decodeDocument gives the exact byte span of nested values', () => {
    const text = 'd4:infod4:name1:x6:lengthi5ee3:fooi1ee';
    const input = b(text);
    const doc = decodeDocument(input);
    const info = (doc.value as Map<string, BValue>).get('info') as Map<string, BValue>;
    const span = doc.spanOf(info)!;
    assert.equal(text.slice(span.start, span.end), 'd4:name1:x6:lengthi5ee');
  });

  test('decodePrefix stops after the first value and reports the end', () => {
    const input = b('d8:msg_typei1e5:piecei0eeRAWDATA');
    const doc = decodePrefix(input);
    assert.equal(doc.end, input.length - 7);
    assert.equal(new TextDecoder().decode(input.subarray(doc.end)), 'RAWDATA');
  });
});

describe('bencode encode', () => {
  test('round-trips canonical documents to identical bytes', () => {
    for (const text of [
      'i0e',
      'i-42e',
      '0:',
      'le',
      'de',
      'l4:spamli1eee',
      'd1:ai1e1:bd1:cleee',
      'i18446744073709551616e',
    ]) {
      assert.equal(new TextDecoder().decode(encode(decode(b(text)))), text);
    }
  });

  test('sorts keys by bytes and omits undefined values of plain objects', () => {
    const out = encode({ zeta: 1, alpha: 'x', skipped: undefined, émoji: 2 });
    assert.equal(Buffer.from(out).toString('utf8'), 'd5:alpha1:x4:zetai1e6:émojii2ee');
  });

  test('embeds RawBencode verbatim and encodes booleans as integers', () => {
    const raw = new RawBencode(b('d1:xi1ee'));
    assert.equal(
      new TextDecoder().decode(encode({ info: raw, private: true })),
      'd4:infod1:xi1ee7:privatei1ee',
    );
  });

  test('refuses values bencode cannot represent', () => {
    for (const bad of [1.5, Number.NaN, 2 ** 60]) {
      assert.throws(
        () => encode(bad),
        (e: unknown) => e instanceof BencodeError && e.code === 'BENCODE_UNENCODABLE',
      );
    }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.throws(
      () => encode(cyclic as never),
      (e: unknown) => e instanceof BencodeError,
    );
  });
});
