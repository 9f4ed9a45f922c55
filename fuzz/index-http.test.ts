import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type RunningIndexServer, startIndexServer } from '../src/index-server/http-api.js';
import { generateIdentity, signEntry } from '../src/index-server/identity.js';
import { SqliteIndexStore } from '../src/index-server/sqlite-store.js';
import { sampleEntry } from '../src/index-server/store.conformance.js';
import { fuzzParams } from './fuzz-config.js';

// Oracle: random and mutated JSON bodies, paths and query strings always get a JSON 4xx (or a
// 2xx for the rare valid one), never a 5xx; the server stays up and its data stays consistent.
let store: SqliteIndexStore;
let srv: RunningIndexServer;
const id = generateIdentity();

before(async () => {
  store = new SqliteIndexStore({ file: ':memory:' });
  srv = await startIndexServer({
    store,
    port: 0,
    bind: '127.0.0.1',
    adminToken: 't',
    rateLimit: { requestsPerSecond: 1e6, burst: 1e6, maxClients: 10 },
    onError: (err) => {
      throw err;
    },
  });
});
after(async () => {
  await srv.close();
  await store.close();
});

async function send(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(new URL(path, srv.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

const valid = signEntry(id, (({ publisher: _p, ...r }) => r)(sampleEntry('fuzz')));

/** Replace one leaf of the valid body with a random JSON value. */
function mutate(obj: unknown, path: readonly number[], value: unknown): unknown {
  if (path.length === 0 || obj === null || typeof obj !== 'object') return value;
  const keys = Object.keys(obj as object);
  if (keys.length === 0) return value;
  const k = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(obj) ? ([...obj] as never) : { ...(obj as object) };
  copy[k] = mutate((obj as Record<string, unknown>)[k], path.slice(1), value);
  return copy;
}

test('random JSON bodies to every write route get 4xx JSON errors, never 5xx', async () => {
  const bodyArb = fc.oneof(
    fc.json().map((s) => s),
    fc.string({ maxLength: 200 }),
    fc
      .tuple(fc.array(fc.nat(), { maxLength: 4 }), fc.jsonValue())
      .map(([p, v]) => JSON.stringify(mutate(valid, p, v))),
  );
  const routeArb = fc.constantFrom(
    ['POST', '/api/entries'],
    ['PUT', `/api/entries/${valid.entry.infoHash}`],
    ['DELETE', `/api/entries/${valid.entry.infoHash}`],
    ['POST', '/api/admin/takedown'],
  );
  await fc.assert(
    fc.asyncProperty(routeArb, bodyArb, async ([method, path], body) => {
      const r = await send(method!, path!, body);
      assert.ok(r.status < 500, `${method} ${path} ${body.slice(0, 100)} -> ${r.status}`);
      if (r.status >= 400)
        assert.equal(typeof (r.json as { error?: { code?: unknown } }).error?.code, 'string');
    }),
    fuzzParams(300),
  );
});

test('random search parameters and paths never produce a 5xx', async () => {
  const param = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('-1', '1e9', '99999999999999999', 'NaN', '0', ''),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.string({ maxLength: 300 }),
      param,
      param,
      param,
      async (q, page, perPage, minSize) => {
        const qs = new URLSearchParams({ q, page, perPage, minSize });
        const r = await send('GET', `/api/search?${qs}`);
        assert.ok(r.status < 500, `${qs} -> ${r.status}`);
        const p = await send('GET', `/?${qs}`);
        assert.ok(p.status < 500);
      },
    ),
    fuzzParams(300),
  );
  const r = await send('GET', `/api/entries/${encodeURIComponent('%zz')}`);
  assert.equal(r.status, 400);
});
