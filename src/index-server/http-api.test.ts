import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { IndexClient } from './client.js';
import { IndexError } from './errors.js';
import { type RunningIndexServer, startIndexServer } from './http-api.js';
import { generateIdentity, signEntry, signRemoval } from './identity.js';
import { SqliteIndexStore } from './sqlite-store.js';
import { sampleEntry } from './store.conformance.js';

const ADMIN = 'secret-admin-token';
const alice = generateIdentity();
const bob = generateIdentity();
let store: SqliteIndexStore;
let srv: RunningIndexServer;
const now = 1_700_000_000_000;

before(async () => {
  store = new SqliteIndexStore({ file: ':memory:' });
  srv = await startIndexServer({
    store,
    port: 0,
    bind: '127.0.0.1',
    adminToken: ADMIN,
    now: () => now,
    rateLimit: { requestsPerSecond: 1000, burst: 5000, maxClients: 100 },
  });
});
after(async () => {
  await srv.close();
  await store.close();
});

function entry(label: string, over: Parameters<typeof sampleEntry>[1] = {}) {
  const { publisher: _p, ...rest } = sampleEntry(label, over);
  return rest;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(new URL(path, srv.url), {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: res.status, json: isJson ? JSON.parse(text) : null, text };
}

async function expectError(p: ReturnType<typeof call>, status: number, code: string): Promise<void> {
  const r = await p;
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error?.code, code);
  assert.equal(typeof r.json?.error?.message, 'string');
}

test('publish, fetch, search with magnet and health, update, and owner removal over HTTP', async () => {
  const e = entry('api1', { title: 'Pelican Brief', tags: ['birds'], category: 'video' });
  const created = await call('POST', '/api/entries', signEntry(alice, e));
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.entry.publisher, alice.publicKeyHex);
  const got = await call('GET', `/api/entries/${e.infoHash}`);
  assert.equal(got.json.entry.title, 'Pelican Brief');
  await store.updateHealth([{ id: e.infoHash!, seeders: 7, leechers: 2, checkedAtMs: now }]);
  const found = await call('GET', '/api/search?q=pelican&category=video');
  assert.equal(found.status, 200);
  const [hit] = found.json.results;
  assert.equal(hit.infoHash, e.infoHash);
  assert.equal(hit.infoHashV2, null);
  assert.equal(hit.seeders, 7);
  assert.equal(hit.leechers, 2);
  assert.match(hit.magnet, /^magnet:\?xt=urn:btih:/);
  const upd = await call(
    'PUT',
    `/api/entries/${e.infoHash}`,
    signEntry(alice, { ...e, seq: 2, title: 'Pelican Brief (remastered)' }),
  );
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.json.outcome, 'updated');
  const del = await call(
    'DELETE',
    `/api/entries/${e.infoHash}`,
    signRemoval(alice, { infoHash: e.infoHash!, seq: 3 }),
  );
  assert.equal(del.status, 200, del.text);
  await expectError(call('GET', `/api/entries/${e.infoHash}`), 404, 'NOT_FOUND');
});

test('a tampered entry, a wrong key and a replayed update are refused', async () => {
  const e = entry('api2', { title: 'Original' });
  const signed = signEntry(alice, e);
  await expectError(
    call('POST', '/api/entries', { ...signed, entry: { ...signed.entry, title: 'Tampered' } }),
    401,
    'BAD_SIGNATURE',
  );
  await expectError(call('POST', '/api/entries', { ...signed, signature: 'zz' }), 401, 'BAD_SIGNATURE');
  assert.equal((await call('POST', '/api/entries', signed)).status, 201);
  await expectError(call('POST', '/api/entries', signed), 409, 'ENTRY_EXISTS');
  await expectError(call('PUT', `/api/entries/${e.infoHash}`, signed), 409, 'SEQ_NOT_INCREASING');
  await expectError(
    call('PUT', `/api/entries/${e.infoHash}`, signEntry(bob, { ...e, seq: 50 })),
    403,
    'NOT_OWNER',
  );
  await expectError(
    call('DELETE', `/api/entries/${e.infoHash}`, signRemoval(bob, { infoHash: e.infoHash!, seq: 50 })),
    403,
    'NOT_OWNER',
  );
  const newer = signEntry(alice, { ...e, seq: 3, title: 'Third' });
  assert.equal((await call('PUT', `/api/entries/${e.infoHash}`, newer)).status, 200);
  await expectError(
    call('PUT', `/api/entries/${e.infoHash}`, signEntry(alice, { ...e, seq: 2 })),
    409,
    'SEQ_NOT_INCREASING',
  );
  assert.equal((await call('GET', `/api/entries/${e.infoHash}`)).json.entry.title, 'Third');
});

