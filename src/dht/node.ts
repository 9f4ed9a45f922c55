/**
 * A Mainline DHT node (BEP 5) with no I/O: datagrams come in through `handleMessage(bytes,
 * from)`, go out through the injected `send`, and time is the injected `Scheduler`. The same
 * node runs on a real UDP port (`udp-adapter.ts`) or by the hundred in one process
 * (`testnet.ts`).
 *
 * Defences, each where the input arrives:
 * - the codec (`krpc.ts`) validates and size-caps every field; a datagram that fails counts
 *   against its sender, and repeated garbage bans the address for a while;
 * - per-IP token buckets on incoming queries; a flooder is also dropped from the table;
 * - no amplification: an answer to an address that has never answered one of our queries is
 *   at most `AMPLIFICATION_FACTOR` times the size of its query (values, then nodes, trimmed);
 * - a node that answers with another id, with a reply missing what the query needs, or with
 *   an item that fails its hash or signature, is dropped from the table.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { CancelTimer, Scheduler } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import { iterate } from './async-queue.js';
import { AddressRecords, ExternalAddressVotes, QueryRateLimiter } from './guards.js';
import { getItem, type OpsHost, putImmutable, putMutable, writeTo } from './item-ops.js';
import { type DhtItem, type ItemKeyPair, ItemStore } from './items.js';
import {
  decodeKrpc,
  encodeKrpc,
  KrpcError,
  KrpcErrorCode,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  type NodeContact,
} from './krpc.js';
import { Lookup, type LookupStats, type Responder } from './lookup.js';
import { commonPrefixBits, compliantId, isCompliantId, randomIdWithPrefix } from './node-id.js';
import {
  DEFAULT_PEER_STORE_LIMITS,
  PeerStore,
  type PeerStoreLimits,
  TOKEN_ROTATE_MS,
  TokenSecrets,
} from './peer-store.js';
import { answerQuery, type ResponderState, trimAnswer } from './responder.js';
import { RoutingTable } from './routing-table.js';
import { Rpc, type RpcOutcome } from './rpc.js';
import { decodeState, encodeState } from './state.js';

/** An answer to an unverified address is at most this many times its query's size. */
export const AMPLIFICATION_FACTOR = 4;
const UPKEEP_MS = 5000;
const REFRESH_IDLE_MS = 15 * 60_000;
const STORE_EXPIRE_MS = 60_000;
const PERSIST_MS = 5 * 60_000;
const REBOOTSTRAP_MS = 60_000;
/** An empty table (the join failed) retries sooner. */
const EMPTY_REBOOTSTRAP_MS = 10_000;
const MAX_CONTACT_PINGS = 8;
const MAX_PING_QUEUE = 64;
/**
 * After the join, every prefix length short of our neighbourhood with fewer than this many known
 * nodes is refreshed (at most JOIN_REFRESH_MAX of them, the farthest first).
 */
const JOIN_REFRESH_MIN_NODES = 6;
const JOIN_REFRESH_MAX = 12;

export interface DhtNodeOptions {
  readonly scheduler: Scheduler;
  /** Fire-and-forget datagram send; `to.host` is an IP literal. */
  readonly send: (bytes: Uint8Array, to: PeerAddress) => void;
  /** Our id; default: from the saved state, else random (replaced by a BEP 42 one once voted). */
  readonly id?: Uint8Array;
  /** Default node:crypto; simulations pass a seeded source. */
  readonly randomBytes?: (n: number) => Uint8Array;
  /** IP literals of nodes to start from when the table is empty. */
  readonly bootstrap?: readonly PeerAddress[];
  /** BEP 32: the families we have a socket for (default both). */
  readonly families?: readonly (4 | 6)[];
  /** BEP 43: query only, answer nothing, stay out of others' tables. */
  readonly readOnly?: boolean;
  /** One routing entry per IP, few per subnet (default true; off for loopback networks). */
  readonly restrictIps?: boolean;
  /** A saved routing table (`saveState()`), so a restart needs no bootstrap node. */
  readonly savedState?: Uint8Array;
  /** Called with `saveState()` every 5 minutes and on `stop()`. */
  readonly persist?: (state: Uint8Array) => void;
  /** Take a BEP 42 id once responses agree on our external address (default true). */
  readonly adoptCompliantId?: boolean;
  /** Top-level `v` of our messages. */
  readonly version?: Uint8Array;
  readonly alpha?: number;
  readonly softTimeoutMs?: number;
  /** libtorrent's larger first buckets (default true; off for a plain Kademlia baseline). */
  readonly extendedTable?: boolean;
  readonly hardTimeoutMs?: number;
  /** Incoming queries per second per IP, and the burst (default 20 and 40). */
  readonly queriesPerSecondPerIp?: number;
  readonly queryBurstPerIp?: number;
  readonly peerStore?: PeerStoreLimits;
  readonly maxItems?: number;
  /** Told when our id changes (BEP 42). */
  readonly onIdChange?: (id: Uint8Array) => void;
}

