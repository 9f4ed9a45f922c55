import { createHash } from 'node:crypto';
import { MetainfoError, parseInfoDictionary } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { bytesEqual } from '../util/bytes.js';
import { errorMessage } from '../util/errors.js';
import { MAX_METADATA_BYTES, METADATA_PIECE_BYTES } from '../wire/limits.js';
import { decodeMetadataMessage, encodeMetadataMessage, metadataPieceCount } from '../wire/ut-metadata.js';
import type { PeerChannel } from './peer-channel.js';

/** A metadata piece request unanswered this long goes to another peer. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Metadata pieces requested from one peer at a time. */
const PER_PEER_OUTSTANDING = 4;

interface Pending {
  readonly channel: PeerChannel;
  readonly atMs: number;
}

/**
 * BEP 9: fetch the info dictionary of a magnet link from peers, in 16 KiB pieces, and accept
 * it only when its hash equals the magnet's info-hash (v1 SHA-1, or v2 SHA-256). Peers that
 * disagree on `metadata_size` are ignored; a bad assembly is thrown away and fetched again.
 */
export class MetadataFetcher {
  private sizeBytes: number | null = null;
  private pieces: (Uint8Array | null)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly peers = new Set<PeerChannel>();
  private isDone = false;

  constructor(
    private readonly target: { readonly infoHash: Uint8Array | null; readonly infoHashV2: Uint8Array | null },
    private readonly now: () => number,
    private readonly onMetadata: (metainfo: Metainfo) => void,
    private readonly onWarning: (message: string) => void,
    private readonly onFailed: (err: Error) => void,
  ) {}

  /** A peer's extended handshake arrived: use it if it offers metadata of a plausible size. */
  addPeer(channel: PeerChannel): void {
    const ext = channel.peerExtended;
    const size = ext?.metadataSize;
    if (this.isDone || !ext?.m.has('ut_metadata') || size === undefined || size > MAX_METADATA_BYTES) return;
    if (this.sizeBytes === null) {
      this.sizeBytes = size;
      this.pieces = new Array<Uint8Array | null>(metadataPieceCount(size)).fill(null);
    } else if (size !== this.sizeBytes) {
      return; // disagrees with the size we are assembling; a hash check would fail anyway
    }
    this.peers.add(channel);
    this.requestMore();
  }

  removePeer(channel: PeerChannel): void {
    this.peers.delete(channel);
    for (const [piece, p] of this.pending) if (p.channel === channel) this.pending.delete(piece);
    this.requestMore();
  }

  /** A `ut_metadata` message from `channel`. */
  onMessage(channel: PeerChannel, payload: Uint8Array): void {
    if (this.isDone) return;
    let msg: ReturnType<typeof decodeMetadataMessage>;
    try {
      msg = decodeMetadataMessage(payload);
    } catch (err) {
      channel.close(`bad ut_metadata message: ${errorMessage(err)}`);
      return;
    }
    if (msg.type === 'request') {
      channel.sendExtension('ut_metadata', encodeMetadataMessage({ type: 'reject', piece: msg.piece }));
      return;
    }
    const pending = this.pending.get(msg.piece);
    if (pending?.channel === channel) this.pending.delete(msg.piece);
    if (msg.type === 'reject') {
      this.peers.delete(channel); // it will not serve us; keep the connection for the swarm
    } else if (msg.totalSize === this.sizeBytes && this.pieces[msg.piece] === null) {
      this.pieces[msg.piece] = msg.data.slice();
      if (this.pieces.every((p) => p !== null)) return this.assemble();
    }
    this.requestMore();
  }

  /** Re-request timed-out pieces from other peers (call once a second). */
  tick(): void {
    const now = this.now();
    for (const [piece, p] of this.pending) if (now - p.atMs >= REQUEST_TIMEOUT_MS) this.pending.delete(piece);
    this.requestMore();
  }

  private requestMore(): void {
    if (this.isDone || this.sizeBytes === null) return;
    const load = new Map<PeerChannel, number>();
    for (const p of this.pending.values()) load.set(p.channel, (load.get(p.channel) ?? 0) + 1);
    const peers = [...this.peers];
    let next = 0;
    for (let piece = 0; piece < this.pieces.length && peers.length > 0; piece++) {
      if (this.pieces[piece] !== null || this.pending.has(piece)) continue;
      for (let tries = 0; tries < peers.length; tries++) {
        const ch = peers[next++ % peers.length]!;
        if ((load.get(ch) ?? 0) >= PER_PEER_OUTSTANDING) continue;
        if (!ch.sendExtension('ut_metadata', encodeMetadataMessage({ type: 'request', piece }))) continue;
        load.set(ch, (load.get(ch) ?? 0) + 1);
        this.pending.set(piece, { channel: ch, atMs: this.now() });
        break;
      }
    }
  }

  private assemble(): void {
    const total = this.sizeBytes ?? 0;
    const info = new Uint8Array(total);
    for (const [i, p] of this.pieces.entries()) info.set(p!, i * METADATA_PIECE_BYTES);
    const matches =
      (this.target.infoHash !== null &&
        bytesEqual(createHash('sha1').update(info).digest(), this.target.infoHash)) ||
      (this.target.infoHashV2 !== null &&
        bytesEqual(createHash('sha256').update(info).digest(), this.target.infoHashV2));
    if (!matches) {
      this.onWarning('metadata from peers did not match the info-hash; fetching it again');
      this.pieces.fill(null);
      return this.requestMore();
    }
    let metainfo: Metainfo;
    try {
      metainfo = parseInfoDictionary(info);
    } catch (err) {
      // The hash matched, so the torrent itself is bad: nothing to retry.
      this.isDone = true;
      this.onFailed(err instanceof MetainfoError ? err : new Error(errorMessage(err)));
      return;
    }
    this.isDone = true;
    this.pending.clear();
    this.onMetadata(metainfo);
  }
}
