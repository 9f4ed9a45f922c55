import { createHash } from 'node:crypto';
import { MetainfoError, parseInfoDictionary } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { bytesEqual } from '../util/bytes.js';
import { errorMessage } from '../util/errors.js';
import { MAX_METADATA_BYTES, METADATA_PIECE_BYTES } from '../wire/limits.js';
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  type MetadataMessage,
  metadataPieceCount,
} from '../wire/ut-metadata.js';
import {
  ASSEMBLY_BUDGET_BYTES,
  type Assembly,
  addressOf,
  ENDGAME_AFTER_MS,
  MAX_ASSEMBLIES,
  MAX_DEPARTED,
  MAX_PEERS,
  MAX_REMEMBERED,
  MAX_TIMEOUTS,
  METADATA_ASSEMBLY_FAILED,
  MetadataFault,
  type MetadataFaultCode,
  type MetadataFetcherOptions,
  type MetadataProgress,
  type Peer,
  REQUEST_TIMEOUT_MS,
  SINGLE_OUTSTANDING,
  type SizeClaim,
  STALL_MS,
  sha1,
} from './metadata-fetch-state.js';
import { forgetRequest, isUsable, newAssembly, pickSource } from './metadata-peer-requests.js';
import type { PeerChannel } from './peer-channel.js';

// Public names stay importable from here, where callers have always found them.
export {
  METADATA_ASSEMBLY_FAILED,
  MetadataFault,
  type MetadataFaultCode,
  type MetadataFetcherOptions,
  type MetadataProgress,
} from './metadata-fetch-state.js';

/*
 * BEP 9 metadata from peers, so that one lying peer (or many) cannot stop a magnet download.
 *
 * The info-hash is the only check and it covers the whole info dictionary: a bad piece shows
 * only as a failed hash of a full assembly, which names neither the piece nor the peer. So:
 *
 * 1. Sizes are claims. Peers are grouped by the `metadata_size` of their extended handshake
 *    (1..MAX_METADATA_BYTES); a size is confirmed only by an assembly of it that hashes to the
 *    info-hash (v1 SHA-1 or v2 SHA-256).
 * 2. Mixed assembly (the fast path): one assembly at a time takes pieces from every peer of one
 *    size — the size with the most usable peers, earliest claim on ties — spread over them
 *    (least loaded first, a timed-out piece goes to a peer not yet asked for it), at most
 *    MIXED_OUTSTANDING requests per peer. Each stored piece remembers its sender.
 * 3. Isolation. When a mixed assembly fails and one peer sent all of it, that peer lied. If
 *    several did, the failure names nobody, so the size switches to isolation for good: each of
 *    its peers fills an assembly of its own, and a single-peer assembly that fails convicts its
 *    peer. Peers claiming a size other than the mixed one are isolated from the start, so liars
 *    in the majority on a wrong size do not delay an honest peer.
 * 4. Evidence. Every piece received is recorded as (peer, piece, SHA-1 of its bytes). A peer
 *    that sends two versions of one piece is dropped at once. When the metadata is confirmed,
 *    every peer whose recorded pieces differ from it, or whose claimed size differs, is dropped:
 *    liars are named even when their own assembly never finished.
 * 5. Protocol faults drop a peer at once: a malformed message (a piece of the wrong length is
 *    one), a `total_size` other than its claim, data for a piece never requested from it.
 * 6. Slow is not lying: a reject or MAX_TIMEOUTS timeouts rest a peer for STALL_MS (its
 *    single-peer assembly is given up; it rejoins the back of the queue). Nothing is blamed
 *    without evidence, which is why later claimants of a size whose every peer was convicted
 *    (a "discarded" size) are isolated last rather than dropped: an honest peer may arrive after
 *    liars that claimed the true size.
 *
 * Bounds. Memory: assembly buffers are made per piece as data arrives; the claimed sizes of all
 * live assemblies add up to at most ASSEMBLY_BUDGET_BYTES (one always fits, since
 * MAX_METADATA_BYTES is smaller) and there are at most MAX_ASSEMBLIES; evidence is 20 bytes per
 * piece per peer; at most MAX_PEERS peers and MAX_DEPARTED departed ones (kept for their
 * evidence). Warnings: one per failed assembly; a failed single-peer assembly drops its peer and
 * a failed mixed one drops its only peer or isolates its size for good, so failures stay below
 * peers + sizes. Messages: a piece is asked again of one peer only after a timeout.
 */

