import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { daemonPaths, loadOrCreateToken } from '../src/daemon/config.js';
import { type InProcess, json, makeTorrent, startInProcess, TOKEN } from './daemon-helpers.js';
import { tempDir } from './helpers/tmp.js';

describe('daemon security', () => {
  const tmp = tempDir('peerdrop-daemon-sec-');
  let d: InProcess;
  before(async () => {
    d = await startInProcess(tmp.path, { failureLimit: { max: 5, windowMs: 60_000 } });
  });
  after(async () => {
    await d.close();
    tmp.cleanup();
  });

  it('creates a random token on first run in <data-dir>/token with 0600, reuses it, and PEERDROP_TOKEN overrides', () => {
    const paths = daemonPaths(join(tmp.path, 'fresh'));
    const first = loadOrCreateToken(paths, {});
    assert.ok(first.length >= 40);
    assert.equal(statSync(paths.token).mode & 0o777, 0o600);
    assert.equal(readFileSync(paths.token, 'utf8').trim(), first);
    assert.equal(loadOrCreateToken(paths, {}), first);
    const other = loadOrCreateToken(daemonPaths(join(tmp.path, 'fresh2')), {});
    assert.notEqual(other, first, 'random per data folder');
    assert.equal(
      loadOrCreateToken(paths, { PEERDROP_TOKEN: 'from-the-environment-123' }),
      'from-the-environment-123',
    );
    assert.throws(() => loadOrCreateToken(paths, { PEERDROP_TOKEN: 'short' }), /at least 16/);
  });

  it('listens on 127.0.0.1 only', () => {
    const address = d.http.app.server.address();
    assert.ok(address && typeof address === 'object');
    assert.equal(address.address, '127.0.0.1');
  });

  it('requires the token on every request, loopback included', async () => {
    for (const path of [
      '/',
      '/app.js',
      '/api/torrents',
      '/api/openapi.json',
      '/api/events',
      '/transmission/rpc',
    ]) {
      const res = await d.fetch(path, { auth: false });
      assert.equal(res.status, 401, path);
      assert.equal(((await res.json()) as { code: string }).code, 'AUTH_REQUIRED');
    }
    assert.equal((await d.fetch('/api/torrents')).status, 200);
  });

  it('takes Basic auth (token as password) only on the Transmission RPC', async () => {
    const basic = `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`;
    assert.equal((await d.fetch('/api/torrents', { headers: { authorization: basic } })).status, 401);
    const rpc = await d.fetch('/transmission/rpc', {
      method: 'POST',
      headers: { authorization: basic },
      body: '{}',
    });
    assert.equal(rpc.status, 409, 'past authentication, into the session-id dance');
  });

  it('logs in with a one-time link that sets an HttpOnly SameSite=Strict cookie; cookie writes need the CSRF header', async () => {
    const link = new URL(d.http.loginUrl());
    const first = await fetch(link, { redirect: 'manual' });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/');
    const cookie = first.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, new RegExp(TOKEN), 'the cookie is not the token');
    const again = await fetch(link, { redirect: 'manual' });
    assert.equal(again.status, 401, 'a login link works once');
    const session = cookie.split(';')[0]!;
    assert.equal((await d.fetch('/api/torrents', { auth: false, headers: { cookie: session } })).status, 200);
    assert.equal((await d.fetch('/', { auth: false, headers: { cookie: session } })).status, 200);
    const write = {
      method: 'PUT',
      body: JSON.stringify({ seedRatio: 1 }),
      headers: { cookie: session, 'content-type': 'application/json' },
    };
    const noHeader = await d.fetch('/api/settings', { ...write, auth: false });
    assert.equal(noHeader.status, 403);
    assert.equal(((await noHeader.json()) as { code: string }).code, 'CSRF_HEADER_MISSING');
    const withHeader = await d.fetch('/api/settings', {
      ...write,
      auth: false,
      headers: { ...write.headers, 'x-peerdrop-csrf': '1' },
    });
    assert.equal(withHeader.status, 200);
    // What the web page sends for a button (pause, resume): a write without a body.
    const bodyless = await d.fetch('/api/login-links', {
      method: 'POST',
      auth: false,
      headers: { cookie: session, 'x-peerdrop-csrf': '1' },
    });
    assert.equal(bodyless.status, 200);
    assert.match(((await bodyless.json()) as { url: string }).url, /\/login\?code=/);
    const forged = `${session.split('.')[0]}.forgedmac`;
    assert.equal((await d.fetch('/api/torrents', { auth: false, headers: { cookie: forged } })).status, 401);
  });

  it('refuses Host names that are not its own (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${d.base}/api/torrents`,
          { headers: { host, authorization: `Bearer ${TOKEN}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status('evil.example'), 421);
    assert.equal(await status(`evil.example:${d.http.port}`), 421);
    assert.equal(await status(`localhost:${d.http.port}`), 200);
    assert.equal(await status(`127.0.0.1:${d.http.port}`), 200);
  });

  it('sends no CORS headers and grants no preflight', async () => {
    const res = await d.fetch('/api/torrents', { headers: { origin: 'https://evil.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    const pre = await d.fetch('/api/torrents', {
      method: 'OPTIONS',
      auth: false,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.ok(pre.status >= 400);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
  });

  it('sends security headers and a strict CSP on every response', async () => {
    for (const path of ['/', '/api/torrents', '/nope']) {
      const res = await d.fetch(path);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    }
  });

  it('keeps every path from a request inside the download folder', async () => {
    const t = await makeTorrent(join(tmp.path, 'downloads'), 'paths', { 'p.bin': new Uint8Array(100) });
    const torrent = Buffer.from(t.bytes).toString('base64');
    for (const downloadDir of ['../..', '/tmp', 'a/../../b', '..\\x', `${tmp.path}/data`]) {
      const res = await d.fetch('/api/torrents', json({ torrent, downloadDir }));
      assert.equal(res.status, 400, downloadDir);
      assert.equal(((await res.json()) as { code: string }).code, 'DAEMON_PATH_OUTSIDE');
    }
    const inside = await d.fetch('/api/torrents', json({ torrent, downloadDir: 'sub/folder', paused: true }));
    assert.equal(inside.status, 201);
    assert.equal(
      ((await inside.json()) as { downloadDir: string }).downloadDir,
      join(tmp.path, 'downloads', 'sub', 'folder'),
    );
  });

  it('rate-limits failed logins per client', async () => {
    // Earlier tests already failed twice from this address (a spent login link, a forged cookie).
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await d.fetch('/api/torrents', { auth: 'wrong-token-xxxxxxxxxx' })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429], 'five failures in the window, then refused');
    const blocked = await d.fetch('/api/torrents', { auth: 'wrong-token-xxxxxxxxxx' });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    // Even the right token waits out the window: guessing gains nothing by interleaving.
    assert.equal((await d.fetch('/api/torrents')).status, 429);
  });
});
