import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { Cpace, type CpaceInput, calculateGenerator, generatorString, iskOf } from './cpace.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// draft-irtf-cfrg-cpace, appendix B.3 (ristretto255, SHA-512).
const vector = {
  prs: new Uint8Array(Buffer.from('Password')),
  ci: hex('0b415f696e69746961746f720b425f726573706f6e646572'),
  sid: hex('7e4b4791d6a8ef019b936c79fb7f2c57'),
  ada: new Uint8Array(Buffer.from('ADa')),
  adb: new Uint8Array(Buffer.from('ADb')),
} satisfies CpaceInput;
const le = (s: string) => BigInt(`0x${Buffer.from(hex(s)).reverse().toString('hex')}`);

test('CPace generator, shares, K and ISK match the draft appendix B.3 vectors', () => {
  assert.equal(generatorString(vector.prs, vector.ci, vector.sid).length, 170);
  const g = calculateGenerator(vector.prs, vector.ci, vector.sid);
  assert.equal(toHex(g.toBytes()), '222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56');
  const ya = le('da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08');
  const yb = le('d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d');
  const Ya = g.multiply(ya).toBytes();
  const Yb = g.multiply(yb).toBytes();
  assert.equal(toHex(Ya), 'd6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157');
  assert.equal(toHex(Yb), '3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258');
  const k = ristretto255.Point.fromBytes(Yb).multiply(ya).toBytes();
  assert.equal(toHex(k), '80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f');
  assert.equal(
    toHex(iskOf(vector, k, Ya, Yb)),
    'b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c3fa2068af7900447',
  );
});

test('CPace: the same password gives both sides one key, a different one does not', () => {
  const a = new Cpace(vector, 'initiator', randomBytes(64));
  const b = new Cpace(vector, 'responder', randomBytes(64));
  assert.deepEqual(a.finish(b.share), b.finish(a.share));
  const wrong = new Cpace(
    { ...vector, prs: new Uint8Array(Buffer.from('Passwort')) },
    'responder',
    randomBytes(64),
  );
  assert.notDeepEqual(a.finish(wrong.share), wrong.finish(a.share));
});

test('CPace refuses the identity and non-canonical shares', () => {
  const a = new Cpace(vector, 'initiator', randomBytes(64));
  assert.throws(() => a.finish(new Uint8Array(32)), { code: 'HANDOFF_PAKE_INVALID' });
  assert.throws(() => a.finish(new Uint8Array(32).fill(0xff)), { code: 'HANDOFF_PAKE_INVALID' });
  assert.throws(() => a.finish(new Uint8Array(31)), { code: 'HANDOFF_PAKE_INVALID' });
});
