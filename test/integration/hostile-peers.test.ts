/**
 * Hostile peers (issue 5): each misbehaviour against a peerdrop Session that is downloading from
 * an honest peerdrop seeder at the same time, over real TCP on 127.0.0.1. For each case: the
 * hostile connection is closed (or the misbehaviour handled) with a recorded reason, the
 * download completes with the right bytes, nothing crashes and memory stays bounded.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import type { SessionWarning } from '../../src/session/events.js';
import { Session } from '../../src/session/session.js';
import type { TorrentHandle } from '../../src/session/torrent-handle.js';
import type { PeerEvent } from '../../src/session/torrent-types.js';
import { MsgId } from '../../src/wire/messages.js';
import { diffTrees } from '../helpers/content.js';
import {
  corruptResponder,
  HostilePeer,
  type HostilePeerOptions,
  honestResponder,
} from '../helpers/hostile-peer.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const PIECE_LENGTH = 16 * 1024;
/** 257 pieces: a short last piece, and a piece count that leaves 7 spare bits in a bitfield. */
const SIZE_BYTES = 256 * PIECE_LENGTH + 5000;
const PIECE_COUNT = Math.ceil(SIZE_BYTES / PIECE_LENGTH);
const FILE_NAME = 'hostile.bin';
/** The whole test process (node + tsx + three sessions) must stay well under this. */
const RSS_CAP_BYTES = 400 * 1024 * 1024;
const DONE_TIMEOUT_MS = 30_000;

const content = fixtureBytes(SIZE_BYTES, 7);
const torrentBytes = buildTorrent([{ path: [FILE_NAME], data: content }], {
  name: FILE_NAME,
  pieceLength: PIECE_LENGTH,
  single: true,
});
const infoHash = wireInfoHash(parseMetainfo(torrentBytes));
const wrongHash = new Uint8Array(20).fill(0xab);

const tmp = tempDir('peerdrop-hostile-');
const seedDir = join(tmp.path, 'seed');
let seeder: Session;
let seederHandle: TorrentHandle;
let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
rssTimer.unref();

before(async () => {
  mkdirSync(seedDir, { recursive: true });
  writeFileSync(join(seedDir, FILE_NAME), content);
  seeder = new Session({ host: '127.0.0.1' });
  seederHandle = await seeder.add(torrentBytes, { dir: seedDir });
  await seederHandle.done({ signal: AbortSignal.timeout(10_000) });
});

after(async () => {
  clearInterval(rssTimer);
  await seeder?.close();
  tmp.cleanup();
});

interface Leecher {
  readonly session: Session;
  readonly handle: TorrentHandle;
  readonly dir: string;
  readonly events: PeerEvent[];
  readonly warnings: SessionWarning[];
}

