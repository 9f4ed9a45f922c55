import type { Metainfo } from '../metainfo/types.js';
import type { FilePriority } from '../storage/storage.js';
import { type ChokerSettings, DEFAULT_CHOKER_SETTINGS } from '../swarm/choker.js';
import type { PeerAddress, PeerBook } from '../swarm/peer-book.js';
import { PiecePicker } from '../swarm/piece-picker.js';
import { RateMeter } from '../swarm/rate-meter.js';
import { RequestPipeline } from '../swarm/request-pipeline.js';
import type { PieceRange } from '../swarm/types.js';
import { Bitfield } from '../util/bitfield.js';
import type { Scheduler } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Random } from '../util/random.js';
import { TokenBucket } from '../util/token-bucket.js';
import { clientName } from '../wire/handshake.js';
import { type Message, MsgId } from '../wire/messages.js';
import { Downloader } from './downloader.js';
import { type SessionWarning, warning } from './events.js';
import {
  expandUserPriorities,
  filePieceRanges,
  filePriorities,
  fileStatuses,
  userFileIndices,
} from './file-priorities.js';
import type { PieceCheck } from './open-storage.js';
import type { PeerChannel } from './peer-channel.js';
import { PeerLink } from './peer-link.js';
import { type BlockStore, PieceAssembler } from './piece-assembler.js';
import { ReadCache } from './read-cache.js';
import { TorrentExtensions } from './torrent-extensions.js';
import type {
  FileStatus,
  PeerEvent,
  PeerInfo,
  TorrentOptions,
  TorrentState,
  TorrentStatus,
} from './torrent-types.js';
import { Uploader } from './uploader.js';

/** What the torrent needs from storage (the session adapts the storage layer to this). */
export interface TorrentStorage extends BlockStore {
  readBlock(piece: number, offset: number, length: number): Promise<Uint8Array>;
  writePiece(piece: number, data: Uint8Array): Promise<void>;
  setFilePriority(fileIndex: number, priority: FilePriority): Promise<void>;
  /** Persist fast-resume data for the verified pieces. */
  saveResume(have: Bitfield): Promise<void>;
  close(): Promise<void>;
}

/** What the torrent reports to its owner (the session's slot, which forwards to the handle). */
export interface TorrentListener {
  onProgress(status: TorrentStatus): void;
  onPiece(piece: number): void;
  onDone(): void;
  onError(err: Error): void;
  onPeer(event: PeerEvent): void;
  onWarning(w: SessionWarning): void;
  /** Peers learned from peers (PEX). */
  onPexPeers(addresses: readonly PeerAddress[]): void;
  /** BEP 5: a peer told us its DHT port. */
  onDhtPort(address: PeerAddress): void;
  /** An incoming peer told us its listen port (BEP 10 `p`). */
  onListenPort(connectedAs: PeerAddress, listenPort: number): void;
}

export interface TorrentDeps {
  readonly clock: Scheduler;
  readonly random: Random;
  readonly storage: TorrentStorage;
  /** Checks a complete piece against the torrent's hashes (in a worker). */
  readonly verifyPiece: (piece: number, data: Uint8Array) => Promise<PieceCheck>;
  /** The torrent's peers, shared with the magnet phase and every peer source. */
  readonly peerBook: PeerBook;
  readonly globalDownload: TokenBucket;
  readonly globalUpload: TokenBucket;
  readonly listenPort: number;
  /** Our DHT node's UDP port, told to peers that run one (BEP 5 `port`); absent without a DHT. */
  readonly dhtPort?: number;
  /** BEP 11 peer exchange; default on (private torrents never). */
  readonly pex?: boolean;
  readonly listener: TorrentListener;
  readonly chokerSettings?: Partial<ChokerSettings>;
  /** Memory for assembling pieces before hashing (default 64 MiB). */
  readonly pieceBufferBytes?: number;
}

/** Memory for pieces being assembled and hashed (beyond it, blocks go straight to disk). */
const PIECE_BUFFER_BYTES = 64 * 1024 * 1024;
/** Whole pieces kept for serving uploads. */
const READ_CACHE_BYTES = 32 * 1024 * 1024;
/** Resume data is small; saving it often keeps a `kill -9` from costing re-checks. */
const RESUME_SAVE_INTERVAL_MS = 2_000;

