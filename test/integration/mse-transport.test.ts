/**
 * MseTransport over real TCP on 127.0.0.1: every policy pairing, plaintext and MSE on one
 * listen port, the fallback and its memory, refusals with their codes, a peer that stalls or
 * sends garbage mid-handshake, and two Sessions moving a torrent with `require`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MseTransport, type MseTransportOptions } from '../../src/mse/mse-transport.js';
import { TcpTransport } from '../../src/net/tcp.js';
import type { Connection, Transport } from '../../src/net/transport.js';
import { Session } from '../../src/session/session.js';
import { diffTrees, writeTree } from '../helpers/content.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent } from '../helpers/torrent-fixtures.js';

const INFO_HASH = new Uint8Array(20).fill(0xab);
const OTHER_HASH = new Uint8Array(20).fill(0xcd);
const tmp = tempDir('peerdrop-mse-');
after(() => tmp.cleanup());

function mse(policy: MseTransportOptions['policy'], extra: Partial<MseTransportOptions> = {}): MseTransport {
  return new MseTransport(new TcpTransport({ host: '127.0.0.1' }), {
    policy,
    infoHashes: () => [OTHER_HASH, INFO_HASH],
    handshakeTimeoutMs: 1500,
    ...extra,
  });
}

/** Listen on `server`; resolves each accepted connection through `accepted`. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, server: Transport) {
  const accepted: Connection[] = [];
  const all: Connection[] = [];
  const waiters: ((c: Connection) => void)[] = [];
  const listener = await server.listen((c) => {
    all.push(c);
    const w = waiters.shift();
    if (w) w(c);
    else accepted.push(c);
  });
  // server.close() waits for open connections: end ours first.
  t.after(() => {
    for (const c of all) c.destroy();
    return server.close();
  });
  return {
    port: listener.port,
    next: () =>
      new Promise<Connection>((resolve) =>
        accepted.length ? resolve(accepted.shift()!) : waiters.push(resolve),
      ),
  };
}

function readAll(conn: Connection, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    let n = 0;
    conn.onData((c) => {
      got.push(Buffer.from(c));
      n += c.length;
      if (n >= bytes) resolve(Buffer.concat(got));
    });
    conn.onClose((e) => reject(e ?? new Error('closed')));
  });
}

const HELLO = Buffer.from('\x13BitTorrent protocol-and-more-bytes-that-follow');

describe('MseTransport on loopback', () => {
  for (const [client, server, expected] of [
    ['require', 'require', 'rc4'],
    // Both allow the plaintext method: the handshake is obfuscated, the payload is not.
    ['prefer', 'prefer', 'plaintext'],
    ['require', 'prefer', 'rc4'],
    ['prefer', 'require', 'rc4'],
    ['off', 'prefer', 'none'],
    ['prefer', 'off', 'none'],
  ] as const) {
    test(`${client} dialling ${server}: bytes flow both ways (${expected})`, async (t) => {
      const srv = mse(server);
      const { port, next } = await serve(t, srv);
      const cli = mse(client);
      const conn = await cli.dial({ host: '127.0.0.1', port }, { infoHash: INFO_HASH });
      t.after(() => conn.destroy());
      const payload = Buffer.alloc(200_000, 7);
      payload.set(HELLO, 0);
      const original = Buffer.from(payload);
      conn.write([payload.subarray(0, 68), payload.subarray(68)]);
      // Incoming connections are handed on once their first bytes tell plaintext from MSE.
      const incoming = await next();
      const got = await readAll(incoming, payload.length);
      assert.ok(got.equals(original), 'the server reads what the client wrote');
      assert.ok(payload.equals(original), 'the caller’s buffer was not encrypted in place');
      incoming.write([Buffer.from('pong')]);
      assert.equal((await readAll(conn, 4)).toString(), 'pong');
      assert.equal((conn as { method?: string }).method ?? 'none', expected);
      assert.ok(conn.bytesWritten >= payload.length, 'bytesWritten counts wire bytes');
      if (server === 'off') assert.equal(cli.stats.fallbacks, 1, 'fell back to plaintext');
    });
  }

  test('prefer remembers a plaintext-only peer and dials it in plaintext next time', async (t) => {
    const { port, next } = await serve(t, mse('off'));
    const cli = mse('prefer');
    const a = await cli.dial({ host: '127.0.0.1', port }, { infoHash: INFO_HASH });
    a.write([HELLO]);
    await next();
    a.destroy();
    const b = await cli.dial({ host: '127.0.0.1', port }, { infoHash: INFO_HASH });
    b.destroy();
    assert.equal(cli.stats.fallbacks, 1, 'only the first dial tried MSE');
    assert.equal(cli.stats.outgoingPlaintext, 2);
  });

  test('require refuses a plaintext incoming handshake (MSE_PLAINTEXT_REFUSED) and a plaintext-only peer', async (t) => {
    const srv = mse('require');
    const { port } = await serve(t, srv);
    const plain = await new TcpTransport().dial({ host: '127.0.0.1', port });
    const closed = new Promise<void>((resolve) => plain.onClose(() => resolve()));
    plain.write([HELLO]);
    await closed;
    assert.equal(srv.stats.failures.get('MSE_PLAINTEXT_REFUSED'), 1);

    const { port: offPort } = await serve(t, mse('off'));
    await assert.rejects(mse('require').dial({ host: '127.0.0.1', port: offPort }, { infoHash: INFO_HASH }), {
      code: 'MSE_CLOSED',
    });
    await assert.rejects(mse('require').dial({ host: '127.0.0.1', port: offPort }), {
      code: 'MSE_NO_INFO_HASH',
    });
  });

  test('an unknown torrent is refused with MSE_UNKNOWN_INFO_HASH', async (t) => {
    const srv = mse('require', { infoHashes: () => [OTHER_HASH] });
    const { port } = await serve(t, srv);
    await assert.rejects(mse('require').dial({ host: '127.0.0.1', port }, { infoHash: INFO_HASH }));
    assert.equal(srv.stats.failures.get('MSE_UNKNOWN_INFO_HASH'), 1);
  });

  test('a peer that stalls mid-handshake times out on both sides; garbage fails with a code', async (t) => {
    // A listener that reads and never answers: the initiator gives up with MSE_TIMEOUT.
    const mute = new TcpTransport({ host: '127.0.0.1' });
    const muteListener = await mute.listen(() => {});
    t.after(() => mute.close());
    const started = Date.now();
    await assert.rejects(
      mse('require', { handshakeTimeoutMs: 300 }).dial(
        { host: '127.0.0.1', port: muteListener.port },
        { infoHash: INFO_HASH },
      ),
      { code: 'MSE_TIMEOUT' },
    );
    assert.ok(Date.now() - started < 3000);

    // A client that sends half a public key and stops: the responder times out and closes.
    const srv = mse('prefer', { handshakeTimeoutMs: 300 });
    const { port } = await serve(t, srv);
    const half = await new TcpTransport().dial({ host: '127.0.0.1', port });
    const closed = new Promise<void>((resolve) => half.onClose(() => resolve()));
    half.write([new Uint8Array(40).fill(0x42)]);
    await closed;
    assert.equal(srv.stats.failures.get('MSE_TIMEOUT'), 1);

    // 700 bytes of garbage: no HASH('req1', S) within 628 bytes.
    const junk = await new TcpTransport().dial({ host: '127.0.0.1', port });
    const junkClosed = new Promise<void>((resolve) => junk.onClose(() => resolve()));
    junk.write([new Uint8Array(700).fill(0x42)]);
    await junkClosed;
    assert.equal(srv.stats.failures.get('MSE_SYNC_NOT_FOUND'), 1);
  });
});

/** A two-file torrent under `<tmp>/<label>-seed/enc`. */
function seedData(label: string): { seedDir: string; torrent: Uint8Array } {
  const seedDir = join(tmp.path, `${label}-seed`);
  mkdirSync(seedDir, { recursive: true });
  const files = writeTree(
    join(seedDir, 'enc'),
    [
      { path: 'a.bin', size: 700_000 },
      { path: 'b/c.bin', size: 300_001 },
    ],
    5,
  );
  const torrent = buildTorrent(
    files.map((f) => ({ path: f.path.split('/'), data: readFileSync(join(seedDir, 'enc', f.path)) })),
    { name: 'enc', pieceLength: 32 * 1024 },
  );
  return { seedDir, torrent };
}

