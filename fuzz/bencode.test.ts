import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type BEncodable, BencodeError, type BValue, decode, encode } from '../src/bencode/index.js';
import { fuzzParams } from './fuzz-config.js';

/** Arbitrary bencode values in the decoder's data model (canonical by construction). */
const { value: bvalue } = fc.letrec<{ value: BValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.uint8Array({ maxLength: 40 }),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).filter((n) => n > 2n ** 53n || n < -(2n ** 53n)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .array(fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 8 }), tie('value')), { maxLength: 5 })
      .map((entries) => new Map(entries)),
  ),
}));

function onlyBencodeErrors(input: Uint8Array): void {
  try {
    decode(input);
  } catch (err) {
    if (!(err instanceof BencodeError)) throw err;
    assert.ok(err.offset >= 0 && err.offset <= input.length, `offset ${err.offset} within input`);
  }
}

describe('bencode fuzz', () => {
  test('decode(encode(v)) gives back v, and re-encoding gives the exact bytes', () => {
    fc.assert(
      fc.property(bvalue, (v) => {
        const bytes = encode(v as BEncodable);
        const back = decode(bytes);
        assert.deepEqual(back, v);
        assert.deepEqual(encode(back as BEncodable), bytes);
      }),
      fuzzParams(),
    );
  });

  test('random bytes raise only BencodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyBencodeErrors), fuzzParams(2000));
  });

  test('mutated valid documents raise only BencodeError, and accepted ones re-encode canonically', () => {
    fc.assert(
      fc.property(
        bvalue,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (v, muts) => {
          const bytes = encode(v as BEncodable).slice();
          for (const [pos, byte] of muts) bytes[pos % bytes.length] = byte;
          onlyBencodeErrors(bytes);
        },
      ),
      fuzzParams(2000),
    );
  });

  test('forged lengths and counts never allocate beyond the input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.uint8Array({ maxLength: 64 }), (len, tail) => {
        const input = new Uint8Array([...new TextEncoder().encode(`${len}:`), ...tail]);
        const before = process.memoryUsage().arrayBuffers;
        onlyBencodeErrors(input);
        // Strings are views into the input: decoding never copies more than the input itself.
        assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
      }),
      fuzzParams(500),
    );
  });

  test('the committed seed corpus decodes without unexpected errors', () => {
    const dir = new URL('./corpus/bencode/', import.meta.url).pathname;
    const files = readdirSync(dir);
    assert.ok(files.length >= 5, 'corpus has seeds');
    for (const f of files) onlyBencodeErrors(readFileSync(join(dir, f)));
  });
});
