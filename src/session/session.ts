import { randomBytes } from 'node:crypto';
import type { DhtNode } from '../dht/node.js';
import { DhtPeerDiscovery } from '../dht/peer-discovery.js';
import { startUdpDht, type UdpDht } from '../dht/udp-adapter.js';
import { type LsdService, type LsdServiceOptions, startLsd } from '../discovery/lsd-service.js';
import { parseMagnet, parseMetainfo, wireInfoHash } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { TcpTransport } from '../net/tcp.js';
import type { Connection, Listener, Transport } from '../net/transport.js';
import { UdpMux } from '../net/udp-mux.js';
import { fsStorageFactory } from '../storage/fs-storage-factory.js';
import { createHashPool, type HashPool } from '../storage/hash-pool.js';
import type { StorageFactory } from '../storage/storage-factory.js';
import type { ChokerSettings } from '../swarm/choker.js';
import { ConnectionBudget, type PeerAddress } from '../swarm/peer-book.js';
import { DefaultTrackerTransport, type TrackerTransport } from '../tracker/client/transport.js';
import { type CancelTimer, type Scheduler, systemScheduler } from '../util/clock.js';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { mathRandom, type Random } from '../util/random.js';
import { TokenBucket } from '../util/token-bucket.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { HandshakeFeatures } from '../wire/handshake.js';
import { generatePeerId } from '../wire/handshake.js';
import { dhtPeerSourceFactory } from './dht-source.js';
import { filePriorities } from './file-priorities.js';
import { IncomingGate, type IncomingGateOptions } from './incoming-gate.js';
import { lsdPeerSourceFactory } from './lsd-source.js';
import { openTorrentStorage } from './open-storage.js';
import { PeerConnection, PeerTicker } from './peer-connection.js';
import type { PeerSourceFactory } from './peer-source.js';
import { localExtensionIds } from './torrent-extensions.js';
import type { TorrentHandle } from './torrent-handle.js';
import { TorrentSlot } from './torrent-slot.js';
import type { TorrentOptions, TorrentStatus } from './torrent-types.js';
import { trackerSourceFactory } from './tracker-source.js';

export interface SessionOptions {
  /** Address to listen on (default `::`, dual stack, else `0.0.0.0`); tests use 127.0.0.1. Ignored with `transport`. */
  readonly host?: string;
  /** Listen port; 0 (default) picks a free one. Ignored with `transport`. */
  readonly port?: number;
  readonly peerId?: Uint8Array;
  /** Global limits in bytes/s (default unlimited). */
  readonly downloadLimit?: number;
  readonly uploadLimit?: number;
  /** Global connection limit across torrents (default 200). Only handshaken peers count. */
  readonly maxConnections?: number;
  /** Every timer of the session runs on it (default: the event loop; simulations: virtual time). */
  readonly scheduler?: Scheduler;
  readonly random?: Random;
  /** How peers are reached and accepted (default TCP on `host`/`port`). */
  readonly transport?: Transport;
  /** Where torrent data and resume records live (default the filesystem, state in `stateDir`). */
  readonly storage?: StorageFactory;
  /** Session state folder for the default storage (resume records, parts files). */
  readonly stateDir?: string;
  /** Hash workers; share one among many sessions in one process (default: a pool per session). */
  readonly hashPool?: HashPool;
  readonly trackerTransport?: TrackerTransport;
  /**
   * One UDP socket pair on the listen port, shared by UDP trackers, the DHT and later uTP.
   * Default: bound when the session listens on TCP (its own transport); `false` for none.
   */
  readonly udp?: UdpMux | false;
  /**
   * Run a Mainline DHT node (BEP 5) on the UDP port and use it as a peer source for every public
   * torrent. Off by default in the library (a node talks to the internet); the CLI turns it on.
   */
  readonly dht?: SessionDhtOptions | false;
  /**
   * BEP 14 local service discovery on the LAN's multicast groups, for every public torrent. Off by
   * default in the library, like the DHT; the CLI turns it on.
   */
  readonly lsd?: SessionLsdOptions | false;
  /** BEP 11 peer exchange with peers that support it (default on; never on private torrents). */
  readonly pex?: boolean;
  /** Extra peer sources (DHT, LAN discovery…), each feeding every torrent's peer book. */
  readonly peerSources?: readonly PeerSourceFactory[];
  /** Dial timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Limits on connections still in their handshake (a small budget with a short deadline). */
  readonly incoming?: IncomingGateOptions;
  readonly chokerSettings?: Partial<ChokerSettings>;
}

