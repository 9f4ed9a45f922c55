/**
 * The per-connection BitTorrent state machine, sans-I/O (STYLE "the one idea"): bytes in via
 * {@link PeerProtocol.receive}, bytes out via an injected `send`, time via `tick(nowMs)` and an
 * injected Clock, decisions out as plain callbacks.
 *
 * What it tracks (and what it leaves to the swarm layer):
 * - handshake phase: our handshake, theirs, the info-hash check, self-connection check;
 * - choke/interest in both directions, the peer's pieces (a Bitfield once the piece count is
 *   known), the peer's allowed-fast set and extension ids;
 * - our requests to the peer (capped at `maxOutstandingRequests`; *which* blocks and how many
 *   is the swarm layer's choice) and recently cancelled ones, to tell late pieces from
 *   unsolicited ones (BEP 6: an unrequested piece from a fast peer closes the connection);
 * - the peer's requests to us, capped at `maxPeerRequests` (our advertised `reqq`);
 * - timeouts: handshake, idle, and keep-alive emission (BEP 3: keep-alives "generally every two minutes").
 * Every close records a {@link WireError} reason, delivered once through `onClose`.
 */

import { Bitfield } from '../util/bitfield.js';
import { bytesEqual } from '../util/bytes.js';
import { assertNever } from '../util/errors.js';
import { BlockSet } from './block-set.js';
import { FrameDecoder } from './decoder.js';
import { WireError, type WireErrorCode } from './errors.js';
import {
  decodeExtendedHandshake,
  type ExtendedHandshake,
  encodeExtendedHandshake,
  LOCAL_EXTENSION_IDS,
  localExtensionName,
} from './extension.js';
import { encodeHandshake, type Handshake } from './handshake.js';
import {
  type BlockRef,
  encodeMessage,
  encodePieceHeader,
  type Message,
  MsgId,
  type PieceIndex,
} from './messages.js';
import {
  DEFAULT_PEER_PROTOCOL_SETTINGS,
  type PeerProtocolOptions,
  type TorrentContext,
} from './peer-protocol-types.js';

export {
  DEFAULT_PEER_PROTOCOL_SETTINGS,
  type PeerProtocolHandler,
  type PeerProtocolOptions,
  type TorrentContext,
} from './peer-protocol-types.js';

/** Unsolicited piece bytes tolerated from a non-fast peer (late pieces after a choke) before closing. */
export const MAX_UNSOLICITED_PIECE_BYTES = 1024 * 1024;
/** Haves remembered while the piece count is unknown; beyond this they are dropped. */
const MAX_PENDING_HAVES = 1 << 16;
/** Allowed-fast pieces remembered from one peer (BEP 6 suggests k = 10). */
const MAX_ALLOWED_FAST = 256;

const CHOKE = encodeMessage({ id: MsgId.Choke });
const UNCHOKE = encodeMessage({ id: MsgId.Unchoke });
const INTERESTED = encodeMessage({ id: MsgId.Interested });
const NOT_INTERESTED = encodeMessage({ id: MsgId.NotInterested });
const KEEP_ALIVE = encodeMessage({ id: MsgId.KeepAlive });
const HAVE_ALL = encodeMessage({ id: MsgId.HaveAll });
const HAVE_NONE = encodeMessage({ id: MsgId.HaveNone });

/** See the module comment. */
export class PeerProtocol {
  private readonly options: PeerProtocolOptions;
  private readonly settings: typeof DEFAULT_PEER_PROTOCOL_SETTINGS;
  private readonly decoder: FrameDecoder;
  private torrentContext: TorrentContext | null;
  private remote: Handshake | null = null;
  private remoteExtensions: ExtendedHandshake | null = null;
  private readonly startedMs: number;
  private lastReceivedMs: number;
  private lastSentMs: number;
  private closeReason: WireError | null = null;
  private hasSentHandshake = false;
  private unsolicitedBytes = 0;
  private rejectedFloodCount = 0;
  private peerPieces: Bitfield | null = null;
  private pendingBitfield: Uint8Array | null = null;
  private isPendingHaveAll = false;
  private readonly pendingHaves: number[] = [];
  private readonly peerAllowedFast = new Set<number>();
  private readonly ourAllowedFast = new Set<number>();
  /** Our requests to the peer, and ones we cancelled or that a non-fast choke dropped. */
  private readonly requested: BlockSet;
  private readonly cancelled: BlockSet;
  /** The peer's requests to us. */
  private readonly peerRequests: BlockSet;

  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;

