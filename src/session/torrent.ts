import type { Metainfo } from '../metainfo/types.js';
import { type ChokerSettings, DEFAULT_CHOKER_SETTINGS } from '../swarm/choker.js';
import { type ConnectionBudget, type PeerAddress, PeerBook, type PeerSource } from '../swarm/peer-book.js';
import { PiecePicker } from '../swarm/piece-picker.js';
import { RateMeter } from '../swarm/rate-meter.js';
import { RequestPipeline } from '../swarm/request-pipeline.js';
import { SmartBan } from '../swarm/smart-ban.js';
import type { BlockRef as SwarmBlockRef } from '../swarm/types.js';
import { Bitfield } from '../util/bitfield.js';
import type { Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { parseHostPort } from '../util/ip.js';
import type { Random } from '../util/random.js';
import { TokenBucket } from '../util/token-bucket.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { clientName } from '../wire/handshake.js';
import { type Message, MsgId, pieceIndex } from '../wire/messages.js';
import { filePieceRanges, filePriorities } from './file-priorities.js';
import type { PeerChannel } from './peer-channel.js';
import { PeerLink } from './peer-link.js';
import { type BlockStore, PieceAssembler } from './piece-assembler.js';
import { ReadCache } from './read-cache.js';
import { TorrentExtensions } from './torrent-extensions.js';
import type { TorrentEvents, TorrentOptions, TorrentState, TorrentStatus } from './torrent-types.js';
import { Uploader } from './uploader.js';

/** What the torrent needs from storage (the session adapts the storage layer to this). */
export interface TorrentStorage extends BlockStore {
  readBlock(piece: number, offset: number, length: number): Promise<Uint8Array>;
  writePiece(piece: number, data: Uint8Array): Promise<void>;
  /** Persist fast-resume data for the verified pieces. */
  saveResume(have: Bitfield): Promise<void>;
  close(): Promise<void>;
}

/** Trackers (or any peer source) as the torrent drives them. */
export interface PeerSourceControl {
  start(): void;
  completed(): void;
  stop(): Promise<void>;
}

export interface TorrentDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly peerId: Uint8Array;
  readonly storage: TorrentStorage;
  /** Checks a complete piece against the torrent's hashes (in a worker). */
  readonly verifyPiece: (piece: number, data: Uint8Array) => Promise<boolean>;
  /** Ask the session to dial; it calls `attach` on success or `onDialFailed`. */
  readonly dial: (address: PeerAddress, torrent: Torrent) => void;
  readonly connectionBudget: ConnectionBudget;
  readonly globalDownload: TokenBucket;
  readonly globalUpload: TokenBucket;
  readonly selfAddresses: readonly PeerAddress[];
  readonly listenPort: number;
  readonly chokerSettings?: Partial<ChokerSettings>;
  /** Memory for assembling pieces before hashing (default 64 MiB). */
  readonly pieceBufferBytes?: number;
}

const CONNECT_PER_TICK = 10;
/** Memory for pieces being assembled and hashed (beyond it, blocks go straight to disk). */
const PIECE_BUFFER_BYTES = 64 * 1024 * 1024;
/** Whole pieces kept for serving uploads. */
const READ_CACHE_BYTES = 32 * 1024 * 1024;
/** Resume data is small; saving it often keeps a `kill -9` from costing re-checks. */
const RESUME_SAVE_INTERVAL_MS = 2_000;

/**
 * One torrent's swarm: a coordinator that feeds peer messages to the picker, pipeline,
 * choker, smart-ban and storage, and turns their decisions into messages. It owns no
 * sockets; the session attaches established `PeerChannel`s and drives `tick()` once a second.
 */
export class Torrent extends TypedEmitter<TorrentEvents> {
  readonly infoHashHex: string;
  readonly picker: PiecePicker;
  readonly peerBook: PeerBook;
  readonly peers = new Map<string, PeerLink>();
  private readonly assembler: PieceAssembler;
  private readonly smartBan = new SmartBan();
  private readonly extensions: TorrentExtensions;
  private readonly downloadBucket: TokenBucket;
  private readonly uploader: Uploader;
  private readonly readCache: ReadCache;
  private readonly downloadMeter: RateMeter;
  private readonly uploadMeter: RateMeter;
  private state: TorrentState = 'checking';
  private lastError: Error | null = null;
  private lastResumeSaveMs: number;
  private isResumeDirty = false;
  private downloadedBytes = 0;
  private uploadedBytes = 0;
  private sources: PeerSourceControl[] = [];
  private readonly wantedBytes: number;

