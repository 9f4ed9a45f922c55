/**
 * An in-memory network for simulations and tests: hosts named by IP literal, each with an
 * upload and a download capacity, links with one-way latency, loss and resets, partitions, and
 * `Transport`s whose connections keep the `Connection` contract (backpressure included). It
 * runs on an injected `Scheduler` and a seeded random source, so a run is deterministic: no
 * real time is read and nothing happens inside `write()` — every byte arrives in a timer.
 *
 * The model, per direction of a connection (a *flow*):
 *
 *   write → sender's uplink → link → receiver's downlink → onData
 *
 *  - A host's uplink is one queue drained at its upload rate and shared fairly by every flow
 *    leaving the host: a round-robin server that sends one segment (a 16 KiB block message) of
 *    each backlogged flow in turn, so k busy connections get rate/k each (the fluid model's
 *    assumption). The downlink is the same kind of server at the download rate. An unlimited
 *    rate (the default) skips its server.
 *  - The link delays each segment by its latency. A lost segment arrives one retransmission
 *    timeout late and nothing behind it overtakes it (TCP delivers in order); loss does not
 *    shrink a window here, it only adds delay. A reset closes both ends with
 *    `NET_SOCKET_ERROR`. Across a partition (`setReachable(a, b, false)`) segments wait, as
 *    TCP's retransmissions would, until the path heals; dials time out.
 *  - Segments of one flow due at the same instant are delivered as one event, so a burst of
 *    small frames costs one timer, and runs of small chunks are joined into one buffer.
 *  - `queuedBytes` counts bytes written and not yet delivered (a send buffer that frees on
 *    delivery rather than on the ACK a latency later); above the high-water mark `isWritable`
 *    is false and `onDrain` fires once it falls below again.
 *
 * Chunks are handed to the receiver without a copy: as with TCP here, a writer must not reuse
 * a buffer it wrote.
 */
import type { Scheduler } from '../util/clock.js';
import { seededRandom } from '../util/random.js';
import { Flow, type HostState, MemoryConnection, resetError } from './memory-connection.js';
import { joinSmallRuns, RateServer, type Segment } from './memory-queues.js';
import { MemoryTransport } from './memory-transport.js';
import type { Connection, Transport } from './transport.js';

export interface HostOptions {
  /** Upload capacity in bytes/s, shared fairly by the host's connections (default unlimited). */
  readonly uploadBps?: number;
  /** Download capacity in bytes/s (default unlimited). */
  readonly downloadBps?: number;
}

export interface LinkOptions {
  /** One-way latency in ms (default 10). */
  readonly latencyMs?: number;
  /** Probability that a segment is lost (it then arrives one retransmission timeout late). */
  readonly lossRate?: number;
  /** Probability, per segment, that the connection is reset instead of delivering it. */
  readonly resetProbability?: number;
}

export interface MemoryNetworkOptions extends LinkOptions {
  readonly scheduler: Scheduler;
  /** Seed of the random source behind loss and resets (default 1). */
  readonly seed?: number;
  /** Per connection, as for TCP (default 1 MiB). */
  readonly highWaterMarkBytes?: number;
  /** A connection whose queue passes this is destroyed with `NET_SEND_QUEUE_FULL` (default 8 × HWM). */
  readonly maxQueuedBytes?: number;
}

export interface MemoryTransportOptions {
  /** Port to listen on; 0 or absent picks the next free one from 6881. */
  readonly port?: number;
}

/** Counters for assertions and benchmark reports. */
export interface HostStats {
  /** Bytes that left the host (through its uplink). */
  readonly uploadedBytes: number;
  readonly downloadedBytes: number;
  readonly openConnections: number;
}

