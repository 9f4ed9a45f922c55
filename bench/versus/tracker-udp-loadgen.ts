import { createSocket, type Socket } from 'node:dgram';

/**
 * A BEP 15 load generator on raw dgram sockets, the same for every tracker under test. A
 * synthetic swarm of `torrents × peersPerTorrent` peers: peer p of torrent t has a fixed peer
 * id, a distinct announced port and 20% are seeders. Each socket keeps `inflightPerSocket`
 * announces outstanding; a request unanswered for 1 s is counted lost and replaced. Bounded in
 * count (`requests`) and in time (`maxMs`).
 */
export interface Swarm {
  readonly torrents: number;
  readonly peersPerTorrent: number;
}

export interface LoadOptions {
  readonly port: number;
  readonly swarm: Swarm;
  /** `load`: every peer announces `started` once, in order; `steady`: random re-announces. */
  readonly mode: 'load' | 'steady';
  readonly requests: number;
  readonly maxMs: number;
  readonly sockets?: number;
  readonly inflightPerSocket?: number;
  readonly seed?: number;
}

export interface LoadResult {
  readonly answered: number;
  readonly errors: number;
  readonly lost: number;
  readonly elapsedMs: number;
  readonly announcesPerSecond: number;
  /** Peers seen in the last responses (sanity: trackers return peer lists). */
  readonly peersReturned: number;
}

const PROTOCOL_ID = 0x41727101980n;
const LOST_AFTER_MS = 1000;

const HASH_TAG = 0xbe7c4;

/** The info-hash of synthetic torrent `t` (also whitelisted for opentracker). */
export function infoHashOf(torrent: number): Buffer {
  const h = Buffer.alloc(20, 0x5a);
  h.writeUInt32BE(torrent, 0);
  h.writeUInt32BE(HASH_TAG, 16);
  return h;
}

/** The peer id of peer `p` of torrent `t`. */
export function peerIdOf(torrent: number, peer: number): Buffer {
  const id = Buffer.from('-BN0001-000000000000', 'latin1');
  id.writeUInt32BE(torrent, 8);
  id.writeUInt32BE(peer, 12);
  return id;
}

interface Lane {
  readonly socket: Socket;
  cid: bigint | null;
  connectTid: number;
  connectedAt: number;
  readonly outstanding: Map<number, number>;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const socketsN = o.sockets ?? 4;
  const perSocket = o.inflightPerSocket ?? 32;
  const total = o.swarm.torrents * o.swarm.peersPerTorrent;
  let state = (o.seed ?? 1) >>> 0;
  const rand = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  let issued = 0;
  let answered = 0;
  let errors = 0;
  let lost = 0;
  let peersReturned = 0;
  let nextTid = 1;
  const started = performance.now();

  const lanes: Lane[] = [];
  for (let i = 0; i < socketsN; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    try {
      socket.setRecvBufferSize(4 * 1024 * 1024);
      socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // Buffer sizes are a hint; the kernel may cap them.
    }
    lanes.push({ socket, cid: null, connectTid: 0, connectedAt: 0, outstanding: new Map() });
  }

  const sendConnect = (lane: Lane): void => {
    lane.cid = null;
    lane.connectTid = nextTid++ >>> 0;
    const p = Buffer.alloc(16);
    p.writeBigUInt64BE(PROTOCOL_ID, 0);
    p.writeUInt32BE(0, 8);
    p.writeUInt32BE(lane.connectTid, 12);
    lane.connectedAt = performance.now();
    lane.socket.send(p, o.port, '127.0.0.1');
  };

  const sendAnnounce = (lane: Lane): void => {
    const index = o.mode === 'load' ? issued % total : rand(total);
    issued++;
    const torrent = index % o.swarm.torrents;
    const peer = Math.floor(index / o.swarm.torrents);
    const tid = nextTid++ >>> 0;
    // A fresh buffer per datagram: dgram may still hold the previous one in its send queue.
    const packet = Buffer.allocUnsafe(98);
    packet.writeBigUInt64BE(lane.cid!, 0);
    packet.writeUInt32BE(1, 8);
    packet.writeUInt32BE(tid, 12);
    packet.fill(0x5a, 16, 36);
    packet.writeUInt32BE(torrent, 16);
    packet.writeUInt32BE(HASH_TAG, 32);
    packet.write('-BN0001-', 36, 'latin1');
    packet.writeUInt32BE(torrent, 44);
    packet.writeUInt32BE(peer, 48);
    packet.writeUInt32BE(0x30303030, 52);
    packet.writeBigUInt64BE(0n, 56);
    packet.writeBigUInt64BE(peer % 5 === 0 ? 0n : 1000n, 64);
    packet.writeBigUInt64BE(0n, 72);
    packet.writeUInt32BE(o.mode === 'load' ? 2 : 0, 80);
    packet.writeUInt32BE(0, 84);
    packet.writeUInt32BE((torrent * 7919 + peer) >>> 0, 88);
    packet.writeInt32BE(-1, 92);
    packet.writeUInt16BE(10_000 + peer, 96);
    lane.outstanding.set(tid, performance.now());
    lane.socket.send(packet, o.port, '127.0.0.1');
  };

  const timeUp = (): boolean => performance.now() - started > o.maxMs;
  const pump = (lane: Lane): void => {
    if (lane.cid === null) return;
    while (lane.outstanding.size < perSocket && issued < o.requests && !timeUp()) sendAnnounce(lane);
  };

  return new Promise<LoadResult>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      const elapsedMs = performance.now() - started;
      for (const l of lanes) l.socket.close();
      resolve({
        answered,
        errors,
        lost,
        elapsedMs,
        announcesPerSecond: (answered * 1000) / elapsedMs,
        peersReturned,
      });
    };
    const maybeDone = (): void => {
      const idle = lanes.every((l) => l.outstanding.size === 0);
      if ((issued >= o.requests && idle) || timeUp()) finish();
    };
    for (const lane of lanes) {
      lane.socket.on('message', (m: Buffer) => {
        if (m.length < 8) return;
        const action = m.readUInt32BE(0);
        const tid = m.readUInt32BE(4);
        if (action === 0 && m.length >= 16 && tid === lane.connectTid) {
          lane.cid = m.readBigUInt64BE(8);
          pump(lane);
          return;
        }
        if (!lane.outstanding.delete(tid)) return;
        if (action === 1) {
          answered++;
          peersReturned = (m.length - 20) / 6;
        } else {
          errors++;
          // An expired or refused connection id: get a new one.
          if (action === 3 && lane.cid !== null) sendConnect(lane);
        }
        pump(lane);
        maybeDone();
      });
      sendConnect(lane);
    }
    const ticker = setInterval(() => {
      const now = performance.now();
      for (const lane of lanes) {
        if (lane.cid === null && now - lane.connectedAt > 500) sendConnect(lane);
        // BEP 15: a connection id is good for a minute; refresh well before.
        if (lane.cid !== null && now - lane.connectedAt > 50_000) sendConnect(lane);
        for (const [tid, at] of lane.outstanding) {
          if (now - at > LOST_AFTER_MS) {
            lane.outstanding.delete(tid);
            lost++;
          }
        }
        pump(lane);
      }
      maybeDone();
    }, 100);
  });
}