export interface DhtStats {
  readonly nodes4: number;
  readonly nodes6: number;
  readonly queriesReceived: number;
  readonly queriesAnswered: number;
  readonly queriesRateLimited: number;
  readonly answersTrimmed: number;
  readonly garbage: number;
  readonly liarsDropped: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly rpc: Readonly<Rpc['stats']>;
  readonly torrents: number;
  readonly items: number;
  readonly lookups: number;
}

export interface LookupOptions {
  readonly signal?: AbortSignal;
}

interface Counters {
  queriesReceived: number;
  queriesAnswered: number;
  queriesRateLimited: number;
  answersTrimmed: number;
  garbage: number;
  liarsDropped: number;
  bytesIn: number;
  bytesOut: number;
  lookups: number;
}

type Family = 4 | 6;

function familyOf(host: string): Family {
  return host.includes(':') ? 6 : 4;
}

function addressKey(a: PeerAddress): string {
  return `${a.host}|${a.port}`;
}

export class DhtNode {
  private ownId: Uint8Array;
  private readonly tables = new Map<Family, RoutingTable>();
  private readonly rpc: Rpc;
  private readonly tokens: TokenSecrets;
  private readonly peerStore: PeerStore;
  private readonly itemStore: ItemStore;
  private readonly limiter: QueryRateLimiter;
  private readonly votes = new ExternalAddressVotes();
  private readonly randomBytes: (n: number) => Uint8Array;
  private readonly records: AddressRecords;
  private readonly savedContacts: NodeContact[];
  private readonly counters: Counters = {
    queriesReceived: 0,
    queriesAnswered: 0,
    queriesRateLimited: 0,
    answersTrimmed: 0,
    garbage: 0,
    liarsDropped: 0,
    bytesIn: 0,
    bytesOut: 0,
    lookups: 0,
  };
  private readonly timers: CancelTimer[] = [];
  private contactPings = 0;
  private readonly pingQueue: PeerAddress[] = [];
  private readonly queued = new Set<string>();
  private lastBootstrapMs = Number.NEGATIVE_INFINITY;
  private isBootstrapping = false;
  private isRefreshing = false;
  private readonly refreshQueue: { family: Family; index: number }[] = [];
  private isStopped = false;
  private readonly host: OpsHost = {
    lookup: (target, query, onResponse, onDone) => this.lookup(target, query, onResponse, onDone),
    ask: (to, query, onDone) =>
      this.rpc.query(to, query, (o) => {
        this.onRpcOutcome(to, o);
        onDone(o);
      }),
    dropLiar: (to) => this.dropLiar(to),
  };
  private readonly readyWaiters: (() => void)[] = [];
  private isReady = false;

