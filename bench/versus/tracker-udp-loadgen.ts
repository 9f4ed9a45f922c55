import { createSocket, type Socket } from 'node:dgram';

/**
 * A BEP 15 load generator on raw dgram sockets, the same for every tracker under test. A
 * synthetic swarm of `torrents × peersPerTorrent` peers: peer p of torrent t has a fixed peer
 * id, a distinct announced port and 20% are seeders; every announce asks for 50 peers, so every
 * tracker answers with the same number of bytes. Each socket keeps `inflightPerSocket`
 * announces outstanding; a request unanswered for 1 s is counted lost and replaced. Bounded in
 * count (`requests`) and in time (`maxMs`).
 *
 * Why it is fast enough to load a C tracker: each socket is `connect()`ed to the tracker (a
 * send then skips address parsing and the DNS step that costs an unconnected send a
 * `process.nextTick`), sends have no callback, and the datagrams are patched in place in a
 * preallocated ring of buffers (a slot is reused only after `RING` more sends, long after its
 * datagram left the kernel), so the generator itself allocates nothing per announce.
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
  /** Peers asked for per announce (default 50). */
  readonly numWant?: number;
}

export interface LoadResult {
  readonly answered: number;
  readonly errors: number;
  readonly lost: number;
  readonly elapsedMs: number;
  readonly announcesPerSecond: number;
  /** Peers seen in the last responses (sanity: trackers return peer lists). */
  readonly peersReturned: number;
  /** CPU seconds the generator itself used (user + system): near `elapsedMs` = it was the limit. */
  readonly generatorCpuSeconds: number;
}

const LOST_AFTER_MS = 1000;
const HASH_TAG = 0xbe7c4;
/** Datagram slots per socket (a power of two, well above the in-flight window). */
const RING = 1024;
const ANNOUNCE_BYTES = 98;

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

/** IP literals need no lookup: answer at once (dgram otherwise defers every send a tick). */
function literalLookup(
  address: string,
  _family: unknown,
  cb: (err: Error | null, address: string, family: number) => void,
): void {
  cb(null, address, 4);
}

interface Lane {
  readonly index: number;
  readonly socket: Socket;
  /** Connection id halves; `hasCid` false until the connect answer arrives. */
  cidHi: number;
  cidLo: number;
  hasCid: boolean;
  connectTid: number;
  connectedAt: number;
  /** Next sequence number; the transaction id is `index << 24 | seq & 0xffffff`. */
  seq: number;
  outstanding: number;
  readonly slots: Buffer[];
  /** Send time per slot, or -1 when the slot is answered or lost. */
  readonly sentAt: Float64Array;
  readonly tidAt: Uint32Array;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const socketsN = o.sockets ?? 8;
  const perSocket = Math.min(o.inflightPerSocket ?? 48, RING / 4);
  const numWant = o.numWant ?? 50;
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
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const deadline = started + o.maxMs;