/** A fresh downloading session; closed and its folder removed after the test. */
async function startLeecher(
  t: { after: (fn: () => Promise<void> | void) => void },
  peers: string[] = [],
): Promise<Leecher> {
  const dir = join(tmp.path, `leech-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  const session = new Session({ host: '127.0.0.1' });
  t.after(() => session.close());
  const handle = await session.add(torrentBytes, { dir, peers });
  const events: PeerEvent[] = [];
  const warnings: SessionWarning[] = [];
  handle.on('peer', (e) => events.push(e));
  handle.on('warning', (w) => warnings.push(w));
  return { session, handle, dir, events, warnings };
}

/** Dial the honest seeder too, wait for completion and compare the bytes on disk. */
async function completesFromHonestSeeder(l: Leecher, addSeeder = true): Promise<void> {
  if (addSeeder) l.handle.addPeer(`127.0.0.1:${seeder.port}`);
  await l.handle.done({ signal: AbortSignal.timeout(DONE_TIMEOUT_MS) });
  assert.deepEqual(diffTrees(seedDir, l.dir), []);
  assert.ok(process.memoryUsage().rss < RSS_CAP_BYTES, `rss ${process.memoryUsage().rss} bytes`);
}

/** Wait until an event about `address` matching `kinds` was recorded. */
async function eventFor(
  l: { events: PeerEvent[] },
  address: string,
  kinds: PeerEvent['kind'][],
  timeoutMs = 10_000,
): Promise<PeerEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = l.events.find((x) => x.address === address && kinds.includes(x.kind));
    if (e) return e;
    if (Date.now() > deadline) {
      assert.fail(
        `no ${kinds.join('/')} event for ${address}; events: ${JSON.stringify(l.events.slice(-10))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Dial the leecher with the right handshake and a full bitfield, then run `script`. */
async function dialLeecher(l: Leecher, opts: Partial<HostilePeerOptions> = {}) {
  const peer = await HostilePeer.dial(l.session.port, { infoHash, pieceCount: PIECE_COUNT, ...opts });
  await peer.waitUntil(() => peer.receivedHandshake !== null || peer.isClosed, 5000);
  return peer;
}

describe('hostile peers against a downloading session', () => {
  test('closes an incoming connection whose handshake names another torrent, and still completes', async (t) => {
    const l = await startLeecher(t);
    const peer = await HostilePeer.dial(l.session.port, { infoHash: wrongHash });
    t.after(() => peer.destroy());
    assert.equal(await peer.waitClosed(5000), true, 'connection with a wrong info-hash stays open');
    assert.equal(
      peer.receivedHandshake,
      null,
      'peerdrop answered a handshake for a torrent it does not have',
    );
    await completesFromHonestSeeder(l);
  });

  test('records a reason when a dialled peer answers with another torrent’s info-hash', async (t) => {
    const listener = await HostilePeer.listen({ infoHash: wrongHash });
    t.after(() => listener.close());
    const l = await startLeecher(t, [listener.address]);
    const peer = await listener.accepted(5000);
    assert.ok(peer, 'peerdrop never dialled the listed peer');
    assert.equal(await peer.waitClosed(5000), true);
    const e = await eventFor(l, listener.address, ['disconnected']);
    assert.match(e.reason ?? '', /WIRE_WRONG_INFO_HASH|info-hash|torrent we do not serve/i);
    await completesFromHonestSeeder(l);
  });

  test('disconnects a peer announcing a 2^31-byte message without allocating it', async (t) => {
    const l = await startLeecher(t);
    const peer = await dialLeecher(l);
    t.after(() => peer.destroy());
    const rssBefore = process.memoryUsage().rss;
    peer.bitfield(PIECE_COUNT);
    peer.lengthPrefix(2 ** 31, MsgId.Piece, 1024);
    assert.equal(await peer.waitClosed(5000), true, 'connection stayed open after a 2 GiB length prefix');
    const e = await eventFor(l, peer.localAddress, ['disconnected']);
    assert.match(e.reason ?? '', /WIRE_MESSAGE_TOO_LARGE/);
    assert.ok(process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024, 'rss grew by more than 64 MiB');
    await completesFromHonestSeeder(l);
  });

  test('skips unknown message ids and keeps the stream in sync (downloads from that peer afterwards)', async (t) => {
    const l = await startLeecher(t);
    const peer = await dialLeecher(l, { onRequest: honestResponder(content, PIECE_LENGTH) });
    t.after(() => peer.destroy());
    peer.bitfield(PIECE_COUNT);
    peer.unknownMessage(99, 100);
    peer.unknownMessage(0xff, 0);
    peer.unknownMessage(42, 16 * 1024);
    peer.unchoke();
    const gotRequest = await peer.waitUntil(() => peer.messages(MsgId.Request).length > 0, 5000);
    assert.equal(gotRequest, true, `no request after unknown ids; closed=${peer.isClosed}`);
    // The "hostile" peer serves honest data: the download may complete from it alone.
    await completesFromHonestSeeder(l, false);
    assert.equal(peer.isClosed, false);
  });

  test('disconnects a peer whose bitfield has spare bits set', async (t) => {
    const l = await startLeecher(t);
    const peer = await dialLeecher(l);
    t.after(() => peer.destroy());
    peer.bitfield(PIECE_COUNT, { spareBits: true });
    assert.equal(await peer.waitClosed(5000), true);
    const e = await eventFor(l, peer.localAddress, ['disconnected']);
    assert.match(e.reason ?? '', /WIRE_BAD_BITFIELD/);
    await completesFromHonestSeeder(l);
  });

  test('disconnects a peer requesting a piece we never announced', async (t) => {
    const l = await startLeecher(t);
    const peer = await dialLeecher(l);
    t.after(() => peer.destroy());
    peer.send({ id: MsgId.HaveNone } as never); // not negotiated (no fast bit): must not matter here
    assert.equal(await peer.waitClosed(5000), true, 'have-none without the fast extension was accepted');
    const peer2 = await dialLeecher(l);
    t.after(() => peer2.destroy());
    peer2.bitfield(PIECE_COUNT, { have: () => false });
    peer2.interested();
    peer2.request(3, 0, 16 * 1024);
    assert.equal(await peer2.waitClosed(5000), true);
    const e = await eventFor(l, peer2.localAddress, ['disconnected']);
    assert.match(e.reason ?? '', /WIRE_REQUEST_NOT_HAVE|WIRE_BAD_REQUEST/);
    await completesFromHonestSeeder(l);
  });

  test('disconnects a peer requesting a piece outside the torrent or a block over 16 KiB', async (t) => {
    const l = await startLeecher(t);
    const outside = await dialLeecher(l);
    t.after(() => outside.destroy());
    outside.bitfield(PIECE_COUNT, { have: () => false });
    outside.request(PIECE_COUNT + 10, 0, 16 * 1024);
    const big = await dialLeecher(l);
    t.after(() => big.destroy());
    big.bitfield(PIECE_COUNT, { have: () => false });
    big.request(0, 0, 128 * 1024);
    assert.equal(await outside.waitClosed(5000), true);
    assert.equal(await big.waitClosed(5000), true);
    assert.match(
      (await eventFor(l, outside.localAddress, ['disconnected'])).reason ?? '',
      /WIRE_BAD_REQUEST/,
    );
    assert.match((await eventFor(l, big.localAddress, ['disconnected'])).reason ?? '', /WIRE_BAD_REQUEST/);
    await completesFromHonestSeeder(l);
  });

  test('a seeder disconnects a request flood and keeps serving an honest leecher', async (t) => {
    const seederEvents: PeerEvent[] = [];
    const off = seederHandle.on('peer', (e) => seederEvents.push(e));
    t.after(() => off());
    const flooder = await HostilePeer.dial(seeder.port, { infoHash, pieceCount: PIECE_COUNT });
    t.after(() => flooder.destroy());
    await flooder.waitUntil(() => flooder.receivedHandshake !== null, 5000);
    flooder.bitfield(PIECE_COUNT, { have: () => false });
    flooder.interested();
    const unchoked = await flooder.waitUntil(() => flooder.messages(MsgId.Unchoke).length > 0, 15_000);
    assert.equal(unchoked, true, 'the seeder never unchoked an interested peer');
    const l = await startLeecher(t);
    const rssBefore = process.memoryUsage().rss;
    // 4000 distinct, valid 1 KiB requests (full-size pieces only): just far too many at once.
    flooder.requestFlood(4000, { pieceCount: PIECE_COUNT - 1, pieceLength: PIECE_LENGTH, blockLength: 1024 });
    const closed = await flooder.waitClosed(10_000);
    assert.equal(
      closed,
      true,
      `a 4000-request flood was not disconnected; got ${flooder.received.length} messages: ${JSON.stringify(
        flooder.received.slice(0, 8).map((r) => [r.atMs, r.message.id]),
      )}…, pieces=${flooder.messages(MsgId.Piece).length}, chokes=${flooder.messages(MsgId.Choke).length}`,
    );
    const e = await eventFor({ events: seederEvents }, flooder.localAddress, ['disconnected']);
    assert.match(e.reason ?? '', /WIRE_REQUEST_FLOOD/);
    // Bounded: at most the per-peer request cap was answered before the close.
    assert.ok(
      flooder.messages(MsgId.Piece).length <= 500,
      `${flooder.messages(MsgId.Piece).length} blocks served`,
    );
    assert.ok(process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024);
    await completesFromHonestSeeder(l);
  });

  test('bans a peer that sends corrupt blocks (smart-ban, with evidence) and completes from the honest seeder', async (t) => {
    const listener = await HostilePeer.listen({
      infoHash,
      pieceCount: PIECE_COUNT,
      onRequest: corruptResponder(),
      onPeer: (p) => {
        p.bitfield(PIECE_COUNT);
        p.unchoke();
      },
    });
    t.after(() => listener.close());
    const l = await startLeecher(t, [listener.address]);
    const deadline = Date.now() + 10_000;
    while (!l.warnings.some((w) => w.code === 'PIECE_HASH_FAILED') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(
      l.warnings.some((w) => w.code === 'PIECE_HASH_FAILED'),
      `no hash failure from garbage blocks; warnings: ${JSON.stringify(l.warnings.slice(0, 5))}`,
    );
    await completesFromHonestSeeder(l);
    const ban = await eventFor(l, listener.address, ['banned'], 5000);
    assert.match(ban.reason ?? '', /corrupt data in piece\(s\) \d+/);
    const peer = listener.peers[0]!;
    assert.equal(await peer.waitClosed(5000), true, 'the banned peer is still connected');
    assert.equal(
      l.events.some((e) => e.kind === 'banned' && e.address === `127.0.0.1:${seeder.port}`),
      false,
      'the honest seeder was banned',
    );
  });

  test('a smart-ban of one loopback peer does not lock out an honest peer on the same IP (ip:port ban)', async (t) => {
    const listener = await HostilePeer.listen({
      infoHash,
      pieceCount: PIECE_COUNT,
      onRequest: corruptResponder(),
      onPeer: (p) => {
        p.bitfield(PIECE_COUNT);
        p.unchoke();
      },
    });
    t.after(() => listener.close());
    // A second honest source that only serves after the ban: a scripted honest peer.
    const l = await startLeecher(t, [listener.address, `127.0.0.1:${seeder.port}`]);
    await eventFor(l, listener.address, ['banned'], 15_000);
    const honest = await dialLeecher(l, { onRequest: honestResponder(content, PIECE_LENGTH) });
    t.after(() => honest.destroy());
    honest.bitfield(PIECE_COUNT);
    honest.unchoke();
    await honest.waitClosed(2000);
    assert.equal(
      honest.isClosed,
      false,
      `honest loopback peer refused after the ban: ${JSON.stringify(l.events.slice(-3))}`,
    );
  });

  test('completes when one peer unchokes but never answers a request', async (t) => {
    const listener = await HostilePeer.listen({
      infoHash,
      pieceCount: PIECE_COUNT,
      onPeer: (p) => {
        p.bitfield(PIECE_COUNT);
        p.unchoke();
      },
    });
    t.after(() => listener.close());
    const l = await startLeecher(t, [listener.address]);
    const silent = await listener.accepted(5000);
    assert.ok(silent);
    assert.equal(await silent.waitUntil(() => silent.messages(MsgId.Request).length > 0, 5000), true);
    await completesFromHonestSeeder(l);
  });

  test('closes a connection that never sends a handshake (handshake timeout)', async (t) => {
    const l = await startLeecher(t);
    const mute = await HostilePeer.dial(l.session.port, { infoHash, autoHandshake: false });
    t.after(() => mute.destroy());
    await completesFromHonestSeeder(l);
    assert.equal(await mute.waitClosed(15_000), true, 'a peer that never handshakes is kept forever');
    assert.ok(mute.closedAtMs! - mute.startedMs >= 5000, 'closed before any reasonable handshake timeout');
  });

  test('never requests from a peer that chokes forever, and completes from others', async (t) => {
    const listener = await HostilePeer.listen({
      infoHash,
      pieceCount: PIECE_COUNT,
      onPeer: (p) => {
        p.bitfield(PIECE_COUNT);
        p.choke();
      },
    });
    t.after(() => listener.close());
    const l = await startLeecher(t, [listener.address]);
    const choker = await listener.accepted(5000);
    assert.ok(choker);
    assert.equal(await choker.waitUntil(() => choker.messages(MsgId.Interested).length > 0, 5000), true);
    await completesFromHonestSeeder(l);
    assert.equal(choker.messages(MsgId.Request).length, 0, 'requested blocks from a peer that chokes us');
  });

  test('memory stayed bounded over every hostile case', () => {
    assert.ok(peakRss > 0 && peakRss < RSS_CAP_BYTES, `peak rss ${peakRss} bytes`);
  });
});
