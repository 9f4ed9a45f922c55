/**
 * Known answers for the MSE key exchange and handshake.
 *
 * Recorded handshakes: the byte streams below are real encrypted handshakes recorded by
 * Transmission's test suite (tests/libtransmission/handshake-test.cc: a Transmission 3.00
 * initiator and a qBittorrent 4.2.5 responder, torrent 2c6b6858…0685, our private key
 * 0EYKCwBWQ4Dg9kX3c5xxjVtBDKw=). Only the data is taken. If our prime, padding, hashes or
 * RC4 drop were wrong, the peer id inside would not decrypt.
 *
 * Independent check: a separately written BigInt square-and-multiply recomputes public keys
 * and the secret, and the key derivations are recomputed from their definitions.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { MseError } from './errors.js';
import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  classifyIncoming,
  MseInitiator,
  MseResponder,
  type MseResult,
  req2Hash,
} from './handshake.js';
import { deriveKeys, MSE_PRIME_HEX, publicKeyFor, sharedSecret } from './keys.js';
import { Rc4 } from './rc4.js';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const PRIVATE_KEY = b64('0EYKCwBWQ4Dg9kX3c5xxjVtBDKw=');
const UBUNTU = new Uint8Array(Buffer.from('2c6b6858d61da9543d4231a71db4b1c9264b0685', 'hex'));
const OPTS = { nowMs: 0, timeoutMs: 10_000 };

const INCOMING_YA = b64(
  'svkySIFcCsrDTeHjPt516UFbsoR+5vfbe5/m6stE7u5JLZ10kJ19NmP64E10qInn78sCrJgjw1yEHHwrzOcKiRlYvcMotzJMe+SjrFUnaw3KBfn2bcKBhxb/sfM9J7nJ',
);
const INCOMING_REST = b64(
  'ICAgICAgICAgIKdr4jIBZ4xFfO4xNiRV7Gl2azTSuTFuu06NU1WyRPif018JYeVGwrTPstEPu3V5lmzjtMGVLaL5EErlpJ93Xrz+ea6EIQEUZA+D4jKaV/to9NVi04/1W1A2PHgg+I9puac/i9BsFPcjdQeoVtU73lNCbTDQgTieyjDWmwo=',
);
const OUTGOING_YB = b64(
  'Sfgoq/nrQfD4Iwirfk+uhOmQMOC/QwK/vYiOact1NF9TpWXms3cvlKEKxs0VUmnmytRh9bh4Lcs1bswlC6R05XrJGzLhZqAqcLUUAR1VTLA5oKSjR1038zFbhnc71jql',
);
const OUTGOING_REQ1 = b64('mbpZFBwdi4U1snVvboN3sMEpNmU=');
const OUTGOING_REST = b64(
  'paZ3steQoTE58dNkLfvPJdGfTli1FCa1FcvjqCGkzEigwxVTo7o9MviInBNGZzetXtP0f4PgD0SubXoMNEi2dza/PsuA5e+7GcnNeNT0fcbw49HWtXgL3wb18sg3puL1I6oi1DQhFfCg1xDDwj2AEKA2cy7zMjhLSTP4n9KNFDfPElrbdZI0Q/FDb1JVyHzNGLJyYSgOnye/+IHiu/lqNmonH2ixTshuSBCW04PTkGGwxxWqFcw9MWNA8fidJaKjPgs6z4/FKXlyHGw+6Sa091zxAmxUNdnAmOS1uUcplSMfEz9Goxok8aLtS+w2xg+eEmIFf+KhW2n0bFqfQDvmAyXKLhXf44lTfq95aMb309APR/Q0QDEdK2SqUKV2dWQIQLgDlxhxSL7cPMHenT8m3rufi6EdkvdPyKcB1iI2zW8qUGbgPYZ+CXxTFjz/UxvxNdZaAePjJKz9tlO9ns4y+YqXe+ABBD9P7vMBo9bdpF4TQ/TjX2rAPqWNucvBjNODNAe/tMSprBz+7Z7cECwBmQEx/N6zsWkjt/qP0XYikCQLBsTCFNPLHAXOVTpqwJo3mKyzaRZ6V1bmrx+Yn++PdMzArtwxJxvYaW2G4l/eU/hFHEWzOqUgr6908KtU',
);

/** Written apart from src/mse/keys.ts on purpose: plain square-and-multiply over BigInt. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}
const big = (b: Uint8Array) => BigInt(`0x${hex(b) || '0'}`);
const bytes96 = (n: bigint) => new Uint8Array(Buffer.from(n.toString(16).padStart(192, '0'), 'hex'));
const P = BigInt(`0x${MSE_PRIME_HEX}`);
const sha1 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function payloadOf(r: MseResult): Buffer {
  return Buffer.concat(r.payload.map((c) => Buffer.from(c)));
}

describe('MSE key exchange', () => {
  test('public keys and the secret agree with an independent BigInt computation, 96 bytes padded', () => {
    // 0x00…01: a tiny private key gives a public key 2 with 95 leading zero bytes (Node would not pad).
    for (const x of [Uint8Array.of(1), PRIVATE_KEY, new Uint8Array(20).fill(0xff)]) {
      const y = publicKeyFor(x);
      assert.equal(y.length, 96);
      assert.equal(hex(y), hex(bytes96(modPow(2n, big(x), P))));
    }
    const xa = new Uint8Array(20).map((_, i) => i * 7 + 1);
    const xb = new Uint8Array(20).map((_, i) => 255 - i * 3);
    const s1 = sharedSecret(xa, publicKeyFor(xb));
    const s2 = sharedSecret(xb, publicKeyFor(xa));
    assert.equal(hex(s1), hex(s2));
    assert.equal(hex(s1), hex(bytes96(modPow(modPow(2n, big(xb), P), big(xa), P))));
  });

  test('the BigInt engine (first connections) and OpenSSL (after) give the same keys', () => {
    // keys.ts switches engines after 64 exponentiations in the process: cross the switch.
    for (let i = 0; i < 80; i++) {
      const x = new Uint8Array(20).map((_, k) => (k * 31 + i * 17 + 3) & 0xff);
      assert.equal(hex(publicKeyFor(x)), hex(bytes96(modPow(2n, big(x), P))), `operation ${i}`);
    }
  });

  test('the prime is MSE’s own, not Oakley group 1', () => {
    assert.notEqual(MSE_PRIME_HEX.slice(-16), 'ffffffffffffffff');
    assert.equal(P.toString(2).length, 768);
  });

  test('key derivations match their definitions', () => {
    const s = bytes96(12345678901234567890n);
    const k = deriveKeys(s, UBUNTU);
    assert.equal(hex(k.req1), hex(sha1('req1', s)));
    const r2 = sha1('req2', UBUNTU);
    const r3 = sha1('req3', s);
    assert.equal(hex(k.req2xor3), hex(r2.map((v, i) => v ^ r3[i]!)));
    assert.equal(hex(k.keyA), hex(sha1('keyA', s, UBUNTU)));
    assert.equal(hex(k.keyB), hex(sha1('keyB', s, UBUNTU)));
  });

  test('rejects degenerate peer keys (0, 1, P-1, P) with MSE_BAD_PUBLIC_KEY', () => {
    for (const y of [0n, 1n, P - 1n, P]) {
      const yb = y === P ? new Uint8Array(Buffer.from(MSE_PRIME_HEX, 'hex')) : bytes96(y);
      assert.throws(() => sharedSecret(PRIVATE_KEY, yb), { code: 'MSE_BAD_PUBLIC_KEY' });
    }
    assert.doesNotThrow(() => sharedSecret(PRIVATE_KEY, bytes96(P - 2n)));
  });
});

describe('MSE recorded handshakes (Transmission test suite data)', () => {
  test('responder: decrypts a real initiator’s handshake and finds the torrent and peer id', () => {
    const r = new MseResponder({
      ...OPTS,
      privateKey: PRIVATE_KEY,
      accept: CRYPTO_RC4 | CRYPTO_PLAINTEXT,
      lookupInfoHash: (h) => (hex(h) === hex(req2Hash(UBUNTU)) ? UBUNTU : null),
    });
    const first = r.receive(INCOMING_YA, 0);
    assert.equal(first.result, null);
    assert.equal(first.send.length, 1);
    const step = r.receive(INCOMING_REST, 0);
    assert.ok(step.result);
    assert.equal(hex(step.result.infoHash), hex(UBUNTU));
    const payload = payloadOf(step.result);
    assert.equal(payload.subarray(0, 20).toString('latin1'), '\x13BitTorrent protocol');
    assert.equal(hex(payload.subarray(28, 48)), hex(UBUNTU));
    assert.equal(payload.subarray(48, 68).toString('latin1'), '-TR300Z-w4bd4mkebkbi');
  });

  test('responder: the same stream for a torrent we do not have fails with MSE_UNKNOWN_INFO_HASH', () => {
    const r = new MseResponder({
      ...OPTS,
      privateKey: PRIVATE_KEY,
      accept: CRYPTO_RC4,
      lookupInfoHash: () => null,
    });
    r.receive(INCOMING_YA, 0);
    assert.throws(() => r.receive(INCOMING_REST, 0), { code: 'MSE_UNKNOWN_INFO_HASH' });
  });

  test('initiator: sends the recorded HASH(req1, S) and decrypts a real responder’s reply', () => {
    const a = new MseInitiator({
      ...OPTS,
      privateKey: PRIVATE_KEY,
      infoHash: UBUNTU,
      provide: CRYPTO_RC4 | CRYPTO_PLAINTEXT,
    });
    assert.equal(a.start().length >= 96, true);
    const step = a.receive(OUTGOING_YB, 0);
    assert.equal(hex(Buffer.from(step.send[0]!).subarray(0, 20)), hex(OUTGOING_REQ1));
    const done = a.receive(OUTGOING_REST, 0);
    assert.ok(done.result);
    const payload = payloadOf(done.result);
    assert.equal(payload.subarray(0, 20).toString('latin1'), '\x13BitTorrent protocol');
    assert.equal(payload.subarray(48, 68).toString('latin1'), '-qB4250-scysDI_JuVN3');
  });
});

/** Run two handshakes against each other, delivering bytes in pieces of `split` bytes. */
function pair(opts: {
  provide: number;
  accept: number;
  ia?: Uint8Array;
  split?: number;
  pads?: Partial<Record<'A' | 'B' | 'C' | 'D', number>>;
}): { a: MseResult; b: MseResult } {
  const padLength = (p: 'A' | 'B' | 'C' | 'D') => opts.pads?.[p] ?? 17;
  const a = new MseInitiator({
    ...OPTS,
    infoHash: UBUNTU,
    provide: opts.provide,
    padLength,
    ...(opts.ia ? { initialPayload: opts.ia } : {}),
  });
  const b = new MseResponder({
    ...OPTS,
    accept: opts.accept,
    padLength,
    lookupInfoHash: (h) => (hex(h) === hex(req2Hash(UBUNTU)) ? UBUNTU : null),
  });
  const split = opts.split ?? 1 << 20;
  const feed = (to: MseInitiator | MseResponder, data: Uint8Array[]) => {
    let result: MseResult | null = null;
    const out: Uint8Array[] = [];
    for (const d of data)
      for (let i = 0; i < d.length; i += split) {
        const s = to.receive(d.subarray(i, i + split), 0);
        out.push(...s.send);
        result ??= s.result;
      }
    return { out, result };
  };
  const m2 = feed(b, [a.start()]);
  const m3 = feed(a, m2.out);
  const m4 = feed(b, m3.out);
  const done = feed(a, m4.out);
  assert.ok(m4.result && done.result);
  return { a: done.result, b: m4.result };
}

