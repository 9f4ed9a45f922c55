import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../util/bitfield.js';
import { concatBytes } from '../util/bytes.js';
import { ManualClock } from '../util/clock.js';
import { FrameDecoder } from './decoder.js';
import type { WireError } from './errors.js';
import { encodeHandshake, type HandshakeFeatures, NO_FEATURES } from './handshake.js';
import { encodeMessage, type Message, MsgId, pieceIndex } from './messages.js';
import { PeerProtocol, type PeerProtocolOptions, type TorrentContext } from './peer-protocol.js';

const INFO_HASH = new Uint8Array(20).fill(0xab);
const OTHER_HASH = new Uint8Array(20).fill(0xcd);
const ALL: HandshakeFeatures = { extensions: true, fast: true, dht: false, v2: false };
const PIECE_LENGTH = 4 * 16384;

function torrent(have = '********'): TorrentContext {
  const bits = Bitfield.fromString(have);
  return {
    infoHash: INFO_HASH,
    pieceCount: have.length,
    pieceLength: () => PIECE_LENGTH,
    hasPiece: (i) => bits.get(i),
    bitfield: () => bits,
  };
}

function peerId(tag: number): Uint8Array {
  return new Uint8Array(20).fill(tag);
}

/** A protocol whose output is decoded back into messages, for assertions. */
function harness(overrides: Partial<PeerProtocolOptions> = {}) {
  const clock = new ManualClock(0);
  const out: Message[] = [];
  const got: Message[] = [];
  const closed: WireError[] = [];
  const outDecoder = new FrameDecoder({ onMessage: (m) => out.push(m) });
  const p = new PeerProtocol({
    clock,
    isOutgoing: false,
    localPeerId: peerId(1),
    features: ALL,
    torrent: torrent(),
    send: (chunks) => {
      for (const c of chunks) outDecoder.push(c.slice());
    },
    handler: { onMessage: (m) => got.push(m), onClose: (r) => closed.push(r) },
    ...overrides,
  });
  return { p, clock, out, got, closed };
}

function remoteHandshake(features: HandshakeFeatures = ALL, infoHash = INFO_HASH): Uint8Array {
  return encodeHandshake({ features, infoHash, peerId: peerId(2) });
}

function deliver(to: PeerProtocol, chunks: readonly Uint8Array[]): void {
  for (const c of chunks) to.receive(c);
}

function frames(...msgs: Message[]): Uint8Array {
  return concatBytes(msgs.map(encodeMessage));
}

test('a wrong info-hash in the handshake closes with WIRE_WRONG_INFO_HASH', () => {
  const h = harness({ lookupTorrent: () => null, torrent: undefined });
  h.p.receive(remoteHandshake(ALL, OTHER_HASH));
  assert.equal(h.closed[0]?.code, 'WIRE_WRONG_INFO_HASH');
  assert.equal(h.p.reason?.code, 'WIRE_WRONG_INFO_HASH');
  assert.equal(h.out.length, 0, 'we never answered with our handshake');
});

test('an outgoing connection whose peer answers for another torrent is closed', () => {
  const h = harness({ isOutgoing: true });
  h.p.receive(remoteHandshake(ALL, OTHER_HASH));
  assert.equal(h.p.reason?.code, 'WIRE_WRONG_INFO_HASH');
});

test('a connection to ourselves is detected by peer id', () => {
  const h = harness();
  h.p.receive(encodeHandshake({ features: ALL, infoHash: INFO_HASH, peerId: peerId(1) }));
  assert.equal(h.p.reason?.code, 'WIRE_SELF_CONNECTION');
});

test('incoming: after a good handshake we answer, send have-all and the extended handshake', () => {
  const h = harness();
  h.p.receive(remoteHandshake());
  assert.equal(h.p.isHandshakeDone, true);
  assert.deepEqual(
    h.out.map((m) => m.id),
    [MsgId.HaveAll, MsgId.Extended],
  );
});

test('a message length of 2^31 closes with WIRE_MESSAGE_TOO_LARGE and buffers nothing', () => {
  const h = harness();
  h.p.receive(concatBytes([remoteHandshake(), Uint8Array.of(0x80, 0, 0, 0, 7)]));
  assert.equal(h.p.reason?.code, 'WIRE_MESSAGE_TOO_LARGE');
  assert.equal(h.p.bufferedBytes, 0);
});

test('unknown message ids are skipped and the connection carries on', () => {
  const h = harness();
  h.p.receive(
    concatBytes([remoteHandshake(), Uint8Array.of(0, 0, 0, 3, 99, 1, 2), frames({ id: MsgId.Interested })]),
  );
  assert.equal(h.p.isClosed, false);
  assert.equal(h.p.peerInterested, true);
});

test('a bitfield with spare bits set closes with WIRE_BAD_BITFIELD', () => {
  const h = harness({ torrent: torrent('**********') });
  h.p.receive(
    concatBytes([remoteHandshake(), frames({ id: MsgId.Bitfield, bits: Uint8Array.of(0xff, 0xff) })]),
  );
  assert.equal(h.p.reason?.code, 'WIRE_BAD_BITFIELD');
});

