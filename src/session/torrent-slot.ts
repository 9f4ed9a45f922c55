import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import type { FilePriority } from '../storage/storage.js';
import type { ChokerSettings } from '../swarm/choker.js';
import { type ConnectionBudget, type PeerAddress, PeerBook, type PeerOrigin } from '../swarm/peer-book.js';
import type { Scheduler } from '../util/clock.js';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { parseHostPort } from '../util/ip.js';
import type { Random } from '../util/random.js';
import type { TokenBucket } from '../util/token-bucket.js';
import type { TorrentContext } from '../wire/peer-protocol.js';
import { type SessionWarning, warning } from './events.js';
import { MagnetPhase } from './magnet-phase.js';
import type { OpenedStorage } from './open-storage.js';
import type { PeerChannel } from './peer-channel.js';
import type { PeerConnection } from './peer-connection.js';
import type { PeerSource, PeerSourceContext, PeerSourceFactory } from './peer-source.js';
import { Torrent, type TorrentListener } from './torrent.js';
import {
  createTorrentHandle,
  type TorrentEmit,
  type TorrentHandle,
  type TorrentLimits,
} from './torrent-handle.js';
import {
  idleTorrentStatus,
  type PeerInfo,
  type TorrentOptions,
  type TorrentStatus,
} from './torrent-types.js';

/** New outgoing connections started per torrent per tick (once a second). */
const CONNECT_PER_TICK = 10;

/** What a slot needs from its session. */
export interface SlotDeps {
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly budget: ConnectionBudget;
  readonly globalDownload: TokenBucket;
  readonly globalUpload: TokenBucket;
  readonly sourceFactories: readonly PeerSourceFactory[];
  readonly chokerSettings?: Partial<ChokerSettings>;
  selfAddresses(): PeerAddress[];
  listenPort(): number;
  /** The DHT node's UDP port when the session runs one. */
  dhtPort(): number | undefined;
  /** BEP 11 peer exchange (`--no-pex` turns it off). */
  readonly pex?: boolean;
  /** Open a connection to `address` for this slot; the session calls `onHandshake` or `onConnectionClosed`. */
  dial(slot: TorrentSlot, address: PeerAddress): void;
  /** Stop the slot and forget it (the handle's `remove`). */
  remove(slot: TorrentSlot): Promise<void>;
  openStorage(
    metainfo: Metainfo,
    options: TorrentOptions,
    onProgress: (fraction: number) => void,
  ): Promise<OpenedStorage>;
}

/**
 * One torrent in a session, through its whole life: the magnet phase (no metadata yet), the
 * running torrent, paused, removed. It owns what outlives each phase — the handle, the peer
 * book, the peer sources, the dialling — so peers found while fetching metadata are the same
 * peers the torrent later uses, with one backoff and one ban list.
 */
export class TorrentSlot {
  readonly handle: TorrentHandle;
  readonly peerBook: PeerBook;
  private readonly emit: TorrentEmit;
  private torrent: Torrent | null = null;
  private magnetPhase: MagnetPhase | null = null;
  private sources: PeerSource[] = [];
  private metainfo: Metainfo | null;
  private isPaused = false;
  private isRemoved = false;
  private isStarting = false;
  /** A dial round is queued for the next turn ({@link connectSoon}). */
  private isConnectSoon = false;
  private lastStatus: TorrentStatus | null = null;
  /** What the protocol needs to know of the torrent (changes when the metadata arrives). */
  context: TorrentContext;

  constructor(
    readonly key: string,
    readonly wireHash: Uint8Array,
    metainfo: Metainfo | null,
    private readonly magnet: MagnetLink | null,
    readonly options: TorrentOptions,
    private readonly deps: SlotDeps,
  ) {
    this.metainfo = metainfo;
    this.context = metadataContext(wireHash);
    this.peerBook = new PeerBook({
      random: deps.random,
      maxConnections: options.maxPeers ?? 50,
      global: deps.budget,
      selfAddresses: deps.selfAddresses(),
    });
    const { handle, emit } = createTorrentHandle({
      infoHash: key,
      metainfo: () => this.metainfo,
      status: () => this.status(),
      isDone: () => this.torrent?.isComplete ?? false,
      addPeer: (hostPort) => this.addPeerText(hostPort),
      pause: () => this.pause(),
      resume: () => this.resume(),
      remove: () => deps.remove(this),
      setFilePriority: (file, priority) => this.setFilePriority(file, priority),
      filePriorities: () => this.torrent?.filePriorities() ?? null,
      setLimits: (limits) => this.setLimits(limits),
      setStreamWindow: (id, window) => this.torrent?.setStreamWindow(id, window),
      peers: () => this.peers(),
      files: () => this.torrent?.files() ?? null,
      trackers: () => this.sources.flatMap((s) => s.describe?.() ?? []),
    });
    this.handle = handle;
    this.emit = emit;
  }

