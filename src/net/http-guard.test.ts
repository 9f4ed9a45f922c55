import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { addressKey, createGuardedServer, type GuardedServer, type HttpGuardLimits } from './http-guard.js';

/**
 * The guard on 127.0.0.0/8 with short deadlines. Hostile sockets come from 127.0.0.1 (or a
 * spread of 127.0.x.y), the legitimate client from 127.0.0.2, so per-address caps can be told
 * apart from total ones. Sockets never close their own side: a server that only half-closes
 * would keep them forever, and the tests check that it does not.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Servers and sockets are closed after the file even when an assertion failed mid-test. */
const open: Array<() => unknown> = [];
after(async () => {
  for (const c of open)
    await Promise.resolve()
      .then(c)
      .catch(() => {});
});

async function start(limits: HttpGuardLimits, slowMs = 0): Promise<{ g: GuardedServer; port: number }> {
  const g = createGuardedServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => res.end(`ok ${Buffer.concat(chunks).length}\n`), slowMs);
    });
  }, limits);
  await new Promise<void>((r) => g.server.listen(0, '127.0.0.1', () => r()));
  open.push(() => stop(g));
  const addr = g.server.address();
  return { g, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

function stop(g: GuardedServer): Promise<void> {
  return new Promise((r) => {
    g.server.close(() => r());
    g.server.closeAllConnections();
  });
}

interface Hostile {
  readonly socket: Socket;
  /** ms after connecting when the server had let go (RST, or a write failing); null if not. */
  goneAfterMs: number | null;
}

/** A socket that never ends its side; `trickle` writes one byte per tick, `probe` writes only after a FIN. */
function hostile(port: number, localAddress: string, trickle: string | null, everyMs = 50): Hostile {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.allowHalfOpen = true;
  const h: Hostile = { socket, goneAfterMs: null };
  open.push(() => socket.destroy());
  let at = performance.now();
  let i = 0;
  socket.on('connect', () => {
    at = performance.now();
  });
  const gone = (): void => {
    h.goneAfterMs ??= performance.now() - at;
    clearInterval(timer);
    socket.destroy();
  };
  let sawFin = false;
  socket.on('end', () => {
    sawFin = true;
  });
  socket.on('data', () => {});
  socket.on('error', gone);
  socket.on('close', gone);
  const timer = setInterval(() => {
    if (socket.destroyed || socket.connecting) return;
    if (trickle !== null) socket.write(trickle[i++ % trickle.length]!);
    else if (sawFin) socket.write('\r\n');
  }, everyMs);
  return h;
}

function get(
  port: number,
  localAddress: string,
  path = '/',
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** A raw request: headers (and maybe part of a body) written, the rest never sent. */
function rawRequest(port: number, localAddress: string, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress });
    let got = '';
    s.on('data', (c) => (got += c));
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('connect', () => s.write(text));
    setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 3000).unref();
  });
}

const HEADERS = `GET / HTTP/1.1\r\nHost: x\r\n${'X-Pad: aaaaaaaa\r\n'.repeat(500)}\r\n`;

test('addressKey: IPv4-mapped becomes IPv4, IPv6 counts per /64, zones are dropped', () => {
  assert.equal(addressKey('127.0.0.1'), '127.0.0.1');
  assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:DB8:0001:0002::'), '2001:db8:1:2::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey(undefined), '?');
});

test('300 idle sockets from one address hit the per-address cap; another address is answered', async () => {
  const { g, port } = await start({
    maxConnectionsPerAddress: 20,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 3000,
  });
  const attackers = Array.from({ length: 300 }, () => hostile(port, '127.0.0.1', null));
  for (let i = 0; i < 40 && g.stats().refusedPerAddress + g.stats().connections < 300; i++) await sleep(50);
  assert.ok(g.stats().connections <= 20, `held ${g.stats().connections}`);
  assert.ok(g.stats().refusedPerAddress >= 270, `refused ${g.stats().refusedPerAddress}`);
  for (let i = 0; i < 5; i++) assert.equal((await get(port, '127.0.0.2')).status, 200);
  for (const a of attackers) a.socket.destroy();
  await stop(g);
});

test('at the total cap the longest-idle connection makes room for a real request', async () => {
  const { g, port } = await start({ maxConnections: 40, headersTimeoutMs: 3000, requestTimeoutMs: 4000 });
  const spread = Array.from({ length: 40 }, (_, i) => `127.0.3.${i + 1}`);
  const attackers = Array.from({ length: 200 }, (_, i) => hostile(port, spread[i % 40]!, HEADERS, 200));
  await sleep(500);
  let answered = 0;
  for (let i = 0; i < 10; i++) if ((await get(port, '127.0.0.2')).status === 200) answered++;
  assert.equal(answered, 10);
  assert.ok(g.stats().connections <= 41, `held ${g.stats().connections}`);
  assert.ok(g.stats().evictedIdle > 0);
  for (const a of attackers) a.socket.destroy();
  await stop(g);
});

test('at the total cap with every connection busy, the newcomer is refused', async () => {
  const { g, port } = await start({ maxConnections: 3 }, 1500);
  const busy = Array.from({ length: 3 }, (_, i) => get(port, `127.0.4.${i + 1}`, '/', 3000));
  await sleep(200);
  assert.equal((await get(port, '127.0.0.2', '/', 1000)).status, 0);
  assert.equal(g.stats().refusedTotal, 1);
  assert.deepEqual(
    (await Promise.all(busy)).map((r) => r.status),
    [200, 200, 200],
  );
  await stop(g);
});