  constructor(private readonly options: DhtNodeOptions) {
    this.randomBytes = options.randomBytes ?? ((n) => new Uint8Array(cryptoRandomBytes(n)));
    const saved = options.savedState ? decodeState(options.savedState) : null;
    this.ownId = (options.id ?? saved?.id ?? this.randomBytes(20)).slice();
    this.savedContacts = saved?.nodes ?? [];
    for (const family of options.families ?? [4, 6]) this.tables.set(family, this.newTable(this.ownId));
    const first = this.randomBytes(2);
    this.rpc = new Rpc({
      scheduler: options.scheduler,
      send: (bytes, to) => this.sendBytes(bytes, to),
      ownId: () => this.ownId,
      isReadOnly: options.readOnly ?? false,
      ...(options.version ? { version: options.version } : {}),
      ...(options.hardTimeoutMs === undefined ? {} : { hardTimeoutMs: options.hardTimeoutMs }),
      firstTransaction: (first[0]! << 8) | first[1]!,
    });
    this.tokens = new TokenSecrets(this.randomBytes);
    this.records = new AddressRecords(options.scheduler, options.restrictIps ?? true);
    this.peerStore = new PeerStore(options.scheduler, options.peerStore ?? DEFAULT_PEER_STORE_LIMITS);
    this.itemStore = new ItemStore(options.scheduler, options.maxItems ?? 1000);
    const perIpKey = (options.restrictIps ?? true) ? 'ip' : 'address';
    this.limiter = new QueryRateLimiter(
      options.scheduler,
      options.queriesPerSecondPerIp ?? 20,
      options.queryBurstPerIp ?? 40,
      perIpKey,
    );
  }

  get id(): Uint8Array {
    return this.ownId;
  }

  /**
   * Start upkeep and bootstrap (from the saved table, then the bootstrap nodes). `join: false`
   * skips the join lookups: for a table filled beforehand with `insertAnswered` (simulations).
   */
  start(options: { join?: boolean } = {}): void {
    const scheduler = this.options.scheduler;
    let lastRotate = scheduler.now();
    let lastExpire = scheduler.now();
    let lastPersist = scheduler.now();
    this.timers.push(
      scheduler.setInterval(UPKEEP_MS, () => {
        const now = scheduler.now();
        if (now - lastRotate >= TOKEN_ROTATE_MS) {
          this.tokens.rotate();
          lastRotate = now;
        }
        if (now - lastExpire >= STORE_EXPIRE_MS) {
          this.peerStore.expire();
          this.itemStore.expire();
          lastExpire = now;
        }
        if (this.options.persist && now - lastPersist >= PERSIST_MS) {
          this.options.persist(this.saveState());
          lastPersist = now;
        }
        this.upkeep();
      }),
    );
    // The saved table's nodes answered us before: ping them all so they come back in one
    // round trip, without the bootstrap nodes.
    for (const c of this.savedContacts) {
      if (!this.tables.has(familyOf(c.host))) continue;
      const to = { host: c.host, port: c.port };
      if (!this.rpc.query(to, { method: 'ping' }, (o) => this.onRpcOutcome(to, o))) break;
    }
    if (options.join ?? true) {
      this.bootstrap();
      return;
    }
    this.lastBootstrapMs = scheduler.now();
    this.isReady = true;
  }

  /** Stop timers and pending queries; the table is persisted one last time. */
  stop(): void {
    if (this.isStopped) return;
    this.isStopped = true;
    for (const cancel of this.timers) cancel();
    this.rpc.close();
    this.options.persist?.(this.saveState());
  }