/**
 * BEP 9: fetch the info dictionary of a magnet link from peers and accept it only when its
 * hash equals the magnet's info-hash, naming and dropping every peer that lied on the way
 * (see the algorithm at the top of this file). Pure: no timers, no sockets; the session feeds
 * it channels, ut_metadata payloads and a `tick()` once a second.
 */
export class MetadataFetcher {
  private readonly peers = new Map<PeerChannel, Peer>();
  private readonly departed: Peer[] = [];
  private readonly claims = new Map<number, SizeClaim>();
  private readonly singles = new Set<Assembly>();
  private readonly remembered = new Set<string>();
  private readonly convicted = new WeakSet<PeerChannel>();
  private mixed: Assembly | null = null;
  private confirmedSize: number | null = null;
  private nextSeq = 0;
  private rotation = 0;
  private isBusy = false;
  private isDone = false;
  /** Counters for tests and status. */
  requestsSent = 0;
  failedAssemblies = 0;

  constructor(private readonly options: MetadataFetcherOptions) {}

  /** A peer's extended handshake arrived: use it if it offers metadata of a plausible size. */
  addPeer(channel: PeerChannel): void {
    this.run(() => this.admit(channel));
  }

  /** The connection closed. Its evidence is kept (bounded) in case the metadata convicts it. */
  removePeer(channel: PeerChannel): void {
    this.run(() => {
      const peer = this.peers.get(channel);
      if (!peer) return;
      this.peers.delete(channel);
      peer.isGone = true;
      this.detach(peer);
      if (!peer.isBad && !this.isDone && peer.evidence.size > 0) {
        this.departed.push(peer);
        if (this.departed.length > MAX_DEPARTED) this.departed.shift();
      }
    });
  }

  /** A `ut_metadata` message from `channel`. */
  onMessage(channel: PeerChannel, payload: Uint8Array): void {
    this.run(() => {
      let msg: MetadataMessage;
      try {
        msg = decodeMetadataMessage(payload);
      } catch (err) {
        return this.convictChannel(channel, MetadataFault.BadMessage, errorMessage(err));
      }
      if (msg.type === 'request') {
        // We have no metadata to serve yet.
        channel.sendExtension('ut_metadata', encodeMetadataMessage({ type: 'reject', piece: msg.piece }));
        return;
      }
      const peer = this.peers.get(channel);
      if (msg.type === 'reject') {
        if (peer?.outstanding.has(msg.piece)) this.stall(peer);
        return;
      }
      if (!peer) {
        return this.convictChannel(channel, MetadataFault.Unrequested, `data for piece ${msg.piece}`);
      }
      this.onData(peer, msg);
    });
  }

  /** Time out unanswered requests and ask again (call once a second). */
  tick(): void {
    this.run(() => {
      const now = this.options.now();
      for (const peer of [...this.peers.values()]) {
        for (const [piece, atMs] of [...peer.outstanding]) {
          if (now - atMs < REQUEST_TIMEOUT_MS) continue;
          forgetRequest(peer, piece);
          peer.timeouts++;
        }
        if (peer.timeouts >= MAX_TIMEOUTS) this.stall(peer);
      }
    });
  }

  progress(): MetadataProgress {
    let best: Assembly | null = null;
    for (const a of this.assemblies()) if (best === null || a.have > best.have) best = a;
    const sizeBytes = this.confirmedSize ?? best?.sizeBytes ?? null;
    const piecesTotal = sizeBytes === null ? 0 : metadataPieceCount(sizeBytes);
    return {
      sizeBytes,
      piecesHave: this.isDone ? piecesTotal : (best?.have ?? 0),
      piecesTotal,
      peers: [...this.peers.values()].filter((p) => !p.isBad).length,
    };
  }

  // ---- events ---------------------------------------------------------------------------------

  /**
   * Run an event, then schedule requests. Closing a channel (or a failed send) may call back
   * into `removePeer` synchronously; such nested calls only update state, and the outer call
   * schedules once at the end.
   */
  private run(event: () => void): void {
    if (this.isDone) return;
    if (this.isBusy) return event();
    this.isBusy = true;
    try {
      event();
      if (!this.isDone) this.schedule();
    } finally {
      this.isBusy = false;
    }
  }

