import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { canonicalEntryBytes } from './entry.js';
import {
  assertEntrySignature,
  assertRemovalSignature,
  generateIdentity,
  loadOrCreateIdentity,
  signEntry,
  signRemoval,
  verifyBytes,
} from './identity.js';
import { sampleEntry } from './store.conformance.js';

test('the identity is created once, stored 0600, and loaded back with the same key', (t) => {
  const dir = tempDir();
  t.after(dir.cleanup);
  const a = loadOrCreateIdentity(dir.path);
  const b = loadOrCreateIdentity(dir.path);
  assert.equal(a.publicKeyHex, b.publicKeyHex);
  assert.match(a.publicKeyHex, /^[0-9a-f]{64}$/);
  assert.equal(Buffer.from(a.publicKeyBase64url, 'base64url').toString('hex'), a.publicKeyHex);
  assert.equal(statSync(`${dir.path}/identity.json`).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(`${dir.path}/identity.json`, 'utf8')).publicKey, a.publicKeyHex);
});

test('a signed entry verifies, and any change to a signed field breaks the signature', () => {
  const id = generateIdentity();
  const { publisher: _p, ...body } = sampleEntry('sig');
  const s = signEntry(id, body);
  assertEntrySignature(s);
  for (const change of [
    { title: 'x' },
    { seq: 2 },
    { tags: ['other'] },
    { files: [{ path: ['z'], length: 1 }] },
    { trackers: [] },
  ]) {
    assert.throws(() => assertEntrySignature({ ...s, entry: { ...s.entry, ...change } }), {
      code: 'BAD_SIGNATURE',
    });
  }
  const other = generateIdentity();
  assert.throws(() => assertEntrySignature({ ...s, entry: { ...s.entry, publisher: other.publicKeyHex } }), {
    code: 'BAD_SIGNATURE',
  });
});

test('an entry signature cannot be replayed as a removal (domain-separated encodings)', () => {
  const id = generateIdentity();
  const { publisher: _p, ...body } = sampleEntry('dom');
  const s = signEntry(id, body);
  const removal = {
    removal: { infoHash: body.infoHash!, seq: 1, publisher: id.publicKeyHex },
    signature: s.signature,
  };
  assert.throws(() => assertRemovalSignature(removal), { code: 'BAD_SIGNATURE' });
  assertRemovalSignature(signRemoval(id, { infoHash: body.infoHash!, seq: 1 }));
});

test('verification never throws on garbage and refuses small-order keys that verify anything', () => {
  const bytes = canonicalEntryBytes(sampleEntry('g'));
  assert.equal(verifyBytes('00'.repeat(32), bytes, '00'.repeat(64)), false);
  assert.equal(verifyBytes('zz', bytes, '00'), false);
  assert.equal(verifyBytes('ff'.repeat(32), bytes, 'ff'.repeat(64)), false);
  assert.equal(verifyBytes(`01${'00'.repeat(30)}80`, bytes, `01${'00'.repeat(63)}`), false);
});