describe('MSE initiator ↔ responder', () => {
  test('RC4 both ways: each side decrypts what the other encrypts, IA arrives first', () => {
    const ia = new Uint8Array(Buffer.from('\x13BitTorrent protocol…'));
    for (const split of [1, 7, 1 << 20]) {
      const { a, b } = pair({
        provide: CRYPTO_RC4 | CRYPTO_PLAINTEXT,
        accept: CRYPTO_RC4,
        ia,
        split,
        pads: { A: 512, B: 0, C: 512, D: 3 },
      });
      assert.equal(a.method, 'rc4');
      assert.equal(hex(payloadOf(b)), hex(ia));
      const msg = new Uint8Array([0, 0, 0, 1, 2]);
      assert.equal(hex(b.decryptor!.process(a.encryptor!.process(msg))), hex(msg));
      assert.equal(hex(a.decryptor!.process(b.encryptor!.process(msg))), hex(msg));
    }
  });

  test('plaintext selected when it is the only common method; no ciphers after the handshake', () => {
    const { a, b } = pair({ provide: CRYPTO_PLAINTEXT | CRYPTO_RC4, accept: CRYPTO_PLAINTEXT });
    assert.equal(a.method, 'plaintext');
    assert.equal(b.method, 'plaintext');
    assert.equal(a.encryptor, null);
    assert.equal(b.decryptor, null);
  });

  test('a responder that accepts only RC4 refuses an offer of plaintext only', () => {
    assert.throws(() => pair({ provide: CRYPTO_PLAINTEXT, accept: CRYPTO_RC4 }), {
      code: 'MSE_NO_COMMON_METHOD',
    });
  });

  test('pads of exactly 512 bytes sync; the sync windows are bounded', () => {
    assert.doesNotThrow(() => pair({ provide: CRYPTO_RC4, accept: CRYPTO_RC4, pads: { A: 512, B: 512 } }));
    const b = new MseResponder({ ...OPTS, accept: CRYPTO_RC4, lookupInfoHash: () => UBUNTU });
    b.receive(publicKeyFor(PRIVATE_KEY), 0);
    // 532 bytes after Ya without HASH('req1', S): give up.
    assert.throws(() => b.receive(new Uint8Array(532), 0), { code: 'MSE_SYNC_NOT_FOUND' });
  });

  test('stalling mid-handshake fails with MSE_TIMEOUT once the deadline passes', () => {
    const b = new MseResponder({
      nowMs: 1000,
      timeoutMs: 500,
      accept: CRYPTO_RC4,
      lookupInfoHash: () => UBUNTU,
    });
    b.receive(new Uint8Array(10), 1200);
    assert.doesNotThrow(() => b.checkDeadline(1499));
    assert.throws(
      () => b.checkDeadline(1500),
      (e: unknown) => e instanceof MseError && e.code === 'MSE_TIMEOUT',
    );
  });

  test('classifies incoming first bytes', () => {
    assert.equal(classifyIncoming(new Uint8Array(Buffer.from('\x13BitTorrent protocol\0\0'))), 'plaintext');
    assert.equal(classifyIncoming(new Uint8Array(Buffer.from('\x13BitTorr'))), 'need-more');
    assert.equal(classifyIncoming(new Uint8Array(Buffer.from('\x13BitTorrent protocoX'))), 'mse');
    assert.equal(classifyIncoming(Uint8Array.of(0x14)), 'mse');
  });
});

describe('RC4', () => {
  test('matches the classic test vectors and never writes to its input', () => {
    // Key "Key", plaintext "Plaintext" → BBF316E8D940AF0AD3 (the widely published RC4 vector).
    const input = new Uint8Array(Buffer.from('Plaintext'));
    const out = new Rc4(new Uint8Array(Buffer.from('Key'))).process(input);
    assert.equal(hex(out).toUpperCase(), 'BBF316E8D940AF0AD3');
    assert.equal(Buffer.from(input).toString(), 'Plaintext');
    // Key "Wiki", "pedia" → 1021BF0420.
    assert.equal(
      hex(new Rc4(new Uint8Array(Buffer.from('Wiki'))).process(new Uint8Array(Buffer.from('pedia')))),
      '1021bf0420',
    );
  });

  test('discarding 1,024 bytes equals skipping them by hand; chunking does not change the stream', () => {
    const key = new Uint8Array(20).fill(9);
    const whole = new Rc4(key).process(new Uint8Array(1024 + 300)).subarray(1024);
    const dropped = new Rc4(key, 1024);
    const parts = [dropped.process(new Uint8Array(1)), dropped.process(new Uint8Array(299))];
    assert.equal(hex(Buffer.concat(parts)), hex(whole));
  });
});
