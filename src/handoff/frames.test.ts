import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FrameOpener, FrameSealer, FrameType, MAX_FRAME_BODY_BYTES } from './frames.js';
import { CODE_MISMATCH_MESSAGE, HandshakeInitiator, HandshakeResponder } from './handshake.js';

const rnd = (n: number) => new Uint8Array(randomBytes(n));

function pair() {
  const key = rnd(32);
  return { sealer: new FrameSealer(key), opener: new FrameOpener(key) };
}

test('frames round-trip when cut at every byte boundary, large writes split at the body limit', () => {
  const { sealer, opener } = pair();
  const big = rnd(MAX_FRAME_BODY_BYTES * 2 + 5);
  const wire = Buffer.concat([
    ...sealer.sealData([big]),
    sealer.seal(FrameType.Control, Buffer.from('{"t":"complete"}')),
  ]);
  const frames = [];
  for (let i = 0; i < wire.length; i += 997) frames.push(...opener.push(wire.subarray(i, i + 997)));
  assert.equal(frames.length, 4);
  assert.deepEqual(Buffer.concat(frames.slice(0, 3).map((f) => f.body)), Buffer.from(big));
  assert.equal(frames[3]!.type, FrameType.Control);
});

test('a replayed, reordered, flipped or oversized frame closes the channel', () => {
  const cases: [string, (a: Uint8Array, b: Uint8Array) => Uint8Array[]][] = [
    ['replay', (a) => [a, a]],
    ['reorder', (a, b) => [b, a]],
    ['flip', (a) => [Buffer.from(a.map((x, i) => (i === 10 ? x ^ 1 : x)))]],
    ['oversize', () => [Buffer.from([0x7f, 0, 0, 0])]],
  ];
  for (const [name, make] of cases) {
    const { sealer, opener } = pair();
    const a = sealer.seal(FrameType.Data, Buffer.from('one'));
    const b = sealer.seal(FrameType.Data, Buffer.from('two'));
    assert.throws(
      () => {
        for (const chunk of make(a, b)) opener.push(chunk);
      },
      /HANDOFF_FRAME|authentication|out of bounds/,
      name,
    );
    assert.throws(() => opener.push(new Uint8Array(0)), name); // stays failed
  }
});

function run(codeI: string, codeR: string) {
  const i = new HandshakeInitiator(codeI, rnd);
  const r = new HandshakeResponder(codeR, rnd);
  const s1 = r.receive(i.hello());
  const s2 = i.receive(s1.send!);
  const s3 = r.receive(s2.send!);
  return { i: s2.result!, r: s3.result!, responder: r };
}

test('the handshake gives both sides matching keys for the same code', () => {
  const { i, r } = run('7-guitar-orbit', '7-guitar-orbit');
  assert.deepEqual(i.sendKey, r.receiveKey);
  assert.deepEqual(i.receiveKey, r.sendKey);
  assert.notDeepEqual(i.sendKey, i.receiveKey);
});

test('a wrong code fails the initiator with the plain message, and the responder counts a guess', () => {
  const i = new HandshakeInitiator('7-guitar-orbit', rnd);
  const r = new HandshakeResponder('7-guitar-otter', rnd);
  const s1 = r.receive(i.hello());
  assert.equal(r.hasRevealedShare, true);
  assert.throws(() => i.receive(s1.send!), { code: 'HANDOFF_CODE_MISMATCH', message: CODE_MISMATCH_MESSAGE });
  // An attacker that forges the confirmation fails the responder too.
  assert.throws(() => r.receive(rnd(32)), { code: 'HANDOFF_CODE_MISMATCH' });
});

test('a hello that is not a handoff hello is refused before any share is revealed', () => {
  const r = new HandshakeResponder('7-guitar-orbit', rnd);
  assert.throws(() => r.receive(Buffer.alloc(52, 0x41)), { code: 'HANDOFF_NOT_HANDOFF' });
  assert.equal(r.hasRevealedShare, false);
});