export interface SessionDhtOptions {
  /** Nodes to start from when the saved table is empty (IP literals). */
  readonly bootstrap?: readonly PeerAddress[];
  /** A routing table saved by an earlier run (`persist`), so a restart needs no bootstrap. */
  readonly savedState?: Uint8Array;
  readonly persist?: (state: Uint8Array) => void;
  /** Allow several nodes per IP (loopback test networks). */
  readonly isLoopbackNetwork?: boolean;
}

export type SessionLsdOptions = Omit<LsdServiceOptions, 'scheduler' | 'randomBytes'>;

export interface SessionEvents {
  [key: string]: (...args: never[]) => void;
  added: (handle: TorrentHandle) => void;
  removed: (infoHash: string) => void;
}

const FEATURES: HandshakeFeatures = { extensions: true, fast: true, dht: false, v2: false };
/** The session's coarse timer: torrents, dialling, metadata fetches. */
const TICK_MS = 1000;

/**
 * The composition root: one transport (listening and dialling), one scheduler, one storage
 * factory, global limits, the peer sources, and the torrents (`TorrentSlot`s). It turns
 * connections into handshaken `PeerConnection`s and hands them to the right slot; everything
 * else is the slots' business.
 */
export class Session extends TypedEmitter<SessionEvents> {
  readonly peerId: Uint8Array;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly ticker: PeerTicker;
  private readonly budget: ConnectionBudget;
  private readonly globalDownload: TokenBucket;
  private readonly globalUpload: TokenBucket;
  private trackerTransport: TrackerTransport | null = null;
  private mux: UdpMux | null = null;
  private ownsMux = false;
  private udpDht: UdpDht | null = null;
  private lsd: LsdService | null = null;
  private readonly transport: Transport;
  private readonly storage: StorageFactory;
  private readonly sourceFactories: PeerSourceFactory[];
  private readonly gate: IncomingGate;
  private readonly slots = new Map<string, TorrentSlot>();
  private listener: Listener | null = null;
  private listening: Promise<void> | null = null;
  private cancelTick: CancelTimer | null = null;
  private isClosed = false;
  private pool: HashPool | null = null;

