/**
 * Floods against a seeding session (issue 9, denial of service): idle sockets, trickled
 * handshakes and handshaken-but-idle peers from one address must not stop the seeder from
 * accepting an honest peer from another address. Loopback only; every flood is bounded.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import { TcpTransport } from '../../src/net/tcp.js';
import { Session } from '../../src/session/session.js';
import { encodeHandshake } from '../../src/wire/handshake.js';
import { encodeMessage, MsgId } from '../../src/wire/messages.js';
import { diffTrees } from '../helpers/content.js';
import { HostilePeer } from '../helpers/hostile-peer.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const SIZE = 2 * 1024 * 1024;
const tmp = tempDir('peerdrop-floods-');
let seeder: Session;
let torrentBytes: Uint8Array;
let infoHash: Uint8Array;
let seedDir: string;

before(async () => {
  seedDir = join(tmp.path, 'seed');
  mkdirSync(join(seedDir), { recursive: true });
  const data = fixtureBytes(SIZE, 9);
  writeFileSync(join(seedDir, 'flood.bin'), data);
  torrentBytes = buildTorrent([{ path: ['flood.bin'], data }], {
    name: 'flood.bin',
    pieceLength: 64 * 1024,
    single: true,
  });
  infoHash = wireInfoHash(parseMetainfo(torrentBytes));
  seeder = new Session({ host: '127.0.0.1' });
  await seeder.add(torrentBytes, { dir: seedDir });
});

after(async () => {
  await seeder.close();
  tmp.cleanup();
});

/** Open `count` sockets to the seeder from 127.0.0.1 and run `script` on each (bounded). */
async function flood(
  count: number,
  script: (s: Socket) => void,
): Promise<{ sockets: Socket[]; closed: () => number }> {
  const sockets: Socket[] = [];
  let closed = 0;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port: seeder.port, localAddress: '127.0.0.1' });
          sockets.push(s);
          s.on('error', () => {});
          s.on('close', () => {
            closed++;
          });
          s.once('connect', () => {
            script(s);
            resolve();
          });
          s.once('error', () => resolve());
        }),
    ),
  );
  return { sockets, closed: () => closed };
}