  get isActive(): boolean {
    return !this.isPaused && !this.isRemoved;
  }

  /** Begin: peers from the options and magnet, peer sources, then the torrent or the metadata fetch. */
  async start(): Promise<void> {
    for (const p of [...(this.options.peers ?? []), ...(this.magnet?.peers ?? [])]) this.addPeerText(p);
    await this.startPhase();
  }

  // ---- peers ------------------------------------------------------------------------------

  addPeers(addresses: readonly PeerAddress[], origin: PeerOrigin): void {
    const now = this.deps.scheduler.now();
    for (const a of addresses) this.peerBook.add(a, origin, now);
    this.connectSoon();
  }

  /** An incoming connection for this torrent: may it stay (limits, bans)? */
  acceptIncoming(address: PeerAddress): boolean {
    if (!this.isActive || (this.metainfo && !this.torrent)) return false;
    return this.peerBook.acceptIncoming(address, this.deps.scheduler.now());
  }

  /** A connection's handshake passed: the torrent, or the magnet phase, takes it. */
  onHandshake(conn: PeerConnection, address: PeerAddress): void {
    if (!conn.isIncoming) this.peerBook.onConnected(address);
    if (!this.isActive) return conn.close(this.isRemoved ? 'torrent removed' : 'torrent paused');
    if (this.torrent) this.torrent.attach(conn);
    else if (this.magnetPhase) this.magnetPhase.hold(conn);
    else conn.close('torrent is starting');
  }

  /** A connection of ours ended; `wasHandshaken` tells a failed dial from a disconnect. */
  onConnectionClosed(
    address: PeerAddress,
    wasHandshaken: boolean,
    isIncoming: boolean,
    reason?: string,
  ): void {
    const now = this.deps.scheduler.now();
    if (wasHandshaken || isIncoming) {
      this.peerBook.onDisconnected(address, now);
      return;
    }
    this.peerBook.onConnectFailed(address, now);
    if (reason !== undefined)
      this.emit('peer', { kind: 'disconnected', address: formatAddress(address), reason });
  }

  // ---- periodic work ----------------------------------------------------------------------

  /** Once a second: the torrent or the metadata fetch, then new connections from the book. */
  tick(): void {
    if (!this.isActive) return;
    this.torrent?.tick();
    this.magnetPhase?.tick();
    this.connectFromBook();
  }

  /**
   * Dial new peers on the next turn instead of at the next tick: a tracker answer, a `--peer`
   * or the torrent becoming ready would otherwise wait up to a second (a third of a 256 MiB
   * loopback transfer). Coalesced: one dial round per turn however many peers arrive.
   */
  private connectSoon(): void {
    if (this.isConnectSoon || !this.isActive) return;
    this.isConnectSoon = true;
    this.deps.scheduler.setTimer(0, () => {
      this.isConnectSoon = false;
      if (this.isActive) this.connectFromBook();
    });
  }

  private connectFromBook(): void {
    if (!this.torrent && !this.magnetPhase) return;
    for (const address of this.peerBook.nextToConnect(this.deps.scheduler.now(), CONNECT_PER_TICK))
      this.deps.dial(this, address);
  }

  // ---- control ----------------------------------------------------------------------------

  private async pause(): Promise<void> {
    if (!this.isActive) return;
    this.lastStatus = this.status();
    this.isPaused = true;
    await this.stopPhase('paused');
    this.emit('paused');
    this.emit('progress', this.status());
  }

