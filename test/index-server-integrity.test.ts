import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { canonicalEntryBytes, type EntryBody } from '../src/index-server/entry.js';
import { type RunningIndexServer, startIndexServer } from '../src/index-server/http-api.js';
import { generateIdentity, signBytes, signEntry } from '../src/index-server/identity.js';
import { SqliteIndexStore } from '../src/index-server/sqlite-store.js';
import { sampleEntry } from '../src/index-server/store.conformance.js';

// The index's integrity rules over HTTP, with real signatures: canonical entries only,
// takedowns that stick for every hash, and hash collisions that are a 409 leaving the server
// fully usable (the next unrelated update succeeds). No 5xx anywhere.
const ADMIN = 'integrity-admin';
const alice = generateIdentity();
const bob = generateIdentity();
let store: SqliteIndexStore;
let srv: RunningIndexServer;
const serverErrors: unknown[] = [];

before(async () => {
  store = new SqliteIndexStore({ file: ':memory:' });
  srv = await startIndexServer({
    store,
    port: 0,
    bind: '127.0.0.1',
    adminToken: ADMIN,
    rateLimit: { requestsPerSecond: 10_000, burst: 10_000, maxClients: 10 },
    onError: (err) => serverErrors.push(err),
  });
});
after(async () => {
  await srv.close();
  await store.close();
  assert.deepEqual(serverErrors, [], 'no request failed with a 5xx');
});

function body(label: string, over: Partial<EntryBody> = {}): Omit<EntryBody, 'publisher'> {
  const { publisher: _p, ...rest } = sampleEntry(label, over);
  return rest;
}

async function call(method: string, path: string, payload?: unknown) {
  const res = await fetch(new URL(path, srv.url), {
    method,
    headers:
      payload === undefined ? {} : { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const json = (await res.json()) as { error?: { code: string; message: string }; entry?: EntryBody };
  return { status: res.status, json };
}

async function expect(p: ReturnType<typeof call>, status: number, code: string, mentions?: RegExp) {
  const r = await p;
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.error?.code, code);
  if (mentions) assert.match(r.json.error?.message ?? '', mentions);
}

test('a capitalised tag signed by the client is accepted and stored exactly as signed', async () => {
  const s = signEntry(alice, body('tagcase', { tags: ['Linux', 'ISO'] }));
  assert.equal((await call('POST', '/api/entries', s)).status, 201);
  const got = await call('GET', `/api/entries/${s.entry.infoHash}`);
  assert.deepEqual(got.json.entry?.tags, ['linux', 'iso']);
  assert.equal((got.json.entry as unknown as { signature: string }).signature, s.signature);
});

test('a validly signed but non-canonical entry is a 400 ENTRY_NOT_CANONICAL naming the field', async () => {
  const cases: [Partial<EntryBody>, RegExp][] = [
    [{ tags: ['Linux'] }, /tags\[0\]/],
    [{ title: ' padded ' }, /title/],
    [{ title: 'Cafe\u0301' }, /title/],
    [{ description: 'x\n' }, /description/],
  ];
  for (const [i, [over, field]] of cases.entries()) {
    const entry = { ...body(`nc${i}`, over), publisher: alice.publicKeyHex };
    const signed = { entry, signature: signBytes(alice, canonicalEntryBytes(entry)) };
    await expect(call('POST', '/api/entries', signed), 400, 'ENTRY_NOT_CANONICAL', field);
    await expect(call('GET', `/api/entries/${entry.infoHash}`), 404, 'NOT_FOUND');
  }
});

test('refused characters in a title are a 400 whatever the signature', async () => {
  for (const [i, bad] of ['\u202e', '\u0085', '\u009b', '\u2066', '\u200b', '\ud800'].entries()) {
    const entry = { ...body(`bad${i}`), title: `x${bad}y`, publisher: alice.publicKeyHex };
    const signed = { entry, signature: signBytes(alice, canonicalEntryBytes(entry)) };
    await expect(call('POST', '/api/entries', signed), 400, 'ENTRY_INVALID', /title contains/);
  }
});

test('a taken-down v2 hash cannot come back through an update of another entry, v1 or v2', async () => {
  const t1 = 'a1'.repeat(20);
  const t2 = 'b2'.repeat(32);
  const victim = signEntry(bob, body('victim', { infoHash: t1, infoHashV2: t2 }));
  assert.equal((await call('POST', '/api/entries', victim)).status, 201);
  const host = signEntry(alice, body('host'));
  assert.equal((await call('POST', '/api/entries', host)).status, 201);
  assert.equal((await call('POST', '/api/admin/takedown', { infoHash: t2, reason: 'order' })).status, 200);
  const path = `/api/entries/${host.entry.infoHash}`;
  await expect(
    call('PUT', path, signEntry(alice, body('host', { infoHashV2: t2, seq: 2 }))),
    410,
    'TAKEN_DOWN',
  );
  await expect(
    call('POST', '/api/entries', signEntry(alice, body('n1', { infoHashV2: t2 }))),
    410,
    'TAKEN_DOWN',
  );
  await expect(
    call('POST', '/api/entries', signEntry(alice, body('n2', { infoHash: t1, infoHashV2: null }))),
    410,
    'TAKEN_DOWN',
  );
  await expect(call('GET', `/api/entries/${t2}`), 404, 'NOT_FOUND');
  assert.equal(
    (await call('PUT', path, signEntry(alice, body('host', { seq: 3, title: 'ok' })))).status,
    200,
  );
});

test("an update onto another publisher's hash is a 409 and the next unrelated update succeeds", async () => {
  const held = 'c3'.repeat(32);
  assert.equal(
    (await call('POST', '/api/entries', signEntry(bob, body('held', { infoHash: null, infoHashV2: held }))))
      .status,
    201,
  );
  const mine = signEntry(alice, body('mine'));
  const other = signEntry(alice, body('other'));
  for (const s of [mine, other]) assert.equal((await call('POST', '/api/entries', s)).status, 201);
  for (let seq = 2; seq < 8; seq += 2) {
    await expect(
      call(
        'PUT',
        `/api/entries/${mine.entry.infoHash}`,
        signEntry(alice, body('mine', { infoHashV2: held, seq })),
      ),
      409,
      'HASH_CONFLICT',
      /another publisher/,
    );
    const next = await call(
      'PUT',
      `/api/entries/${other.entry.infoHash}`,
      signEntry(alice, body('other', { seq: seq + 1, title: `round ${seq}` })),
    );
    assert.equal(next.status, 200, JSON.stringify(next.json));
  }
  assert.equal((await call('GET', `/api/entries/${held}`)).json.entry?.publisher, bob.publicKeyHex);
  assert.equal((await call('GET', `/api/entries/${mine.entry.infoHash}`)).json.entry?.infoHashV2, null);
});
