/**
 * Real sessions in a simulated network (libtorrent's `simulation/` is the model): every peer is
 * a real `Session` — `Torrent`, `Uploader`, `PeerProtocol`, the picker, smart-ban, storage —
 * on a `MemoryNetwork` host, with a memory storage factory (its own modelled disk) and one
 * shared inline hash pool, all driven by one `VirtualScheduler`. Deterministic from the seed:
 * no real time, no real sockets, no threads.
 *
 * The loop (`drive`): settle the promise continuations of what just ran, then run the timers
 * due at the next instant, and repeat. Settling waits for one macrotask (`setImmediate`):
 * Node runs every queued microtask before any macrotask, so by then every continuation the
 * last step caused has run at the virtual instant it belongs to, however deep its await chain
 * (a fixed number of `await Promise.resolve()` hops would cut long chains and let their tails
 * run at a later virtual time). Nothing in a simulated session waits on real I/O, so one
 * macrotask per instant is enough.
 */
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { Session } from '../../src/session/session.js';
import type { TorrentHandle } from '../../src/session/torrent-handle.js';
import type { HashPool } from '../../src/storage/hash-pool.js';
import { createInlineHashPool } from '../../src/storage/inline-hash-pool.js';
import {
  type DiskModel,
  type MemoryStorageFactory,
  memoryStorageFactory,
} from '../../src/storage/memory-storage-factory.js';
import type { StorageFactory } from '../../src/storage/storage-factory.js';
import type { ChokerSettings } from '../../src/swarm/choker.js';
import { VirtualScheduler } from '../../src/util/clock.js';
import { seededRandom } from '../../src/util/random.js';
import type { SimTorrent } from './fixture.js';

export type PeerRole = 'seeder' | 'leecher';

/** One simulated peer: a host on the network and, while it runs, a session. */
export interface SimPeer {
  readonly name: string;
  readonly role: PeerRole;
  readonly index: number;
  readonly ip: string;
  readonly address: string;
  readonly uploadBps: number;
  /** Its disk (data and resume records survive `stop` and a later `start`). */
  readonly memory: MemoryStorageFactory;
  readonly storage: StorageFactory;
  readonly dir: string;
  session: Session | null;
  handle: TorrentHandle | null;
  /** Virtual time of its first 'done' as a leecher (null: not yet). */
  completedAtMs: number | null;
  startedAtMs: number;
  /** Bans this peer's torrent made. */
  readonly bans: { readonly address: string; readonly reason: string; readonly atMs: number }[];
  hashFailures: number;
  readonly errors: Error[];
  /** Pieces it verified (from 'piece' events, over all its runs). */
  readonly pieces: Set<number>;
  metadataAtMs: number | null;
  /** Bytes each other peer had delivered to it when its metadata arrived (magnet links). */
  bytesAtMetadata: Map<string, number> | null;
}

export interface PeerSpec {
  readonly role: PeerRole;
  readonly uploadBps?: number;
  readonly downloadBps?: number;
  readonly disk?: DiskModel;
  /** Wrap the peer's storage (e.g. one that corrupts what it serves). */
  readonly wrapStorage?: (inner: StorageFactory) => StorageFactory;
}

export interface StartOptions {
  /** Start from a magnet link (x.pe = the known peers) instead of the .torrent. */
  readonly magnet?: boolean;
  /** Peers to tell it about (default: every running peer, as a tracker would). */
  readonly knows?: readonly SimPeer[];
  /** Trust the data without hashing (default: true for seeders on their first start). */
  readonly isKnownComplete?: boolean;
}

export interface SimSwarmOptions {
  readonly torrent: SimTorrent;
  readonly seed: number;
  readonly latencyMs: number;
  readonly lossRate?: number;
  readonly highWaterMarkBytes?: number;
  readonly chokerSettings?: Partial<ChokerSettings>;
  readonly connectTimeoutMs?: number;
}

const LISTEN_PORT = 6881;

/** Wait for one macrotask: every queued microtask (promise continuation) runs first. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** See the module comment. */
export class SimSwarm {
  readonly scheduler = new VirtualScheduler();
  readonly network: MemoryNetwork;
  readonly peers: SimPeer[] = [];
  readonly hashPool: HashPool = createInlineHashPool();
  /** Scheduler instants run so far. */
  steps = 0;
  private readonly counts = { seeder: 0, leecher: 0 };

  constructor(readonly options: SimSwarmOptions) {
    this.network = new MemoryNetwork({
      scheduler: this.scheduler,
      seed: options.seed,
      latencyMs: options.latencyMs,
      ...(options.lossRate ? { lossRate: options.lossRate } : {}),
      ...(options.highWaterMarkBytes ? { highWaterMarkBytes: options.highWaterMarkBytes } : {}),
    });
  }

  get torrent(): SimTorrent {
    return this.options.torrent;
  }

  get seeders(): SimPeer[] {
    return this.peers.filter((p) => p.role === 'seeder');
  }

  get leechers(): SimPeer[] {
    return this.peers.filter((p) => p.role === 'leecher');
  }

