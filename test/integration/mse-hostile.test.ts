/**
 * Hostile MSE handshakes against a seeding Session over MseTransport (`prefer`): garbage that is
 * neither plaintext nor MSE, PadA over 512 bytes, a wrong VC, a crypto_provide with nothing we
 * accept, len(PadC) over 512, a peer that stops after its public key; and, dialling out, a
 * responder that selects a method we did not offer. Each is closed with its recorded code, no
 * handshake stays pending, and an honest encrypted leecher still downloads.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deriveKeys, publicKeyFor, sharedSecret } from '../../src/mse/keys.js';
import { MseTransport } from '../../src/mse/mse-transport.js';
import { Rc4 } from '../../src/mse/rc4.js';
import { TcpTransport } from '../../src/net/tcp.js';
import type { Session } from '../../src/session/session.js';
import { startEncryptedPeerdrop } from '../helpers/clients/encrypted.js';
import { diffTrees, writeTree } from '../helpers/content.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent } from '../helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-mse-hostile-');
const seedDir = join(tmp.path, 'seed');
let torrent: Uint8Array;
let infoHash: Uint8Array;
let seeder: Session;
let transport: MseTransport;

interface Hostile {
  /** Bytes after Ya and before HASH('req1', S). */
  readonly padA?: number;
  readonly stopAfterYa?: boolean;
  readonly badVc?: boolean;
  readonly provide?: number;
  readonly padCField?: number;
}

/** An initiator that follows the protocol except where `h` says; resolves when the seeder closes. */
async function hostileInitiator(h: Hostile): Promise<void> {
  const conn = await new TcpTransport().dial({ host: '127.0.0.1', port: seeder.port });
  const got: Buffer[] = [];
  let onMore = () => {};
  conn.onData((c) => {
    got.push(Buffer.from(c));
    onMore();
  });
  const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
  const xa = randomBytes(20);
  conn.write([publicKeyFor(xa)]);
  if (h.stopAfterYa) return closed;
  await new Promise<void>((resolve) => {
    onMore = () => Buffer.concat(got).length >= 96 && resolve();
    onMore();
  });
  const keys = deriveKeys(sharedSecret(xa, Buffer.concat(got).subarray(0, 96)), infoHash);
  const plain = Buffer.alloc(16);
  if (h.badVc) plain[3] = 1;
  plain.writeUInt32BE(h.provide ?? 2, 8);
  plain.writeUInt16BE(h.padCField ?? 0, 12);
  conn.write([randomBytes(h.padA ?? 0), keys.req1, keys.req2xor3, new Rc4(keys.keyA, 1024).process(plain)]);
  await closed;
}

async function closesWith(code: string, attempt: () => Promise<void>): Promise<void> {
  const before = transport.stats.failures.get(code as never) ?? 0;
  await attempt();
  // The failure is recorded when the seeder closes, before our side sees the close.
  assert.equal(transport.stats.failures.get(code as never) ?? 0, before + 1, code);
}

describe('hostile MSE handshakes', () => {
  before(async () => {
    mkdirSync(seedDir, { recursive: true });
    writeTree(seedDir, [{ path: 'data.bin', size: 512 * 1024 + 9 }], 4);
    torrent = buildTorrent([{ path: ['data.bin'], data: readFileSync(join(seedDir, 'data.bin')) }], {
      name: 'data.bin',
      pieceLength: 16 * 1024,
      single: true,
    });
    // A short handshake deadline for the peer that stops halfway.
    const s = await startEncryptedPeerdrop({
      policy: 'prefer',
      torrent,
      dir: seedDir,
      handshakeTimeoutMs: 400,
    });
    seeder = s.session;
    transport = s.transport;
    infoHash = Buffer.from(s.handle.infoHash, 'hex');
  });
  after(async () => {
    await seeder.close();
    tmp.cleanup();
  });

  test('garbage that is neither plaintext nor MSE', () =>
    closesWith('MSE_SYNC_NOT_FOUND', async () => {
      const conn = await new TcpTransport().dial({ host: '127.0.0.1', port: seeder.port });
      const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
      conn.write([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), randomBytes(700)]);
      await closed;
    }));
  test('PadA over 512 bytes', () => closesWith('MSE_SYNC_NOT_FOUND', () => hostileInitiator({ padA: 600 })));
  test('a wrong verification constant', () =>
    closesWith('MSE_BAD_VC', () => hostileInitiator({ badVc: true })));
  test('a crypto_provide with no method we accept', () =>
    closesWith('MSE_NO_COMMON_METHOD', () => hostileInitiator({ provide: 0x8 })));
  test('len(PadC) over 512', () =>
    closesWith('MSE_PAD_TOO_LONG', () => hostileInitiator({ padCField: 40_000 })));
  test('a peer that stops after its public key', () =>
    closesWith('MSE_TIMEOUT', () => hostileInitiator({ stopAfterYa: true })));

  test('a responder selecting a method we did not offer (outgoing)', async (t) => {
    const server = new TcpTransport({ host: '127.0.0.1' });
    const xb = randomBytes(20);
    const listener = await server.listen((conn) => {
      conn.onData((c) => {
        // Answer the first 96 bytes with Yb and, at once, ENCRYPT(VC, crypto_select = 4, 0).
        if (c.length < 96) return conn.destroy();
        const keys = deriveKeys(sharedSecret(xb, c.subarray(0, 96)), infoHash);
        const m4 = new Rc4(keys.keyB, 1024).process(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0));
        conn.write([publicKeyFor(xb), m4]);
        conn.onData(() => {});
      });
    });
    t.after(() => server.close());
    const dialer = new MseTransport(new TcpTransport(), { policy: 'require', infoHashes: () => [] });
    await assert.rejects(dialer.dial({ host: '127.0.0.1', port: listener.port }, { infoHash }), {
      code: 'MSE_BAD_SELECT',
    });
  });

  test('handshakes in progress are capped per address (MSE_BUSY), and freed when they fail', async () => {
    const before = transport.stats.failures.get('MSE_BUSY') ?? 0;
    // Ten silent connections from 127.0.0.1: eight wait for their first bytes, two are refused at once.
    const conns = await Promise.all(
      Array.from({ length: 10 }, () => new TcpTransport().dial({ host: '127.0.0.1', port: seeder.port })),
    );
    const closed = conns.map((c) => new Promise<void>((resolve) => c.onClose(() => resolve())));
    await Promise.all(closed); // two refused now, eight after the 400 ms deadline
    assert.equal((transport.stats.failures.get('MSE_BUSY') ?? 0) - before, 2);
  });

  test('afterwards nothing is pending and an honest encrypted leecher downloads', async () => {
    assert.equal(transport.pendingHandshakes, 0);
    const dir = join(tmp.path, 'leech');
    const leecher = await startEncryptedPeerdrop({
      policy: 'require',
      torrent,
      dir,
      peers: [`127.0.0.1:${seeder.port}`],
    });
    try {
      await leecher.handle.done({ signal: AbortSignal.timeout(20_000) });
    } finally {
      await leecher.stop();
    }
    assert.deepEqual(diffTrees(seedDir, dir), []);
  });
});