/** An honest leecher on another loopback address downloads everything from the seeder. */
async function honestDownload(name: string): Promise<number> {
  const dir = join(tmp.path, name);
  mkdirSync(dir);
  const leecher = new Session({
    transport: new TcpTransport({ host: '127.0.0.2', localAddress: '127.0.0.2' }),
  });
  try {
    const started = Date.now();
    const handle = await leecher.add(torrentBytes, { dir, peers: [`127.0.0.1:${seeder.port}`] });
    await handle.done({ signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(diffTrees(seedDir, dir), []);
    return Date.now() - started;
  } finally {
    await leecher.close();
  }
}

describe('floods from one address against a seeder', () => {
  test('600 idle sockets: most are refused at once, an honest peer from another address still downloads', async () => {
    const { sockets, closed } = await flood(600, () => {});
    const started = Date.now();
    while (closed() < 592 && Date.now() - started < 3_000) await new Promise((r) => setTimeout(r, 50));
    assert.ok(closed() >= 592, `only ${closed()} of 600 idle sockets were refused at the door (8 may wait)`);
    const ms = await honestDownload('idle');
    assert.ok(ms < 20_000);
    for (const s of sockets) s.destroy();
  });

  test('trickled handshakes (one byte every 500 ms) are cut at the handshake deadline', async () => {
    const handshake = encodeHandshake({
      infoHash,
      peerId: new Uint8Array(20).fill(7),
      features: { extensions: true, fast: true, dht: false, v2: false },
    });
    const timers: NodeJS.Timeout[] = [];
    const { sockets, closed } = await flood(8, (s) => {
      let at = 0;
      const t = setInterval(() => {
        if (at < handshake.length && !s.destroyed) s.write(handshake.subarray(at, ++at));
      }, 500);
      timers.push(t);
    });
    const started = Date.now();
    while (closed() < 8 && Date.now() - started < 12_000) await new Promise((r) => setTimeout(r, 100));
    for (const t of timers) clearInterval(t);
    const lived = Date.now() - started;
    assert.equal(closed(), 8, 'every trickler was closed');
    assert.ok(lived < 8_000, `tricklers lived ${lived} ms (deadline 5 s + 1 s tick)`);
    await honestDownload('trickle');
    for (const s of sockets) s.destroy();
  });

  test('handshaken idle peers from one address are capped per address and do not lock out others', async () => {
    // Each with its own peer id, so only the per-address cap can stop them.
    let n = 0;
    const { sockets, closed } = await flood(100, (s) =>
      s.write(
        encodeHandshake({
          infoHash,
          peerId: new Uint8Array(20).fill(++n % 250),
          features: { extensions: false, fast: false, dht: false, v2: false },
        }),
      ),
    );
    const started = Date.now();
    while (sockets.length - closed() > 32 && Date.now() - started < 5_000)
      await new Promise((r) => setTimeout(r, 50));
    const open = sockets.length - closed();
    assert.ok(open <= 32, `${open} connections from one address stayed open (cap 32)`);
    await honestDownload('handshaken');
    for (const s of sockets) s.destroy();
  });
});

describe('a peer flapping choke/unchoke against a leecher', () => {
  for (const variant of [
    { name: 'plain (BEP 3)', fast: false },
    { name: 'fast extension (BEP 6)', fast: true },
  ]) {
    test(`${variant.name}: memory stays bounded and the download completes from an honest seeder`, async () => {
      const dir = join(tmp.path, `flap-${variant.fast}`);
      mkdirSync(dir);
      const leecher = new Session({ host: '127.0.0.1' });
      try {
        const handle = await leecher.add(torrentBytes, { dir });
        const pieceCount = parseMetainfo(torrentBytes).pieceCount;
        const flapper = await HostilePeer.dial(leecher.port, {
          infoHash,
          pieceCount,
          features: { extensions: false, fast: variant.fast, dht: false, v2: false },
        });
        if (variant.fast) flapper.send({ id: MsgId.HaveAll });
        else flapper.send({ id: MsgId.Bitfield, bits: fullBitfield(pieceCount) });
        // 100,000 choke/unchoke pairs in bursts, never answering a request.
        const pair = Buffer.concat([
          encodeMessage({ id: MsgId.Unchoke }),
          encodeMessage({ id: MsgId.Choke }),
        ]);
        const burst = Buffer.concat(Array.from({ length: 1000 }, () => pair));
        const rssBefore = process.memoryUsage().rss;
        let peakRss = rssBefore;
        for (let i = 0; i < 100 && !flapper.isClosed; i++) {
          flapper.raw(burst);
          await new Promise((r) => setImmediate(r));
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
        }
        const requestsSeen = flapper.received.filter((r) => r.message.id === MsgId.Request).length;
        assert.ok(!flapper.isClosed, 'the flapper stayed connected (flapping is legal, only wasteful)');
        assert.ok(requestsSeen > 0, 'the leecher did request from the flapper');
        handle.addPeer(`127.0.0.1:${seeder.port}`);
        await handle.done({ signal: AbortSignal.timeout(20_000) });
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        assert.deepEqual(diffTrees(seedDir, dir), []);
        const growthMB = (peakRss - rssBefore) / 1e6;
        assert.ok(growthMB < 150, `RSS grew ${growthMB.toFixed(0)} MB under the flapping`);
        process.stdout.write(
          `# flapping (${variant.name}): RSS growth ${growthMB.toFixed(1)} MB, ${requestsSeen} requests\n`,
        );
        flapper.destroy();
      } finally {
        await leecher.close();
      }
    });
  }
});

function fullBitfield(pieces: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(pieces / 8)).fill(0xff);
  if (pieces % 8) bits[bits.length - 1] = (0xff << (8 - (pieces % 8))) & 0xff;
  return bits;
}
