import { randomBytes } from 'node:crypto';
import { parseMagnet, parseMetainfo, wireInfoHash } from '../metainfo/index.js';
import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import { type Connection, type Listener, listen } from '../net/tcp.js';
import { createHashPool, type HashPool } from '../storage/hash-pool.js';
import { ConnectionBudget, type PeerAddress } from '../swarm/peer-book.js';
import { TrackerClient } from '../tracker/client/tracker-client.js';
import { DefaultTrackerTransport, type TrackerTransport } from '../tracker/client/transport.js';
import { Bitfield } from '../util/bitfield.js';
import { type Clock, systemClock } from '../util/clock.js';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { parseHostPort } from '../util/ip.js';
import { mathRandom, type Random } from '../util/random.js';
import { TokenBucket } from '../util/token-bucket.js';
import type { HandshakeFeatures } from '../wire/handshake.js';
import { generatePeerId } from '../wire/handshake.js';
import type { Message } from '../wire/messages.js';
import { MsgId } from '../wire/messages.js';
import type { TorrentContext } from '../wire/peer-protocol.js';
import { filePriorities } from './file-priorities.js';
import { MetadataFetcher } from './metadata-fetcher.js';
import { type OpenedStorage, openTorrentStorage } from './open-storage.js';
import { PeerConnection, PeerTicker } from './peer-connection.js';
import { type PeerSourceControl, Torrent } from './torrent.js';
import { TorrentHandle } from './torrent-handle.js';
import type { TorrentOptions, TorrentStatus } from './torrent-types.js';

export interface SessionOptions {
  /** Address to listen on (default `0.0.0.0`); tests use 127.0.0.1. */
  readonly host?: string;
  /** TCP listen port; 0 (default) picks a free one. */
  readonly port?: number;
  readonly peerId?: Uint8Array;
  /** Global limits in bytes/s (default unlimited). */
  readonly downloadLimit?: number;
  readonly uploadLimit?: number;
  /** Global connection limit across torrents (default 200). */
  readonly maxConnections?: number;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly trackerTransport?: TrackerTransport;
  /** Dial timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
}

const FEATURES: HandshakeFeatures = { extensions: true, fast: true, dht: false, v2: false };

/** One torrent in the session, with or without metadata yet. */
interface Entry {
  readonly key: string;
  readonly wireHash: Uint8Array;
  readonly handle: TorrentHandle;
  readonly options: TorrentOptions;
  readonly magnet: MagnetLink | null;
  torrent: Torrent | null;
  fetcher: MetadataFetcher | null;
  context: TorrentContext;
  /** Connections made before metadata arrived (magnet links), with the messages to replay. */
  readonly waiting: Map<PeerConnection, Message[]>;
  readonly pendingPeers: PeerAddress[];
  tracker: TrackerClient | null;
  isRemoved: boolean;
}

/**
 * The composition root: one TCP listener, one coarse timer, global limits, and the torrents.
 * It turns sockets into handshaken `PeerConnection`s and hands them to the right `Torrent`;
 * everything else is the torrents' business.
 */
export class Session {
  readonly peerId: Uint8Array;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly ticker: PeerTicker;
  private readonly budget: ConnectionBudget;
  private readonly globalDownload: TokenBucket;
  private readonly globalUpload: TokenBucket;
  private readonly transport: TrackerTransport;
  private readonly entries = new Map<string, Entry>();
  private listener: Listener | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private isClosed = false;
  private pool: HashPool | null = null;

  constructor(private readonly options: SessionOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? mathRandom;
    this.peerId = options.peerId ?? generatePeerId({ next: () => randomBytes(4).readUInt32BE() / 2 ** 32 });
    this.ticker = new PeerTicker(this.clock);
    this.budget = new ConnectionBudget(options.maxConnections ?? 200);
    this.globalDownload = new TokenBucket(this.clock, options.downloadLimit ?? Number.POSITIVE_INFINITY);
    this.globalUpload = new TokenBucket(this.clock, options.uploadLimit ?? Number.POSITIVE_INFINITY);
    this.transport = options.trackerTransport ?? new DefaultTrackerTransport();
  }

  /** The TCP port peers reach us on (after `listen`). */
  get port(): number {
    return this.listener?.port ?? this.options.port ?? 0;
  }