  private async resume(): Promise<void> {
    if (!this.isPaused || this.isRemoved) return;
    this.isPaused = false;
    this.emit('resumed');
    await this.startPhase();
  }

  /** Stop for good (remove, or the session closing): `stopped` to trackers, resume data saved. */
  async stop(): Promise<void> {
    if (this.isRemoved) return;
    this.isRemoved = true;
    await this.stopPhase('shutdown');
  }

  private async setFilePriority(fileIndex: number, priority: FilePriority): Promise<void> {
    if (!this.torrent)
      throw new PeerdropError(
        'TORRENT_NOT_RUNNING',
        'file priorities can be set once the torrent runs (metadata known, not paused)',
      );
    await this.torrent.setFilePriority(fileIndex, priority);
  }

  private readonly limits: { downloadBps?: number; uploadBps?: number } = {};

  private setLimits(limits: TorrentLimits): void {
    Object.assign(this.limits, limits);
    this.torrent?.setLimits(limits);
  }

  private peers(): PeerInfo[] {
    return this.torrent?.peerInfos() ?? [];
  }

  // ---- phases -----------------------------------------------------------------------------

  private async startPhase(): Promise<void> {
    this.sources = this.makeSources();
    if (this.metainfo) {
      // Announce once the data is checked (as libtorrent does): `left` is then true, and
      // whoever awaits `add()` is listening before the first tracker answer arrives.
      await this.startTorrent(this.metainfo);
      if (this.isActive) for (const s of this.sources) s.start();
    } else {
      for (const s of this.sources) s.start();
      this.startMagnetPhase();
      this.connectSoon();
    }
  }

  private async stopPhase(reason: string): Promise<void> {
    const sources = this.sources;
    this.sources = [];
    const stopping = Promise.allSettled(sources.map((s) => s.stop()));
    this.magnetPhase?.close(reason);
    this.magnetPhase = null;
    const torrent = this.torrent;
    this.torrent = null;
    this.context = metadataContext(this.wireHash);
    await Promise.allSettled([torrent?.stop(), stopping]);
  }

  private startMagnetPhase(): void {
    this.magnetPhase = new MagnetPhase({
      magnet: this.magnet!,
      clock: this.deps.scheduler,
      onMetadata: (metainfo) => {
        this.metainfo = metainfo;
        this.emit('metadata', metainfo);
        // BEP 27: the magnet did not say the torrent is private; now that we know, the DHT and
        // LSD stop (the factories decline private torrents) and only its trackers remain.
        if (metainfo.isPrivate) this.remakeSources();
        this.startTorrent(metainfo).catch((err: unknown) =>
          this.emit(
            'warning',
            warning('METADATA_START_FAILED', `could not start after metadata: ${errorMessage(err)}`),
          ),
        );
      },
      onWarning: (w) => this.emit('warning', w),
      onFailed: (err) => this.emit('error', err),
      onBadPeer: (channel, code, detail) => this.banBadMetadataPeer(channel, code, detail),
    });
  }

  private banBadMetadataPeer(channel: PeerChannel, code: string, detail: string): void {
    this.peerBook.ban(
      { host: channel.remoteHost, port: channel.remotePort },
      {
        reason: 'protocol-violation',
        atMs: this.deps.scheduler.now(),
        pieces: [],
        detail: `${code}: ${detail}`,
      },
    );
    this.emit('peer', {
      kind: 'banned',
      address: formatAddress({ host: channel.remoteHost, port: channel.remotePort }),
      reason: `${code}: ${detail}`,
    });
  }