  private admit(channel: PeerChannel): void {
    const ext = channel.peerExtended;
    const size = ext?.metadataSize;
    if (!ext?.m.has('ut_metadata') || size === undefined || this.peers.has(channel)) return;
    if (!Number.isInteger(size) || size < 1 || size > MAX_METADATA_BYTES) return;
    if (!channel.isIncoming && this.remembered.has(addressOf(channel))) {
      channel.close('sent bad metadata before');
      return;
    }
    if (this.peers.size >= MAX_PEERS) return;
    let claim = this.claims.get(size);
    if (!claim) {
      claim = { sizeBytes: size, firstSeq: this.nextSeq, mode: 'mixed' };
      this.claims.set(size, claim);
    }
    this.peers.set(channel, {
      channel,
      claim,
      queueSeq: this.nextSeq++,
      assembly: null,
      outstanding: new Map(),
      asked: new Set(),
      evidence: new Map(),
      timeouts: 0,
      stalledUntilMs: 0,
      isGone: false,
      isBad: false,
    });
  }

  private onData(peer: Peer, msg: Extract<MetadataMessage, { type: 'data' }>): void {
    if (peer.isBad) return;
    const { piece, data } = msg;
    if (msg.totalSize !== peer.claim.sizeBytes) {
      const detail = `total_size ${msg.totalSize}, claimed ${peer.claim.sizeBytes}`;
      return this.convict(peer, MetadataFault.SizeMismatch, detail);
    }
    if (!peer.asked.has(piece)) {
      return this.convict(peer, MetadataFault.Unrequested, `data for piece ${piece}`);
    }
    const digest = sha1(data);
    const earlier = peer.evidence.get(piece);
    if (earlier && !bytesEqual(earlier, digest)) {
      return this.convict(peer, MetadataFault.Inconsistent, `two versions of piece ${piece}`);
    }
    peer.evidence.set(piece, digest);
    if (peer.outstanding.has(piece)) {
      forgetRequest(peer, piece);
      peer.timeouts = 0;
    }
    const a = peer.assembly;
    if (a === null || a.pieces[piece] !== null) return;
    a.pieces[piece] = data.slice();
    a.sources[piece] = peer;
    a.have++;
    const other = a.inflight.get(piece);
    if (other !== undefined) forgetRequest(other, piece);
    if (a.have === a.pieces.length) this.finish(a);
  }

  // ---- assemblies -----------------------------------------------------------------------------

  private finish(a: Assembly): void {
    const info = new Uint8Array(a.sizeBytes);
    for (const [i, p] of a.pieces.entries()) info.set(p!, i * METADATA_PIECE_BYTES);
    const { infoHash, infoHashV2 } = this.options.target;
    const matches =
      (infoHash !== null && bytesEqual(sha1(info), infoHash)) ||
      (infoHashV2 !== null && bytesEqual(createHash('sha256').update(info).digest(), infoHashV2));
    if (matches) return this.succeed(info);
    this.drop(a);
    this.failedAssemblies++;
    const sources = new Set(a.sources.filter((p) => p !== null));
    this.options.onWarning(
      `metadata of ${a.sizeBytes} bytes from ${sources.size} peer(s) did not match the info-hash`,
      METADATA_ASSEMBLY_FAILED,
    );
    const [only] = sources;
    if (sources.size === 1 && only !== undefined) {
      const detail = `its ${a.sizeBytes}-byte metadata did not hash to the info-hash`;
      this.convict(only, MetadataFault.HashMismatch, detail);
    } else if (a.claim.mode === 'mixed') {
      // The failure names nobody: from now on each peer of this size fills an assembly alone.
      a.claim.mode = 'isolate';
    }
  }

  /** Confirmed: convict every peer the metadata proves wrong, then hand it over. */
  private succeed(info: Uint8Array): void {
    this.confirmedSize = info.length;
    const good: Uint8Array[] = [];
    for (let i = 0; i < metadataPieceCount(info.length); i++) {
      good.push(sha1(info.subarray(i * METADATA_PIECE_BYTES, (i + 1) * METADATA_PIECE_BYTES)));
    }
    for (const peer of [...this.peers.values(), ...this.departed]) {
      if (peer.isBad) continue;
      if (peer.claim.sizeBytes !== info.length) {
        const detail = `claimed ${peer.claim.sizeBytes} bytes, the metadata has ${info.length}`;
        this.convict(peer, MetadataFault.SizeMismatch, detail);
        continue;
      }
      for (const [piece, digest] of peer.evidence) {
        if (bytesEqual(digest, good[piece]!)) continue;
        this.convict(peer, MetadataFault.HashMismatch, `piece ${piece} differs from the confirmed metadata`);
        break;
      }
    }
    this.isDone = true;
    for (const a of [...this.assemblies()]) this.drop(a);
    this.departed.length = 0;
    this.peers.clear();
    let metainfo: Metainfo;
    try {
      metainfo = parseInfoDictionary(info);
    } catch (err) {
      // The hash matched, so the torrent itself is bad: nothing to retry.
      this.options.onFailed(err instanceof MetainfoError ? err : new Error(errorMessage(err)));
      return;
    }
    this.options.onMetadata(metainfo);
  }