export interface NetworkStats {
  readonly connectionsOpened: number;
  readonly dialsFailed: number;
  readonly deliveries: number;
  readonly deliveredBytes: number;
  readonly lostSegments: number;
  readonly resets: number;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** TCP's minimum retransmission timeout (RFC 6298 suggests 1 s; Linux uses 200 ms). */
const MIN_RTO_MS = 200;
const FIRST_LISTEN_PORT = 6881;
const FIRST_EPHEMERAL_PORT = 49152;

/** See the module comment. */
export class MemoryNetwork {
  readonly scheduler: Scheduler;
  readonly highWaterMarkBytes: number;
  readonly maxQueuedBytes: number;
  private readonly random: () => number;
  private readonly hosts = new Map<string, HostState>();
  private readonly links = new Map<string, Required<LinkOptions>>();
  private readonly unreachable = new Set<string>();
  /** Bytes delivered per direction (`from>to`). */
  private readonly delivered = new Map<string, number>();
  /** Flows with segments waiting for a partition to heal. */
  private readonly heldFlows = new Set<Flow>();
  private readonly defaultLink: Required<LinkOptions>;
  private readonly counters = {
    connectionsOpened: 0,
    dialsFailed: 0,
    deliveries: 0,
    deliveredBytes: 0,
    lostSegments: 0,
    resets: 0,
  };

  constructor(options: MemoryNetworkOptions) {
    this.scheduler = options.scheduler;
    this.random = seededRandom(options.seed ?? 1).next;
    this.highWaterMarkBytes = options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 8 * this.highWaterMarkBytes;
    this.defaultLink = {
      latencyMs: options.latencyMs ?? 10,
      lossRate: options.lossRate ?? 0,
      resetProbability: options.resetProbability ?? 0,
    };
  }

  /** Add a host (or change its capacities); hosts are also created on first use. */
  addHost(ip: string, options: HostOptions = {}): void {
    const host = this.hostState(ip);
    host.uplink.rateBps = options.uploadBps ?? Number.POSITIVE_INFINITY;
    host.downlink.rateBps = options.downloadBps ?? Number.POSITIVE_INFINITY;
  }

  /** A transport for `ip`: it listens on `options.port` and dials from an ephemeral port. */
  transport(ip: string, options: MemoryTransportOptions = {}): Transport {
    return new MemoryTransport(this, this.hostState(ip), options.port ?? 0);
  }

  /** Latency, loss and resets between `a` and `b` (both directions). */
  setLink(a: string, b: string, options: LinkOptions): void {
    this.links.set(pairKey(a, b), { ...this.link(a, b), ...options });
  }

  /** Partition (false) or heal (true) the path between `a` and `b`. */
  setReachable(a: string, b: string, isReachable: boolean): void {
    const key = pairKey(a, b);
    if (!isReachable) {
      this.unreachable.add(key);
      return;
    }
    if (!this.unreachable.delete(key)) return;
    for (const flow of [...this.heldFlows]) {
      if (pairKey(flow.from.host.ip, flow.to.host.ip) !== key) continue;
      this.heldFlows.delete(flow);
      const held = flow.held;
      flow.held = [];
      for (const s of held) this.propagate(flow, s);
    }
  }

  /** Reset every connection between `a` and `b` now (both ends see `NET_SOCKET_ERROR`). */
  reset(a: string, b: string): void {
    for (const c of [...(this.hosts.get(a)?.connections ?? [])]) {
      if (c.peer.host.ip === b && !c.isClosed) {
        this.counters.resets++;
        this.resetPair(c, 'reset by the network');
      }
    }
  }

  hostStats(ip: string): HostStats {
    const h = this.hosts.get(ip);
    return {
      uploadedBytes: h?.uploadedBytes ?? 0,
      downloadedBytes: h?.downloadedBytes ?? 0,
      openConnections: h?.connections.size ?? 0,
    };
  }

  stats(): NetworkStats {
    return { ...this.counters };
  }

  /** Bytes delivered from host `from` to host `to` so far, over all their connections. */
  bytesBetween(from: string, to: string): number {
    return this.delivered.get(`${from}>${to}`) ?? 0;
  }

  // ---- internals (used by connections and transports of this module) ----------------------