/**
 * One torrent's swarm: a coordinator that feeds peer messages to the picker (through the
 * `Downloader`), the `Uploader` and the extensions, and turns their decisions into messages.
 * It owns no sockets and dials nobody: the session's slot attaches established `PeerChannel`s,
 * runs the peer book and the peer sources, and drives `tick()` once a second.
 */
export class Torrent {
  readonly infoHashHex: string;
  readonly picker: PiecePicker;
  readonly peers = new Map<string, PeerLink>();
  /** The same peers by peer id (hex), to refuse a second connection to one peer. */
  private readonly peerIds = new Map<string, PeerLink>();
  private readonly assembler: PieceAssembler;
  private readonly downloader: Downloader;
  private readonly extensions: TorrentExtensions;
  private readonly downloadBucket: TokenBucket;
  private readonly uploadBucket: TokenBucket;
  private readonly uploader: Uploader;
  private readonly readCache: ReadCache;
  private readonly downloadMeter: RateMeter;
  private readonly uploadMeter: RateMeter;
  private state: TorrentState = 'checking';
  private lastError: Error | null = null;
  private lastResumeSaveMs: number;
  private isResumeDirty = false;
  private uploadedBytes = 0;
  private wantedBytes: number;
  private resumeChain: Promise<void> = Promise.resolve();
  private readonly listener: TorrentListener;
  /** One per torrent file (padding included), as the picker has them. */
  private torrentFilePriorities: number[];