test('a request for a piece we do not have closes with WIRE_REQUEST_NOT_HAVE', () => {
  const h = harness({ torrent: torrent('****  **') });
  h.p.unchoke();
  h.p.receive(
    concatBytes([
      remoteHandshake(),
      frames({ id: MsgId.Request, piece: pieceIndex(4), offset: 0, length: 16384 }),
    ]),
  );
  assert.equal(h.p.reason?.code, 'WIRE_REQUEST_NOT_HAVE');
});

test('a request for a block over 16 KiB closes with WIRE_BAD_REQUEST', () => {
  const h = harness();
  h.p.receive(
    concatBytes([remoteHandshake(), Uint8Array.of(0, 0, 0, 13, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1)]),
  );
  assert.equal(h.p.reason?.code, 'WIRE_BAD_REQUEST');
});

test('a request beyond the end of the piece closes with WIRE_BAD_REQUEST', () => {
  const h = harness();
  h.p.unchoke();
  h.p.receive(
    concatBytes([
      remoteHandshake(),
      frames({ id: MsgId.Request, piece: pieceIndex(0), offset: PIECE_LENGTH, length: 1 }),
    ]),
  );
  assert.equal(h.p.reason?.code, 'WIRE_BAD_REQUEST');
});

function requests(n: number): Message[] {
  return Array.from({ length: n }, (_, i) => ({
    id: MsgId.Request,
    piece: pieceIndex(i % 8),
    offset: Math.floor(i / 8) * 16,
    length: 16,
  }));
}

test('a request flood beyond reqq from a non-fast peer closes with WIRE_REQUEST_FLOOD', () => {
  const h = harness({ maxPeerRequests: 10 });
  h.p.receive(remoteHandshake({ ...NO_FEATURES }));
  h.p.unchoke();
  h.p.receive(frames(...requests(10)));
  assert.equal(h.p.isClosed, false);
  assert.equal(h.p.peerRequestCount, 10);
  h.p.receive(frames(...requests(11).slice(10)));
  assert.equal(h.p.reason?.code, 'WIRE_REQUEST_FLOOD');
});

test('a fast peer over reqq gets rejects first, then is closed if it keeps flooding', () => {
  const h = harness({ maxPeerRequests: 10 });
  h.p.receive(remoteHandshake());
  h.p.unchoke();
  h.p.receive(frames(...requests(15)));
  assert.equal(h.p.isClosed, false);
  assert.equal(h.out.filter((m) => m.id === MsgId.Reject).length, 5);
  h.p.receive(frames(...requests(40).slice(15)));
  assert.equal(h.p.reason?.code, 'WIRE_REQUEST_FLOOD');
  assert.equal(
    h.got.filter((m) => m.id === MsgId.Request).length,
    10,
    'only capped requests reached the owner',
  );
});

test('requests while we choke a fast peer are rejected, not passed on', () => {
  const h = harness();
  h.p.receive(concatBytes([remoteHandshake(), frames(...requests(2))]));
  assert.equal(h.got.filter((m) => m.id === MsgId.Request).length, 0);
  assert.equal(h.out.filter((m) => m.id === MsgId.Reject).length, 2);
});

test('a peer that never answers the handshake is closed after the handshake timeout', () => {
  const h = harness({ isOutgoing: true });
  h.clock.advance(9_999);
  h.p.tick(h.clock.now());
  assert.equal(h.p.isClosed, false);
  h.clock.advance(1);
  h.p.tick(h.clock.now());
  assert.equal(h.p.reason?.code, 'WIRE_HANDSHAKE_TIMEOUT');
});

test('keep-alives are sent after 60 s of silence on our side, idle peers are closed after 120 s', () => {
  const h = harness();
  h.p.receive(remoteHandshake());
  const before = h.out.length;
  h.clock.advance(59_000);
  h.p.tick(h.clock.now());
  assert.equal(h.out.length, before);
  h.clock.advance(1_000);
  h.p.tick(h.clock.now());
  assert.equal(h.out.at(-1)?.id, MsgId.KeepAlive);
  h.clock.advance(60_000);
  h.p.tick(h.clock.now());
  assert.equal(h.p.reason?.code, 'WIRE_IDLE_TIMEOUT');
});

test('fast-extension messages from a peer that did not negotiate fast close the connection', () => {
  const h = harness();
  h.p.receive(concatBytes([remoteHandshake(NO_FEATURES), frames({ id: MsgId.HaveAll })]));
  assert.equal(h.p.reason?.code, 'WIRE_FAST_NOT_NEGOTIATED');
});

test('a later piece set (aria2 sends have-none, then a bitfield) is merged, not fatal', () => {
  const h = harness();
  h.p.receive(concatBytes([remoteHandshake(), frames({ id: MsgId.HaveNone }, { id: MsgId.HaveAll })]));
  assert.equal(h.p.reason, null);
  assert.equal(h.p.peerBitfield?.hasAll(), true);
});

