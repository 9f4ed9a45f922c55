import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Hostile clients for the server flood tests and `bench/server-floods.ts`, on loopback only:
 * a BEP 15 announce flood of random info-hashes, slowloris sockets (idle, trickling headers,
 * trickling bodies) and a legitimate client that counts the answers it gets meanwhile. Every
 * one is bounded in count and time. The BEP 15 packets are written out by hand, not through our
 * codec, so a codec bug cannot hide on both sides.
 */

const PROTOCOL_ID = 0x41727101980n;
const LOST_AFTER_MS = 1000;

/** A small seeded PRNG (xorshift32) so every run floods the same hashes. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export interface UdpFloodOptions {
  readonly port: number;
  /** Distinct random info-hashes announced. */
  readonly count: number;
  /** `started-stopped`: each hash gets `started` then `stopped`; `started`: only `started`. */
  readonly mode: 'started-stopped' | 'started';
  readonly maxMs: number;
  readonly sockets?: number;
  readonly inflightPerSocket?: number;
  readonly seed?: number;
}

export interface UdpFloodResult {
  readonly answered: number;
  /** BEP 15 error replies (e.g. the tracker is full). */
  readonly errors: number;
  readonly lost: number;
  readonly elapsedMs: number;
  /** The first error message seen, if any. */
  readonly firstError: string | null;
}

interface Lane {
  readonly socket: UdpSocket;
  cid: bigint | null;
  connectTid: number;
  connectedAt: number;
  readonly outstanding: Map<number, { at: number; hash: number; stopped: boolean }>;
}