function encryptedSession(policy: MseTransportOptions['policy']): {
  session: Session;
  transport: MseTransport;
} {
  const transport = new MseTransport(new TcpTransport({ host: '127.0.0.1' }), {
    policy,
    infoHashes: () => session.list().map((h) => Buffer.from(h.infoHash, 'hex')),
  });
  const session: Session = new Session({ transport, udp: false });
  return { session, transport };
}

test('close() ends handshakes in progress: a stalled incoming one and a stalled dial', async () => {
  const srv = mse('prefer', { handshakeTimeoutMs: 60_000 });
  const listener = await srv.listen(() => {});
  const silent = await new TcpTransport().dial({ host: '127.0.0.1', port: listener.port });
  const silentClosed = new Promise<void>((resolve) => silent.onClose(() => resolve()));
  const mute = new TcpTransport({ host: '127.0.0.1' });
  const muteListener = await mute.listen(() => {});
  const cli = mse('require', { handshakeTimeoutMs: 60_000 });
  const dialing = cli.dial({ host: '127.0.0.1', port: muteListener.port }, { infoHash: INFO_HASH });
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await Promise.all([srv.close(), cli.close()]);
  await silentClosed;
  await assert.rejects(dialing, { code: 'MSE_ABORTED' });
  assert.ok(Date.now() - started < 5000, 'not after the 60 s deadline');
  await mute.close();
});

