import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../bencode/index.js';
import { fromHex, toHex, utf8 } from '../util/bytes.js';
import { VirtualScheduler } from '../util/clock.js';
import {
  generateItemKeyPair,
  ItemStore,
  immutableTarget,
  itemKeyPairFromSeed,
  mutableTarget,
  signedBuffer,
  signItem,
  verifyItem,
} from './items.js';

const V = encode(utf8('Hello World!'));
const PUB = fromHex('77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548')!;

test('BEP 44 test 1 (mutable): buffer, target and signature', () => {
  assert.equal(new TextDecoder().decode(signedBuffer(V, 1)), '3:seqi1e1:v12:Hello World!');
  assert.equal(toHex(mutableTarget(PUB)), '4a533d47ec9c7d95b1ad75f576cffc641853b750');
  const sig = fromHex(
    '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01',
  )!;
  assert.ok(verifyItem(PUB, sig, V, 1));
  assert.ok(!verifyItem(PUB, sig, V, 2));
});

test('BEP 44 test 2 (mutable with salt): buffer, target and signature', () => {
  const salt = utf8('foobar');
  assert.equal(
    new TextDecoder().decode(signedBuffer(V, 1, salt)),
    '4:salt6:foobar3:seqi1e1:v12:Hello World!',
  );
  assert.equal(toHex(mutableTarget(PUB, salt)), '411eba73b6f087ca51a3795d9c8c938d365e32c1');
  const sig = fromHex(
    '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08',
  )!;
  assert.ok(verifyItem(PUB, sig, V, 1, salt));
  assert.ok(!verifyItem(PUB, sig, V, 1));
});

test('BEP 44 test 3 (immutable): target', () => {
  assert.equal(toHex(immutableTarget(V)), 'e5f96f6f38320f0f33959cb4d3d656452117aadb');
});

test('our signatures verify; a seed gives the same key every time', () => {
  const kp = generateItemKeyPair();
  const sig = signItem(kp, V, 7, utf8('s'));
  assert.ok(verifyItem(kp.publicKey, sig, V, 7, utf8('s')));
  const seed = new Uint8Array(32).fill(9);
  assert.deepEqual(itemKeyPairFromSeed(seed).publicKey, itemKeyPairFromSeed(seed).publicKey);
});

test('the store enforces signatures, seq, cas, and never downgrades', () => {
  const store = new ItemStore(new VirtualScheduler());
  const kp = generateItemKeyPair();
  const put = (seq: number, v: Uint8Array, cas?: number) => ({
    v,
    k: kp.publicKey,
    seq,
    sig: signItem(kp, v, seq),
    ...(cas === undefined ? {} : { cas }),
  });
  assert.deepEqual(store.put(put(2, V)), { ok: true });
  assert.equal((store.put(put(1, encode('older'))) as { code: number }).code, 302);
  assert.equal((store.put(put(3, encode('new'), 1)) as { code: number }).code, 301);
  assert.deepEqual(store.put(put(3, encode('new'), 2)), { ok: true });
  assert.equal(store.get(mutableTarget(kp.publicKey))?.seq, 3);
  const forged = { ...put(4, encode('x')), v: encode('y') };
  assert.equal((store.put(forged) as { code: number }).code, 206);
  assert.deepEqual(store.put({ v: V }), { ok: true });
  assert.deepEqual(store.get(immutableTarget(V))?.v, V);
});
