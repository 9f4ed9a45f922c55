import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Connection, dial, listen } from '../net/tcp.js';
import { Bitfield } from '../util/bitfield.js';
import { ManualClock, systemClock } from '../util/clock.js';
import { seededRandom } from '../util/random.js';
import type { WireError } from '../wire/errors.js';
import type { HandshakeFeatures } from '../wire/handshake.js';
import { MsgId, pieceIndex } from '../wire/messages.js';
import type { TorrentContext } from '../wire/peer-protocol.js';
import type { PeerChannelHandler } from './peer-channel.js';
import { PeerConnection, PeerTicker } from './peer-connection.js';

const FEATURES: HandshakeFeatures = { extensions: true, fast: true, dht: false, v2: false };
const PIECE_LENGTH = 256 * 1024;
const BLOCK = 16 * 1024;
const TOTAL = 1024 * 1024;
const INFO_HASH = new Uint8Array(20).fill(7);

function context(have: Bitfield): TorrentContext {
  return {
    infoHash: INFO_HASH,
    pieceCount: have.length,
    pieceLength: () => PIECE_LENGTH,
    hasPiece: (i) => have.get(i),
    bitfield: () => have,
  };
}

function handler(partial: Partial<PeerChannelHandler>): PeerChannelHandler {
  return {
    onMessage: () => {},
    onExtendedHandshake: () => {},
    onExtension: () => {},
    onDrain: () => {},
    onClose: () => {},
    ...partial,
  };
}