  /** Start accepting peers and the session timer. Idempotent. */
  async listen(): Promise<void> {
    if (this.listener) return;
    const onConnection = (connection: Connection) => {
      const { setHolder, ...options } = this.connectionOptions();
      setHolder(
        PeerConnection.accept(connection, {
          ...options,
          lookupTorrent: (infoHash) =>
            this.entries.get(Buffer.from(infoHash).toString('hex'))?.context ?? null,
          onHandshake: (conn) => this.onIncomingHandshake(conn),
        }),
      );
    };
    const port = this.options.port ?? 0;
    if (this.options.host !== undefined)
      this.listener = await listen({ host: this.options.host, port, onConnection });
    else {
      // Default: dual stack (IPv4 and IPv6 peers, BEP 7); hosts without IPv6 fall back to IPv4.
      this.listener = await listen({ host: '::', port, onConnection }).catch(() =>
        listen({ host: '0.0.0.0', port, onConnection }),
      );
    }
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
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
    const existing = this.entries.get(key);
    if (existing) return existing.handle;
    const entry: Entry = {
      key,
      wireHash,
      magnet,
      options,
      torrent: null,
      fetcher: null,
      context: metadataContext(wireHash),
      waiting: new Map(),
      pendingPeers: [],
      tracker: null,
      isRemoved: false,
      handle: new TorrentHandle({
        infoHash: key,
        metainfo: () => entry.torrent?.metainfo ?? null,
        status: () => entry.torrent?.status() ?? this.metadataStatus(entry),
        isDone: () => entry.torrent?.isComplete ?? false,
        addPeer: (hostPort) => this.addPeer(entry, hostPort),
        pause: () => this.pause(entry),
        resume: () => this.resume(entry),
        remove: () => this.remove(entry),
      }),
    };
    this.entries.set(key, entry);
    for (const p of [...(options.peers ?? []), ...(magnet?.peers ?? [])]) this.addPeer(entry, p);
    if (metainfo) await this.startTorrent(entry, metainfo);
    else this.startMetadataFetch(entry);
    return entry.handle;
  }

  /** Every torrent's status (for the CLI and the daemon). */
  statuses(): TorrentStatus[] {
    return [...this.entries.values()].map((e) => e.handle.status());
  }

  /** Stop everything: `stopped` to trackers, close peers, save resume data. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.entries.values()].map((e) => this.stopEntry(e)));
    this.entries.clear();
    this.ticker.stop();
    await this.listener?.close();
    this.transport.close?.();
    await this.pool?.close();
  }

  /** One pool of hash workers for the session, started on first use. */
  private hashPool(): HashPool {
    this.pool ??= createHashPool();
    return this.pool;
  }

  // ---- torrents -------------------------------------------------------------------------------

  private async startTorrent(entry: Entry, metainfo: Metainfo): Promise<void> {
    let opened: OpenedStorage;
    try {
      const wanted = filePriorities(metainfo, entry.options.files).map((p) => p > 0);
      opened = await openTorrentStorage(metainfo, entry.options, wanted, this.hashPool(), (p: number) =>
        entry.handle.dispatch('progress', { ...this.metadataStatus(entry), state: 'checking', progress: p }),
      );
    } catch (err) {
      const e = err instanceof Error ? err : new Error(errorMessage(err));
      entry.handle.dispatch('error', e);
      throw e;
    }
    if (entry.isRemoved) {
      await opened.storage.close();
      return;
    }
    const torrent = new Torrent(
      metainfo,
      entry.options,
      {
        clock: this.clock,
        random: this.random,
        peerId: this.peerId,
        storage: opened.storage,
        verifyPiece: opened.verifyPiece,
        dial: (address, t) => this.dial(entry, address, t),
        connectionBudget: this.budget,
        globalDownload: this.globalDownload,
        globalUpload: this.globalUpload,
        selfAddresses: this.selfAddresses(),
        listenPort: this.port,
      },
      opened.have,
    );
    entry.torrent = torrent;
    entry.context = torrentContext(entry.wireHash, torrent);
    for (const event of ['progress', 'done', 'error', 'peer', 'piece', 'warning'] as const) {
      torrent.on(event, ((...args: never[]) => entry.handle.dispatch(event, ...(args as [never]))) as never);
    }
    entry.handle.dispatch('metadata', metainfo);
    for (const a of entry.pendingPeers.splice(0)) torrent.addPeer(a, 'manual');
    const sources: PeerSourceControl[] = [];
    const tiers =
      metainfo.announceTiers.length > 0
        ? metainfo.announceTiers
        : entry.magnet
          ? [entry.magnet.trackers]
          : [];
    if (tiers.some((t) => t.length > 0)) {
      entry.tracker ??= this.makeTracker(entry, tiers);
      sources.push(entry.tracker);
    }
    torrent.start(sources);
    for (const [conn, replay] of entry.waiting) {
      conn.protocol.setTorrent(entry.context);
      if (!conn.protocol.isClosed) torrent.attach(conn, replay);
    }
    entry.waiting.clear();
    entry.fetcher = null;
  }