  constructor(options: PeerProtocolOptions) {
    this.options = options;
    this.settings = { ...DEFAULT_PEER_PROTOCOL_SETTINGS, ...definedOnly(options) };
    this.torrentContext = options.torrent ?? null;
    this.startedMs = this.lastReceivedMs = this.lastSentMs = options.clock.now();
    this.requested = new BlockSet();
    this.cancelled = new BlockSet();
    this.peerRequests = new BlockSet();
    this.decoder = new FrameDecoder(
      {
        onHandshake: (h) => this.onPeerHandshake(h),
        onMessage: (m) => this.onPeerMessage(m),
        onUnknownMessage: () => {}, // BEP 10 era clients send ids we do not know: skip, never buffer.
      },
      // Piece data of a split frame is then valid only during onMessage: the session copies
      // every block into its piece buffer at once (PieceAssembler.addBlock).
      { pieceCount: this.torrentContext?.pieceCount ?? null, reusePieceBody: true },
    );
    if (options.isOutgoing) {
      if (this.torrentContext === null) throw new Error('an outgoing PeerProtocol needs a torrent');
      this.sendHandshake();
    } else if (options.lookupTorrent === undefined && options.torrent === undefined) {
      throw new Error('an incoming PeerProtocol needs lookupTorrent or torrent');
    }
  }

  // ---- state for the owner ------------------------------------------------------------------