  constructor(private readonly options: SessionOptions = {}) {
    super();
    this.scheduler = options.scheduler ?? systemScheduler;
    this.random = options.random ?? mathRandom;
    this.peerId = options.peerId ?? generatePeerId({ next: () => randomBytes(4).readUInt32BE() / 2 ** 32 });
    this.ticker = new PeerTicker(this.scheduler);
    this.budget = new ConnectionBudget(options.maxConnections ?? 200);
    this.globalDownload = new TokenBucket(this.scheduler, options.downloadLimit ?? Number.POSITIVE_INFINITY);
    this.globalUpload = new TokenBucket(this.scheduler, options.uploadLimit ?? Number.POSITIVE_INFINITY);
    this.transport =
      options.transport ??
      new TcpTransport({
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.port === undefined ? {} : { port: options.port }),
      });
    this.storage =
      options.storage ?? fsStorageFactory(options.stateDir ? { stateDir: options.stateDir } : {});
    this.pool = options.hashPool ?? null;
    this.gate = new IncomingGate(options.incoming);
    this.sourceFactories = [
      trackerSourceFactory({
        peerId: this.peerId,
        transport: () => this.trackers(),
        scheduler: this.scheduler,
        random: this.random,
      }),
      ...(options.peerSources ?? []),
    ];
  }

  /** Incoming connections that reached a torrent: more than 0 proves the peer port is reachable. */
  incomingHandshakes = 0;

  /** Change the global limits in bytes/s (Infinity: unlimited), e.g. an alternative-speed schedule. */
  setGlobalLimits(limits: { readonly downloadBps: number; readonly uploadBps: number }): void {
    this.globalDownload.setRate(limits.downloadBps);
    this.globalUpload.setRate(limits.uploadBps);
  }

  /** The port peers reach us on (after `listen`). */
  get port(): number {
    return this.listener?.port ?? this.options.port ?? 0;
  }

  /** Start accepting peers and the session timer. Idempotent. */
  listen(): Promise<void> {
    this.listening ??= this.startListening();
    return this.listening;
  }

  /** The shared UDP port (DHT, UDP trackers, uTP), once listening; null when there is none. */
  get udp(): UdpMux | null {
    return this.mux;
  }

  private async startListening(): Promise<void> {
    this.listener = await this.transport.listen((connection) => this.onIncoming(connection));
    if (this.options.udp) this.mux = this.options.udp;
    else if (this.options.udp === undefined && /(^|\+)tcp$/.test(this.transport.name)) {
      // Real TCP (or TCP wrapped, e.g. in MSE): the UDP port with the same number is ours too.
      // Same number as the TCP port, as peers and trackers expect; without it UDP trackers bind
      // their own sockets.
      this.mux = await UdpMux.bind({
        port: this.listener.port,
        ...hostsFor(this.listener.host),
      }).catch(() => null);
      this.ownsMux = this.mux !== null;
    }
    if (this.options.dht && this.mux) this.startDht(this.mux, this.options.dht);
    if (this.options.lsd) {
      this.lsd = await startLsd({
        ...this.options.lsd,
        scheduler: this.scheduler,
        randomBytes: (n) => randomBytes(n),
      });
      this.sourceFactories.push(lsdPeerSourceFactory(this.lsd));
    }
    this.cancelTick = this.scheduler.setInterval(TICK_MS, () => this.tick());
  }

  /** The DHT node, when the session runs one. */
  get dht(): DhtNode | null {
    return this.udpDht?.node ?? null;
  }

  private startDht(mux: UdpMux, options: SessionDhtOptions): void {
    this.udpDht = startUdpDht(mux, {
      scheduler: this.scheduler,
      ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}),
      ...(options.savedState ? { savedState: options.savedState } : {}),
      ...(options.persist ? { persist: options.persist } : {}),
      ...(options.isLoopbackNetwork ? { restrictIps: false } : {}),
    });
    this.sourceFactories.push(dhtPeerSourceFactory(new DhtPeerDiscovery(this.udpDht.node), this.scheduler));
  }

  /** The tracker transport, made on first use so it can share the UDP port. */
  private trackers(): TrackerTransport {
    this.trackerTransport ??=
      this.options.trackerTransport ??
      new DefaultTrackerTransport({
        udp: { scheduler: this.scheduler, ...(this.mux ? { mux: this.mux } : {}) },
      });
    return this.trackerTransport;
  }

  /**
   * Add a torrent: `.torrent` bytes, a parsed `Metainfo`, or a magnet link. Existing data in
   * `options.dir` is verified (or trusted through fast-resume data) before anything is announced.
   */
  async add(input: Uint8Array | Metainfo | string, options: TorrentOptions): Promise<TorrentHandle> {
    if (this.isClosed) throw new PeerdropError('SESSION_CLOSED', 'the session is closed');
    await this.listen();
    const magnet = typeof input === 'string' ? parseMagnet(input) : null;
    const metainfo =
      input instanceof Uint8Array ? parseMetainfo(input) : typeof input === 'string' ? null : input;
    const wireHash = metainfo ? wireInfoHash(metainfo) : wireInfoHash(magnet!);
    const key = Buffer.from(wireHash).toString('hex');
    const existing = this.slots.get(key);
    if (existing) return existing.handle;
    const slot = new TorrentSlot(key, wireHash, metainfo, magnet, options, {
      scheduler: this.scheduler,
      random: this.random,
      budget: this.budget,
      globalDownload: this.globalDownload,
      globalUpload: this.globalUpload,
      sourceFactories: this.sourceFactories,
      ...(this.options.chokerSettings ? { chokerSettings: this.options.chokerSettings } : {}),
      selfAddresses: () => this.selfAddresses(),
      listenPort: () => this.port,
      dhtPort: () => (this.udpDht && this.mux ? this.mux.port : undefined),
      pex: this.options.pex !== false,
      dial: (s, address) => this.dial(s, address),
      remove: (s) => this.remove(s.key),
      openStorage: (m, o, onProgress) =>
        openTorrentStorage(
          m,
          o,
          filePriorities(m, o.files).map((p) => p > 0),
          this.hashPool(),
          onProgress,
          this.storage,
        ),
    });
    this.slots.set(key, slot);
    this.emit('added', slot.handle);
    try {
      await slot.start();
    } catch (err) {
      this.slots.delete(key);
      await slot.stop();
      throw err;
    }
    return slot.handle;
  }

  /** The torrent with this hex info-hash, if the session has it. */
  get(infoHash: string): TorrentHandle | undefined {
    return this.slots.get(infoHash.toLowerCase())?.handle;
  }

  /** Every torrent's handle, in the order they were added. */
  list(): TorrentHandle[] {
    return [...this.slots.values()].map((s) => s.handle);
  }

  /** Stop and forget a torrent (data on disk is kept). */
  async remove(infoHash: string): Promise<void> {
    const slot = this.slots.get(infoHash.toLowerCase());
    if (!slot) return;
    this.slots.delete(slot.key);
    await slot.stop();
    this.emit('removed', slot.key);
  }

  /** Every torrent's status (for the CLI and the daemon). */
  statuses(): TorrentStatus[] {
    return [...this.slots.values()].map((s) => s.status());
  }

  /** Stop everything: `stopped` to trackers, close peers, save resume data. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cancelTick?.();
    await Promise.allSettled([...this.slots.values()].map((s) => s.stop()));
    this.slots.clear();
    this.ticker.stop();
    this.udpDht?.close();
    await this.lsd?.close();
    await this.transport.close();
    await this.trackerTransport?.close?.();
    if (this.ownsMux) await this.mux?.close();
    if (!this.options.hashPool) await this.pool?.close();
  }

  /** One pool of hash workers for the session, started on first use. */
  private hashPool(): HashPool {
    this.pool ??= createHashPool();
    return this.pool;
  }

  // ---- connections ----------------------------------------------------------------------------

  private connectionOptions() {
    let holder: PeerConnection | null = null;
    return {
      clock: this.scheduler,
      localPeerId: this.peerId,
      // BEP 5: the reserved DHT bit says we accept (and send) `port` messages.
      features: this.udpDht ? { ...FEATURES, dht: true } : FEATURES,
      ticker: this.ticker,
      extendedHandshake: () => {
        const slot = holder ? this.slotFor(holder) : undefined;
        const info = slot?.handle.metainfo?.infoBytes;
        return {
          m: localExtensionIds(this.options.pex !== false, slot?.handle.metainfo?.isPrivate),
          listenPort: this.port,
          client: 'peerdrop 0.1.0',
          ...(info ? { metadataSize: info.length } : {}),
          ...(holder ? { yourIp: holder.remoteHost } : {}),
        };
      },
      setHolder: (c: PeerConnection) => {
        holder = c;
      },
    };
  }

  private slotFor(conn: PeerConnection): TorrentSlot | undefined {
    const hash = conn.protocol.torrent?.infoHash;
    return hash ? this.slots.get(Buffer.from(hash).toString('hex')) : undefined;
  }

  private onIncoming(connection: Connection): void {
    const address = { host: connection.remoteAddress, port: connection.remotePort };
    const admission = this.gate.admit(address.host);
    if (!admission) {
      connection.destroy();
      return;
    }
    const { setHolder, ...options } = this.connectionOptions();
    let slot: TorrentSlot | undefined;
    let isAttached = false;
    const conn = PeerConnection.accept(connection, {
      ...options,
      handshakeTimeoutMs: this.gate.handshakeTimeoutMs,
      lookupTorrent: (infoHash) => this.slots.get(Buffer.from(infoHash).toString('hex'))?.context ?? null,
      onHandshake: (c) => {
        admission.handshakeDone();
        slot = this.slotFor(c);
        if (!slot?.isActive) return c.close('unknown torrent');
        if (!slot.acceptIncoming(address)) return c.close('connection limit or banned');
        isAttached = true;
        this.incomingHandshakes++;
        slot.onHandshake(c, address);
      },
      onClose: () => {
        admission.release();
        if (isAttached) slot?.onConnectionClosed(address, true, true);
      },
    });
    setHolder(conn);
  }

  private dial(slot: TorrentSlot, address: PeerAddress): void {
    const { setHolder, ...options } = this.connectionOptions();
    let isHandshaken = false;
    const request = { timeoutMs: this.options.connectTimeoutMs ?? 10_000, infoHash: slot.wireHash };
    this.transport.dial(address, request).then(
      (connection) => {
        if (!slot.isActive) {
          connection.destroy();
          slot.onConnectionClosed(address, false, false);
          return;
        }
        const conn = PeerConnection.outgoing(connection, {
          ...options,
          torrent: slot.context,
          onHandshake: (c) => {
            isHandshaken = true;
            slot.onHandshake(c, address);
          },
          onClose: (_c, reason) => slot.onConnectionClosed(address, isHandshaken, false, reason.message),
        });
        setHolder(conn);
      },
      (err: unknown) => slot.onConnectionClosed(address, false, false, errorMessage(err)),
    );
  }

  private selfAddresses(): PeerAddress[] {
    const host = this.listener?.host ?? this.options.host ?? '::';
    if (host !== '0.0.0.0' && host !== '::') return [{ host, port: this.port }];
    return [
      { host: '127.0.0.1', port: this.port },
      { host: '::1', port: this.port },
    ];
  }

  private tick(): void {
    for (const slot of this.slots.values()) slot.tick();
  }
}

/** UDP bind addresses for a TCP listen host: the same address, in its family only. */
function hostsFor(host: string): { families: (4 | 6)[]; host4?: string; host6?: string } {
  if (host === '::') return { families: [4, 6] };
  if (host === '0.0.0.0') return { families: [4] };
  return host.includes(':') ? { families: [6], host6: host } : { families: [4], host4: host };
}