  /** A new host with its disk; seeders get the content on it. Not started. */
  async addPeer(spec: PeerSpec): Promise<SimPeer> {
    const index = this.counts[spec.role]++;
    const ip = spec.role === 'seeder' ? `10.0.0.${index + 1}` : `10.1.${index >> 8}.${(index & 255) + 1}`;
    this.network.addHost(ip, {
      ...(spec.uploadBps === undefined ? {} : { uploadBps: spec.uploadBps }),
      ...(spec.downloadBps === undefined ? {} : { downloadBps: spec.downloadBps }),
    });
    const memory = memoryStorageFactory({
      scheduler: this.scheduler,
      ...(spec.disk ? { disk: spec.disk } : {}),
    });
    const dir = `/sim/${ip}`;
    if (spec.role === 'seeder') {
      await memory.preload(this.torrent.metainfo, { dir, key: this.torrent.infoHash }, this.torrent.content);
    }
    const peer: SimPeer = {
      name: `${spec.role}-${index}`,
      role: spec.role,
      index,
      ip,
      address: `${ip}:${LISTEN_PORT}`,
      uploadBps: spec.uploadBps ?? Number.POSITIVE_INFINITY,
      memory,
      storage: spec.wrapStorage ? spec.wrapStorage(memory) : memory,
      dir,
      session: null,
      handle: null,
      completedAtMs: null,
      startedAtMs: 0,
      bans: [],
      hashFailures: 0,
      errors: [],
      pieces: new Set(),
      metadataAtMs: null,
      bytesAtMetadata: null,
    };
    this.peers.push(peer);
    return peer;
  }

  /** Start a session for `peer` and add the torrent (resolves once added; drive meanwhile). */
  start(peer: SimPeer, options: StartOptions = {}): Promise<TorrentHandle> {
    if (peer.session) throw new Error(`${peer.name} is already running`);
    const rnd = seededRandom(this.options.seed * 7919 + this.peers.indexOf(peer) + 1);
    const session = new Session({
      transport: this.network.transport(peer.ip, { port: LISTEN_PORT }),
      scheduler: this.scheduler,
      storage: peer.storage,
      hashPool: this.hashPool,
      random: rnd,
      peerId: peerIdFor(peer, this.steps),
      connectTimeoutMs: this.options.connectTimeoutMs ?? 5_000,
      ...(this.options.chokerSettings ? { chokerSettings: this.options.chokerSettings } : {}),
    });
    peer.session = session;
    peer.startedAtMs = this.scheduler.now();
    const known = (options.knows ?? this.peers.filter((p) => p.session && p !== peer)).map((p) => p.address);
    const isKnownComplete = options.isKnownComplete ?? (peer.role === 'seeder' && peer.pieces.size === 0);
    const input = options.magnet
      ? `magnet:?xt=urn:btih:${this.torrent.infoHash}${known.map((a) => `&x.pe=${a}`).join('')}`
      : this.torrent.torrent;
    return session
      .add(input, { dir: peer.dir, peers: known, ...(isKnownComplete ? { isKnownComplete } : {}) })
      .then((handle) => {
        this.watch(peer, handle);
        return handle;
      });
  }

  /** Close `peer`'s session (it leaves the swarm; its disk stays). */
  async stop(peer: SimPeer): Promise<void> {
    const session = peer.session;
    peer.session = null;
    peer.handle = null;
    await session?.close();
  }

  /** Run `fn` at virtual time `atMs`. */
  at(atMs: number, fn: () => void): void {
    this.scheduler.setTimer(atMs - this.scheduler.now(), fn);
  }

  /**
   * Advance the simulation until `isDone()` or virtual time `maxMs`; true when done. Settles
   * promise continuations between instants (see the module comment).
   */
  async drive(isDone: () => boolean, maxMs: number): Promise<boolean> {
    const s = this.scheduler;
    for (;;) {
      await settle();
      if (isDone()) return true;
      const next = s.nextDueMs();
      if (next === null || next > maxMs) return false;
      s.runUntil(next);
      this.steps++;
    }
  }

  /** Drive until `promise` settles (or `maxMs`), then return its value. */
  async until<T>(promise: Promise<T>, maxMs = this.scheduler.now() + 60_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    if (!(await this.drive(() => settled, maxMs))) throw new Error(`not settled by virtual ${maxMs} ms`);
    return watched;
  }

  /** Close every session (driving the network while they say goodbye). */
  async close(): Promise<void> {
    const closing = Promise.allSettled(this.peers.filter((p) => p.session).map((p) => this.stop(p)));
    await this.until(closing, this.scheduler.now() + 30_000).catch(() => {});
    await this.hashPool.close();
  }

  /** Every honest address some peer banned (should be empty). */
  bannedAddresses(): string[] {
    return this.peers.flatMap((p) => p.bans.map((b) => b.address));
  }

  private watch(peer: SimPeer, handle: TorrentHandle): void {
    peer.handle = handle;
    const now = () => this.scheduler.now();
    if (handle.metainfo) peer.metadataAtMs ??= now();
    handle.on('metadata', () => {
      if (peer.metadataAtMs !== null) return;
      peer.metadataAtMs = now();
      peer.bytesAtMetadata = new Map(
        this.peers.filter((p) => p !== peer).map((p) => [p.name, this.network.bytesBetween(p.ip, peer.ip)]),
      );
    });
    handle.on('done', () => {
      if (peer.role === 'leecher') peer.completedAtMs ??= now();
    });
    handle.on('piece', (piece) => {
      peer.pieces.add(piece);
    });
    handle.on('peer', (e) => {
      if (e.kind === 'banned') peer.bans.push({ address: e.address, reason: e.reason ?? '', atMs: now() });
    });
    handle.on('warning', (w) => {
      if (w.code === 'PIECE_HASH_FAILED') peer.hashFailures++;
    });
    handle.on('error', (err) => {
      peer.errors.push(err);
    });
  }
}

/** Deterministic, distinct peer ids (a restarted peer gets a new one, as a real client would). */
function peerIdFor(peer: SimPeer, salt: number): Uint8Array {
  const id = `-PD0100-${peer.role[0]}${String(peer.index).padStart(5, '0')}${String(salt % 1e6).padStart(6, '0')}`;
  return new TextEncoder().encode(id.slice(0, 20));
}