describe('two Sessions over MseTransport', () => {
  test('require ↔ require: a torrent transfers encrypted and the bytes match', async (t) => {
    const { seedDir, torrent } = seedData('require');
    const seeder = encryptedSession('require');
    const leecher = encryptedSession('require');
    t.after(() => Promise.all([seeder.session.close(), leecher.session.close()]));
    await seeder.session.add(torrent, { dir: seedDir });
    const leechDir = join(tmp.path, 'leech');
    const handle = await leecher.session.add(torrent, {
      dir: leechDir,
      peers: [`127.0.0.1:${seeder.session.port}`],
    });
    await handle.done({ signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(diffTrees(seedDir, leechDir), []);
    assert.ok(leecher.transport.stats.outgoingEncrypted >= 1);
    assert.ok(seeder.transport.stats.incomingEncrypted >= 1);
    assert.equal(leecher.transport.stats.outgoingPlaintext, 0);
  });

  test('prefer seeder ↔ plaintext leecher, and prefer leecher ↔ plaintext seeder (fallback)', async (t) => {
    const { seedDir, torrent } = seedData('mixed');
    const encSeeder = encryptedSession('prefer');
    const plainSeeder = new Session({ host: '127.0.0.1', udp: false });
    const plainLeecher = new Session({ host: '127.0.0.1', udp: false });
    const encLeecher = encryptedSession('prefer');
    t.after(() =>
      Promise.all([encSeeder.session, plainSeeder, plainLeecher, encLeecher.session].map((s) => s.close())),
    );
    await encSeeder.session.add(torrent, { dir: seedDir });
    await plainSeeder.add(torrent, { dir: seedDir });
    const toPlain = join(tmp.path, 'mixed-plain-leech');
    const toEnc = join(tmp.path, 'mixed-enc-leech');
    const [a, b] = await Promise.all([
      plainLeecher.add(torrent, { dir: toPlain, peers: [`127.0.0.1:${encSeeder.session.port}`] }),
      encLeecher.session.add(torrent, { dir: toEnc, peers: [`127.0.0.1:${plainSeeder.port}`] }),
    ]);
    await Promise.all([
      a.done({ signal: AbortSignal.timeout(20_000) }),
      b.done({ signal: AbortSignal.timeout(20_000) }),
    ]);
    assert.deepEqual(diffTrees(seedDir, toPlain), []);
    assert.deepEqual(diffTrees(seedDir, toEnc), []);
    assert.ok(encSeeder.transport.stats.incomingPlaintext >= 1, 'the plaintext leecher was accepted');
    assert.ok(encLeecher.transport.stats.fallbacks >= 1, 'the prefer leecher fell back to plaintext');
  });
});