  constructor(
    readonly metainfo: Metainfo,
    readonly options: TorrentOptions,
    private readonly deps: TorrentDeps,
    have: Bitfield,
  ) {
    super();
    const { clock, random } = deps;
    this.infoHashHex = Buffer.from(metainfo.infoHash ?? metainfo.infoHashV2!.subarray(0, 20)).toString('hex');
    const pieceLength = (p: number) =>
      Math.min(metainfo.pieceLengthBytes, metainfo.storageLengthBytes - p * metainfo.pieceLengthBytes);
    this.picker = new PiecePicker({
      pieceCount: metainfo.pieceCount,
      pieceLengthBytes: metainfo.pieceLengthBytes,
      totalLengthBytes: metainfo.storageLengthBytes,
      random,
      have,
      files: filePieceRanges(metainfo),
    });
    this.picker.setFilePriorities(filePriorities(metainfo, options.files));
    this.picker.setSequential(options.isSequential ?? false);
    this.wantedBytes = this.computeWantedBytes(pieceLength);
    this.assembler = new PieceAssembler(
      deps.storage,
      pieceLength,
      deps.pieceBufferBytes ?? PIECE_BUFFER_BYTES,
    );
    this.peerBook = new PeerBook({
      random,
      maxConnections: options.maxPeers ?? 50,
      global: deps.connectionBudget,
      selfAddresses: deps.selfAddresses,
    });
    this.downloadBucket = new TokenBucket(clock, options.downloadLimit ?? Number.POSITIVE_INFINITY);
    this.downloadMeter = new RateMeter(clock);
    this.uploadMeter = new RateMeter(clock);
    this.readCache = new ReadCache((p) => deps.storage.readPiece(p), pieceLength, READ_CACHE_BYTES);
    this.uploader = new Uploader({
      clock,
      random,
      settings: { ...DEFAULT_CHOKER_SETTINGS, ...deps.chokerSettings },
      buckets: [new TokenBucket(clock, options.uploadLimit ?? Number.POSITIVE_INFINITY), deps.globalUpload],
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
    this.extensions = new TorrentExtensions(metainfo, deps.listenPort, (_link, addresses) => {
      for (const a of addresses) this.addPeer(a, 'pex');
    });
    for (const p of options.peers ?? []) {
      const a = parseHostPort(p);
      if (a) this.addPeer(a, 'manual');
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Begin: seeding or downloading per the verified pieces; starts peer sources. */
  start(sources: PeerSourceControl[]): void {
    this.sources = sources;
    this.state = this.picker.isComplete() ? 'seeding' : 'downloading';
    for (const s of sources) s.start();
    if (this.state === 'seeding') this.emit('done');
    this.tick();
  }

  get currentState(): TorrentState {
    return this.state;
  }

  get isComplete(): boolean {
    return this.picker.isComplete();
  }

  /** Stop: tell trackers, close peers, save resume data. Bounded by the trackers' stop timeout. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.requestRetry) clearTimeout(this.requestRetry);
    const stopping = Promise.allSettled(this.sources.map((s) => s.stop()));
    for (const link of [...this.peers.values()]) link.channel.close('shutdown');
    this.assembler.releaseAll();
    await this.saveResume();
    await stopping;
    await this.deps.storage.close();
  }

  /** Pause after an environment failure (disk full…): keeps verified data, stops transfers. */
  fail(err: Error): void {
    if (this.state === 'error' || this.state === 'stopped') return;
    this.state = 'error';
    this.lastError = err;
    for (const link of [...this.peers.values()]) link.channel.close(`torrent paused: ${err.message}`);
    this.emit('error', err);
  }

  // ---- peers ------------------------------------------------------------------------------

  /** A peer address learned from any source. */
  addPeer(address: PeerAddress, source: PeerSource): void {
    this.peerBook.add(address, source, this.deps.clock.now());
  }

  /** Whether an incoming connection from `address` may be attached (limits, bans). */
  acceptIncoming(address: PeerAddress): boolean {
    return this.isActive() && this.peerBook.acceptIncoming(address, this.deps.clock.now());
  }

  /** The session dialled `address` for us and the handshake failed. */
  onDialFailed(address: PeerAddress): void {
    this.peerBook.onConnectFailed(address, this.deps.clock.now());
  }

  /** An established connection (handshake verified) joins the swarm. */
  attach(channel: PeerChannel, replay: readonly Message[] = []): void {
    const now = this.deps.clock.now();
    const address = { host: channel.remoteHost, port: channel.remotePort };
    if (!channel.isIncoming) this.peerBook.onConnected(address);
    if (!this.isActive()) {
      channel.close('torrent not active');
      this.peerBook.onDisconnected(address, now);
      return;
    }
    const link = new PeerLink(
      channel,
      new RequestPipeline(this.deps.clock),
      new RateMeter(this.deps.clock),
      new RateMeter(this.deps.clock),
      now,
    );
    if (this.peers.has(link.id)) {
      channel.close('duplicate connection');
      return;
    }
    this.peers.set(link.id, link);
    channel.bind({
      onMessage: (m) => this.onMessage(link, m),
      onExtendedHandshake: (h) => {
        link.extended = h;
      },
      onExtension: (name, payload) => this.extensions.onExtension(link, name, payload),
      onDrain: () => this.uploader.pump(link),
      onClose: (reason) => this.detach(link, reason),
    });
    link.extended = channel.peerExtended;
    this.emit('peer', { kind: 'connected', address: link.id, client: clientName(channel.peerId) });
    for (const m of replay) this.onMessage(link, m);
  }

  private detach(link: PeerLink, reason: string): void {
    if (this.peers.get(link.id) !== link) return;
    this.peers.delete(link.id);
    for (const b of this.picker.onPeerLeft(link.id)) void b;
    link.pipeline.clear();
    link.uploadQueue.length = 0;
    this.peerBook.onDisconnected(
      { host: link.channel.remoteHost, port: link.channel.remotePort },
      this.deps.clock.now(),
    );
    this.smartBan.forgetPeer(link.id);
    if (link.unchokedSinceMs !== null) this.uploader.invalidate(); // free slot: re-run the choker
    this.emit('peer', { kind: 'disconnected', address: link.id, reason });
  }

  // ---- messages ---------------------------------------------------------------------------

  private onMessage(link: PeerLink, m: Message): void {
    if (!this.isActive()) return;
    switch (m.id) {
      case MsgId.KeepAlive:
      case MsgId.Port:
      case MsgId.Suggest:
        return;
      case MsgId.Choke:
        link.peerChoking = true;
        // BEP 6: with the fast extension, a choke does not cancel requests; rejects will follow.
        if (!link.channel.isFast) this.returnRequests(link, link.pipeline.clear());
        return;
      case MsgId.Unchoke:
        link.peerChoking = false;
        this.requestBlocks(link);
        return;
      case MsgId.Interested:
        link.peerInterested = true;
        if (link.amChoking) this.uploader.invalidate();
        this.uploader.maybeRechoke([...this.peers.values()]);
        return;
      case MsgId.NotInterested:
        link.peerInterested = false;
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
        link.pipeline.onRequestCancelled(m);
        this.picker.cancelRequest(link.id, m);
        this.requestBlocks(link);
        return;
      case MsgId.AllowedFast:
        if (m.piece < this.metainfo.pieceCount) link.allowedFast.add(m.piece);
        if (link.peerChoking) this.requestBlocks(link);
        return;
      case MsgId.Piece:
        return this.onBlock(link, m.piece, m.offset, m.data);
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
    const want = !this.picker.isComplete() && this.peerHasWanted(link);
    if (want !== link.amInterested) {
      link.amInterested = want;
      if (want) link.channel.interested();
      else link.channel.notInterested();
    }
    if (want) this.requestBlocks(link);
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

  // ---- downloading ------------------------------------------------------------------------

  private requestBlocks(link: PeerLink): void {
    if (this.state !== 'downloading' || !link.amInterested) return;
    if (link.peerChoking && link.allowedFast.size === 0) return;
    let want = link.pipeline.wanted();
    if (want <= 0) return;
    // Download limit: each request spends its bytes up front, so what we ask for is what arrives.
    const budget = Math.min(this.downloadBucket.available(), this.deps.globalDownload.available());
    want = Math.min(want, Math.floor(budget / 16384));
    if (want <= 0) {
      this.retryRequestsLater();
      return;
    }
    const peerHas = link.hasAll
      ? this.fullBitfield()
      : (link.bitfield ?? new Bitfield(this.metainfo.pieceCount));
    const blocks = this.picker.pickBlocks(link.id, peerHas, want, {
      isChoked: link.peerChoking,
      allowedFast: link.allowedFast,
      onSteal: (victim, block) => this.cancelAt(victim, block),
    });
    for (const b of blocks) {
      if (!link.channel.request({ piece: pieceIndex(b.piece), offset: b.offset, length: b.length })) {
        this.picker.cancelRequest(link.id, b);
        continue;
      }
      this.downloadBucket.charge(b.length);
      this.deps.globalDownload.charge(b.length);
      link.pipeline.onRequestSent(b);
    }
  }

  private requestRetry: ReturnType<typeof setTimeout> | null = null;

  /** The download limit is spent: ask again when a block's worth of tokens is back (one timer per torrent). */
  private retryRequestsLater(): void {
    if (this.requestRetry) return;
    const waitMs = Math.max(this.downloadBucket.waitFor(16384), this.deps.globalDownload.waitFor(16384), 1);
    this.requestRetry = setTimeout(() => {
      this.requestRetry = null;
      for (const link of this.peers.values()) this.requestBlocks(link);
    }, waitMs);
    this.requestRetry.unref();
  }

  private fullBitfieldCache: Bitfield | null = null;
  private fullBitfield(): Bitfield {
    this.fullBitfieldCache ??= Bitfield.full(this.metainfo.pieceCount);
    return this.fullBitfieldCache;
  }

  /** Withdraw a request from a peer (endgame duplicate arrived elsewhere, or the block was stolen). */
  private cancelAt(peer: string, block: SwarmBlockRef): void {
    const other = this.peers.get(peer);
    if (!other) return;
    other.pipeline.onRequestCancelled(block);
    other.channel.cancel({ piece: pieceIndex(block.piece), offset: block.offset, length: block.length });
  }

  private returnRequests(link: PeerLink, blocks: readonly SwarmBlockRef[]): void {
    for (const b of blocks) this.picker.cancelRequest(link.id, b);
  }

  private onBlock(link: PeerLink, piece: number, offset: number, data: Uint8Array): void {
    const now = this.deps.clock.now();
    const block = { piece: pieceIndex(piece), offset, length: data.length };
    link.pipeline.onBlockReceived(block);
    link.lastBlockAtMs = now;
    link.downloadMeter.add(data.length);
    this.downloadMeter.add(data.length);
    this.downloadedBytes += data.length;
    if (piece >= this.metainfo.pieceCount || this.picker.hasPiece(piece)) {
      this.requestBlocks(link);
      return;
    }
    const receipt = this.picker.onBlockReceived(link.id, block);
    for (const c of receipt.cancels) this.cancelAt(c.peer, c.block);
    if (receipt.isNew) {
      // Copy: the wire buffer may be reused; the assembler keeps its own piece buffer.
      this.assembler.addBlock(piece, offset, data).then(
        () => {
          this.picker.onBlockWritten(block);
          if (receipt.isPieceComplete) void this.completePiece(piece);
        },
        (err: unknown) => this.fail(asStorageError(err)),
      );
    }
    this.requestBlocks(link);
  }

  private async completePiece(piece: number): Promise<void> {
    try {
      const data = await this.assembler.pieceData(piece);
      const ok = await this.deps.verifyPiece(piece, data);
      if (!this.isActive()) return;
      if (!ok) return this.onPieceFailed(piece, data); // releases the piece itself
      if (this.assembler.isBuffered(piece)) await this.deps.storage.writePiece(piece, data);
      if (!this.isActive()) return;
      this.onPieceVerified(piece, data);
      this.assembler.release(piece); // after: the buffer goes back to the pool for reuse
    } catch (err) {
      this.assembler.release(piece);
      this.fail(asStorageError(err));
    }
  }

  private onPieceVerified(piece: number, data: Uint8Array): void {
    const senders = this.picker.blockSenders(piece);
    this.picker.onPieceVerified(piece);
    this.isResumeDirty = true;
    for (const verdict of this.smartBan.onPiecePassed(piece, data))
      this.banPeer(verdict.peer, verdict.pieces, verdict.blockOffsets);
    for (const s of new Set(senders)) {
      const link = s === undefined ? undefined : this.peers.get(s);
      if (link)
        this.peerBook.recordUseful(
          { host: link.channel.remoteHost, port: link.channel.remotePort },
          data.length,
        );
    }
    for (const link of this.peers.values()) link.channel.have(piece);
    this.emit('piece', piece);
    if (this.picker.isComplete()) this.onComplete();
  }

  private onPieceFailed(piece: number, data: Uint8Array): void {
    const senders = this.picker.blockSenders(piece);
    const culprits = this.picker.onPieceFailed(piece);
    for (const id of culprits) {
      const link = this.peers.get(id);
      if (link) {
        link.corruptPieces++;
        this.peerBook.recordCorrupt({ host: link.channel.remoteHost, port: link.channel.remotePort });
      }
    }
    for (const verdict of this.smartBan.onPieceFailed(piece, data, senders)) {
      this.banPeer(verdict.peer, verdict.pieces, verdict.blockOffsets);
    }
    this.emit('warning', `piece ${piece} failed its hash check; re-downloading`);
    for (const link of this.peers.values()) this.requestBlocks(link);
    this.assembler.release(piece); // last: smart-ban has hashed the blocks
  }

  private banPeer(id: string, pieces: readonly number[], offsets: readonly number[]): void {
    const link = this.peers.get(id);
    const address = link
      ? { host: link.channel.remoteHost, port: link.channel.remotePort }
      : parseHostPort(id);
    if (!address) return;
    const detail = `sent corrupt data in piece(s) ${pieces.join(',')} at block offsets ${offsets.join(',')}`;
    this.peerBook.ban(address, { reason: 'corrupt-data', atMs: this.deps.clock.now(), pieces, detail });
    link?.channel.close(`banned: ${detail}`);
    this.emit('peer', { kind: 'banned', address: id, reason: detail });
  }

  private onComplete(): void {
    if (this.state !== 'downloading') return;
    this.state = 'seeding';
    for (const s of this.sources) s.completed();
    for (const link of this.peers.values()) {
      link.pipeline.clear();
      if (link.amInterested) {
        link.amInterested = false;
        link.channel.notInterested();
      }
    }
    this.uploader.invalidate();
    void this.saveResume();
    this.emit('done');
  }

  // ---- periodic work ----------------------------------------------------------------------

  /** Once a second from the session: choker, timeouts, new connections, PEX, resume, progress. */
  tick(): void {
    if (!this.isActive()) return;
    const now = this.deps.clock.now();
    this.uploader.maybeRechoke([...this.peers.values()]);
    for (const link of this.peers.values()) {
      if (link.amInterested) this.updateInterest(link);
      const { timedOut } = link.pipeline.expire();
      this.returnRequests(link, timedOut);
      this.requestBlocks(link);
      this.uploader.pump(link);
      this.extensions.maybeSendPex(link, this.peers.values(), now);
    }
    for (const address of this.peerBook.nextToConnect(now, CONNECT_PER_TICK)) this.deps.dial(address, this);
    if (this.isResumeDirty && now - this.lastResumeSaveMs >= RESUME_SAVE_INTERVAL_MS) void this.saveResume();
    this.emit('progress', this.status());
  }

  private resumeChain: Promise<void> = Promise.resolve();

  /** Saves are serialized: a save on completion and one on stop must not race on the same file. */
  private saveResume(): Promise<void> {
    this.isResumeDirty = false;
    this.lastResumeSaveMs = this.deps.clock.now();
    const have = this.picker.haveBitfield().clone();
    this.resumeChain = this.resumeChain.then(() =>
      this.deps.storage.saveResume(have).catch((err: unknown) => {
        this.emit('warning', `could not save resume data: ${errorMessage(err)}`);
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
      downloadedBytes: this.downloadedBytes,
      uploadedBytes: this.uploadedBytes,
      downloadRate,
      uploadRate: this.uploadMeter.rate(),
      peers: this.peers.size,
      seeds,
      etaSeconds: remaining <= 0 ? 0 : downloadRate > 0 ? Math.round(remaining / downloadRate) : null,
      error: this.lastError?.message ?? null,
    };
  }

  /** Numbers for tracker announces: `left` counts only wanted data still missing. */
  trackerStats(): { uploaded: number; downloaded: number; left: number } {
    return {
      uploaded: this.uploadedBytes,
      downloaded: this.downloadedBytes,
      left: Math.max(0, this.wantedBytes - this.verifiedWantedBytes()),
    };
  }

  private pieceLength(piece: number): number {
    const m = this.metainfo;
    return Math.min(m.pieceLengthBytes, m.storageLengthBytes - piece * m.pieceLengthBytes);
  }

  private computeWantedBytes(pieceLength: (p: number) => number): number {
    let total = 0;
    for (let p = 0; p < this.metainfo.pieceCount; p++)
      if (this.picker.piecePriority(p) > 0 || this.picker.hasPiece(p)) total += pieceLength(p);
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