  private makeTracker(entry: Entry, tiers: readonly (readonly string[])[]): TrackerClient {
    return new TrackerClient({
      infoHash: entry.wireHash,
      peerId: this.peerId,
      port: this.port,
      announceTiers: tiers,
      transport: this.transport,
      clock: this.clock,
      getStats: () => entry.torrent?.trackerStats() ?? { uploaded: 0, downloaded: 0, left: 1 },
      onPeers: (peers) => {
        for (const p of peers) this.addAddress(entry, { host: p.host, port: p.port }, 'tracker');
      },
      onWarning: (url, message) => entry.handle.dispatch('warning', `tracker ${url}: ${message}`),
      onError: (url, err) => entry.handle.dispatch('warning', `tracker ${url}: ${err.message}`),
    });
  }

  /** A magnet link: connect to peers and fetch the info dictionary (BEP 9) before anything else. */
  private startMetadataFetch(entry: Entry): void {
    const magnet = entry.magnet!;
    entry.fetcher = new MetadataFetcher(
      magnet,
      () => this.clock.now(),
      (metainfo) => {
        this.startTorrent(entry, metainfo).catch((err: unknown) =>
          entry.handle.dispatch('warning', `could not start after metadata: ${errorMessage(err)}`),
        );
      },
      (message) => entry.handle.dispatch('warning', message),
      (err) => entry.handle.dispatch('error', err),
    );
    if (magnet.trackers.length > 0) {
      entry.tracker = this.makeTracker(entry, [magnet.trackers]);
      entry.tracker.start();
    }
    this.connectPending(entry);
  }

  /** A connection for a torrent whose metadata we do not have yet. */
  private holdForMetadata(entry: Entry, conn: PeerConnection): void {
    const replay: Message[] = [];
    entry.waiting.set(conn, replay);
    conn.bind({
      onMessage: (m) => {
        // Piece sets and haves are replayed to the torrent once it exists.
        if (
          m.id === MsgId.Bitfield ||
          m.id === MsgId.Have ||
          m.id === MsgId.HaveAll ||
          m.id === MsgId.HaveNone
        ) {
          if (replay.length < 10_000) replay.push(m);
        }
      },
      onExtendedHandshake: () => entry.fetcher?.addPeer(conn),
      onExtension: (name, payload) => {
        if (name === 'ut_metadata') entry.fetcher?.onMessage(conn, payload);
      },
      onDrain: () => {},
      onClose: () => {
        entry.waiting.delete(conn);
        entry.fetcher?.removePeer(conn);
      },
    });
    if (conn.peerExtended) entry.fetcher?.addPeer(conn);
  }

  // ---- connections ----------------------------------------------------------------------------