test('an unrequested piece from a fast peer closes with WIRE_UNSOLICITED_PIECE', () => {
  const h = harness();
  h.p.receive(
    concatBytes([
      remoteHandshake(),
      frames({ id: MsgId.Piece, piece: pieceIndex(0), offset: 0, data: new Uint8Array(16) }),
    ]),
  );
  assert.equal(h.p.reason?.code, 'WIRE_UNSOLICITED_PIECE');
});

test('requests respect choke, the outstanding cap, and pieces and rejects settle them', () => {
  const h = harness({ maxOutstandingRequests: 2 });
  h.p.receive(remoteHandshake());
  const b = (offset: number) => ({ piece: pieceIndex(1), offset, length: 16384 });
  assert.equal(h.p.request(b(0)), false, 'choked');
  h.p.receive(frames({ id: MsgId.Unchoke }));
  assert.equal(h.p.request(b(0)), true);
  assert.equal(h.p.request(b(0)), false, 'duplicate');
  assert.equal(h.p.request(b(16384)), true);
  assert.equal(h.p.request(b(32768)), false, 'at the cap');
  h.p.receive(frames({ id: MsgId.Piece, piece: pieceIndex(1), offset: 0, data: new Uint8Array(16384) }));
  h.p.receive(frames({ id: MsgId.Reject, piece: pieceIndex(1), offset: 16384, length: 16384 }));
  assert.equal(h.p.outstandingRequestCount, 0);
  assert.deepEqual(
    h.got.map((m) => m.id),
    [MsgId.Unchoke, MsgId.Piece, MsgId.Reject],
  );
  assert.equal(h.p.isClosed, false);
});

test('a piece for a request we cancelled is still accepted', () => {
  const h = harness();
  h.p.receive(concatBytes([remoteHandshake(), frames({ id: MsgId.Unchoke })]));
  const block = { piece: pieceIndex(2), offset: 0, length: 100 };
  h.p.request(block);
  h.p.cancel(block);
  assert.equal(h.out.at(-1)?.id, MsgId.Cancel);
  h.p.receive(frames({ id: MsgId.Piece, piece: pieceIndex(2), offset: 0, data: new Uint8Array(100) }));
  assert.equal(h.p.isClosed, false);
  assert.equal(h.got.at(-1)?.id, MsgId.Piece);
});

test('a block requested, cancelled and requested again may be answered twice without a close', () => {
  const h = harness();
  h.p.receive(concatBytes([remoteHandshake(), frames({ id: MsgId.Unchoke })]));
  const block = { piece: pieceIndex(2), offset: 0, length: 100 };
  assert.ok(h.p.request(block));
  h.p.cancel(block);
  assert.ok(h.p.request(block), 'the block can be requested again');
  const answer = frames({ id: MsgId.Piece, piece: pieceIndex(2), offset: 0, data: new Uint8Array(100) });
  h.p.receive(answer);
  h.p.receive(answer);
  assert.equal(h.p.isClosed, false, String(h.p.reason?.message));
  assert.equal(h.got.filter((m) => m.id === MsgId.Piece).length, 2);
  assert.equal(h.p.outstandingRequestCount, 0);
  h.p.receive(answer);
  assert.equal(h.p.isClosed, true, 'a third, truly unsolicited answer still closes');
});

test('two protocols talk: handshake, bitfield, interest, unchoke, request and piece', () => {
  const clock = new ManualClock(0);
  const log: string[] = [];
  let a!: PeerProtocol;
  let b!: PeerProtocol;
  const data = new Uint8Array(16384).fill(3);
  a = new PeerProtocol({
    clock,
    isOutgoing: true,
    localPeerId: peerId(1),
    features: ALL,
    torrent: torrent('        '),
    send: (chunks) => queueMicrotask(() => deliver(b, chunks)),
    handler: {
      onMessage: (m) => log.push(`a<${m.id}`),
      onExtendedHandshake: (x) => log.push(`a ext reqq=${x.reqq}`),
      onClose: (r) => log.push(`a closed ${r.code}`),
    },
  });
  b = new PeerProtocol({
    clock,
    isOutgoing: false,
    localPeerId: peerId(2),
    features: ALL,
    lookupTorrent: (ih) => (ih.every((x) => x === 0xab) ? torrent() : null),
    send: (chunks) => queueMicrotask(() => deliver(a, chunks)),
    handler: {
      onMessage: (m) => {
        log.push(`b<${m.id}`);
        if (m.id === MsgId.Interested) b.unchoke();
        if (m.id === MsgId.Request) b.sendPiece(m.piece, m.offset, data);
      },
      onClose: (r) => log.push(`b closed ${r.code}`),
    },
  });
  return new Promise<void>((resolve) => setTimeout(resolve, 5)).then(async () => {
    assert.equal(a.peerBitfield?.hasAll(), true);
    a.interested();
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(a.peerChoking, false);
    assert.equal(a.request({ piece: pieceIndex(3), offset: 0, length: 16384 }), true);
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(log.includes(`a<${MsgId.Piece}`), log.join(','));
    assert.ok(log.includes('a ext reqq=500'));
    assert.equal(a.outstandingRequestCount, 0);
    assert.equal(b.peerRequestCount, 0);
    assert.ok(!log.some((l) => l.includes('closed')));
  });
});
