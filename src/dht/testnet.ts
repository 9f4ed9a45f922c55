/**
 * A whole DHT in one process, for tests (ours and library users'), like hyperdht's testnet:
 * N pure `DhtNode`s on one `VirtualScheduler`, datagrams delivered in memory after a random
 * latency, some lost. Deterministic from a seed; 500 nodes bootstrap in a second or two of
 * real time. Hostile nodes (garbage, liars, flooders) can be mixed in.
 */
import { encode } from '../bencode/index.js';
import { VirtualScheduler } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import { seededRandom } from '../util/random.js';
import { decodeKrpc, encodeKrpc, type KrpcMessage } from './krpc.js';
import { DhtNode, type DhtNodeOptions } from './node.js';
import { compliantId, isExemptAddress } from './node-id.js';
import { bucketCapacity } from './routing-table.js';

export interface TestnetOptions {
  /** Honest nodes to create and bootstrap (default 0: add them yourself). */
  readonly size?: number;
  readonly seed?: number;
  /** One-way latency, uniform in [min, max] ms (default 10..80). */
  readonly latencyMs?: readonly [number, number];
  /** Probability that a datagram is lost (default 0). */
  readonly loss?: number;
  /** Extra options for every node. */
  readonly nodeOptions?: Partial<DhtNodeOptions>;
  /** Virtual ms between two nodes joining (default 20). */
  readonly joinIntervalMs?: number;
  /** Address family of the nodes (default 4); 6 exercises BEP 32's nodes6 and 18-byte values. */
  readonly family?: 4 | 6;
  /**
   * How `create` builds the tables. `wire` (default): each node joins in turn over the network
   * (a find_node for its own id, then refreshes), which costs some 400 datagrams per node.
   * `converged`: every table is filled from a global view of the ids, as a long-running
   * network's tables are (each bucket full of nodes from its part of the id space, plus a few
   * replacements), the table's own rules (capacity, subnets, BEP 42) deciding what stays. No
   * datagram is sent, so 10,000 nodes are ready in seconds instead of an hour of wall time.
   */
  readonly join?: 'wire' | 'converged';
}

/** Nodes offered per bucket beyond its capacity in a converged fill (they become replacements). */
const CONVERGED_SPARES = 4;

export type HostileKind = 'garbage' | 'liar';

export interface TestnetNode {
  readonly node: DhtNode;
  readonly address: PeerAddress;
}

type Handler = (bytes: Uint8Array, from: PeerAddress) => void;

export class Testnet {
  readonly scheduler = new VirtualScheduler();
  readonly nodes: TestnetNode[] = [];
  private readonly handlers = new Map<string, Handler>();
  private readonly rng: ReturnType<typeof seededRandom>;
  private readonly usedHosts = new Set<string>();
  /** Datagrams sent, delivered and lost, for figures. */
  readonly traffic = { sent: 0, delivered: 0, lost: 0, bytes: 0 };

  constructor(private readonly options: TestnetOptions = {}) {
    this.rng = seededRandom(options.seed ?? 1);
  }

  /** A testnet with `size` honest nodes, bootstrapped through the first one and settled. */
  static async create(options: TestnetOptions = {}): Promise<Testnet> {
    const net = new Testnet(options);
    const size = options.size ?? 0;
    if (options.join === 'converged') {
      const pending = Array.from({ length: size }, () => net.addNode({ isStarted: false }));
      net.fillConverged();
      for (const n of pending) n.node.start({ join: false });
      return net;
    }
    const interval = options.joinIntervalMs ?? 20;
    for (let i = 0; i < size; i++) {
      net.addNode();
      net.run(interval);
    }
    net.run(30_000);
    return net;
  }

  /** The first node's address, the bootstrap node of every node added later. */
  get bootstrapAddress(): PeerAddress | undefined {
    return this.nodes[0]?.address;
  }