  /** Resolves once the first bootstrap lookup has finished. */
  ready(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Routing table entries per family. */
  tableSize(family?: Family): number {
    if (family) return this.tables.get(family)?.size ?? 0;
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }

  /** Our external address as the `ip` fields of responses report it (BEP 42), when they agree. */
  externalAddress(): string | null {
    return this.votes.winner();
  }

  stats(): DhtStats {
    return {
      ...this.counters,
      nodes4: this.tableSize(4),
      nodes6: this.tableSize(6),
      rpc: { ...this.rpc.stats },
      torrents: this.peerStore.torrentCount,
      items: this.itemStore.size,
    };
  }

  /** The routing table, bencoded, for `savedState` on the next start. */
  saveState(): Uint8Array {
    const nodes: NodeContact[] = [];
    for (const t of this.tables.values())
      for (const e of t.all()) nodes.push({ id: e.id, host: e.host, port: e.port });
    return encodeState(this.ownId, nodes);
  }

  /**
   * Insert a node as if it had just answered one of our queries (the table's rules apply).
   * For simulations that build converged tables without sending the joins' datagrams; the
   * table keeps `contact.id` itself, which the caller must never change.
   */
  insertAnswered(contact: NodeContact): void {
    this.tables.get(familyOf(contact.host))?.heardResponse(contact, true);
  }

  /** BEP 5 `port` message: a peer runs a DHT node here. Pinged; inserted if it answers. */
  addContact(address: PeerAddress): void {
    if (!this.tables.has(familyOf(address.host)) || this.isBanned(address)) return;
    this.rpc.query(address, { method: 'ping' }, (o) => this.onRpcOutcome(address, o));
  }

  // -------------------------------------------------------------------------------------------
  // Incoming datagrams

  handleMessage(bytes: Uint8Array, from: PeerAddress): void {
    if (this.isStopped || this.isBanned(from)) return;
    this.counters.bytesIn += bytes.length;
    let message: KrpcMessage;
    try {
      message = decodeKrpc(bytes);
    } catch (err) {
      this.onGarbage(err, from, bytes.length);
      return;
    }
    if (message.y === 'q') this.onQuery(message, bytes.length, from);
    else this.rpc.handleReply(message, from);
  }

  private onGarbage(err: unknown, from: PeerAddress, size: number): void {
    this.counters.garbage++;
    // BEP 5: a malformed query still gets a 203 when its transaction id could be read.
    if (err instanceof KrpcError && err.isQuery && err.transactionId && !this.options.readOnly) {
      this.reply(
        { t: err.transactionId, y: 'e', error: { code: KrpcErrorCode.Protocol, message: 'Protocol Error' } },
        from,
        size,
      );
    }
    if (this.rpc.pendingTo(from).length > 0) {
      this.dropLiar(from);
      this.rpc.failPendingTo(from);
    }
    if (this.records.strike(from)) this.dropLiar(from);
  }

  private onQuery(message: Extract<KrpcMessage, { y: 'q' }>, size: number, from: PeerAddress): void {
    this.counters.queriesReceived++;
    // BEP 43: a read-only node answers nothing.
    if (this.options.readOnly) return;
    const family = familyOf(from.host);
    const table = this.tables.get(family);
    if (!table) return;
    if (!this.limiter.allow(from)) {
      this.counters.queriesRateLimited++;
      if (table.remove(from)) this.counters.liarsDropped++;
      return;
    }
    const answer = answerQuery(this.responderState(), message.query, from);
    const out: KrpcMessage =
      answer.kind === 'response'
        ? { t: message.t, y: 'r', ip: from, response: answer.response }
        : { t: message.t, y: 'e', ip: from, error: { code: answer.code, message: answer.message } };
    this.counters.queriesAnswered++;
    this.reply(out, from, size);
    if (message.readOnly) return; // BEP 43: never in our table
    table.heardQuery(from.host, from.port, message.id);
    this.heardAbout({ id: message.id, host: from.host, port: from.port });
  }

  /**
   * A node we heard of (it queried us, or a lookup's answer named it) that the table would
   * take: ping it, and it is inserted if it answers. Bounded: a short queue, a few pings in
   * flight, so a flood of names costs little.
   */
  private heardAbout(contact: NodeContact): void {
    const table = this.tables.get(familyOf(contact.host));
    if (!table || this.pingQueue.length >= MAX_PING_QUEUE || this.isBanned(contact)) return;
    const key = addressKey(contact);
    if (this.queued.has(key) || !table.wouldAccept(contact)) return;
    this.queued.add(key);
    this.pingQueue.push({ host: contact.host, port: contact.port });
    this.drainPings();
  }

  private drainPings(): void {
    while (this.contactPings < MAX_CONTACT_PINGS && this.pingQueue.length > 0) {
      const to = this.pingQueue.shift()!;
      const sent = this.rpc.query(to, { method: 'ping' }, (o) => {
        this.contactPings--;
        this.queued.delete(addressKey(to));
        this.onRpcOutcome(to, o);
        this.drainPings();
      });
      if (!sent) {
        this.queued.delete(addressKey(to));
        return;
      }
      this.contactPings++;
    }
  }

  private responderState(): ResponderState {
    return {
      ownId: this.ownId,
      tables: this.tables,
      tokens: this.tokens,
      peers: this.peerStore,
      items: this.itemStore,
      pick: () => this.randomBytes(1)[0]! / 256,
    };
  }

  /** Send an answer; to an unverified address, trimmed to `AMPLIFICATION_FACTOR` × the query. */
  private reply(message: KrpcMessage, to: PeerAddress, querySize: number): void {
    let bytes = encodeKrpc(message);
    if (!this.isVerified(to)) {
      const budget = querySize * AMPLIFICATION_FACTOR;
      let m = message;
      while (bytes.length > budget) {
        const smaller = m.y === 'r' ? trimAnswer(m.response) : null;
        if (!smaller) return;
        this.counters.answersTrimmed++;
        m = { ...(m as Extract<KrpcMessage, { y: 'r' }>), response: smaller };
        bytes = encodeKrpc(m);
      }
    }
    this.sendBytes(bytes, to);
  }

  private sendBytes(bytes: Uint8Array, to: PeerAddress): void {
    this.counters.bytesOut += bytes.length;
    this.options.send(bytes, to);
  }

  private isVerified(a: PeerAddress): boolean {
    return (
      this.records.isVerified(a) || this.tables.get(familyOf(a.host))?.find(a.host, a.port) !== undefined
    );
  }

  // -------------------------------------------------------------------------------------------
  // Outcomes of our own queries

  private onRpcOutcome(to: PeerAddress, outcome: RpcOutcome): void {
    const table = this.tables.get(familyOf(to.host));
    if (!table) return;
    if (outcome.kind === 'timeout') {
      table.failed(to.host, to.port);
      return;
    }
    if (outcome.kind === 'error') return;
    this.records.markVerified(to);
    const before = table.size;
    const result = table.heardResponse({ id: outcome.response.id, host: to.host, port: to.port });
    if (result === 'refused' && table.size < before) this.counters.liarsDropped++;
    if (outcome.ip) this.onVote(to, outcome.ip);
  }

  private onVote(voter: PeerAddress, ip: PeerAddress): void {
    this.votes.add(voter.host, ip.host);
    const winner = this.votes.winner();
    if (!winner || !(this.options.adoptCompliantId ?? true) || this.options.id) return;
    if (familyOf(winner) !== 4 && this.tables.has(4)) return; // the IPv4 address decides when we have one
    if (isCompliantId(this.ownId, winner)) return;
    this.changeId(compliantId(winner, this.randomBytes));
  }

  /** BEP 42: a new id means new distances; the table is rebuilt around it. */
  private changeId(id: Uint8Array): void {
    this.ownId = id;
    for (const [family, old] of this.tables) {
      const table = this.newTable(id);
      for (const e of old.all()) table.heardResponse(e);
      this.tables.set(family, table);
    }
    this.options.onIdChange?.(id);
  }

  private newTable(id: Uint8Array): RoutingTable {
    return new RoutingTable({
      ownId: id,
      clock: this.options.scheduler,
      restrictIps: this.options.restrictIps ?? true,
      extended: this.options.extendedTable ?? true,
    });
  }

  private dropLiar(from: PeerAddress): void {
    if (this.tables.get(familyOf(from.host))?.remove(from)) this.counters.liarsDropped++;
  }

  private isBanned(a: PeerAddress): boolean {
    return this.records.isBanned(a);
  }

  // -------------------------------------------------------------------------------------------
  // Lookups

  /**
   * Run one lookup per family we have a table for; `onDone` gets the closest responders of
   * every family. Returns a function that aborts it.
   */
  lookup(
    target: Uint8Array,
    query: KrpcQuery,
    onResponse: (from: NodeContact, r: KrpcResponse) => boolean,
    onDone: (closest: Responder[], stats: LookupStats) => void,
    seeds: readonly PeerAddress[] = [],
  ): () => void {
    if (this.isStopped) {
      onDone([], { queries: 0, responses: 0, failures: 0, hops: 0 });
      return () => {};
    }
    this.counters.lookups++;
    const lookups: Lookup[] = [];
    const closest: Responder[] = [];
    const total: LookupStats = { queries: 0, responses: 0, failures: 0, hops: 0 };
    let remaining = 0;
    const families = [...this.tables.keys()];
    for (const family of families) {
      const table = this.tables.get(family)!;
      const saved = this.savedContacts.filter((c) => familyOf(c.host) === family);
      const start = table.closest(target, 16);
      const startNodes = start.length >= 8 ? start : [...start, ...saved];
      // With nothing to start from (the join's datagrams were lost, every node went away),
      // a lookup starts from the bootstrap nodes rather than ending empty.
      const allSeeds = startNodes.length > 0 || seeds.length > 0 ? seeds : (this.options.bootstrap ?? []);
      const familySeeds = allSeeds.filter((s) => familyOf(s.host) === family);
      if (startNodes.length === 0 && familySeeds.length === 0) continue;
      remaining++;
      const l = new Lookup({
        target,
        query,
        family,
        send: (to, q, done, soft) =>
          this.rpc.query(
            to,
            q,
            (o) => {
              this.onRpcOutcome(to, o);
              done(o);
            },
            soft,
          ),
        onResponse: (from, r) => {
          const isOk = onResponse(from, r);
          if (!isOk) {
            this.dropLiar(from);
            return false;
          }
          return true;
        },
        isUsable: (c) => !this.isBanned(c) && familyOf(c.host) === family,
        onDone: (found, stats) => {
          closest.push(...found);
          total.queries += stats.queries;
          total.responses += stats.responses;
          total.failures += stats.failures;
          total.hops = Math.max(total.hops, stats.hops);
          if (--remaining === 0) onDone(closest, total);
        },
        ...(this.options.alpha === undefined ? {} : { alpha: this.options.alpha }),
        ...(this.options.softTimeoutMs === undefined ? {} : { softTimeoutMs: this.options.softTimeoutMs }),
      });
      lookups.push(l);
      l.start(startNodes, familySeeds);
    }
    if (remaining === 0) onDone([], total);
    return () => {
      for (const l of lookups) l.abort();
    };
  }

  /** Iterative find_node: yields the closest nodes that answered, nearest first, at the end. */
  findNode(target: Uint8Array, options: LookupOptions = {}): AsyncGenerator<NodeContact> {
    return iterate<NodeContact>((push, end) => {
      return this.lookup(
        target,
        { method: 'find_node', target },
        (_from, r) => r.nodes !== undefined || r.nodes6 !== undefined,
        (closest) => {
          for (const c of closest) push(c.contact);
          end();
        },
      );
    }, options.signal);
  }

  /** Callback form of `getPeers` (the testnet and the session adapter use it directly). */
  lookupPeers(
    infoHash: Uint8Array,
    onPeers: (peers: readonly PeerAddress[]) => void,
    onDone: (closest: Responder[], stats: LookupStats) => void,
  ): () => void {
    const seen = new Set<string>();
    // Peers announced to us count too: we may be one of the nodes closest to the info-hash.
    const local = [4, 6].flatMap((f) => this.peerStore.peers(infoHash, f as Family, 100, () => 0.5));
    for (const p of local) seen.add(addressKey(p));
    if (local.length > 0) onPeers(local);
    return this.lookup(
      infoHash,
      { method: 'get_peers', infoHash },
      (_from, r) => {
        if (!r.token || (!r.values && !r.nodes && !r.nodes6)) return false;
        const fresh = (r.values ?? []).filter((p) => {
          const key = addressKey(p);
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        if (fresh.length > 0) onPeers(fresh);
        return true;
      },
      onDone,
    );
  }

  /** Iterative get_peers: yields each peer once, as nodes report it. */
  getPeers(infoHash: Uint8Array, options: LookupOptions = {}): AsyncGenerator<PeerAddress> {
    return iterate<PeerAddress>(
      (push, end) =>
        this.lookupPeers(
          infoHash,
          (peers) => {
            for (const p of peers) push(p);
          },
          () => end(),
        ),
      options.signal,
    );
  }

  /**
   * Announce that we have `infoHash` on `port` (BEP 5): a get_peers lookup for the tokens,
   * then announce_peer to the closest nodes. Resolves with how many accepted it.
   */
  announce(
    infoHash: Uint8Array,
    port: number,
    options: { impliedPort?: boolean; seed?: boolean } = {},
  ): Promise<number> {
    return new Promise((resolve) => {
      this.lookupPeers(
        infoHash,
        () => {},
        (closest) =>
          writeTo(
            this.host,
            closest,
            (token) => ({
              method: 'announce_peer',
              infoHash,
              port,
              token,
              impliedPort: options.impliedPort ?? false,
              ...(options.seed === undefined ? {} : { seed: options.seed }),
            }),
            resolve,
          ),
      );
    });
  }

  /** BEP 44 get: see `getItem` in item-ops.ts. Null when no node has a valid item. */
  getItem(target: Uint8Array, options: { salt?: Uint8Array } = {}): Promise<DhtItem | null> {
    return getItem(this.host, target, options);
  }

  /** Store an immutable item (its bencoded value) on the closest nodes. */
  putImmutable(v: Uint8Array): Promise<{ target: Uint8Array; stored: number }> {
    return putImmutable(this.host, v);
  }

  /** Sign and store a mutable item under SHA-1(k ‖ salt); `cas` makes it a compare-and-swap. */
  putMutable(put: {
    keyPair: ItemKeyPair;
    v: Uint8Array;
    seq: number;
    salt?: Uint8Array;
    cas?: number;
  }): Promise<{ target: Uint8Array; stored: number }> {
    return putMutable(this.host, put);
  }

  // -------------------------------------------------------------------------------------------
  // Upkeep

  private bootstrap(): void {
    if (this.isBootstrapping || this.isStopped) return;
    this.isBootstrapping = true;
    this.lastBootstrapMs = this.options.scheduler.now();
    this.lookup(
      this.ownId,
      { method: 'find_node', target: this.ownId },
      (_f, r) => r.nodes !== undefined || r.nodes6 !== undefined,
      () => {
        this.isBootstrapping = false;
        // Kademlia's join: after finding our neighbours, refresh every prefix length farther
        // away that we know few nodes at. A lookup for any target passes through each of them;
        // one we know nobody at is where lookups stop in a local minimum. Refreshing only the 3
        // farthest left 10% of announces and lookups in local minima at 1000 nodes; levels that
        // the own-id lookup already filled are skipped, which keeps the join's cost down.
        for (const [family, table] of this.tables) {
          const nearest = table.closest(this.ownId, 1)[0];
          const depth = nearest ? commonPrefixBits(this.ownId, nearest.id) : 0;
          const perLevel = new Array<number>(depth).fill(0);
          for (const e of table.all()) {
            const level = commonPrefixBits(this.ownId, e.id);
            if (level < depth) perLevel[level]!++;
          }
          for (let i = 0; i < depth && this.refreshQueue.length < JOIN_REFRESH_MAX; i++)
            if (perLevel[i]! < JOIN_REFRESH_MIN_NODES) this.refreshQueue.push({ family, index: i });
        }
        this.refreshOneBucket();
        if (!this.isReady) {
          this.isReady = true;
          for (const w of this.readyWaiters.splice(0)) w();
        }
      },
      this.options.bootstrap ?? [],
    );
  }

  private upkeep(): void {
    if (this.isStopped) return;
    for (const table of this.tables.values()) {
      for (const e of table.questionable(2)) {
        const to = { host: e.host, port: e.port };
        this.rpc.query(to, { method: 'ping' }, (o) => this.onRpcOutcome(to, o));
      }
    }
    const now = this.options.scheduler.now();
    const size = this.tableSize();
    const wait = size === 0 ? EMPTY_REBOOTSTRAP_MS : REBOOTSTRAP_MS;
    if (size < 8 && now - this.lastBootstrapMs >= wait) this.bootstrap();
    this.refreshOneBucket();
  }

  /**
   * BEP 5: a bucket untouched for 15 minutes is refreshed by a lookup of a random id in it;
   * one refresh at a time, the join's queue first.
   */
  private refreshOneBucket(): void {
    if (this.isRefreshing || this.isStopped) return;
    let next = this.refreshQueue.shift();
    if (!next) {
      for (const [family, table] of this.tables) {
        const index = table.staleBuckets(REFRESH_IDLE_MS)[0];
        if (index !== undefined) {
          next = { family, index };
          break;
        }
      }
    }
    if (!next) return;
    const table = this.tables.get(next.family);
    if (table && next.index < table.bucketCount) table.touchBucket(next.index);
    const target = randomIdWithPrefix(this.ownId, next.index, this.randomBytes);
    this.isRefreshing = true;
    this.lookup(
      target,
      { method: 'find_node', target },
      (_f, r) => r.nodes !== undefined || r.nodes6 !== undefined,
      () => {
        this.isRefreshing = false;
        if (this.refreshQueue.length > 0) this.refreshOneBucket();
      },
    );
  }
}