  link(a: string, b: string): Required<LinkOptions> {
    return this.links.get(pairKey(a, b)) ?? this.defaultLink;
  }

  isReachable(a: string, b: string): boolean {
    return !this.unreachable.has(pairKey(a, b));
  }

  hostOf(ip: string): HostState | undefined {
    return this.hosts.get(ip);
  }

  hostState(ip: string): HostState {
    let host = this.hosts.get(ip);
    if (host) return host;
    const uplink = new RateServer<Flow>(
      this.scheduler,
      Number.POSITIVE_INFINITY,
      (f) => f.up,
      (f, s) => this.propagate(f, s),
    );
    const downlink = new RateServer<Flow>(
      this.scheduler,
      Number.POSITIVE_INFINITY,
      (f) => f.down,
      (f, s) => this.deliver(f, s),
    );
    host = {
      ip,
      uplink,
      downlink,
      listeners: new Map(),
      connections: new Set(),
      nextListenPort: FIRST_LISTEN_PORT,
      nextEphemeralPort: FIRST_EPHEMERAL_PORT,
      uploadedBytes: 0,
      downloadedBytes: 0,
    };
    this.hosts.set(ip, host);
    return host;
  }

  send(flow: Flow, chunks: readonly Uint8Array[], bytes: number): void {
    if (flow.isDead) return;
    const host = flow.from.host;
    if (Number.isFinite(host.uplink.rateBps)) {
      flow.up.push(chunks, bytes);
      host.uplink.activate(flow);
    } else {
      this.propagate(flow, { atMs: 0, chunks: [...chunks], bytes, end: null });
    }
  }

  endFlow(flow: Flow, end: 'fin' | Error): void {
    flow.up.clear(); // unsent bytes die with the socket
    const host = flow.from.host;
    if (Number.isFinite(host.uplink.rateBps)) {
      flow.up.pushEnd(end);
      host.uplink.activate(flow);
    } else {
      this.propagate(flow, { atMs: 0, chunks: [], bytes: 0, end });
    }
  }

  /** A segment left the sender's host: put it on the link. */
  private propagate(flow: Flow, segment: Segment): void {
    if (flow.isDead && segment.end === null) return;
    const from = flow.from.host;
    const to = flow.to.host;
    from.uploadedBytes += segment.bytes;
    flow.from.bytesWritten += segment.bytes;
    if (!this.isReachable(from.ip, to.ip)) {
      from.uploadedBytes -= segment.bytes; // counted again when released
      flow.from.bytesWritten -= segment.bytes;
      flow.held.push(segment);
      this.heldFlows.add(flow);
      return;
    }
    const link = this.link(from.ip, to.ip);
    let at = this.scheduler.now() + link.latencyMs;
    let out = segment;
    if (segment.end === null && segment.bytes > 0) {
      if (link.resetProbability > 0 && this.random() < link.resetProbability) {
        out = { atMs: 0, chunks: [], bytes: 0, end: resetError('reset (simulated)') };
        this.counters.resets++;
      } else if (link.lossRate > 0 && this.random() < link.lossRate) {
        at += Math.max(MIN_RTO_MS, 4 * link.latencyMs);
        this.counters.lostSegments++;
      }
    }
    at = Math.max(at, flow.lastArrivalMs);
    flow.lastArrivalMs = at;
    const tail = flow.arrivals[flow.arrivals.length - 1];
    if (
      tail !== undefined &&
      flow.arrivals.length > flow.arrivalsHead &&
      tail.atMs === at &&
      tail.end === null &&
      out.end === null
    ) {
      for (const c of out.chunks) tail.chunks.push(c);
      tail.bytes += out.bytes;
    } else {
      flow.arrivals.push({ ...out, atMs: at });
    }
    this.armArrivals(flow);
  }