  get isClosed(): boolean {
    return this.closeReason !== null;
  }
  /** Why the connection ended (null while open). */
  get reason(): WireError | null {
    return this.closeReason;
  }
  get isHandshakeDone(): boolean {
    return this.remote !== null && this.hasSentHandshake;
  }
  get peerHandshake(): Handshake | null {
    return this.remote;
  }
  get peerExtendedHandshake(): ExtendedHandshake | null {
    return this.remoteExtensions;
  }
  get torrent(): TorrentContext | null {
    return this.torrentContext;
  }
  /** The peer's pieces; null until the piece count is known. */
  get peerBitfield(): Bitfield | null {
    return this.peerPieces;
  }
  get outstandingRequestCount(): number {
    return this.requested.size;
  }
  get peerRequestCount(): number {
    return this.peerRequests.size;
  }
  /** Bytes held by the frame decoder (bounded by its limits). */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }
  get isFast(): boolean {
    return this.options.features.fast && (this.remote?.features.fast ?? false);
  }
  private get isManagingExtensions(): boolean {
    return this.options.manageExtensions ?? true;
  }
  get isExtended(): boolean {
    return this.options.features.extensions && (this.remote?.features.extensions ?? false);
  }
  /** Whether the peer allowed us to request `piece` while choked (BEP 6). */
  isAllowedFast(piece: number): boolean {
    return this.peerAllowedFast.has(piece);
  }
  /** Whether a request for this block is outstanding. */
  isRequested(block: BlockRef): boolean {
    return this.requested.has(block.piece, block.offset);
  }

  // ---- input --------------------------------------------------------------------------------

  /** Bytes from the socket. Protocol violations close the connection with the error's code. */
  receive(chunk: Uint8Array): void {
    if (this.isClosed) return;
    this.lastReceivedMs = this.options.clock.now();
    try {
      this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.close(err);
    }
  }

  /** Drive timeouts and keep-alives; call about once a second from one shared timer. */
  tick(nowMs: number): void {
    if (this.isClosed) return;
    const s = this.settings;
    if (!this.isHandshakeDone) {
      if (nowMs - this.startedMs >= s.handshakeTimeoutMs) {
        this.fail('WIRE_HANDSHAKE_TIMEOUT', `no handshake within ${s.handshakeTimeoutMs} ms`);
      }
      return;
    }
    if (nowMs - this.lastReceivedMs >= s.idleTimeoutMs) {
      this.fail('WIRE_IDLE_TIMEOUT', `nothing received for ${s.idleTimeoutMs} ms`);
      return;
    }
    if (nowMs - this.lastSentMs >= s.keepAliveIntervalMs) this.write(KEEP_ALIVE);
  }

  /** The piece count became known (metadata arrived): validate and apply what the peer sent so far. */
  setTorrent(torrent: TorrentContext): void {
    this.torrentContext = torrent;
    if (torrent.pieceCount === null) return;
    this.decoder.setPieceCount(torrent.pieceCount);
    this.materializePeerPieces(torrent.pieceCount);
  }

  /** End the connection with `reason` (idempotent). */
  close(reason: WireError): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.decoder.stop();
    this.options.handler.onClose(reason);
  }

  /** Close because we chose to (shutdown, not useful). */
  closeLocally(why = 'closed locally'): void {
    this.close(new WireError('WIRE_CLOSED_LOCALLY', why));
  }

  // ---- output -------------------------------------------------------------------------------

  choke(): void {
    if (this.amChoking || this.isClosed) return;
    this.amChoking = true;
    if (!this.isHandshakeDone) return;
    this.write(CHOKE);
    // BEP 6: a fast peer rejects every pending request except allowed-fast ones; otherwise a choke drops them.
    for (const block of this.peerRequests.values()) {
      if (this.isFast && this.ourAllowedFast.has(block.piece)) continue;
      this.peerRequests.delete(block.piece, block.offset);
      if (this.isFast) this.writeBlockMsg(MsgId.Reject, block);
    }
  }

  unchoke(): void {
    if (!this.amChoking || this.isClosed) return;
    this.amChoking = false;
    if (this.isHandshakeDone) this.write(UNCHOKE);
  }

  interested(): void {
    if (this.amInterested || this.isClosed) return;
    this.amInterested = true;
    if (this.isHandshakeDone) this.write(INTERESTED);
  }

  notInterested(): void {
    if (!this.amInterested || this.isClosed) return;
    this.amInterested = false;
    if (this.isHandshakeDone) this.write(NOT_INTERESTED);
  }

  have(piece: number): void {
    if (this.isHandshakeDone && !this.isClosed)
      this.write(encodeMessage({ id: MsgId.Have, piece: piece as PieceIndex }));
  }

  /** BEP 6: let the peer request `piece` while choked. Ignored unless fast was negotiated. */
  allowFast(piece: number): void {
    if (!this.isFast || this.isClosed || this.ourAllowedFast.has(piece)) return;
    this.ourAllowedFast.add(piece);
    this.write(encodeMessage({ id: MsgId.AllowedFast, piece: piece as PieceIndex }));
  }

  /**
   * Request a block. False (nothing sent) when closed, at the outstanding cap, already
   * requested, or the peer chokes us and `piece` is not allowed-fast.
   */
  request(block: BlockRef): boolean {
    if (this.isClosed || !this.isHandshakeDone) return false;
    if (this.requested.size >= this.settings.maxOutstandingRequests) return false;
    if (this.peerChoking && !(this.isFast && this.peerAllowedFast.has(block.piece))) return false;
    if (!this.requested.add(block)) return false;
    // A block cancelled and requested again may be answered twice (the peer may have sent the
    // first answer before our cancel arrived): the cancelled record stays to accept that one.
    this.writeBlockMsg(MsgId.Request, block);
    return true;
  }

  /** Cancel an outstanding request (endgame). A late piece for it is still accepted. */
  cancel(block: BlockRef): void {
    const found = this.requested.take(block.piece, block.offset);
    if (found === undefined || this.isClosed) return;
    this.rememberCancelled(found);
    this.writeBlockMsg(MsgId.Cancel, found);
  }

  /**
   * Send a block the peer requested. False if the request is no longer pending (cancelled,
   * or dropped by a choke): then nothing is sent.
   */
  sendPiece(piece: number, offset: number, data: Uint8Array): boolean {
    if (this.isClosed) return false;
    const pending = this.peerRequests.take(piece, offset);
    if (pending === undefined || pending.length !== data.length) return false;
    this.send([encodePieceHeader(piece, offset, data.length), data]);
    return true;
  }

  /** Decline a pending peer request (BEP 6 reject when fast, else just forget it). */
  rejectRequest(block: BlockRef): void {
    if (this.peerRequests.take(block.piece, block.offset) !== undefined && this.isFast && !this.isClosed) {
      this.writeBlockMsg(MsgId.Reject, block);
    }
  }

  /** Send an extended message by extension name; false if the peer does not support it. */
  sendExtension(name: string, payload: Uint8Array): boolean {
    const id = this.remoteExtensions?.m.get(name);
    if (id === undefined || this.isClosed) return false;
    this.write(encodeMessage({ id: MsgId.Extended, extId: id, payload }));
    return true;
  }

  /** Send any message as-is (tests, rarely used messages such as `port`). */
  sendMessage(msg: Message): void {
    if (!this.isClosed) this.write(encodeMessage(msg));
  }

  // ---- internals ----------------------------------------------------------------------------

  private send(chunks: readonly Uint8Array[]): void {
    this.lastSentMs = this.options.clock.now();
    this.options.send(chunks);
  }

  private write(frame: Uint8Array): void {
    this.send([frame]);
  }

  private writeBlockMsg(
    id: typeof MsgId.Request | typeof MsgId.Cancel | typeof MsgId.Reject,
    b: BlockRef,
  ): void {
    this.write(encodeMessage({ id, piece: b.piece, offset: b.offset, length: b.length }));
  }

  private fail(code: WireErrorCode, message: string): void {
    this.close(new WireError(code, message));
  }

  private sendHandshake(): void {
    const torrent = this.torrentContext!;
    this.send([
      encodeHandshake({
        features: this.options.features,
        infoHash: torrent.infoHash,
        peerId: this.options.localPeerId,
      }),
    ]);
    this.hasSentHandshake = true;
  }

  private onPeerHandshake(h: Handshake): void {
    const torrent = this.options.isOutgoing ? this.torrentContext : this.lookup(h.infoHash);
    if (torrent === null || !bytesEqual(torrent.infoHash, h.infoHash)) {
      throw new WireError('WIRE_WRONG_INFO_HASH', 'the peer handshake names a torrent we do not serve');
    }
    if (bytesEqual(h.peerId, this.options.localPeerId)) {
      throw new WireError('WIRE_SELF_CONNECTION', 'connected to ourselves');
    }
    this.remote = h;
    if (!this.options.isOutgoing) {
      this.torrentContext = torrent;
      if (torrent.pieceCount !== null) this.decoder.setPieceCount(torrent.pieceCount);
      this.sendHandshake();
    }
    if (torrent.bitfield) this.sendPieceSet(torrent.bitfield());
    if (this.isExtended && this.isManagingExtensions) this.sendExtendedHandshake();
    // State changed before the handshake completed is announced now.
    if (!this.amChoking) this.write(UNCHOKE);
    if (this.amInterested) this.write(INTERESTED);
    this.options.handler.onHandshake?.(h, torrent);
  }

  /** BEP 3/6: our piece set is the first message after the handshake; have-all/have-none when fast allows. */
  private sendPieceSet(have: Bitfield | null): void {
    if (this.isFast && have?.hasAll() && have.length > 0) this.write(HAVE_ALL);
    else if (this.isFast && (have === null || have.hasNone())) this.write(HAVE_NONE);
    else if (have !== null && !have.hasNone())
      this.write(encodeMessage({ id: MsgId.Bitfield, bits: have.toBytes() }));
  }

  private lookup(infoHash: Uint8Array): TorrentContext | null {
    if (this.options.lookupTorrent) return this.options.lookupTorrent(infoHash);
    return this.torrentContext;
  }

  private sendExtendedHandshake(): void {
    const extra = this.options.extendedHandshake?.() ?? {};
    const payload = encodeExtendedHandshake({
      ...extra,
      m: extra.m ?? LOCAL_EXTENSION_IDS,
      reqq: this.settings.maxPeerRequests,
    });
    this.write(encodeMessage({ id: MsgId.Extended, extId: 0, payload }));
  }

  /** Decoded message: check it against the negotiated features and state, update, then report. */
  private onPeerMessage(msg: Message): void {
    if (this.isClosed) return;
    switch (msg.id) {
      case MsgId.KeepAlive:
      case MsgId.Port:
      case MsgId.HashRequest:
      case MsgId.Hashes:
      case MsgId.HashReject:
        break;
      case MsgId.Choke:
        this.onChoked();
        break;
      case MsgId.Unchoke:
        this.peerChoking = false;
        break;
      case MsgId.Interested:
        this.peerInterested = true;
        break;
      case MsgId.NotInterested:
        this.peerInterested = false;
        break;
      case MsgId.Have:
        this.onHave(msg.piece);
        break;
      case MsgId.Bitfield:
      case MsgId.HaveAll:
      case MsgId.HaveNone:
        this.onPieceSet(msg);
        break;
      case MsgId.Request:
        if (!this.onRequest(msg)) return;
        break;
      case MsgId.Piece:
        if (!this.onPiece(msg.piece, msg.offset, msg.data.length)) return;
        break;
      case MsgId.Cancel:
        this.onCancel(msg);
        break;
      case MsgId.Suggest:
      case MsgId.Reject:
      case MsgId.AllowedFast:
        if (!this.onFastMessage(msg)) return;
        break;
      case MsgId.Extended:
        if (!this.isExtended)
          throw new WireError('WIRE_EXTENSION_NOT_NEGOTIATED', 'extended message without BEP 10');
        if (!this.isManagingExtensions) break;
        this.onExtended(msg.extId, msg.payload);
        return;
      default:
        assertNever(msg, 'message');
    }
    if (!this.isClosed) this.options.handler.onMessage(msg);
  }

  private onChoked(): void {
    this.peerChoking = true;
    if (this.isFast) return; // BEP 6: choke no longer implicitly rejects pending requests.
    for (const block of this.requested.values()) this.rememberCancelled(block);
    this.requested.clear();
  }

  private onHave(piece: number): void {
    if (this.peerPieces !== null) this.peerPieces.set(piece);
    else if (this.pendingHaves.length < MAX_PENDING_HAVES) this.pendingHaves.push(piece);
  }

  private onPieceSet(
    msg: Message & { id: typeof MsgId.Bitfield | typeof MsgId.HaveAll | typeof MsgId.HaveNone },
  ): void {
    if (msg.id !== MsgId.Bitfield && !this.isFast) {
      throw new WireError('WIRE_FAST_NOT_NEGOTIATED', 'have-all/have-none without the fast extension');
    }
    // BEP 3/6 want one piece-set message right after the handshake, but real clients send
    // more (aria2: have-none, later a bitfield). Pieces are only ever added, so a later set is
    // merged (union) with what we know instead of closing an honest connection.
    if (msg.id === MsgId.Bitfield) this.pendingBitfield = msg.bits.slice();
    else this.isPendingHaveAll = msg.id === MsgId.HaveAll;
    const count = this.torrentContext?.pieceCount ?? null;
    if (count !== null) this.materializePeerPieces(count);
  }

  private materializePeerPieces(pieceCount: number): void {
    let pieces: Bitfield;
    if (this.pendingBitfield !== null) {
      try {
        pieces = Bitfield.fromBytes(this.pendingBitfield, pieceCount);
      } catch (err) {
        this.close(
          new WireError('WIRE_BAD_BITFIELD', 'bitfield does not match the piece count', { cause: err }),
        );
        return;
      }
    } else pieces = this.isPendingHaveAll ? Bitfield.full(pieceCount) : new Bitfield(pieceCount);
    const merged = this.peerPieces;
    if (merged !== null) for (const i of merged) pieces.set(i);
    for (const i of this.pendingHaves) {
      if (i >= pieceCount) {
        this.close(new WireError('WIRE_BAD_HAVE', `have for piece ${i} of ${pieceCount}`));
        return;
      }
      pieces.set(i);
    }
    this.pendingHaves.length = 0;
    this.pendingBitfield = null;
    this.peerPieces = pieces;
  }

  /** A request from the peer; false when it is not passed on (rejected or ignored). */
  private onRequest(req: BlockRef): boolean {
    const torrent = this.torrentContext;
    const count = torrent?.pieceCount ?? null;
    if (torrent === null || count === null || req.piece >= count) {
      throw new WireError('WIRE_BAD_REQUEST', `request for piece ${req.piece} outside the torrent`);
    }
    if (req.offset + req.length > torrent.pieceLength(req.piece)) {
      throw new WireError('WIRE_BAD_REQUEST', `request beyond the end of piece ${req.piece}`);
    }
    if (!torrent.hasPiece(req.piece)) {
      throw new WireError(
        'WIRE_REQUEST_NOT_HAVE',
        `request for piece ${req.piece}, which we never announced`,
      );
    }
    if (this.amChoking && !this.ourAllowedFast.has(req.piece)) {
      // BEP 6: reject requests from a peer we choke; without fast they are silently dropped.
      if (this.isFast) this.writeBlockMsg(MsgId.Reject, req);
      return false;
    }
    if (this.peerRequests.has(req.piece, req.offset)) return false;
    if (this.peerRequests.size >= this.settings.maxPeerRequests) return this.onRequestOverCap(req);
    this.peerRequests.add(req);
    return true;
  }

  private onRequestOverCap(req: BlockRef): false {
    const cap = this.settings.maxPeerRequests;
    // A fast peer gets rejects (it may have misjudged reqq) until it exceeds the cap again over; then we close.
    if (!this.isFast || ++this.rejectedFloodCount > cap) {
      throw new WireError('WIRE_REQUEST_FLOOD', `more than ${cap} pending requests`);
    }
    this.writeBlockMsg(MsgId.Reject, req);
    return false;
  }

  /** A piece from the peer; false when dropped. */
  private onPiece(piece: number, offset: number, length: number): boolean {
    const block = this.requested.take(piece, offset) ?? this.cancelled.take(piece, offset);
    if (block !== undefined && block.length === length) return true;
    // BEP 6: "if a peer receives a piece that was never requested, the peer MUST close the connection."
    this.unsolicitedBytes += length;
    if (this.isFast || this.unsolicitedBytes > MAX_UNSOLICITED_PIECE_BYTES) {
      throw new WireError('WIRE_UNSOLICITED_PIECE', `unrequested piece ${piece}+${offset} (${length} bytes)`);
    }
    return false;
  }

  private onCancel(req: BlockRef): void {
    // BEP 6: a cancelled request still gets exactly one answer; we answer with a reject.
    const pending = this.peerRequests.take(req.piece, req.offset);
    if (pending !== undefined && this.isFast) this.writeBlockMsg(MsgId.Reject, pending);
  }

  private onFastMessage(
    msg: Message & { id: typeof MsgId.Suggest | typeof MsgId.Reject | typeof MsgId.AllowedFast },
  ): boolean {
    if (!this.isFast)
      throw new WireError('WIRE_FAST_NOT_NEGOTIATED', 'fast extension message without the fast extension');
    if (msg.id === MsgId.AllowedFast) {
      if (this.peerAllowedFast.size < MAX_ALLOWED_FAST) this.peerAllowedFast.add(msg.piece);
      return true;
    }
    if (msg.id === MsgId.Reject) {
      const block = this.requested.take(msg.piece, msg.offset) ?? this.cancelled.take(msg.piece, msg.offset);
      return block !== undefined; // a reject for a request never sent is dropped (BEP 6 allows closing)
    }
    return true;
  }

  private onExtended(extId: number, payload: Uint8Array): void {
    if (!this.isExtended)
      throw new WireError('WIRE_EXTENSION_NOT_NEGOTIATED', 'extended message without BEP 10');
    if (extId === 0) {
      this.remoteExtensions = decodeExtendedHandshake(payload);
      this.options.handler.onExtendedHandshake?.(this.remoteExtensions);
      return;
    }
    const name = localExtensionName(extId);
    if (name !== undefined) this.options.handler.onExtension?.(name, payload);
  }

  private rememberCancelled(block: BlockRef): void {
    // Bounded: at most twice the outstanding cap; the oldest are forgotten first.
    if (this.cancelled.size >= 2 * this.settings.maxOutstandingRequests) this.cancelled.deleteOldest();
    this.cancelled.add(block);
  }
}

function definedOnly(o: PeerProtocolOptions): Partial<typeof DEFAULT_PEER_PROTOCOL_SETTINGS> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(
    DEFAULT_PEER_PROTOCOL_SETTINGS,
  ) as (keyof typeof DEFAULT_PEER_PROTOCOL_SETTINGS)[]) {
    const v = o[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}