test('malformed torrent info is a 400 naming the field', async () => {
  const bad = [
    { ...entry('m1'), infoHash: 'xyz' },
    { ...entry('m2'), infoHash: null, infoHashV2: null },
    { ...entry('m3'), files: [] },
    { ...entry('m4'), files: [{ path: ['..', 'etc'], length: 1 }] },
    { ...entry('m5'), files: [{ path: ['a'], length: -1 }] },
    { ...entry('m6'), files: [{ path: ['a'], length: 2 ** 60 }] },
    { ...entry('m7'), trackers: ['javascript:alert(1)'] },
    { ...entry('m8'), title: 'x'.repeat(5000) },
    { ...entry('m9'), category: 'DROP TABLE' },
    { ...entry('m10'), seq: 0 },
    { ...entry('m11'), name: 'nul\u0000byte' },
  ];
  for (const b of bad) {
    const r = await call('POST', '/api/entries', {
      entry: { ...b, publisher: alice.publicKeyHex },
      signature: '0'.repeat(128),
    });
    assert.equal(r.status, 400, JSON.stringify(b).slice(0, 80));
    assert.equal(r.json.error.code, 'ENTRY_INVALID');
  }
});

test('oversized, non-JSON and wrongly typed bodies get 4xx JSON errors', async () => {
  await expectError(call('POST', '/api/entries', 'x'.repeat(1024 * 1024 + 10)), 413, 'BODY_TOO_LARGE');
  await expectError(call('POST', '/api/entries', '{"entry": '), 400, 'BAD_JSON');
  await expectError(call('POST', '/api/entries', '[1,2]'), 400, 'BAD_REQUEST');
  await expectError(call('POST', '/api/entries', 'null'), 400, 'BAD_REQUEST');
  await expectError(
    call('POST', '/api/entries', undefined, { 'content-type': 'text/plain' }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  );
  await expectError(call('PATCH', '/api/entries/abc'), 405, 'METHOD_NOT_ALLOWED');
  await expectError(call('GET', '/api/entries/not-a-hash'), 400, 'BAD_REQUEST');
  await expectError(call('GET', '/nope'), 404, 'NOT_FOUND');
});

test('a declared Content-Length over the cap is refused before the body is read', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(new URL('/api/entries', srv.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    req.write('{');
  });
  assert.equal(status, 413);
});

test('hostile search strings and paging are 200s or clean 4xx, never 5xx', async () => {
  await call(
    'POST',
    '/api/entries',
    signEntry(alice, entry('srch', { title: "O'Brien; DROP TABLE entries" })),
  );
  const r = await call('GET', `/api/search?q=${encodeURIComponent("o'brien; DROP")}`);
  assert.equal(r.json.results.length, 1);
  for (const q of ['NEAR(a b)', '"', '*', 'a OR b NOT c', "'; --", '$1', '\\', '%00', '(((', 'title:x^2']) {
    const res = await call('GET', `/api/search?q=${encodeURIComponent(q)}`);
    assert.equal(res.status, 200, q);
  }
  await expectError(call('GET', `/api/search?q=${'a'.repeat(300)}`), 414, 'QUERY_TOO_LONG');
  await expectError(call('GET', '/api/search?q=x&page=99999999999'), 400, 'PAGE_OUT_OF_RANGE');
  await expectError(call('GET', '/api/search?q=x&perPage=1000'), 400, 'PAGE_OUT_OF_RANGE');
  await expectError(call('GET', '/api/search?q=x&page=-1'), 400, 'BAD_REQUEST');
  await expectError(call('GET', '/api/search?q=x&minSize=1e9'), 400, 'BAD_REQUEST');
  await expectError(call('GET', '/api/search?q=-only'), 400, 'QUERY_INVALID');
  await expectError(call('GET', `/api/search?q=${'x'.repeat(5000)}`), 414, 'QUERY_TOO_LONG');
});