  /** A fresh public-looking address (never a BEP 42 exempt range), unique in this net. */
  newAddress(): PeerAddress {
    if (this.options.family === 6) {
      const h = () => (1 + this.rng.int(0xfffe)).toString(16);
      // Distinct /64s, so the per-subnet limit does not bind.
      const host = `2a0${1 + this.rng.int(8)}:${h()}:${h()}:${h()}::${h()}`;
      if (this.usedHosts.has(host)) return this.newAddress();
      this.usedHosts.add(host);
      return { host, port: 6881 };
    }
    for (;;) {
      const host = `${1 + this.rng.int(222)}.${this.rng.int(256)}.${this.rng.int(256)}.${1 + this.rng.int(254)}`;
      if (isExemptAddress(host) || this.usedHosts.has(host)) continue;
      this.usedHosts.add(host);
      return { host, port: 6881 };
    }
  }

  /** Add and start an honest node (bootstrapped from the first node unless told otherwise). */
  addNode(
    extra: Partial<DhtNodeOptions> & { address?: PeerAddress; randomId?: boolean; isStarted?: boolean } = {},
  ): TestnetNode {
    const { isStarted = true, ...rest } = extra;
    const address = extra.address ?? this.newAddress();
    const bootstrap = extra.bootstrap ?? (this.bootstrapAddress ? [this.bootstrapAddress] : []);
    const node = new DhtNode({
      scheduler: this.scheduler,
      send: (bytes, to) => this.send(address, bytes, to),
      randomBytes: (n) => this.rng.bytes(n),
      id:
        extra.id ??
        (extra.savedState || extra.randomId
          ? undefined
          : compliantId(address.host, (n) => this.rng.bytes(n))),
      ...this.options.nodeOptions,
      ...rest,
      bootstrap,
    } as DhtNodeOptions);
    this.handlers.set(key(address), (bytes, from) => node.handleMessage(bytes, from));
    if (isStarted) node.start();
    const entry = { node, address };
    this.nodes.push(entry);
    return entry;
  }

  /** Stop a node and take it off the network. */
  removeNode(entry: TestnetNode): void {
    entry.node.stop();
    this.handlers.delete(key(entry.address));
    const i = this.nodes.indexOf(entry);
    if (i >= 0) this.nodes.splice(i, 1);
  }

  /**
   * A hostile node that joins like an honest one (it answers pings and find_node so it gets
   * into tables), then: `garbage` answers other queries with bytes that are not KRPC; `liar`
   * answers get_peers with invented peers and invented nodes.
   */
  addHostile(kind: HostileKind): PeerAddress {
    const address = this.newAddress();
    const id = compliantId(address.host, (n) => this.rng.bytes(n));
    const honest = this.addNode({ address, id });
    this.handlers.set(key(address), (bytes, from) => {
      let m: KrpcMessage | null = null;
      try {
        m = decodeKrpc(bytes);
      } catch {
        return;
      }
      if (m.y !== 'q' || m.query.method === 'ping') {
        honest.node.handleMessage(bytes, from);
        return;
      }
      if (kind === 'garbage') {
        this.send(
          address,
          this.rng.bytes(40).map((b, i) => (i === 0 ? 0x64 : b)),
          from,
        );
        return;
      }
      const fakeNodes = Array.from({ length: 8 }, () => ({ id: this.rng.bytes(20), ...this.newAddress() }));
      const values = Array.from({ length: 20 }, () => ({
        host: `6.6.${this.rng.int(256)}.${1 + this.rng.int(254)}`,
        port: 666,
      }));
      const response =
        m.query.method === 'get_peers'
          ? { id, token: this.rng.bytes(8), values, nodes: fakeNodes }
          : { id, nodes: fakeNodes };
      this.send(address, encodeKrpc({ t: m.t, y: 'r', response }), from);
    });
    return address;
  }