  constructor(
    readonly metainfo: Metainfo,
    readonly options: TorrentOptions,
    private readonly deps: TorrentDeps,
    have: Bitfield,
  ) {
    const { clock, random } = deps;
    this.listener = deps.listener;
    this.infoHashHex = Buffer.from(metainfo.infoHash ?? metainfo.infoHashV2!.subarray(0, 20)).toString('hex');
    this.picker = new PiecePicker({
      pieceCount: metainfo.pieceCount,
      pieceLengthBytes: metainfo.pieceLengthBytes,
      totalLengthBytes: metainfo.storageLengthBytes,
      random,
      have,
      files: filePieceRanges(metainfo),
      clock,
    });
    this.torrentFilePriorities = filePriorities(metainfo, options.files);
    this.picker.setFilePriorities(this.torrentFilePriorities);
    this.picker.setSequential(options.isSequential ?? false);
    this.wantedBytes = this.computeWantedBytes();
    this.assembler = new PieceAssembler(
      deps.storage,
      (p) => this.pieceLength(p),
      deps.pieceBufferBytes ?? PIECE_BUFFER_BYTES,
    );
    this.downloadBucket = new TokenBucket(clock, options.downloadLimit ?? Number.POSITIVE_INFINITY);
    this.uploadBucket = new TokenBucket(clock, options.uploadLimit ?? Number.POSITIVE_INFINITY);
    this.downloadMeter = new RateMeter(clock);
    this.uploadMeter = new RateMeter(clock);
    this.downloader = new Downloader({
      scheduler: clock,
      metainfo,
      picker: this.picker,
      peerBook: deps.peerBook,
      assembler: this.assembler,
      storage: deps.storage,
      verifyPiece: deps.verifyPiece,
      buckets: [this.downloadBucket, deps.globalDownload],
      meter: this.downloadMeter,
      peers: () => this.peers,
      isDownloading: () => this.state === 'downloading',
      isActive: () => this.isActive(),
      onPieceVerified: (piece) => this.onPieceVerified(piece),
      onStorageError: (err) => this.fail(err),
      onWarning: (w) => this.listener.onWarning(w),
      onPeerEvent: (e) => this.listener.onPeer(e),
    });
    this.readCache = new ReadCache(
      (p) => deps.storage.readPiece(p),
      (p) => this.pieceLength(p),
      READ_CACHE_BYTES,
    );
    this.uploader = new Uploader({
      clock,
      random,
      settings: { ...DEFAULT_CHOKER_SETTINGS, ...deps.chokerSettings },
      buckets: [this.uploadBucket, deps.globalUpload],
      meter: this.uploadMeter,
      pieces: this.readCache,
      isAttached: (link) => this.peers.get(link.id) === link,
      isSeeding: () => this.state === 'seeding',
      hasPiece: (piece) => this.picker.hasPiece(piece),
      pieceLength: (piece) => this.pieceLength(piece),
      onUploaded: (bytes) => {
        this.uploadedBytes += bytes;
      },
      onStorageError: (err) => this.fail(asStorageError(err)),
    });
    this.lastResumeSaveMs = clock.now();
    this.extensions = new TorrentExtensions(
      metainfo,
      deps.listenPort,
      (_link, addresses) => this.listener.onPexPeers(addresses),
      deps.pex !== false,
    );
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Begin: seeding or downloading per the verified pieces (seed-only torrents never download). */
  start(): void {
    const isComplete = this.picker.isComplete();
    this.state = isComplete || this.options.isSeedOnly ? 'seeding' : 'downloading';
    if (isComplete) this.listener.onDone();
    // On the next turn: `add()` resolves first, so whoever holds the handle hears it.
    else if (this.options.isSeedOnly) this.deps.clock.setTimer(0, () => this.reportIncompleteSeed());
    this.tick();
  }

  /** Per file: how much of it is verified. */
  files(): FileStatus[] {
    return fileStatuses(this.metainfo, this.picker.haveBitfield(), this.torrentFilePriorities);
  }

  private reportIncompleteSeed(): void {
    const bad = this.files().filter((f) => f.priority > 0 && f.verifiedBytes < f.lengthBytes);
    const names = bad
      .slice(0, 10)
      .map((f) =>
        f.verifiedBytes === 0
          ? `${f.path} (missing or unreadable)`
          : `${f.path} (damaged: ${f.verifiedBytes} of ${f.lengthBytes} bytes verified)`,
      );
    const more = bad.length > 10 ? ` and ${bad.length - 10} more` : '';
    this.listener.onWarning(
      warning(
        'SEED_DATA_INCOMPLETE',
        `${bad.length} file(s) cannot be served in full: ${names.join(', ')}${more}; seeding the verified pieces only`,
      ),
    );
  }

  get currentState(): TorrentState {
    return this.state;
  }

  get isComplete(): boolean {
    return this.picker.isComplete();
  }

  /** Stop: close peers, save resume data, close storage. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.downloader.stopRequesting();
    for (const link of [...this.peers.values()]) link.channel.close('shutdown');
    this.assembler.releaseAll();
    await this.saveResume();
    await this.deps.storage.close();
  }

  /** Pause after an environment failure (disk full…): keeps verified data, stops transfers. */
  fail(err: Error): void {
    if (this.state === 'error' || this.state === 'stopped') return;
    this.state = 'error';
    this.lastError = err;
    for (const link of [...this.peers.values()]) link.channel.close(`torrent paused: ${err.message}`);
    this.listener.onError(err);
  }

  // ---- control ----------------------------------------------------------------------------

  /** Change one file's priority (0 skips it); the wanted size and interest follow. */
  async setFilePriority(fileIndex: number, priority: FilePriority): Promise<void> {
    const priorities = this.filePriorities();
    if (fileIndex < 0 || fileIndex >= priorities.length)
      throw new RangeError(`file ${fileIndex} does not exist (the torrent has ${priorities.length} files)`);
    priorities[fileIndex] = priority;
    await this.deps.storage.setFilePriority(userFileIndices(this.metainfo)[fileIndex]!, priority);
    this.torrentFilePriorities = expandUserPriorities(this.metainfo, priorities);
    this.picker.setFilePriorities(this.torrentFilePriorities);
    this.wantedBytes = this.computeWantedBytes();
    if (this.state === 'seeding' && !this.picker.isComplete()) this.state = 'downloading';
    for (const link of this.peers.values()) this.updateInterest(link);
  }

  /** Per-file priorities in `peerdrop info` order (padding files skipped). */
  filePriorities(): FilePriority[] {
    return userFileIndices(this.metainfo).map((i) => (this.torrentFilePriorities[i] ?? 0) as FilePriority);
  }

  /** Streaming (`TorrentHandle.createReader`): a reader's next pieces go first, asked for at once. */
  setStreamWindow(id: string, window: PieceRange): void {
    if (window.endPiece > window.firstPiece) this.picker.setStreamWindow(id, window);
    else this.picker.clearStreamWindow(id);
    for (const link of this.peers.values()) this.downloader.requestBlocks(link);
  }

  /** Per-torrent limits in bytes/s (Infinity: unlimited). */
  setLimits(limits: { readonly downloadBps?: number; readonly uploadBps?: number }): void {
    if (limits.downloadBps !== undefined) this.downloadBucket.setRate(limits.downloadBps);
    if (limits.uploadBps !== undefined) this.uploadBucket.setRate(limits.uploadBps);
  }

  // ---- peers ------------------------------------------------------------------------------

  /** An established connection (handshake verified) joins the swarm. */
  attach(channel: PeerChannel, replay: readonly Message[] = []): void {
    const now = this.deps.clock.now();
    if (!this.isActive()) {
      channel.close('torrent not active');
      return;
    }
    const link = new PeerLink(
      channel,
      new RequestPipeline(this.deps.clock),
      new RateMeter(this.deps.clock),
      new RateMeter(this.deps.clock),
      now,
    );
    const peerIdHex = Buffer.from(channel.peerId).toString('hex');
    if (this.peers.has(link.id) || this.peerIds.has(peerIdHex)) {
      // One connection per peer: two peers that dial each other, or an address learned by PEX
      // of a peer already connected from another port, must not hold two slots.
      channel.close('duplicate connection');
      return;
    }
    this.peers.set(link.id, link);
    this.peerIds.set(peerIdHex, link);
    channel.bind({
      onMessage: (m) => this.onMessage(link, m),
      onExtendedHandshake: (h) => {
        link.extended = h;
        link.pipeline.setPeerLimit(h.reqq);
        this.noteListenPort(link);
      },
      onExtension: (name, payload) => this.extensions.onExtension(link, name, payload),
      onDrain: () => this.uploader.pump(link),
      onClose: (reason) => this.detach(link, reason),
    });
    link.extended = channel.peerExtended;
    link.pipeline.setPeerLimit(link.extended?.reqq);
    this.noteListenPort(link);
    if (this.deps.dhtPort !== undefined && channel.supportsDht)
      channel.sendMessage({ id: MsgId.Port, port: this.deps.dhtPort });
    this.listener.onPeer({ kind: 'connected', address: link.id, client: clientName(channel.peerId) });
    for (const m of replay) this.onMessage(link, m);
  }

  private noteListenPort(link: PeerLink): void {
    const port = link.extended?.listenPort;
    if (link.channel.isIncoming && port !== undefined)
      this.listener.onListenPort({ host: link.channel.remoteHost, port: link.channel.remotePort }, port);
  }

  private detach(link: PeerLink, reason: string): void {
    if (this.peers.get(link.id) !== link) return;
    this.peers.delete(link.id);
    const peerIdHex = Buffer.from(link.channel.peerId).toString('hex');
    if (this.peerIds.get(peerIdHex) === link) this.peerIds.delete(peerIdHex);
    this.downloader.onPeerLeft(link);
    link.uploadQueue.length = 0;
    if (link.unchokedSinceMs !== null) this.uploader.invalidate(); // free slot: re-run the choker
    this.listener.onPeer({ kind: 'disconnected', address: link.id, reason });
  }

  // ---- messages ---------------------------------------------------------------------------

  private onMessage(link: PeerLink, m: Message): void {
    if (!this.isActive()) return;
    switch (m.id) {
      case MsgId.KeepAlive:
      case MsgId.Suggest:
        return;
      case MsgId.Port:
        this.listener.onDhtPort({ host: link.channel.remoteHost, port: m.port });
        return;
      case MsgId.Choke:
        // BEP 6: with the fast extension, a choke does not cancel requests; rejects will follow.
        if (!link.channel.isFast) this.downloader.returnRequests(link, link.pipeline.clear());
        return;
      case MsgId.Unchoke:
        this.downloader.requestBlocks(link);
        return;
      case MsgId.Interested:
        if (link.amChoking) this.uploader.invalidate();
        this.uploader.maybeRechoke([...this.peers.values()]);
        return;
      case MsgId.NotInterested:
        return;
      case MsgId.Have:
        return this.onHave(link, m.piece);
      case MsgId.Bitfield:
        return this.onBitfield(link, Bitfield.fromBytes(m.bits, this.metainfo.pieceCount));
      case MsgId.HaveAll:
        link.hasAll = true;
        this.picker.onPeerHaveAll(link.id);
        return this.updateInterest(link);
      case MsgId.HaveNone:
        link.bitfield = new Bitfield(this.metainfo.pieceCount);
        this.picker.onPeerHaveNone(link.id);
        return this.updateInterest(link);
      case MsgId.Request:
        return this.uploader.onRequest(link, m);
      case MsgId.Cancel:
        return this.uploader.onCancel(link, m);
      case MsgId.Reject:
        return this.downloader.onReject(link, m);
      case MsgId.AllowedFast:
        if (m.piece < this.metainfo.pieceCount) link.allowedFast.add(m.piece);
        if (link.peerChoking) this.downloader.requestBlocks(link);
        return;
      case MsgId.Piece:
        return this.downloader.onBlock(link, m.piece, m.offset, m.data);
      case MsgId.HashRequest:
        // BEP 52: a hash request MUST get 'hashes' or 'hash reject'. We do not serve merkle
        // proofs yet (peers with the .torrent have the piece layers already), so we reject.
        link.channel.sendMessage({ ...m, id: MsgId.HashReject });
        return;
      case MsgId.Extended:
      case MsgId.Hashes:
      case MsgId.HashReject:
        return;
    }
  }

  private onHave(link: PeerLink, piece: number): void {
    if (piece >= this.metainfo.pieceCount) {
      link.channel.close(`have for piece ${piece} beyond the torrent's ${this.metainfo.pieceCount} pieces`);
      return;
    }
    if (!link.bitfield) link.bitfield = new Bitfield(this.metainfo.pieceCount);
    if (link.bitfield.set(piece)) this.picker.onPeerHave(link.id, piece);
    if (!link.amInterested && !this.picker.hasPiece(piece) && this.picker.piecePriority(piece) > 0) {
      this.updateInterest(link);
    }
  }

  private onBitfield(link: PeerLink, bits: Bitfield): void {
    // A later piece set adds to what the peer announced before (see the wire layer).
    if (link.bitfield) for (const p of link.bitfield) bits.set(p);
    link.bitfield = bits;
    this.picker.onPeerBitfield(link.id, bits);
    this.updateInterest(link);
  }

  /** Interested iff the peer has a piece we want. */
  private updateInterest(link: PeerLink): void {
    const want = !this.options.isSeedOnly && !this.picker.isComplete() && this.peerHasWanted(link);
    if (want !== link.amInterested) {
      if (want) link.channel.interested();
      else link.channel.notInterested();
    }
    if (want) this.downloader.requestBlocks(link);
  }

  private peerHasWanted(link: PeerLink): boolean {
    if (link.hasAll) return true;
    const bits = link.bitfield;
    if (!bits) return false;
    for (let p = bits.firstSet(0); p >= 0; p = bits.firstSet(p + 1)) {
      if (!this.picker.hasPiece(p) && this.picker.piecePriority(p) > 0) return true;
    }
    return false;
  }

  // ---- pieces -----------------------------------------------------------------------------

  private onPieceVerified(piece: number): void {
    this.isResumeDirty = true;
    for (const link of this.peers.values()) link.channel.have(piece);
    this.listener.onPiece(piece);
    if (this.picker.isComplete()) this.onComplete();
  }

  private onComplete(): void {
    if (this.state !== 'downloading') return;
    this.state = 'seeding';
    this.downloader.stopRequesting();
    for (const link of this.peers.values()) {
      link.pipeline.clear();
      if (link.amInterested) link.channel.notInterested();
    }
    this.uploader.invalidate();
    void this.saveResume();
    this.listener.onDone();
  }

  // ---- periodic work ----------------------------------------------------------------------

  /** Once a second from the session: choker, timeouts, PEX, resume, progress. */
  tick(): void {
    if (!this.isActive()) return;
    const now = this.deps.clock.now();
    this.uploader.maybeRechoke([...this.peers.values()]);
    for (const link of this.peers.values()) {
      if (link.amInterested) this.updateInterest(link);
      const { timedOut } = link.pipeline.expire();
      this.downloader.returnRequests(link, timedOut);
      this.downloader.requestBlocks(link);
      this.uploader.pump(link);
      this.extensions.maybeSendPex(link, this.peers.values(), now);
    }
    if (this.isResumeDirty && now - this.lastResumeSaveMs >= RESUME_SAVE_INTERVAL_MS) void this.saveResume();
    this.listener.onProgress(this.status());
  }

  /** Saves are serialized: a save on completion and one on stop must not race on the same file. */
  private saveResume(): Promise<void> {
    this.isResumeDirty = false;
    this.lastResumeSaveMs = this.deps.clock.now();
    const have = this.picker.haveBitfield().clone();
    this.resumeChain = this.resumeChain.then(() =>
      this.deps.storage.saveResume(have).catch((err: unknown) => {
        this.listener.onWarning(
          warning('RESUME_SAVE_FAILED', `could not save resume data: ${errorMessage(err)}`),
        );
      }),
    );
    return this.resumeChain;
  }

  // ---- status -----------------------------------------------------------------------------

  status(): TorrentStatus {
    const verifiedBytes = this.verifiedWantedBytes();
    const downloadRate = this.downloadMeter.rate();
    const remaining = this.wantedBytes - verifiedBytes;
    let seeds = 0;
    for (const l of this.peers.values()) if (l.hasAll || l.bitfield?.hasAll()) seeds++;
    return {
      infoHash: this.infoHashHex,
      name: this.metainfo.name,
      state: this.state,
      progress: this.wantedBytes === 0 ? 1 : verifiedBytes / this.wantedBytes,
      wantedBytes: this.wantedBytes,
      verifiedBytes,
      downloadedBytes: this.downloader.downloadedBytes,
      uploadedBytes: this.uploadedBytes,
      downloadRate,
      uploadRate: this.uploadMeter.rate(),
      peers: this.peers.size,
      seeds,
      etaSeconds: remaining <= 0 ? 0 : downloadRate > 0 ? Math.round(remaining / downloadRate) : null,
      error: this.lastError?.message ?? null,
    };
  }

  /** Every connected peer, for displays and the API. */
  peerInfos(): PeerInfo[] {
    const pieceCount = this.metainfo.pieceCount;
    return [...this.peers.values()].map((l) => ({
      address: l.id,
      client: clientName(l.channel.peerId),
      isIncoming: l.channel.isIncoming,
      progress: l.hasAll ? 1 : pieceCount === 0 ? 0 : (l.bitfield?.count ?? 0) / pieceCount,
      downloadRate: l.downloadMeter.rate(),
      uploadRate: l.uploadMeter.rate(),
      amChoking: l.amChoking,
      amInterested: l.amInterested,
      peerChoking: l.peerChoking,
      peerInterested: l.peerInterested,
    }));
  }

  /** Numbers for tracker announces: `left` counts only wanted data still missing. */
  trackerStats(): { uploaded: number; downloaded: number; left: number } {
    return {
      uploaded: this.uploadedBytes,
      downloaded: this.downloader.downloadedBytes,
      left: Math.max(0, this.wantedBytes - this.verifiedWantedBytes()),
    };
  }

  private pieceLength(piece: number): number {
    const m = this.metainfo;
    return Math.min(m.pieceLengthBytes, m.storageLengthBytes - piece * m.pieceLengthBytes);
  }

  private computeWantedBytes(): number {
    let total = 0;
    for (let p = 0; p < this.metainfo.pieceCount; p++)
      if (this.picker.piecePriority(p) > 0 || this.picker.hasPiece(p)) total += this.pieceLength(p);
    return total;
  }

  private verifiedWantedBytes(): number {
    const have = this.picker.haveBitfield();
    let total = 0;
    for (let p = have.firstSet(0); p >= 0; p = have.firstSet(p + 1)) total += this.pieceLength(p);
    return Math.min(total, this.wantedBytes);
  }

  private isActive(): boolean {
    return this.state === 'downloading' || this.state === 'seeding';
  }
}

function asStorageError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