test('admin takedown needs the token, removes the entry and is audited', async () => {
  const e = entry('td', { title: 'Takedown Target' });
  await call('POST', '/api/entries', signEntry(alice, e));
  const body = { infoHash: e.infoHash, reason: 'court order 7' };
  await expectError(call('POST', '/api/admin/takedown', body), 401, 'UNAUTHORIZED');
  await expectError(
    call('POST', '/api/admin/takedown', body, { authorization: 'Bearer wrong' }),
    401,
    'UNAUTHORIZED',
  );
  const auth = { authorization: `Bearer ${ADMIN}` };
  await expectError(call('POST', '/api/admin/takedown', { infoHash: e.infoHash }, auth), 400, 'BAD_REQUEST');
  assert.equal((await call('POST', '/api/admin/takedown', body, auth)).status, 200);
  await expectError(call('GET', `/api/entries/${e.infoHash}`), 404, 'NOT_FOUND');
  await expectError(call('POST', '/api/entries', signEntry(alice, { ...e, seq: 99 })), 410, 'TAKEN_DOWN');
  const log = await call('GET', '/api/admin/audit', undefined, auth);
  assert.equal(log.json.records[0].reason, 'court order 7');
  assert.equal(log.json.records[0].id, e.infoHash);
});

test('the search page escapes everything it shows', async () => {
  await call(
    'POST',
    '/api/entries',
    signEntry(alice, entry('xss', { title: '<script>alert("x")</script> Xylophone' })),
  );
  const r = await call('GET', `/?q=${encodeURIComponent('xylophone <>')}`);
  assert.equal(r.status, 200);
  assert.ok(!r.text.includes('<script>'));
  assert.ok(r.text.includes('&#60;script&#62;'));
  assert.ok(r.text.includes('value="xylophone &#60;&#62;"'));
  assert.match(r.text, /href="magnet:\?xt=urn:btih:/);
});

test('openapi.json and healthz describe the service', async () => {
  const o = await call('GET', '/api/openapi.json');
  assert.equal(o.json.openapi, '3.0.3');
  assert.ok(o.json.paths['/api/search']);
  const h = await call('GET', '/healthz');
  assert.equal(h.json.ok, true);
  assert.equal(typeof h.json.entries, 'number');
});

test('the client publishes, updates with a larger seq and unpublishes', async () => {
  const client = new IndexClient(srv.url);
  const e = entry('cli1', { title: 'Client Cormorant' });
  assert.equal(await client.publish(alice, e), 'created');
  assert.equal(await client.publish(alice, { ...e, title: 'Client Cormorant 2' }), 'updated');
  const { results } = await client.search('cormorant');
  assert.equal(results[0]?.title, 'Client Cormorant 2');
  await assert.rejects(
    client.unpublish(bob, e.infoHash!),
    (err: unknown) => err instanceof IndexError && err.code === 'NOT_OWNER',
  );
  await client.unpublish(alice, e.infoHash!);
  assert.equal(await client.get(e.infoHash!), null);
});

test('per-IP rate limits answer 429', async () => {
  const s2 = new SqliteIndexStore({ file: ':memory:' });
  const limited = await startIndexServer({
    store: s2,
    port: 0,
    bind: '127.0.0.1',
    rateLimit: { requestsPerSecond: 1, burst: 3, maxClients: 10 },
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(new URL('/healthz', limited.url))).status);
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.equal(statuses[4], 429);
  } finally {
    await limited.close();
    await s2.close();
  }
});
