import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bitfield } from './bitfield.js';
import { PeerdropError } from './errors.js';

test('toBytes is MSB-first as on the wire', () => {
  const b = Bitfield.fromString('*      **');
  assert.deepEqual([...b.toBytes()], [0b1000_0001, 0b1000_0000]);
  assert.equal(b.count, 3);
});

test('fromBytes rejects spare bits and wrong sizes', () => {
  assert.throws(
    () => Bitfield.fromBytes(Uint8Array.of(0xff, 0xc0), 9),
    (e: unknown) => e instanceof PeerdropError && e.code === 'BITFIELD_SPARE_BITS',
  );
  assert.throws(
    () => Bitfield.fromBytes(Uint8Array.of(0xff), 9),
    (e: unknown) => e instanceof PeerdropError && e.code === 'BITFIELD_SIZE',
  );
  assert.equal(Bitfield.fromBytes(Uint8Array.of(0xff, 0x80), 9).hasAll(), true);
});

test('set and clear keep count and report change', () => {
  const b = new Bitfield(20);
  assert.equal(b.set(3), true);
  assert.equal(b.set(3), false);
  assert.equal(b.count, 1);
  assert.equal(b.clear(3), true);
  assert.equal(b.clear(3), false);
  assert.equal(b.hasNone(), true);
  assert.throws(() => b.set(20), RangeError);
});

test('full, firstMissing, firstSet and iteration', () => {
  const f = Bitfield.full(13);
  assert.equal(f.hasAll(), true);
  assert.equal(f.firstMissing(), -1);
  assert.deepEqual([...f.toBytes()], [0xff, 0xf8]);
  f.clear(11);
  assert.equal(f.firstMissing(), 11);
  const b = Bitfield.fromString('          *  *');
  assert.equal(b.firstSet(), 10);
  assert.deepEqual([...b], [10, 13]);
});

test('round-trips through bytes for any bit pattern', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (bits) => {
      const b = new Bitfield(bits.length);
      for (const [i, v] of bits.entries()) if (v) b.set(i);
      const back = Bitfield.fromBytes(b.toBytes(), bits.length);
      assert.equal(back.count, bits.filter(Boolean).length);
      assert.deepEqual([...back], [...b]);
      assert.equal(back.firstMissing(), bits.indexOf(false));
      assert.equal(back.firstSet(), bits.indexOf(true));
    }),
  );
});
