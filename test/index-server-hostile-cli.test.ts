import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encode } from '../src/bencode/index.js';
import { canonicalEntryBytes, type EntryBody } from '../src/index-server/entry.js';
import { loadOrCreateIdentity, signBytes } from '../src/index-server/identity.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

// `peerdrop search/publish/unpublish` against a hostile index on loopback: whatever it answers
// (escape sequences, bidi tricks, non-JSON, wrong types, huge bodies, forged entries), no
// terminal control byte reaches stdout or stderr, and a failure is one clear line naming the
// index, with a non-zero exit; never a raw TypeError or stack trace.
const dir = tempDir('peerdrop-hostile-index-');
const env = { PEERDROP_HOME: join(dir.path, 'home') };
let server: Server;
let url = '';
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, res) => res.end();

// biome-ignore lint/suspicious/noControlCharactersInRegex: the bytes a terminal acts on
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const NASTY = '\u001b]0;pwned\u0007\u001b[2J\u001b[31mRED\u009b1m\u202eexe.txt\u0007\r';

function json(status: number, body: unknown): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  };
}

function hit(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    infoHash: 'ab'.repeat(20),
    infoHashV2: null,
    name: `name${NASTY}`,
    title: `Title ${NASTY} end`,
    description: NASTY,
    tags: [NASTY],
    category: `video${NASTY}`,
    sizeBytes: 1234,
    fileCount: 1,
    publisher: `p${NASTY}`,
    publishedAt: `2024${NASTY}`,
    publishedAtMs: 1,
    seeders: 3,
    leechers: null,
    checkedAtMs: null,
    magnet: `magnet:?xt=urn:btih:${'ab'.repeat(20)}&dn=${NASTY}`,
    ...over,
  };
}

function assertClean(text: string, label: string): void {
  const m = TERMINAL_CONTROL.exec(text);
  assert.equal(m, null, `${label}: U+${m?.[0].codePointAt(0)?.toString(16)} in ${JSON.stringify(text)}`);
}

/** A failure: exit 1, one line on stderr naming the index, nothing raw. */
function assertOneLineError(r: { code: number | null; stdout: string; stderr: string }, what: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assertClean(r.stdout, 'stdout');
  assertClean(r.stderr, 'stderr');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(r.stderr.includes(url.replace(/\/$/, '')), r.stderr);
  assert.match(r.stderr, what);
  assert.doesNotMatch(r.stderr, /TypeError|Cannot read|undefined|at .*\.js:\d+/);
}

before(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  dir.cleanup();
});

const search = (...extra: string[]) => runCli(['search', 'x', '--index', url, ...extra], { env });

test('escape sequences, C1 and bidi controls in search results never reach the terminal', async () => {
  handler = json(200, {
    results: [hit(), hit({ title: '', name: `\u001b[H${NASTY}` })],
    hasMore: false,
    page: 1,
  });
  const table = await search();
  assert.equal(table.code, 0, table.stderr);
  assertClean(table.stdout, 'table');
  // The OSC (window title) is removed whole, payload included; the rest loses its controls.
  assert.match(table.stdout, /Title REDexe\.txt end/);
  assert.equal(table.stdout.trim().split('\n').length, 3, table.stdout);
  const asJson = await search('--json');
  assert.equal(asJson.code, 0, asJson.stderr);
  assertClean(asJson.stdout, 'json');
  // The JSON still carries the exact values, escaped, for programs that read it.
  const parsed = JSON.parse(asJson.stdout) as { title: string }[];
  assert.equal(parsed[0]?.title, `Title ${NASTY} end`);
});