  private async startTorrent(metainfo: Metainfo): Promise<void> {
    if (this.isStarting) return;
    this.isStarting = true;
    let opened: OpenedStorage;
    try {
      opened = await this.deps.openStorage(metainfo, this.options, (p) =>
        this.emit('progress', { ...this.status(), state: 'checking', progress: p }),
      );
    } catch (err) {
      const e = err instanceof Error ? err : new Error(errorMessage(err));
      this.emit('error', e);
      throw e;
    } finally {
      this.isStarting = false;
    }
    if (!this.isActive) {
      await opened.storage.close();
      return;
    }
    const torrent = new Torrent(
      metainfo,
      this.options,
      {
        clock: this.deps.scheduler,
        random: this.deps.random,
        storage: opened.storage,
        verifyPiece: opened.verifyPiece,
        peerBook: this.peerBook,
        globalDownload: this.deps.globalDownload,
        globalUpload: this.deps.globalUpload,
        listenPort: this.deps.listenPort(),
        ...(this.deps.dhtPort() === undefined ? {} : { dhtPort: this.deps.dhtPort()! }),
        ...(this.deps.pex === false ? { pex: false } : {}),
        listener: this.torrentListener(),
        ...(this.deps.chokerSettings ? { chokerSettings: this.deps.chokerSettings } : {}),
      },
      opened.have,
    );
    torrent.setLimits(this.limits);
    this.torrent = torrent;
    this.context = torrentContext(this.wireHash, torrent);
    const held = this.magnetPhase?.handOver() ?? [];
    this.magnetPhase = null;
    torrent.start();
    for (const [conn, replay] of held) {
      conn.protocol.setTorrent(this.context);
      torrent.attach(conn, replay);
    }
    this.connectSoon();
  }

  private torrentListener(): TorrentListener {
    return {
      onProgress: () => this.emit('progress', this.status()),
      onPiece: (p) => this.emit('piece', p),
      onDone: () => {
        for (const s of this.sources) s.completed();
        this.emit('done');
      },
      onError: (err) => this.emit('error', err),
      onPeer: (e) => this.emit('peer', e),
      onWarning: (w) => this.emit('warning', w),
      onPexPeers: (addresses) => this.addPeers(addresses, 'pex'),
      onDhtPort: (address) => {
        for (const s of this.sources) s.onDhtPort?.(address);
      },
      onListenPort: (connectedAs, port) =>
        this.peerBook.linkListenAddress(connectedAs, port, this.deps.scheduler.now()),
    };
  }

  private remakeSources(): void {
    const old = this.sources;
    this.sources = this.makeSources();
    void Promise.allSettled(old.map((s) => s.stop()));
    for (const s of this.sources) s.start();
  }

  private makeSources(): PeerSource[] {
    const m = this.metainfo;
    const tiers =
      m && m.announceTiers.length > 0 ? m.announceTiers : this.magnet ? [this.magnet.trackers] : [];
    const context: PeerSourceContext = {
      infoHash: this.wireHash,
      infoHashV2: m?.infoHashV2 ?? this.magnet?.infoHashV2 ?? null,
      announceTiers: tiers.filter((t) => t.length > 0),
      isPrivate: m?.isPrivate ?? false,
      listenPort: () => this.deps.listenPort(),
      stats: () => this.torrent?.trackerStats() ?? { uploaded: 0, downloaded: 0, left: 1 },
      addPeers: (addresses, origin) => this.addPeers(addresses, origin),
      warn: (w: SessionWarning) => this.emit('warning', w),
    };
    const out: PeerSource[] = [];
    for (const f of this.deps.sourceFactories) {
      const s = f.create(context);
      if (s) out.push(s);
    }
    return out;
  }

  private addPeerText(hostPort: string): void {
    const address = parseHostPort(hostPort);
    if (!address) {
      this.emit(
        'warning',
        warning(
          'PEER_ADDRESS_INVALID',
          `ignoring peer address ${JSON.stringify(hostPort)}: expected host:port`,
          hostPort,
        ),
      );
      return;
    }
    this.addPeers([address], 'manual');
  }

  status(): TorrentStatus {
    const discovery = { knownPeers: this.peerBook.size, sources: this.sources.map((s) => s.name) };
    if (this.isPaused && this.lastStatus)
      return {
        ...this.lastStatus,
        ...discovery,
        state: 'paused',
        downloadRate: 0,
        uploadRate: 0,
        peers: 0,
        seeds: 0,
        etaSeconds: null,
      };
    if (this.torrent) return { ...this.torrent.status(), ...discovery };
    return {
      ...idleTorrentStatus(
        this.key,
        this.metainfo?.name ?? this.magnet?.name ?? this.key,
        this.metainfo ? 'checking' : 'metadata',
      ),
      peers: this.magnetPhase?.size ?? 0,
      ...discovery,
    };
  }
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

/** `host:port`, IPv6 in brackets (as users type peers and as `PeerLink` ids read). */
function formatAddress(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