/** Announce `count` random info-hashes over UDP, as fast as the tracker answers. */
export async function udpAnnounceFlood(o: UdpFloodOptions): Promise<UdpFloodResult> {
  const rand = prng(o.seed ?? 7);
  const lanesN = o.sockets ?? 4;
  const perLane = o.inflightPerSocket ?? 64;
  const lanes: Lane[] = [];
  for (let i = 0; i < lanesN; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    lanes.push({ socket, cid: null, connectTid: 0, connectedAt: 0, outstanding: new Map() });
  }
  const hashSeeds = new Uint32Array(o.count * 2);
  for (let i = 0; i < hashSeeds.length; i++) hashSeeds[i] = rand();
  let nextHash = 0;
  const pendingStops: number[] = [];
  let answered = 0;
  let errors = 0;
  let lost = 0;
  let firstError: string | null = null;
  let nextTid = 1;
  const started = performance.now();

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
  const sendAnnounce = (lane: Lane, hash: number, stopped: boolean): void => {
    const tid = nextTid++ >>> 0;
    const p = Buffer.alloc(98);
    p.writeBigUInt64BE(lane.cid!, 0);
    p.writeUInt32BE(1, 8);
    p.writeUInt32BE(tid, 12);
    p.writeUInt32BE(hashSeeds[hash * 2]!, 16);
    p.writeUInt32BE(hashSeeds[hash * 2 + 1]!, 20);
    p.writeUInt32BE(hash, 24);
    p.write('-FL0001-', 36, 'latin1');
    p.writeUInt32BE(hash, 48);
    p.writeBigUInt64BE(1000n, 64); // left: a leecher
    p.writeUInt32BE(stopped ? 3 : 2, 80);
    p.writeUInt32BE(hash, 88); // key
    p.writeInt32BE(-1, 92);
    p.writeUInt16BE(6881, 96);
    lane.outstanding.set(tid, { at: performance.now(), hash, stopped });
    lane.socket.send(p, o.port, '127.0.0.1');
  };
  const timeUp = (): boolean => performance.now() - started > o.maxMs;
  const pump = (lane: Lane): void => {
    if (lane.cid === null) return;
    while (lane.outstanding.size < perLane && !timeUp()) {
      const stop = pendingStops.pop();
      if (stop !== undefined) sendAnnounce(lane, stop, true);
      else if (nextHash < o.count) sendAnnounce(lane, nextHash++, false);
      else break;
    }
  };

  return new Promise<UdpFloodResult>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      for (const l of lanes) l.socket.close();
      resolve({ answered, errors, lost, elapsedMs: performance.now() - started, firstError });
    };
    const maybeDone = (): void => {
      const idle = lanes.every((l) => l.outstanding.size === 0);
      if ((idle && nextHash >= o.count && pendingStops.length === 0) || timeUp()) finish();
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
        const sent = lane.outstanding.get(tid);
        if (sent === undefined) return;
        lane.outstanding.delete(tid);
        if (action === 1) {
          answered++;
          if (o.mode === 'started-stopped' && !sent.stopped) pendingStops.push(sent.hash);
        } else {
          errors++;
          firstError ??= m.subarray(8).toString('utf8');
        }
        pump(lane);
        maybeDone();
      });
      sendConnect(lane);
    }
    const ticker = setInterval(() => {
      const now = performance.now();
      for (const lane of lanes) {
        if (lane.cid === null && now - lane.connectedAt > 300) sendConnect(lane);
        for (const [tid, s] of lane.outstanding) {
          if (now - s.at > LOST_AFTER_MS) {
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

export type SlowKind = 'idle' | 'headers' | 'body';

export interface SlowlorisOptions {
  readonly port: number;
  readonly sockets: number;
  readonly kind: SlowKind;
  /** Source addresses, used round-robin (all in 127.0.0.0/8). */
  readonly localAddresses?: readonly string[];
  /** One byte every this many ms (default 100). */
  readonly trickleEveryMs?: number;
  /** For `body`: the request line and headers sent at once before the trickle. */
  readonly bodyPrelude?: string;
  /** For `body`: this many body bytes sent after the prelude (with backpressure), then the trickle. */
  readonly bodyBytes?: number;
}

export interface SlowSocketLife {
  /** When the server's FIN (or RST) reached us, ms after connecting; null before. */
  finAfterMs: number | null;
  /** When the server had really let go (a write failed, or RST), ms after connecting. */
  closedAfterMs: number | null;
}

export interface Slowloris {
  readonly lives: readonly SlowSocketLife[];
  /** Sockets the server has not fully closed yet. */
  open(): number;
  stop(): void;
}

const CHUNK = Buffer.alloc(16 * 1024, 0x78);
const HEADER_TRICKLE = `GET /announce HTTP/1.1\r\nHost: x\r\n${'X-Pad: aaaaaaaaaa\r\n'.repeat(2000)}\r\n`;

/**
 * Open `sockets` connections that never finish a request: `idle` sends nothing, `headers`
 * trickles a header block one byte at a time, `body` sends `bodyPrelude` (headers with a large
 * Content-Length) and trickles the body. None of them ever closes its side (half-open); after
 * the server's FIN an idle socket writes a probe byte every 100 ms, so a server that only
 * half-closed (and still holds the socket) is told apart from one that let go.
 */
export function slowloris(o: SlowlorisOptions): Slowloris {
  const lives: SlowSocketLife[] = [];
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const every = o.trickleEveryMs ?? 100;
  for (let i = 0; i < o.sockets; i++) {
    const localAddress = o.localAddresses?.[i % o.localAddresses.length];
    const s = connect({ port: o.port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    s.allowHalfOpen = true;
    const life: SlowSocketLife = { finAfterMs: null, closedAfterMs: null };
    lives.push(life);
    sockets.push(s);
    let connectedAt = performance.now();
    const since = (): number => performance.now() - connectedAt;
    const closed = (): void => {
      life.finAfterMs ??= since();
      life.closedAfterMs ??= since();
      s.destroy();
    };
    s.on('error', closed);
    s.on('close', closed);
    s.on('data', () => {});
    s.on('end', () => {
      life.finAfterMs ??= since();
      if (o.kind !== 'idle') return;
      const probe = setInterval(() => {
        if (s.destroyed) return clearInterval(probe);
        s.write('\r\n');
      }, 100);
      timers.push(probe);
    });
    s.on('connect', () => {
      connectedAt = performance.now();
      if (o.kind === 'idle') return;
      let at = 0;
      const trickle = (): void => {
        const t = setInterval(() => {
          if (s.destroyed) return clearInterval(t);
          s.write(o.kind === 'headers' ? HEADER_TRICKLE[at++ % HEADER_TRICKLE.length]! : 'a');
        }, every);
        timers.push(t);
      };
      if (o.kind !== 'body') return trickle();
      s.write(o.bodyPrelude ?? '');
      let left = o.bodyBytes ?? 0;
      const pour = (): void => {
        while (left > 0 && !s.destroyed) {
          const n = Math.min(left, CHUNK.length);
          left -= n;
          if (!s.write(CHUNK.subarray(0, n))) return void s.once('drain', pour);
        }
        trickle();
      };
      pour();
    });
  }
  return {
    lives,
    open: () => lives.filter((l) => l.closedAfterMs === null).length,
    stop() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

export interface LegitResult {
  readonly answered: number;
  readonly failed: number;
  readonly maxLatencyMs: number;
}

/**
 * A legitimate client: one GET after another (each on a fresh connection from `localAddress`,
 * each with a `timeoutMs` deadline) for `durationMs`; counts 2xx answers.
 */
export async function legitClient(o: {
  readonly port: number;
  readonly path: string;
  readonly localAddress: string;
  readonly durationMs: number;
  readonly timeoutMs?: number;
  readonly pauseMs?: number;
}): Promise<LegitResult> {
  const end = performance.now() + o.durationMs;
  let answered = 0;
  let failed = 0;
  let maxLatencyMs = 0;
  while (performance.now() < end) {
    const t = performance.now();
    const ok = await getOnce(o.port, o.path, o.localAddress, o.timeoutMs ?? 1000);
    maxLatencyMs = Math.max(maxLatencyMs, performance.now() - t);
    if (ok) answered++;
    else failed++;
    await new Promise((r) => setTimeout(r, o.pauseMs ?? 20));
  }
  return { answered, failed, maxLatencyMs };
}

/** One GET on a fresh connection; true for a 2xx answer within `timeoutMs`. */
export function getOnce(
  port: number,
  path: string,
  localAddress: string,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, localAddress, agent: false, headers: { connection: 'close' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
        res.on('error', () => resolve(false));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** `count` loopback source addresses 127.0.<n>.<m>, skipping 127.0.0.1 and 127.0.0.2. */
export function loopbackAddresses(count: number, offset = 10): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = offset + i;
    out.push(`127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`);
  }
  return out;
}

let gcFn: (() => void) | null = null;

/** A full GC (exposed at run time, so test files need no `--expose-gc`). */
export function fullGc(): void {
  if (gcFn === null) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Heap and RSS after a full GC, in bytes. */
export function memoryAfterGc(): { heapUsed: number; rss: number } {
  fullGc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