  private *assemblies(): Iterable<Assembly> {
    if (this.mixed !== null) yield this.mixed;
    yield* this.singles;
  }

  /** Room for one more assembly of `sizeBytes` (the first always fits). */
  private fits(sizeBytes: number): boolean {
    let count = 0;
    let bytes = 0;
    for (const a of this.assemblies()) {
      count++;
      bytes += a.sizeBytes;
    }
    return count === 0 || (count < MAX_ASSEMBLIES && bytes + sizeBytes <= ASSEMBLY_BUDGET_BYTES);
  }

  private create(claim: SizeClaim, owner: Peer | null): Assembly {
    const a = newAssembly(claim, owner);
    if (owner === null) {
      this.mixed = a;
    } else {
      this.singles.add(a);
      owner.assembly = a;
    }
    return a;
  }

  /** Give an assembly up: its pieces are freed, its peers feed nothing until scheduled again. */
  private drop(a: Assembly): void {
    if (a.isDropped) return;
    a.isDropped = true;
    if (this.mixed === a) this.mixed = null;
    this.singles.delete(a);
    for (const [piece, peer] of [...a.inflight]) forgetRequest(peer, piece);
    for (const peer of this.peers.values()) if (peer.assembly === a) peer.assembly = null;
    if (a.owner !== null) a.owner.assembly = null;
  }

  // ---- peers ----------------------------------------------------------------------------------

  /** The peer feeds nothing any more; an assembly it was the only source of goes. */
  private detach(peer: Peer): void {
    for (const piece of [...peer.outstanding.keys()]) forgetRequest(peer, piece);
    const a = peer.assembly;
    peer.assembly = null;
    if (a !== null && a.owner === peer) this.drop(a);
  }

  /** It rejected us or kept timing out: leave it alone a while (not a fault). */
  private stall(peer: Peer): void {
    peer.stalledUntilMs = this.options.now() + STALL_MS;
    peer.timeouts = 0;
    for (const piece of [...peer.outstanding.keys()]) forgetRequest(peer, piece);
  }

  private convictChannel(channel: PeerChannel, code: MetadataFaultCode, detail: string): void {
    const peer = this.peers.get(channel);
    if (peer !== undefined) return this.convict(peer, code, detail);
    if (this.convicted.has(channel)) return;
    this.convicted.add(channel);
    this.report(channel, code, detail, true);
  }

  /** Proven bad: drop it, remember it, report it, close it. */
  private convict(peer: Peer, code: MetadataFaultCode, detail: string): void {
    if (peer.isBad) return;
    peer.isBad = true;
    this.convicted.add(peer.channel);
    this.detach(peer);
    // Its pieces are worthless: take them out so they do not spoil an assembly of honest ones.
    for (const a of this.assemblies()) {
      for (const [i, source] of a.sources.entries()) {
        if (source !== peer) continue;
        a.pieces[i] = null;
        a.sources[i] = null;
        a.have--;
      }
    }
    const claim = peer.claim;
    const isLeft = [...this.peers.values()].some((p) => p.claim === claim && !p.isBad && !p.isGone);
    if (!isLeft && claim.mode !== 'discarded') claim.mode = 'discarded';
    this.report(peer.channel, code, detail, !peer.isGone);
  }

  private report(channel: PeerChannel, code: MetadataFaultCode, detail: string, shouldClose: boolean): void {
    if (!channel.isIncoming) {
      if (this.remembered.size >= MAX_REMEMBERED)
        this.remembered.delete(this.remembered.values().next().value!);
      this.remembered.add(addressOf(channel));
    }
    this.options.onBadPeer(channel, code, detail);
    if (shouldClose) channel.close(`${code}: ${detail}`);
  }

  // ---- requests -------------------------------------------------------------------------------

  private schedule(): void {
    const now = this.options.now();
    const mixed = this.mixed;
    if (mixed !== null && ![...this.peers.values()].some((p) => p.assembly === mixed)) this.drop(mixed);
    if (this.mixed === null) this.startMixed(now);
    this.startSingles(now);
    if (this.mixed !== null) this.requestMixed(this.mixed, now);
    for (const a of [...this.singles]) this.requestSingle(a, now);
  }

