import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { IndexClient } from './client.js';
import { IndexError } from './errors.js';
import { generateIdentity } from './identity.js';
import { sampleEntry } from './store.conformance.js';

// The client against a hostile index on loopback: every reply it cannot use becomes one
// IndexError whose message names the index, says what was wrong, and holds no terminal
// control character; never a TypeError from reading a field that is not there.
let server: Server;
let url = '';
let origin = '';
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, res) => res.end();

// biome-ignore lint/suspicious/noControlCharactersInRegex: the bytes a terminal acts on
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const NASTY = '\u001b]0;pwned\u0007\u001b[2J\u009b1m\u202e\r\n';

before(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  url = `${origin}/`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function reply(status: number, body: unknown): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

function hit(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    infoHash: 'ab'.repeat(20),
    infoHashV2: null,
    name: 'n',
    title: 't',
    category: 'video',
    sizeBytes: 1,
    seeders: null,
    leechers: 2,
    publisher: 'p',
    publishedAt: 'd',
    magnet: `magnet:?xt=urn:btih:${'ab'.repeat(20)}`,
    ...over,
  };
}

async function fails(p: Promise<unknown>, code: string, what: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof IndexError, `not an IndexError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.includes(origin), err.message);
    assert.match(err.message, what);
    assert.equal(TERMINAL_CONTROL.exec(err.message), null, JSON.stringify(err.message));
    assert.ok(err.message.length < 500, `${err.message.length} chars`);
    return true;
  });
}

test('search replies of the wrong shape are INDEX_BAD_REPLY naming the field', async () => {
  const client = new IndexClient(url);
  const cases: [unknown, RegExp][] = [
    ['not json', /not JSON/],
    ['', /not JSON/],
    ['{"results": [', /not JSON/],
    [null, /the reply is not an object/],
    [42, /the reply is not an object/],
    [[hit()], /the reply is not an object/],
    [{ hasMore: false }, /results is not an array/],
    [{ results: {}, hasMore: false }, /results is not an array/],
    [{ results: [] }, /hasMore is not a boolean/],
    [{ results: [], hasMore: 'no' }, /hasMore is not a boolean/],
    [{ results: [7], hasMore: false }, /results\[0\] is not an object/],
    [{ results: [hit({ name: null })], hasMore: false }, /results\[0\]\.name is not a string/],
    [{ results: [hit({ title: ['t'] })], hasMore: false }, /results\[0\]\.title/],
    [{ results: [hit({ sizeBytes: '1' })], hasMore: false }, /results\[0\]\.sizeBytes/],
    [{ results: [hit({ sizeBytes: 1.5 })], hasMore: false }, /results\[0\]\.sizeBytes/],
    [{ results: [hit({ sizeBytes: 2 ** 60 })], hasMore: false }, /results\[0\]\.sizeBytes/],
    [{ results: [hit({ seeders: -1 })], hasMore: false }, /results\[0\]\.seeders/],
    [{ results: [hit({ leechers: '2' })], hasMore: false }, /results\[0\]\.leechers/],
    [{ results: [hit({ infoHash: 'AB'.repeat(20) })], hasMore: false }, /results\[0\]\.infoHash/],
    [
      { results: [hit({ infoHash: null })], hasMore: false },
      /results\[0\] is not a result with an info-hash/,
    ],
    [{ results: [hit({ infoHashV2: 'x' })], hasMore: false }, /results\[0\]\.infoHashV2/],
    [{ results: [hit({ magnet: `javascript:${NASTY}` })], hasMore: false }, /results\[0\]\.magnet/],
    [{ results: [hit(), hit({ publisher: 1 })], hasMore: false }, /results\[1\]\.publisher/],
    [{ results: Array.from({ length: 101 }, () => hit()), hasMore: false }, /at most 100 results/],
  ];
  for (const [body, what] of cases) {
    handler = reply(200, body);
    await fails(client.search('x'), 'INDEX_BAD_REPLY', what);
  }
  // A valid reply passes through, fields intact.
  handler = reply(200, { results: [hit({ title: NASTY })], hasMore: true, extra: 1 });
  const ok = await client.search('x');
  assert.equal(ok.hasMore, true);
  assert.equal(ok.results[0]?.title, NASTY, 'values are kept; the CLI sanitises what it prints');
});

test('error replies keep our codes, and everything else is INDEX_UNAVAILABLE with a clean message', async () => {
  const client = new IndexClient(url);
  const cases: [number, unknown, string, RegExp][] = [
    [403, { error: { code: 'NOT_OWNER', message: `mine ${NASTY}` } }, 'NOT_OWNER', /refused: mine/],
    [
      400,
      { error: { code: 'ENTRY_NOT_CANONICAL', message: 'tags[0] x' } },
      'ENTRY_NOT_CANONICAL',
      /tags\[0\]/,
    ],
    [
      418,
      { error: { code: 'TEAPOT', message: 'short' } },
      'INDEX_UNAVAILABLE',
      /refused: short \(HTTP 418\)/,
    ],
    [400, { error: { code: 'constructor', message: 'x' } }, 'INDEX_UNAVAILABLE', /HTTP 400/],
    [400, { error: { code: '__proto__', message: 'x' } }, 'INDEX_UNAVAILABLE', /HTTP 400/],
    [400, { error: { code: `NOT_OWNER${NASTY}`, message: 'x' } }, 'INDEX_UNAVAILABLE', /HTTP 400/],
    [409, { error: { code: 'HASH_CONFLICT', message: 'y'.repeat(100_000) } }, 'HASH_CONFLICT', /y…/],
    [500, { error: 'flat string' }, 'INDEX_UNAVAILABLE', /answered HTTP 500/],
    [500, [], 'INDEX_UNAVAILABLE', /answered HTTP 500/],
    [503, 'Service Unavailable', 'INDEX_UNAVAILABLE', /HTTP 503 without a JSON error/],
  ];
  for (const [status, body, code, what] of cases) {
    handler = reply(status, body);
    await fails(client.search('x'), code, what);
  }
});

test('replies over the size cap are refused, whether declared or streamed', async () => {
  const client = new IndexClient(url);
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1 << 30) });
    res.write('{');
  };
  await fails(client.search('x'), 'INDEX_BAD_REPLY', /larger than 8388608 bytes/);
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const more = (): void => {
      while (sent < 12 && res.write(chunk)) sent++;
      if (sent < 12) res.once('drain', more);
      else res.end();
    };
    more();
  };
  await fails(client.search('x'), 'INDEX_BAD_REPLY', /larger than 8388608 bytes/);
});

test('a reply broken off mid-body is INDEX_UNAVAILABLE', async () => {
  const client = new IndexClient(url);
  handler = (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"results": [');
    setTimeout(() => req.socket.destroy(), 10);
  };
  await fails(client.search('x'), 'INDEX_UNAVAILABLE', /broke off its reply|cannot be reached/);
});

test('an entry reply of the wrong shape, or for another hash, is INDEX_BAD_REPLY', async () => {
  const client = new IndexClient(url);
  const e = { ...sampleEntry('c'), signature: '0'.repeat(128) };
  const h = e.infoHash!;
  const cases: [unknown, RegExp][] = [
    [{}, /the reply is not an object with an entry/],
    [{ entry: [] }, /the reply is not an object with an entry/],
    [{ entry: { ...e, infoHash: 'cd'.repeat(20) } }, /entry\.infoHash is not the requested/],
    [{ entry: { ...e, files: 'x' } }, /entry\.files is not an array/],
    [{ entry: { ...e, files: [{ path: 'a', length: 1 }] } }, /entry\.files\[0\]\.path/],
    [{ entry: { ...e, trackers: [1] } }, /entry\.trackers/],
    [{ entry: { ...e, tags: null } }, /entry\.tags/],
    [{ entry: { ...e, seq: '9' } }, /entry\.seq/],
    [{ entry: { ...e, signature: 'zz' } }, /entry\.signature/],
    [{ entry: { ...e, publisher: NASTY } }, /entry\.publisher/],
  ];
  for (const [body, what] of cases) {
    handler = reply(200, body);
    await fails(client.get(h), 'INDEX_BAD_REPLY', what);
  }
  handler = reply(200, { entry: e });
  assert.equal((await client.get(h))?.title, e.title);
  handler = reply(404, { error: { code: 'NOT_FOUND', message: 'no' } });
  assert.equal(await client.get(h), null);
});

test('publish checks the entry before sending it and the reply after', async () => {
  const client = new IndexClient(url);
  const id = generateIdentity();
  const { publisher: _p, seq: _s, ...entry } = sampleEntry('pub', { title: 'bad\u202etitle' });
  let requests = 0;
  handler = (req, res) => {
    requests++;
    reply(200, { outcome: 'created' })(req, res);
  };
  await assert.rejects(client.publish(id, entry, { existing: null }), { code: 'ENTRY_INVALID' });
  assert.equal(requests, 0, 'nothing is sent for an entry the index would refuse');
  handler = reply(201, { outcome: `created${NASTY}` });
  await fails(
    client.publish(id, { ...entry, title: 'fine' }, { existing: null }),
    'INDEX_BAD_REPLY',
    /outcome/,
  );
  handler = reply(201, { outcome: 'created' });
  assert.equal(await client.publish(id, { ...entry, title: 'fine' }, { existing: null }), 'created');
});