  private armArrivals(flow: Flow): void {
    if (flow.arrivalTimer !== null) return;
    const head = flow.arrivals[flow.arrivalsHead];
    if (head === undefined) return;
    flow.arrivalTimer = this.scheduler.setTimer(head.atMs - this.scheduler.now(), () => {
      flow.arrivalTimer = null;
      this.onArrivals(flow);
    });
  }

  private onArrivals(flow: Flow): void {
    const now = this.scheduler.now();
    const downlink = flow.to.host.downlink;
    while (flow.arrivalsHead < flow.arrivals.length) {
      const s = flow.arrivals[flow.arrivalsHead]!;
      if (s.atMs > now) break;
      flow.arrivalsHead++;
      if (Number.isFinite(downlink.rateBps) && !(s.end instanceof Error)) {
        if (s.bytes > 0) flow.down.push(s.chunks, s.bytes);
        if (s.end !== null) flow.down.pushEnd(s.end);
        downlink.activate(flow);
      } else {
        this.deliver(flow, s);
      }
    }
    if (flow.arrivalsHead === flow.arrivals.length) {
      flow.arrivals.length = 0;
      flow.arrivalsHead = 0;
    }
    this.armArrivals(flow);
  }

  /** A segment reached the receiving application. */
  private deliver(flow: Flow, segment: Segment): void {
    const { from, to } = flow;
    if (segment.end instanceof Error) {
      this.resetPair(to, segment.end.message);
      return;
    }
    if (to.hasFinished || flow.isDead) return;
    if (!to.isAccepted) {
      to.early.push(segment);
      return;
    }
    if (segment.bytes > 0) {
      from.queuedBytes -= segment.bytes;
      to.bytesRead += segment.bytes;
      to.host.downloadedBytes += segment.bytes;
      this.counters.deliveries++;
      this.counters.deliveredBytes += segment.bytes;
      const direction = `${from.host.ip}>${to.host.ip}`;
      this.delivered.set(direction, (this.delivered.get(direction) ?? 0) + segment.bytes);
      if (from.wasBlocked && from.isWritable) {
        from.wasBlocked = false;
        from.drainCb();
      }
      for (const chunk of joinSmallRuns(segment.chunks)) {
        if (to.isClosed) break;
        to.dataCb(chunk);
      }
    }
    if (segment.end === 'fin') {
      to.isClosed = true;
      flow.isDead = true;
      to.out.isDead = true;
      this.finish(to, null);
    }
  }

  /** Both ends of the connection of `c` close with a reset error. */
  private resetPair(c: MemoryConnection, why: string): void {
    for (const end of [c, c.peer]) {
      end.isClosed = true;
      end.out.isDead = true;
      end.out.up.clear();
      end.out.down.clear();
      this.finishLater(end, resetError(why));
    }
  }

  /** Accept the server end of a new connection (dial completed). */
  accept(server: MemoryConnection, onConnection: (connection: Connection) => void): void {
    server.isAccepted = true;
    onConnection(server);
    const early = server.early;
    server.early = [];
    for (const s of early) this.deliver(server.peer.out, s);
  }

  /** Make the two ends of a connection (registered with their hosts). */
  pair(client: HostState, clientPort: number, server: HostState, serverPort: number) {
    const c = new MemoryConnection(this, client, server.ip, serverPort, clientPort);
    const s = new MemoryConnection(this, server, client.ip, clientPort, serverPort);
    c.peer = s;
    s.peer = c;
    c.out = new Flow(c, s);
    s.out = new Flow(s, c);
    s.isAccepted = false;
    client.connections.add(c);
    server.connections.add(s);
    this.counters.connectionsOpened++;
    return { client: c, server: s };
  }

  finishLater(c: MemoryConnection, error: Error | null): void {
    this.scheduler.setTimer(0, () => this.finish(c, error));
  }

  private finish(c: MemoryConnection, error: Error | null): void {
    if (c.hasFinished) return;
    c.hasFinished = true;
    c.isClosed = true;
    c.host.connections.delete(c);
    c.closeCb(error);
  }

  dialFailed(): void {
    this.counters.dialsFailed++;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