  /** The mixed assembly takes the size with the most usable peers (earliest claim on ties). */
  private startMixed(nowMs: number): void {
    const counts = new Map<SizeClaim, number>();
    for (const p of this.peers.values()) {
      if (p.claim.mode !== 'mixed' || p.assembly !== null || !isUsable(p, nowMs)) continue;
      counts.set(p.claim, (counts.get(p.claim) ?? 0) + 1);
    }
    let best: SizeClaim | null = null;
    let bestCount = 0;
    for (const [claim, n] of counts) {
      if (n > bestCount || (n === bestCount && best !== null && claim.firstSeq < best.firstSeq)) {
        best = claim;
        bestCount = n;
      }
    }
    if (best === null || !this.fits(best.sizeBytes)) return;
    const a = this.create(best, null);
    for (const p of this.peers.values())
      if (p.claim === best && p.assembly === null && !p.isBad) p.assembly = a;
  }

  private needsIsolation(peer: Peer): boolean {
    return peer.claim.mode !== 'mixed' || (this.mixed !== null && this.mixed.claim !== peer.claim);
  }

  /** Single-peer assemblies for waiting peers, within the budget; peers of discarded sizes last. */
  private startSingles(nowMs: number): void {
    const mixed = this.mixed;
    const waiting: Peer[] = [];
    for (const p of this.peers.values()) {
      if (p.assembly !== null || !isUsable(p, nowMs)) continue;
      // A peer of the mixed size that arrived after the mixed assembly started joins it.
      if (mixed !== null && p.claim === mixed.claim) p.assembly = mixed;
      else if (this.needsIsolation(p)) waiting.push(p);
    }
    const rank = (p: Peer) => (p.claim.mode === 'discarded' ? 1 : 0);
    waiting.sort((x, y) => rank(x) - rank(y) || x.queueSeq - y.queueSeq);
    for (const p of waiting) {
      if (!this.fits(p.claim.sizeBytes)) this.evictStalled(nowMs);
      if (this.fits(p.claim.sizeBytes)) this.create(p.claim, p);
    }
  }

  /** Free the slot of one resting peer (it queues again at the back). */
  private evictStalled(nowMs: number): void {
    for (const a of this.singles) {
      const owner = a.owner!;
      if (nowMs >= owner.stalledUntilMs) continue;
      this.drop(a);
      owner.queueSeq = this.nextSeq++;
      return;
    }
  }

  private requestMixed(a: Assembly, nowMs: number): void {
    const members = [...this.peers.values()].filter((p) => p.assembly === a && isUsable(p, nowMs));
    for (let piece = 0; piece < a.pieces.length && members.length > 0; piece++) {
      if (a.isDropped) return;
      if (a.pieces[piece] !== null || a.inflight.has(piece)) continue;
      const peer = this.nextSource(members, piece, nowMs);
      if (peer === null) return;
      this.request(peer, a, piece, nowMs);
    }
    // Endgame: every missing piece is asked for; one kept waiting is asked of a fresh peer too
    // (at most once per peer), so a silent peer costs ENDGAME_AFTER_MS, not a full timeout.
    for (const [piece, holder] of [...a.inflight]) {
      const atMs = holder.outstanding.get(piece);
      if (a.isDropped || atMs === undefined || nowMs - atMs < ENDGAME_AFTER_MS) continue;
      const peer = this.nextSource(
        members.filter((p) => !p.asked.has(piece)),
        piece,
        nowMs,
      );
      if (peer !== null) this.request(peer, a, piece, nowMs);
    }
  }

  /** pickSource with this fetcher's rotation, which advances whenever a source is chosen. */
  private nextSource(members: readonly Peer[], piece: number, nowMs: number): Peer | null {
    const peer = pickSource(members, piece, nowMs, this.rotation);
    if (peer !== null) this.rotation++;
    return peer;
  }

  private requestSingle(a: Assembly, nowMs: number): void {
    const owner = a.owner!;
    for (let piece = 0; piece < a.pieces.length; piece++) {
      if (a.isDropped || !isUsable(owner, nowMs) || owner.outstanding.size >= SINGLE_OUTSTANDING) return;
      if (a.pieces[piece] === null && !a.inflight.has(piece)) this.request(owner, a, piece, nowMs);
    }
  }

  private request(peer: Peer, a: Assembly, piece: number, nowMs: number): void {
    // State first: a failed send may close the channel and call back into removePeer.
    peer.outstanding.set(piece, nowMs);
    peer.asked.add(piece);
    a.inflight.set(piece, peer);
    const payload = encodeMetadataMessage({ type: 'request', piece });
    if (peer.channel.sendExtension('ut_metadata', payload)) this.requestsSent++;
    else if (!peer.isGone && !peer.isBad) this.stall(peer);
  }
}
