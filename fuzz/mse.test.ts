/**
 * Fuzz the MSE handshake parsers (src/mse/handshake.ts). Oracles:
 *  - random, truncated, mutated or oversized input, in random chunkings, only ever raises an
 *    `MseError` (or waits for more bytes): never a RangeError, TypeError or OpenSSL error;
 *  - a length field over its bound (len(PadC), len(PadD), len(IA)) fails as soon as the field
 *    is read, before the bytes it announces arrive, so nothing is buffered or allocated for it;
 *  - valid handshakes with any pads and IA, in any chunking, agree on the keystreams.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MseError } from '../src/mse/errors.js';
import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MAX_BUFFERED_BYTES,
  MAX_IA_BYTES,
  MseInitiator,
  MseResponder,
  type MseResult,
  req2Hash,
} from '../src/mse/handshake.js';
import { deriveKeys, publicKeyFor, sharedSecret } from '../src/mse/keys.js';
import { Rc4 } from '../src/mse/rc4.js';
import { fuzzParams } from './fuzz-config.js';

const INFO_HASH = new Uint8Array(20).fill(0x11);
const X_A = new Uint8Array(20).map((_, i) => i + 1);
const OPTS = { nowMs: 0, timeoutMs: 60_000 };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function responder(accept = CRYPTO_RC4 | CRYPTO_PLAINTEXT): MseResponder {
  return new MseResponder({
    ...OPTS,
    accept,
    lookupInfoHash: (h) => (hex(h) === hex(req2Hash(INFO_HASH)) ? INFO_HASH : null),
  });
}

/** Feed `data` in pieces; returns the result, or null while the handshake still waits. */
function feed(h: MseInitiator | MseResponder, data: Uint8Array, cuts: readonly number[]) {
  let at = 0;
  const sent: Uint8Array[] = [];
  let result: MseResult | null = null;
  for (const cut of [...cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b), data.length]) {
    if (cut <= at) continue;
    const step = h.receive(data.subarray(at, cut), 0);
    sent.push(...step.send);
    result ??= step.result;
    at = cut;
    if (result) break;
  }
  return { sent, result };
}

/** Only MseError may escape `fn`. */
function onlyMseErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof MseError)) throw err;
    assert.match(err.code, /^MSE_/);
  }
}

/** Message 3 with every field chosen by the test (lengths may lie about what follows). */
function message3(
  yb: Uint8Array,
  f: {
    provide: number;
    padCField: number;
    padC: Uint8Array;
    iaField: number;
    ia: Uint8Array;
    vc?: Uint8Array;
  },
) {
  const keys = deriveKeys(sharedSecret(X_A, yb), INFO_HASH);
  const plain = Buffer.alloc(8 + 4 + 2 + f.padC.length + 2 + f.ia.length);
  if (f.vc) plain.set(f.vc, 0);
  plain.writeUInt32BE(f.provide >>> 0, 8);
  plain.writeUInt16BE(f.padCField, 12);
  plain.set(f.padC, 14);
  plain.writeUInt16BE(f.iaField, 14 + f.padC.length);
  plain.set(f.ia, 16 + f.padC.length);
  return Buffer.concat([keys.req1, keys.req2xor3, new Rc4(keys.keyA, 1024).process(plain)]);
}

/** Start a responder with our Ya; returns it and its Yb. */
function responderWithYa(accept?: number): { b: MseResponder; yb: Uint8Array } {
  const b = responder(accept);
  const step = b.receive(publicKeyFor(X_A), 0);
  return { b, yb: new Uint8Array(step.send[0]!).subarray(0, 96) };
}

const cuts = fc.array(fc.nat({ max: 5000 }), { maxLength: 8 });

