import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { ControlError, decodeControl, encodeControl } from '../src/handoff/control.js';
import { FrameError, FrameOpener, FrameSealer, FrameType } from '../src/handoff/frames.js';
import { fuzzParams } from './fuzz-config.js';

const params = fuzzParams();

test('decodeControl on arbitrary bytes and JSON only throws ControlError', () => {
  const json = fc.oneof(
    fc.json().map((j) => Buffer.from(j)),
    fc
      .record({
        t: fc.constantFrom('offer', 'accept', 'peers', 'complete', 'x'),
        offer: fc.anything(),
        port: fc.anything(),
        peers: fc.anything(),
      })
      .map((o) => Buffer.from(JSON.stringify(o))),
    fc.uint8Array({ maxLength: 512 }),
  );
  fc.assert(
    fc.property(json, (bytes) => {
      try {
        const m = decodeControl(bytes);
        // Whatever decodes re-encodes and decodes to the same message.
        assert.deepEqual(decodeControl(encodeControl(m)), m);
      } catch (err) {
        if (!(err instanceof ControlError)) throw err;
      }
    }),
    params,
  );
});

test('a frame opener fed arbitrary or mutated bytes only throws FrameError and never yields forged frames', () => {
  const key = new Uint8Array(randomBytes(32));
  const good = new FrameSealer(key).seal(FrameType.Data, Buffer.from('payload'));
  const input = fc.oneof(
    fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }),
    fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
      const m = Buffer.from(good);
      m[at]! ^= x;
      return [m];
    }),
  );
  fc.assert(
    fc.property(input, (chunks) => {
      const opener = new FrameOpener(key);
      try {
        for (const c of chunks)
          for (const f of opener.push(c)) assert.fail(`forged frame opened: ${f.body.length}`);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
      }
      assert.ok(opener.pendingBytes <= 64 * 1024 + 21, 'nothing beyond one frame is buffered');
    }),
    params,
  );
});