  /** Send `count` queries from one address to `to`, spread over `spanMs`. */
  flood(to: PeerAddress, count: number, spanMs: number): PeerAddress {
    const from = this.newAddress();
    const id = this.rng.bytes(20);
    for (let i = 0; i < count; i++) {
      const bytes = encode({
        t: new Uint8Array([i >> 8, i & 255]),
        y: 'q',
        q: 'find_node',
        a: { id, target: this.rng.bytes(20) },
      });
      this.scheduler.setTimer((i * spanMs) / count, () => this.send(from, bytes, to));
    }
    return from;
  }

  /** Advance virtual time. */
  run(ms: number): void {
    this.scheduler.advance(ms);
  }

  /** Drive virtual time until `promise` settles (or `maxMs` of virtual time passed). */
  async settle<T>(promise: Promise<T>, maxMs = 120_000): Promise<T> {
    let isSettled = false;
    promise.then(
      () => {
        isSettled = true;
      },
      () => {
        isSettled = true;
      },
    );
    const deadline = this.scheduler.now() + maxMs;
    while (!isSettled && this.scheduler.now() < deadline) {
      const next = this.scheduler.nextDueMs();
      if (next === null || next > deadline) break;
      this.scheduler.step();
      await Promise.resolve();
      await Promise.resolve();
    }
    return promise;
  }

  /**
   * Fill every node's table as a converged network's would be: for each prefix length, the
   * ids that share exactly that many leading bits with the node's own are one span of the
   * sorted ids; a random sample of them (the bucket's capacity plus a few spares) is offered to
   * the table as nodes that answered, down to the level where the node is alone.
   */
  private fillConverged(): void {
    const extended = this.options.nodeOptions?.extendedTable ?? true;
    const sorted = this.nodes
      .map((n) => ({ entry: n, id: bigId(n.node.id) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const ids = sorted.map((s) => s.id);
    const firstAtLeast = (x: bigint): number => {
      let lo = 0;
      let hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ids[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (const me of sorted) {
      for (let level = 0; level < 160; level++) {
        const shift = BigInt(159 - level);
        const span = 1n << shift;
        const other = ((me.id >> shift) ^ 1n) << shift; // first id sharing exactly `level` bits
        const from = firstAtLeast(other);
        const to = firstAtLeast(other + span);
        const want = bucketCapacity(level, extended) + CONVERGED_SPARES;
        for (const i of this.sample(from, to, want)) {
          const { entry } = sorted[i]!;
          me.entry.node.insertAnswered({ id: entry.node.id, ...entry.address });
        }
        const own = (me.id >> shift) << shift;
        if (firstAtLeast(own + span) - firstAtLeast(own) <= 1) break; // nobody shares more bits
      }
    }
  }

  /** Up to `count` distinct indices in [from, to), chosen at random. */
  private sample(from: number, to: number, count: number): number[] {
    const n = to - from;
    if (n <= count) return Array.from({ length: n }, (_, i) => from + i);
    const picked = new Set<number>();
    while (picked.size < count) picked.add(from + this.rng.int(n));
    return [...picked];
  }

  /** Stop every node. */
  close(): void {
    for (const n of [...this.nodes]) this.removeNode(n);
  }

  private send(from: PeerAddress, bytes: Uint8Array, to: PeerAddress): void {
    this.traffic.sent++;
    this.traffic.bytes += bytes.length;
    if (this.rng.next() < (this.options.loss ?? 0)) {
      this.traffic.lost++;
      return;
    }
    const [min, max] = this.options.latencyMs ?? [10, 80];
    // Senders hand over freshly encoded bytes and never reuse them, so no copy is needed.
    const copy = bytes;
    this.scheduler.setTimer(min + this.rng.next() * (max - min), () => {
      const handler = this.handlers.get(key(to));
      if (!handler) return;
      this.traffic.delivered++;
      handler(copy, from);
    });
  }
}

function bigId(id: Uint8Array): bigint {
  let hex = '';
  for (const b of id) hex += b.toString(16).padStart(2, '0');
  return BigInt(`0x${hex}`);
}

function key(a: PeerAddress): string {
  return `${a.host}|${a.port}`;
}