  const lanes: Lane[] = [];
  for (let i = 0; i < socketsN; i++) {
    const socket = createSocket({ type: 'udp4', lookup: literalLookup as never });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => socket.connect(o.port, '127.0.0.1', () => r()));
    try {
      socket.setRecvBufferSize(4 * 1024 * 1024);
      socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // Buffer sizes are a hint; the kernel may cap them.
    }
    const slab = Buffer.alloc(RING * ANNOUNCE_BYTES);
    const slots: Buffer[] = [];
    for (let s = 0; s < RING; s++) {
      const p = slab.subarray(s * ANNOUNCE_BYTES, (s + 1) * ANNOUNCE_BYTES);
      p.writeUInt32BE(1, 8); // action: announce
      p.fill(0x5a, 16, 36);
      p.writeUInt32BE(HASH_TAG, 32);
      p.write('-BN0001-', 36, 'latin1');
      p.writeUInt32BE(0x30303030, 52);
      p.writeInt32BE(numWant, 92);
      slots.push(p);
    }
    lanes.push({
      index: i,
      socket,
      cidHi: 0,
      cidLo: 0,
      hasCid: false,
      connectTid: 0,
      connectedAt: 0,
      seq: 0,
      outstanding: 0,
      slots,
      sentAt: new Float64Array(RING).fill(-1),
      tidAt: new Uint32Array(RING),
    });
  }

  const sendConnect = (lane: Lane): void => {
    lane.hasCid = false;
    lane.connectTid = ((lane.index << 24) | 0xffffff) >>> 0;
    const p = Buffer.alloc(16);
    p.writeUInt32BE(0x417, 0); // protocol id 0x41727101980
    p.writeUInt32BE(0x27101980, 4);
    p.writeUInt32BE(0, 8);
    p.writeUInt32BE(lane.connectTid, 12);
    lane.connectedAt = performance.now();
    lane.socket.send(p);
  };

  const sendAnnounce = (lane: Lane, now: number): void => {
    const index = o.mode === 'load' ? issued % total : rand(total);
    issued++;
    const torrent = index % o.swarm.torrents;
    const peer = Math.floor(index / o.swarm.torrents);
    const seq = lane.seq;
    lane.seq = (seq + 1) % 0xffffff; // 0xffffff is the connect's
    const slot = seq & (RING - 1);
    const tid = ((lane.index << 24) | seq) >>> 0;
    const p = lane.slots[slot]!;
    p.writeUInt32BE(lane.cidHi, 0);
    p.writeUInt32BE(lane.cidLo, 4);
    p.writeUInt32BE(tid, 12);
    p.writeUInt32BE(torrent, 16);
    p.writeUInt32BE(torrent, 44);
    p.writeUInt32BE(peer, 48);
    // downloaded 56..63 stay 0; left 64..71: 0 for a seeder; uploaded 72..79 stay 0.
    p.writeUInt32BE(peer % 5 === 0 ? 0 : 1000, 68);
    p.writeUInt32BE(o.mode === 'load' ? 2 : 0, 80);
    p.writeUInt32BE((torrent * 7919 + peer) >>> 0, 88);
    p.writeUInt16BE(10_000 + peer, 96);
    if (lane.sentAt[slot]! >= 0) lane.outstanding--; // never happens with RING ≫ window
    lane.sentAt[slot] = now;
    lane.tidAt[slot] = tid;
    lane.outstanding++;
    lane.socket.send(p);
  };

  const pump = (lane: Lane): void => {
    if (!lane.hasCid) return;
    const now = performance.now();
    if (now > deadline) return;
    while (lane.outstanding < perSocket && issued < o.requests) sendAnnounce(lane, now);
  };

  return new Promise<LoadResult>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      const elapsedMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuStart);
      for (const l of lanes) l.socket.close();
      resolve({
        answered,
        errors,
        lost,
        elapsedMs,
        announcesPerSecond: (answered * 1000) / elapsedMs,
        peersReturned,
        generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
      });
    };
    const maybeDone = (): void => {
      if (performance.now() > deadline) return finish();
      if (issued < o.requests) return;
      for (const l of lanes) if (l.outstanding > 0) return;
      finish();
    };
    for (const lane of lanes) {
      lane.socket.on('message', (m: Buffer) => {
        if (m.length < 8) return;
        const action = m.readUInt32BE(0);
        const tid = m.readUInt32BE(4);
        if (action === 0 && m.length >= 16 && tid === lane.connectTid) {
          lane.cidHi = m.readUInt32BE(8);
          lane.cidLo = m.readUInt32BE(12);
          lane.hasCid = true;
          pump(lane);
          return;
        }
        const slot = tid & (RING - 1);
        if (lane.tidAt[slot] !== tid || lane.sentAt[slot]! < 0) return;
        lane.sentAt[slot] = -1;
        lane.outstanding--;
        if (action === 1) {
          answered++;
          peersReturned = (m.length - 20) / 6;
        } else {
          errors++;
          // An expired or refused connection id: get a new one.
          if (action === 3 && lane.hasCid) sendConnect(lane);
        }
        pump(lane);
        if (issued >= o.requests) maybeDone();
      });
      sendConnect(lane);
    }
    const ticker = setInterval(() => {
      const now = performance.now();
      for (const lane of lanes) {
        if (!lane.hasCid && now - lane.connectedAt > 500) sendConnect(lane);
        // BEP 15: a connection id is good for a minute; refresh well before.
        if (lane.hasCid && now - lane.connectedAt > 50_000) sendConnect(lane);
        for (let s = 0; s < RING; s++) {
          const at = lane.sentAt[s]!;
          if (at >= 0 && now - at > LOST_AFTER_MS) {
            lane.sentAt[s] = -1;
            lane.outstanding--;
            lost++;
          }
        }
        pump(lane);
      }
      maybeDone();
    }, 100);
  });
}