  private connectionOptions() {
    let holder: PeerConnection | null = null;
    return {
      clock: this.clock,
      localPeerId: this.peerId,
      features: FEATURES,
      ticker: this.ticker,
      extendedHandshake: () => {
        const entry = holder ? this.entryFor(holder) : undefined;
        const info = entry?.torrent?.metainfo.infoBytes;
        return {
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

  private entryFor(conn: PeerConnection): Entry | undefined {
    const hash = conn.protocol.torrent?.infoHash;
    return hash ? this.entries.get(Buffer.from(hash).toString('hex')) : undefined;
  }

  private onIncomingHandshake(conn: PeerConnection): void {
    const entry = this.entryFor(conn);
    if (!entry || entry.isRemoved) return conn.close('unknown torrent');
    const address = { host: conn.remoteHost, port: conn.remotePort };
    if (entry.torrent) {
      if (!entry.torrent.acceptIncoming(address)) return conn.close('connection limit or banned');
      entry.torrent.attach(conn);
    } else {
      this.holdForMetadata(entry, conn);
    }
  }

  private dial(entry: Entry, address: PeerAddress, torrent: Torrent | null): void {
    const { setHolder, ...options } = this.connectionOptions();
    PeerConnection.dial(
      { host: address.host, port: address.port, timeoutMs: this.options.connectTimeoutMs ?? 10_000 },
      {
        ...options,
        torrent: entry.context,
        onHandshake: (conn) => {
          if (entry.isRemoved) return conn.close('torrent removed');
          if (torrent) torrent.attach(conn);
          else this.holdForMetadata(entry, conn);
        },
        onClose: (conn, reason) => {
          if (!conn.protocol.isHandshakeDone) {
            if (torrent) torrent.onDialFailed(address);
            entry.handle.dispatch('peer', {
              kind: 'disconnected',
              address: `${address.host}:${address.port}`,
              reason: reason.message,
            });
          }
        },
      },
    ).then(setHolder, () => {
      torrent?.onDialFailed(address);
    });
  }

  private addPeer(entry: Entry, hostPort: string): void {
    const address = parseHostPort(hostPort);
    if (!address) {
      entry.handle.dispatch(
        'warning',
        `ignoring peer address ${JSON.stringify(hostPort)}: expected host:port`,
      );
      return;
    }
    this.addAddress(entry, address, 'manual');
  }

  private addAddress(entry: Entry, address: PeerAddress, source: 'tracker' | 'manual'): void {
    if (this.isSelf(address)) return;
    if (entry.torrent) entry.torrent.addPeer(address, source);
    else if (entry.pendingPeers.length < 1000) {
      entry.pendingPeers.push(address);
      if (entry.fetcher) this.connectPending(entry);
    }
  }

  /** Magnet phase: dial the peers we know (no torrent yet to manage a peer book). */
  private connectPending(entry: Entry): void {
    for (const a of entry.pendingPeers.splice(0, 20)) this.dial(entry, a, null);
  }

  private isSelf(a: PeerAddress): boolean {
    return this.selfAddresses().some((s) => s.port === a.port && (s.host === a.host || isLocalHost(a.host)));
  }

  private selfAddresses(): PeerAddress[] {
    const host = this.options.host ?? '::';
    if (host !== '0.0.0.0' && host !== '::') return [{ host, port: this.port }];
    return [
      { host: '127.0.0.1', port: this.port },
      { host: '::1', port: this.port },
    ];
  }

  // ---- control --------------------------------------------------------------------------------

  private async pause(entry: Entry): Promise<void> {
    await entry.tracker?.stop();
    await entry.torrent?.stop();
  }

  private async resume(entry: Entry): Promise<void> {
    if (!entry.torrent || entry.isRemoved) return;
    const metainfo = entry.torrent.metainfo;
    entry.torrent = null;
    entry.tracker = null;
    await this.startTorrent(entry, metainfo);
  }

  private async remove(entry: Entry): Promise<void> {
    await this.stopEntry(entry);
    this.entries.delete(entry.key);
  }

  private async stopEntry(entry: Entry): Promise<void> {
    entry.isRemoved = true;
    for (const conn of entry.waiting.keys()) conn.close('shutdown');
    entry.waiting.clear();
    await Promise.allSettled([entry.torrent?.stop(), entry.tracker?.stop()]);
  }

  private tick(): void {
    for (const entry of this.entries.values()) {
      entry.torrent?.tick();
      entry.fetcher?.tick();
      if (entry.fetcher && entry.pendingPeers.length > 0) this.connectPending(entry);
    }
  }

  private metadataStatus(entry: Entry): TorrentStatus {
    return {
      infoHash: entry.key,
      name: entry.magnet?.name ?? entry.key,
      state: 'metadata',
      progress: 0,
      wantedBytes: 0,
      verifiedBytes: 0,
      downloadedBytes: 0,
      uploadedBytes: 0,
      downloadRate: 0,
      uploadRate: 0,
      peers: entry.waiting.size,
      seeds: 0,
      etaSeconds: null,
      error: null,
    };
  }
}

function isLocalHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/** The protocol's view of a torrent before metadata: no pieces, nothing to serve. */
function metadataContext(infoHash: Uint8Array): TorrentContext {
  return { infoHash, pieceCount: null, pieceLength: () => 0, hasPiece: () => false, bitfield: () => null };
}

function torrentContext(infoHash: Uint8Array, torrent: Torrent): TorrentContext {
  const m = torrent.metainfo;
  return {
    infoHash,
    pieceCount: m.pieceCount,
    pieceLength: (p) => Math.min(m.pieceLengthBytes, m.storageLengthBytes - p * m.pieceLengthBytes),
    hasPiece: (p) => torrent.picker.hasPiece(p),
    bitfield: () => torrent.picker.haveBitfield(),
  };
}

void Bitfield;