describe('MSE handshake fuzz', () => {
  test('random bytes to a responder or an initiator raise only MSE_ errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), cuts, fc.boolean(), (data, cs, isResponder) => {
        const h = isResponder
          ? responder()
          : new MseInitiator({ ...OPTS, infoHash: INFO_HASH, provide: CRYPTO_RC4 | CRYPTO_PLAINTEXT });
        if (h instanceof MseInitiator) h.start();
        onlyMseErrors(() => feed(h, data, cs));
      }),
      fuzzParams(200),
    );
  });

  test('a valid message 3 with mutated, truncated or extended bytes raises only MSE_ errors', () => {
    fc.assert(
      fc.property(
        fc.record({
          provide: fc.integer({ min: 0, max: 0xffffffff }),
          padC: fc.uint8Array({ maxLength: 600 }),
          ia: fc.uint8Array({ maxLength: 200 }),
          padCField: fc.option(fc.integer({ min: 0, max: 0xffff })),
          iaField: fc.option(fc.integer({ min: 0, max: 0xffff })),
        }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 64 }),
        cuts,
        (f, flips, truncateAt, tail, cs) => {
          const { b, yb } = responderWithYa();
          const m3 = message3(yb, {
            ...f,
            padCField: f.padCField ?? f.padC.length,
            iaField: f.iaField ?? f.ia.length,
          });
          for (const [at, v] of flips) m3[at % m3.length] = m3[at % m3.length]! ^ v;
          const data = Buffer.concat([m3.subarray(0, truncateAt % (m3.length + 1)), tail]);
          onlyMseErrors(() => feed(b, data, cs));
        },
      ),
      fuzzParams(200),
    );
  });

  test('len(PadC) > 512 and len(IA) over the limit fail when read, before their bytes arrive', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 513, max: 0xffff }),
        fc.integer({ min: MAX_IA_BYTES + 1, max: 0xffff }),
        (padField, iaField) => {
          const pad = responderWithYa();
          const m3pad = message3(pad.yb, {
            provide: CRYPTO_RC4,
            padCField: padField,
            padC: new Uint8Array(0),
            iaField: 0,
            ia: new Uint8Array(0),
          });
          // Only the 54 bytes up to and including len(PadC): the error comes now, not after 64 KiB.
          assert.throws(() => pad.b.receive(m3pad.subarray(0, 54), 0), { code: 'MSE_PAD_TOO_LONG' });
          const ia = responderWithYa();
          const m3ia = message3(ia.yb, {
            provide: CRYPTO_RC4,
            padCField: 0,
            padC: new Uint8Array(0),
            iaField,
            ia: new Uint8Array(0),
          });
          assert.throws(() => ia.b.receive(m3ia.subarray(0, 56), 0), { code: 'MSE_IA_TOO_LONG' });
        },
      ),
      fuzzParams(50),
    );
  });

  test('a wrong VC, an unoffered crypto_select and too much data are refused with their codes', () => {
    const { b, yb } = responderWithYa();
    const bad = message3(yb, {
      provide: CRYPTO_RC4,
      padCField: 0,
      padC: new Uint8Array(0),
      iaField: 0,
      ia: new Uint8Array(0),
      vc: Uint8Array.of(1),
    });
    assert.throws(() => b.receive(bad, 0), { code: 'MSE_BAD_VC' });

    // A responder answering RC4 to an initiator that offered plaintext only.
    const a = new MseInitiator({ ...OPTS, infoHash: INFO_HASH, provide: CRYPTO_PLAINTEXT, privateKey: X_A });
    const ya = a.start().subarray(0, 96);
    const xb = new Uint8Array(20).fill(3);
    const m3 = a.receive(publicKeyFor(xb), 0).send[0]!;
    assert.ok(m3.length > 40);
    const keys = deriveKeys(sharedSecret(xb, ya), INFO_HASH);
    const m4 = new Rc4(keys.keyB, 1024).process(
      Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, CRYPTO_RC4, 0, 0),
    );
    assert.throws(() => a.receive(m4, 0), { code: 'MSE_BAD_SELECT' });

    assert.throws(() => responder().receive(new Uint8Array(MAX_BUFFERED_BYTES + 1), 0), {
      code: 'MSE_TOO_MUCH_DATA',
    });
  });

  test('valid handshakes with any pads, IA and chunking agree on both keystreams', () => {
    fc.assert(
      fc.property(
        fc.record({
          A: fc.nat({ max: 512 }),
          B: fc.nat({ max: 512 }),
          C: fc.nat({ max: 512 }),
          D: fc.nat({ max: 512 }),
        }),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(CRYPTO_RC4, CRYPTO_PLAINTEXT, CRYPTO_RC4 | CRYPTO_PLAINTEXT),
        cuts,
        (pads, ia, provide, cs) => {
          const padLength = (p: 'A' | 'B' | 'C' | 'D') => pads[p];
          const a = new MseInitiator({
            ...OPTS,
            infoHash: INFO_HASH,
            provide,
            initialPayload: ia,
            padLength,
          });
          const b = new MseResponder({
            ...OPTS,
            accept: CRYPTO_RC4 | CRYPTO_PLAINTEXT,
            padLength,
            lookupInfoHash: () => INFO_HASH,
          });
          const m2 = feed(b, a.start(), cs).sent;
          const m3 = feed(a, Buffer.concat(m2), cs).sent;
          const bDone = feed(b, Buffer.concat(m3), cs);
          const aDone = feed(a, Buffer.concat(bDone.sent), cs);
          assert.ok(aDone.result && bDone.result);
          assert.equal(hex(Buffer.concat(bDone.result.payload.map((c) => Buffer.from(c)))), hex(ia));
          // We accept both: plaintext is chosen whenever it is offered, RC4 when it is all there is.
          assert.equal(aDone.result.method, (provide & CRYPTO_PLAINTEXT) !== 0 ? 'plaintext' : 'rc4');
          if (aDone.result.method === 'rc4') {
            const msg = Uint8Array.of(1, 2, 3);
            assert.equal(
              hex(bDone.result.decryptor!.process(aDone.result.encryptor!.process(msg))),
              '010203',
            );
          }
        },
      ),
      fuzzParams(100),
    );
  });
});
