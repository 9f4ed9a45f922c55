import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Rc4 } from './rc4.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('RC4 classic vectors, on both engines, and the input is never written', () => {
  for (const engine of ['auto', 'js'] as const) {
    const input = new Uint8Array(Buffer.from('Plaintext'));
    assert.equal(
      hex(new Rc4(new Uint8Array(Buffer.from('Key')), 0, { engine }).process(input)),
      'bbf316e8d940af0ad3',
    );
    assert.equal(Buffer.from(input).toString(), 'Plaintext');
    // Long enough to take the WebAssembly path: 300 bytes of "Wiki"/"pedia"-style check via the JS engine.
    const long = new Uint8Array(70_000).fill(0x61);
    const copy = Buffer.from(long);
    new Rc4(new Uint8Array(Buffer.from('Wiki')), 0, { engine }).process(long);
    assert.ok(copy.equals(long), `${engine}: input untouched`);
  }
});

test('the WebAssembly and JavaScript engines produce the same keystream in any chunking', () => {
  for (let round = 0; round < 20; round++) {
    const key = randomBytes(1 + (round % 40));
    const data = randomBytes(1 + round * 9_001);
    const a = new Rc4(key, 1024);
    const b = new Rc4(key, 1024, { engine: 'js' });
    const whole = b.process(data);
    const parts: Uint8Array[] = [];
    // Chunks on both sides of the 256-byte engine switch and the 64 KiB window.
    for (let at = 0, step = 1; at < data.length; at += step, step = (step * 7 + 13) % 70_000 || 1) {
      parts.push(a.process(data.subarray(at, at + step)));
    }
    assert.equal(hex(Buffer.concat(parts)), hex(whole), `round ${round}`);
  }
});

test('interleaved streams sharing the WebAssembly instance keep their own state', () => {
  const k1 = randomBytes(20);
  const k2 = randomBytes(20);
  const data = randomBytes(5000);
  const x1 = new Rc4(k1, 1024);
  const x2 = new Rc4(k2, 1024);
  const o1 = [x1.process(data.subarray(0, 2500)), undefined as unknown as Uint8Array];
  const o2a = x2.process(data.subarray(0, 3000));
  o1[1] = x1.process(data.subarray(2500));
  const o2b = x2.process(data.subarray(3000));
  assert.equal(hex(Buffer.concat(o1)), hex(new Rc4(k1, 1024, { engine: 'js' }).process(data)));
  assert.equal(hex(Buffer.concat([o2a, o2b])), hex(new Rc4(k2, 1024, { engine: 'js' }).process(data)));
});