test('a hostile error reply or a malformed reply is one clean line naming the index', async () => {
  // The full matrix of malformed replies runs in-process in client.test.ts; these go through
  // the built CLI end to end, one per class.
  const cases: [(req: IncomingMessage, res: ServerResponse) => void, RegExp][] = [
    [
      json(400, { error: { code: 'QUERY_INVALID', message: `bad ${NASTY}\nsecond line` } }),
      /refused: bad .*second line \(QUERY_INVALID\)/,
    ],
    [json(418, { error: { code: `EVIL${NASTY}`, message: 'x' } }), /\(HTTP 418\) \(INDEX_UNAVAILABLE\)/],
    [json(502, '<html>Bad gateway</html>'), /HTTP 502 without a JSON error/],
    [json(200, 'not json at all'), /not JSON.*INDEX_BAD_REPLY/],
    [
      json(200, { results: [hit(), hit({ title: 7 })], hasMore: false }),
      /results\[1\]\.title is not a string/,
    ],
    [json(200, { results: [null], hasMore: false }), /results\[0\] is not an object/],
    [
      (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(64 * 1024 * 1024),
        });
        res.write('{"results": [');
      },
      /larger than 8388608 bytes/,
    ],
  ];
  // All at once (each CLI run is a process start): the query word says which reply to send.
  handler = (req, res) => {
    const q = new URL(req.url ?? '/', url).searchParams.get('q') ?? '';
    cases[Number(q.slice(4))]?.[0](req, res);
  };
  const runs = await Promise.all(
    cases.map((_, i) => runCli(['search', `case${i}`, '--index', url, '--json'], { env })),
  );
  for (const [i, r] of runs.entries()) {
    assertOneLineError(r, cases[i]![1]);
    assert.equal(r.stdout, '');
  }
});

/** A torrent file for publish: tiny, one file. */
function torrent(): { file: string; infoHash: string } {
  const content = Buffer.from('hostile index test\n');
  const info = {
    length: content.length,
    name: 'petrel.txt',
    'piece length': 16384,
    pieces: createHash('sha1').update(content).digest(),
  };
  const file = join(dir.path, 'petrel.torrent');
  writeFileSync(file, encode({ info }));
  return { file, infoHash: createHash('sha1').update(encode(info)).digest('hex') };
}

test('publish never reuses fields of an entry whose signature does not verify', async () => {
  const t = torrent();
  const id = loadOrCreateIdentity(env.PEERDROP_HOME);
  const body: EntryBody = {
    infoHash: t.infoHash,
    infoHashV2: null,
    name: 'petrel.txt',
    files: [{ path: ['petrel.txt'], length: 19 }],
    trackers: [],
    title: 'What I signed',
    description: '',
    tags: [],
    category: 'other',
    seq: 5,
    publisher: id.publicKeyHex,
  };
  const signature = signBytes(id, canonicalEntryBytes(body));
  let sent: { entry?: { title?: string } } | null = null;
  const serve =
    (entry: Record<string, unknown>) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      if (req.method === 'GET') return json(200, { entry })(req, res);
      let text = '';
      req.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      req.on('end', () => {
        sent = JSON.parse(text);
        json(200, { outcome: 'updated', entry: null })(req, res);
      });
    };
  // The index swaps in a title we never signed: refused, nothing sent.
  handler = serve({ ...body, title: 'Forged by the index', signature });
  assertOneLineError(await runCli(['publish', t.file, '--index', url], { env }), /does not verify/);
  assert.equal(sent, null);
  // The index answers with another entry than the one asked for.
  handler = serve({ ...body, infoHash: 'cd'.repeat(20), signature });
  assertOneLineError(await runCli(['publish', t.file, '--index', url], { env }), /entry\.infoHash/);
  // Our own entry, verified: its title is kept.
  handler = serve({ ...body, signature });
  const ok = await runCli(['publish', t.file, '--index', url], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((sent as { entry?: { title?: string } } | null)?.entry?.title, 'What I signed');
});

test('unpublish and publish against an entry reply of the wrong shape fail cleanly', async () => {
  const t = torrent();
  handler = json(200, { entry: { infoHash: t.infoHash, seq: 'x' } });
  assertOneLineError(await runCli(['unpublish', t.infoHash, '--index', url], { env }), /INDEX_BAD_REPLY/);
  handler = json(200, 'nope');
  assertOneLineError(await runCli(['publish', t.file, '--index', url], { env }), /INDEX_BAD_REPLY/);
});