test('two PeerConnections over 127.0.0.1 exchange handshake, bitfield and 1 MiB by request/piece', async () => {
  const content = seededRandom(42).bytes(TOTAL);
  content[12345] = 0; // a NUL byte, to catch text-versus-bytes bugs
  const pieces = TOTAL / PIECE_LENGTH;
  const seederId = new Uint8Array(20).fill(1);
  const leecherId = new Uint8Array(20).fill(2);
  const ticker = new PeerTicker(systemClock);
  const closes: string[] = [];

  const listener = await listen({
    host: '127.0.0.1',
    port: 0,
    onConnection: (conn) => {
      PeerConnection.accept(conn, {
        clock: systemClock,
        localPeerId: seederId,
        features: FEATURES,
        ticker,
        lookupTorrent: (ih) => (ih.every((b) => b === 7) ? context(Bitfield.full(pieces)) : null),
        onHandshake: (pc) =>
          pc.bind(
            handler({
              onMessage: (m) => {
                if (m.id === MsgId.Interested) pc.unchoke();
                if (m.id === MsgId.Request) {
                  const at = m.piece * PIECE_LENGTH + m.offset;
                  pc.sendPiece(m.piece, m.offset, content.subarray(at, at + m.length));
                }
              },
              onClose: (r) => closes.push(`seeder ${r}`),
            }),
          ),
      });
    },
  });

  const received = new Uint8Array(TOTAL);
  let receivedBytes = 0;
  let peerHadAll = false;
  const done = new Promise<PeerConnection>((resolve, reject) => {
    void dialPeer(
      { host: '127.0.0.1', port: listener.port, timeoutMs: 2000 },
      {
        clock: systemClock,
        localPeerId: leecherId,
        features: FEATURES,
        ticker,
        torrent: context(new Bitfield(pieces)),
        onHandshake: (pc) =>
          pc.bind(
            handler({
              onMessage: (m) => {
                if (m.id === MsgId.HaveAll) {
                  peerHadAll = pc.protocol.peerBitfield?.hasAll() ?? false;
                  pc.interested();
                }
                if (m.id === MsgId.Unchoke) {
                  for (let at = 0; at < TOTAL; at += BLOCK) {
                    const piece = Math.floor(at / PIECE_LENGTH);
                    assert.ok(
                      pc.request({ piece: pieceIndex(piece), offset: at % PIECE_LENGTH, length: BLOCK }),
                    );
                  }
                }
                if (m.id === MsgId.Piece) {
                  received.set(m.data, m.piece * PIECE_LENGTH + m.offset);
                  receivedBytes += m.data.length;
                  if (receivedBytes === TOTAL) resolve(pc);
                }
              },
              onClose: (r) => reject(new Error(`leecher closed: ${r}`)),
            }),
          ),
      },
    ).catch(reject);
  });
  const leecher = await done;
  assert.equal(peerHadAll, true, 'have-all was understood as a full bitfield');
  assert.deepEqual(received, content);
  assert.equal(leecher.protocol.outstandingRequestCount, 0);
  assert.ok(leecher.bytesRead > TOTAL, 'socket counters include the payload');
  assert.equal(leecher.peerExtended?.reqq, 500, 'the extended handshake arrived');
  assert.equal(ticker.size, 2, 'both connections share one ticker');
  leecher.close('test over');
  assert.equal(leecher.closeReason?.code, 'WIRE_CLOSED_LOCALLY');
  // The seeder sees the close after a loopback round trip: wait for it (bounded), not a fixed sleep.
  for (let i = 0; i < 200 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(closes.join(), /seeder WIRE_CONNECTION_LOST/);
  assert.equal(ticker.size, 0, 'closed connections leave the ticker');
  await listener.close();
});

test('an incoming peer that never sends its handshake is closed by the shared ticker', async () => {
  const clock = new ManualClock(0);
  const ticker = new PeerTicker(clock);
  const reasons: WireError[] = [];
  let serverSide!: PeerConnection;
  const accepted = new Promise<void>((resolve) => {
    void listen({
      host: '127.0.0.1',
      port: 0,
      onConnection: (conn: Connection) => {
        serverSide = PeerConnection.accept(conn, {
          clock,
          localPeerId: new Uint8Array(20).fill(1),
          features: FEATURES,
          ticker,
          lookupTorrent: () => null,
          onClose: (_pc, r) => reasons.push(r),
        });
        resolve();
      },
    }).then(async (listener) => {
      const { dial } = await import('../net/tcp.js');
      const silent = await dial({ host: '127.0.0.1', port: listener.port });
      await accepted;
      clock.advance(10_000);
      ticker.tickAll();
      silent.destroy();
      await listener.close();
    });
  });
  await accepted;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(reasons[0]?.code, 'WIRE_HANDSHAKE_TIMEOUT');
  assert.equal(serverSide.connection.isClosed, true);
});

test('an incoming handshake for an unknown torrent is closed with WIRE_WRONG_INFO_HASH', async () => {
  const reasons: string[] = [];
  const listener = await listen({
    host: '127.0.0.1',
    port: 0,
    onConnection: (conn) =>
      PeerConnection.accept(conn, {
        clock: systemClock,
        localPeerId: new Uint8Array(20).fill(1),
        features: FEATURES,
        lookupTorrent: () => null,
        onClose: (_pc, r) => reasons.push(r.code),
      }),
  });
  const closed = new Promise<string>((resolve) => {
    void dialPeer(
      { host: '127.0.0.1', port: listener.port },
      {
        clock: systemClock,
        localPeerId: new Uint8Array(20).fill(2),
        features: FEATURES,
        torrent: context(new Bitfield(4)),
        onClose: (_pc, r) => resolve(r.code),
      },
    );
  });
  assert.equal(await closed, 'WIRE_CONNECTION_LOST', 'the dialler sees the socket close');
  assert.deepEqual(reasons, ['WIRE_WRONG_INFO_HASH']);
  await listener.close();
});

/** Dial over TCP and start the handshake (what the session does through its transport). */
async function dialPeer(
  address: { host: string; port: number; timeoutMs?: number },
  options: Parameters<typeof PeerConnection.outgoing>[1],
): Promise<PeerConnection> {
  return PeerConnection.outgoing(await dial(address), options);
}