for (const kind of ['silent', 'trickling headers'] as const) {
  test(`a ${kind} half-open socket is let go within header timeout + check interval + linger`, async () => {
    const limits = { headersTimeoutMs: 600, requestTimeoutMs: 2000, checkIntervalMs: 100, lingerMs: 200 };
    const { g, port } = await start(limits);
    const hs = Array.from({ length: 20 }, () =>
      hostile(port, '127.0.0.1', kind === 'silent' ? null : HEADERS),
    );
    for (let i = 0; i < 50 && hs.some((x) => x.goneAfterMs === null); i++) await sleep(50);
    for (const h of hs) {
      assert.notEqual(h.goneAfterMs, null, 'still held');
      assert.ok(h.goneAfterMs! < 600 + 2 * 100 + 200 + 1000, `held ${h.goneAfterMs} ms`);
    }
    for (let i = 0; i < 20 && g.stats().connections > 0; i++) await sleep(50);
    assert.equal(g.stats().connections, 0);
    await stop(g);
  });
}

test('a trickled body is cut at the request deadline', async () => {
  const { g, port } = await start({
    headersTimeoutMs: 500,
    requestTimeoutMs: 1000,
    checkIntervalMs: 100,
    lingerMs: 200,
  });
  const prelude = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n';
  const hs = Array.from({ length: 10 }, () => hostile(port, '127.0.0.1', null));
  for (const h of hs) h.socket.on('connect', () => h.socket.write(prelude));
  const trickle = setInterval(() => {
    for (const h of hs) if (!h.socket.destroyed) h.socket.write('a');
  }, 50);
  for (let i = 0; i < 60 && hs.some((x) => x.goneAfterMs === null); i++) await sleep(50);
  clearInterval(trickle);
  for (const h of hs)
    assert.ok(h.goneAfterMs !== null && h.goneAfterMs < 1000 + 200 + 200 + 1000, `${h.goneAfterMs}`);
  await stop(g);
});

test('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
  const { g, port } = await start({ keepAliveTimeoutMs: 400, checkIntervalMs: 100, lingerMs: 200 });
  const h = hostile(port, '127.0.0.1', null);
  await new Promise((r) => h.socket.once('connect', r));
  const sentAt = performance.now();
  h.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  for (let i = 0; i < 60 && h.goneAfterMs === null; i++) await sleep(50);
  assert.notEqual(h.goneAfterMs, null);
  assert.ok(performance.now() - sentAt < 2500);
  assert.ok(g.stats().closedIdle + g.stats().closedLingering >= 1);
  await stop(g);
});

test('a declared body above the limit gets 413 before any byte of it is read', async () => {
  const { g, port } = await start({ maxBodyBytes: 1000 });
  const reply = await rawRequest(
    port,
    '127.0.0.1',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n',
  );
  assert.match(reply, /^HTTP\/1\.1 413 /);
  assert.match(reply, /connection: close/i);
  assert.equal(g.stats().rejectedBodies, 1);
  await stop(g);
});

test('unfinished bodies share one budget: beyond it 503, and it is released when they end', async () => {
  const limits = {
    maxBodyBytes: 1000,
    maxPendingBodyBytes: 3000,
    maxPendingBodyBytesPerAddress: 3000,
    renderRejection: (r: { code: string }) => ({
      contentType: 'application/json',
      body: `{"code":"${r.code}"}`,
    }),
  };
  const { g, port } = await start(limits);
  const half = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc';
  const held = [1, 2, 3].map((i) => rawRequest(port, `127.0.5.${i}`, half));
  await sleep(300);
  assert.equal(g.stats().pendingBodyBytes, 3000);
  const refused = await rawRequest(port, '127.0.0.2', half);
  assert.match(refused, /^HTTP\/1\.1 503 /);
  assert.match(refused, /retry-after: 1/i);
  assert.match(refused, /"code":"BUSY"/);
  await Promise.all(held); // the hostile clients give up and close
  await sleep(100);
  assert.equal(g.stats().pendingBodyBytes, 0);
  const ok = await rawRequest(
    port,
    '127.0.0.2',
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`,
  );
  assert.match(ok, /^HTTP\/1\.1 200 [\s\S]*ok 5/);
  await stop(g);
});

test('one address cannot take the whole body budget; chunked bodies reserve the body limit', async () => {
  const limits = { maxBodyBytes: 1000, maxPendingBodyBytes: 10_000, maxPendingBodyBytesPerAddress: 2000 };
  const { g, port } = await start(limits);
  const chunked = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n';
  const held = [rawRequest(port, '127.0.0.1', chunked), rawRequest(port, '127.0.0.1', chunked)];
  await sleep(300);
  assert.equal(g.stats().pendingBodyBytes, 2000);
  assert.match(await rawRequest(port, '127.0.0.1', chunked), /^HTTP\/1\.1 503 /);
  assert.doesNotMatch(
    await Promise.race([rawRequest(port, '127.0.0.2', chunked), sleep(500).then(() => 'pending')]),
    /503/,
  );
  await Promise.all(held);
  await stop(g);
});
