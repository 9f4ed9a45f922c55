/**
 * The harness shared by the MetadataFetcher tests: in-memory peers of every kind from issue 9
 * (honest, silent, rejecting, and liars of several sorts) on a virtual clock, with a seeded
 * PRNG so every byte and latency is reproducible. Kept out of the test files so both topics
 * (who lies vs protocol faults and limits) drive the fetcher the same way.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type BEncodable, encode } from '../bencode/index.js';
import type { Metainfo } from '../metainfo/types.js';
import type { ExtendedHandshake } from '../wire/extension.js';
import { MAX_METADATA_BYTES, METADATA_PIECE_BYTES } from '../wire/limits.js';
import type { BlockRef, Message } from '../wire/messages.js';
import { decodeMetadataMessage, encodeMetadataMessage, metadataPieceCount } from '../wire/ut-metadata.js';
import { MetadataFetcher, type MetadataFetcherOptions } from './metadata-fetcher.js';
import type { PeerChannel, PeerChannelHandler } from './peer-channel.js';

/** xorshift32. */
export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

export const sha1 = (b: Uint8Array) => new Uint8Array(createHash('sha1').update(b).digest());
export const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** A valid v1 info dict with `hashes` made-up piece hashes (20 bytes each, NUL bytes included). */
export function v1Info(seed: number, hashes: number): Uint8Array {
  const pieces = new Rng(seed).bytes(20 * hashes);
  return encode({ name: 'fixture', 'piece length': 16384, length: hashes * 16384, pieces });
}

/** A valid v2-only info dict with `files` small files. */
export function v2Info(seed: number, files: number): Uint8Array {
  const rng = new Rng(seed);
  const tree = new Map<string, BEncodable>();
  for (let i = 0; i < files; i++) {
    const leaf = new Map<string, BEncodable>([
      ['length', 1000 + i],
      ['pieces root', rng.bytes(32)],
    ]);
    tree.set(`file-${String(i).padStart(4, '0')}.bin`, new Map([['', leaf]]));
  }
  return encode({ 'file tree': tree, 'meta version': 2, name: 'v2', 'piece length': 16384 });
}

/** 60,071 bytes: 4 metadata pieces, the last one short. */
export const HONEST = v1Info(1, 3000);
/** The same size and shape, another info-hash. */
export const OTHER = v1Info(2, 3000);
export const BIGGER = v1Info(3, 4000);
export const SMALLER = v1Info(4, 1500);
/** A claim of the largest size we accept (its bytes only set the length: it serves garbage). */
export const HUGE = new Uint8Array(MAX_METADATA_BYTES);
export const V2 = v2Info(5, 400);
export const V2_OTHER = v2Info(6, 400);
export const V1_TARGET = { infoHash: sha1(HONEST), infoHashV2: null };

export type Kind =
  | 'honest'
  | 'garbage'
  | 'other-dict'
  | 'bigger'
  | 'smaller'
  | 'one-bad-piece'
  | 'partial-reject'
  | 'wrong-total'
  | 'unrequested'
  | 'wrong-length'
  | 'huge'
  | 'silent'
  | 'rejecter';

/** Peers that never send bad metadata: they must never be blamed. */
export const TRUTHFUL: ReadonlySet<Kind> = new Set(['honest', 'silent', 'rejecter']);
export const LIAR_KINDS: readonly Kind[] = [
  'garbage',
  'other-dict',
  'bigger',
  'smaller',
  'one-bad-piece',
  'partial-reject',
  'wrong-total',
  'unrequested',
  'wrong-length',
];

export interface PeerSpec {
  readonly kind: Kind;
  readonly arriveMs?: number;
  /** Liars may leave; honest peers in these tests stay. */
  readonly leaveMs?: number;
  readonly port?: number;
  /** Answer delay (default: 1..300 ms at random). */
  readonly latencyMs?: number;
}

/** An in-memory PeerChannel that answers ut_metadata requests according to its kind. */
export class FakePeer implements PeerChannel {
  readonly remoteHost = '127.0.0.1';
  readonly remotePort: number;
  readonly peerId: Uint8Array;
  readonly isIncoming = false;
  readonly isFast = true;
  readonly peerExtended: ExtendedHandshake;
  readonly amChoking = true;
  readonly amInterested = false;
  readonly peerChoking = true;
  readonly peerInterested = false;
  readonly isWritable = true;
  readonly queuedBytes = 0;
  /** What it serves (its claimed size is this length). */
  readonly served: Uint8Array;
  readonly asked = new Set<number>();
  requests = 0;
  answers = 0;
  closedReason: string | null = null;
  hasLeft = false;
  /** It offered its metadata before the fetch ended. */
  hasArrived = false;
  /** It delivered something provably bad before the metadata was confirmed. */
  deliveredBad = false;

  constructor(
    private readonly sim: Sim,
    readonly spec: PeerSpec,
    index: number,
  ) {
    this.remotePort = spec.port ?? 10_000 + index;
    this.peerId = new Uint8Array(20).fill(index);
    this.served = servedBytes(sim.honest, spec.kind, sim.other);
    this.peerExtended = { m: new Map([['ut_metadata', 3]]), metadataSize: this.served.length };
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  sendExtension(name: string, payload: Uint8Array): boolean {
    if (this.isClosed) return false;
    assert.equal(name, 'ut_metadata');
    const msg = decodeMetadataMessage(payload); // what the fetcher sends must be valid
    assert.equal(msg.type, 'request', 'the fetcher only requests');
    this.requests++;
    this.asked.add(msg.piece);
    if (this.spec.kind !== 'silent') {
      const delayMs = this.spec.latencyMs ?? this.sim.rng.int(1, 300);
      this.sim.later(delayMs, () => this.answer(msg.piece));
    }
    return true;
  }

  close(reason: string): void {
    if (this.isClosed) return;
    this.closedReason = reason;
    // Like the session: closing reports back synchronously.
    this.sim.fetcher.removePeer(this);
  }

  leave(): void {
    if (this.isClosed) return;
    this.hasLeft = true;
    this.close('left');
  }

  private answer(piece: number): void {
    this.answers++;
    const size = this.served.length;
    const slice = (bytes: Uint8Array, p: number) =>
      bytes.subarray(p * METADATA_PIECE_BYTES, (p + 1) * METADATA_PIECE_BYTES);
    const data = (p: number, bytes: Uint8Array, totalSize = size) =>
      encodeMetadataMessage({ type: 'data', piece: p, totalSize, data: bytes });
    const honestBad = (bytes: Uint8Array) => () =>
      size !== this.sim.honest.length || !bytesEq(bytes, slice(this.sim.honest, piece));
    const own = slice(this.served, piece);
    switch (this.spec.kind) {
      case 'honest':
      case 'other-dict':
      case 'bigger':
      case 'smaller':
        return this.sim.deliver(this, data(piece, own), honestBad(own));
      case 'garbage':
      case 'huge': {
        const junk = this.sim.rng.bytes(own.length);
        return this.sim.deliver(this, data(piece, junk), honestBad(junk));
      }
      case 'one-bad-piece': {
        const last = piece === metadataPieceCount(size) - 1;
        const bytes = last ? this.sim.rng.bytes(own.length) : own;
        return this.sim.deliver(this, data(piece, bytes), honestBad(bytes));
      }
      case 'partial-reject': {
        if (this.answers > 2) {
          return this.sim.deliver(this, encodeMetadataMessage({ type: 'reject', piece }), () => false);
        }
        const junk = this.sim.rng.bytes(own.length);
        return this.sim.deliver(this, data(piece, junk), honestBad(junk));
      }
      case 'wrong-total': {
        const total = size + METADATA_PIECE_BYTES;
        const length = Math.min(METADATA_PIECE_BYTES, total - piece * METADATA_PIECE_BYTES);
        return this.sim.deliver(this, data(piece, this.sim.rng.bytes(length), total), () => true);
      }
      case 'wrong-length': {
        const head = encode({ msg_type: 1, piece, total_size: size });
        const body = this.sim.rng.bytes(own.length + 1);
        return this.sim.deliver(this, Uint8Array.from([...head, ...body]), () => true);
      }
      case 'unrequested': {
        // Answers with the highest piece it was not asked for (bad if still unasked on arrival).
        let other = metadataPieceCount(size) - 1;
        while (other >= 0 && this.asked.has(other)) other--;
        if (other < 0) return this.sim.deliver(this, data(piece, own), () => false);
        return this.sim.deliver(this, data(other, slice(this.served, other)), () => !this.asked.has(other));
      }
      case 'rejecter':
        return this.sim.deliver(this, encodeMetadataMessage({ type: 'reject', piece }), () => false);
      case 'silent':
        return;
    }
  }

  choke(): void {}
  unchoke(): void {}
  interested(): void {}
  notInterested(): void {}
  have(_piece: number): void {}
  request(_block: BlockRef): boolean {
    return false;
  }
  cancel(_block: BlockRef): void {}
  sendPiece(_piece: number, _offset: number, _data: Uint8Array): boolean {
    return false;
  }
  rejectRequest(_block: BlockRef): void {}
  sendMessage(_message: Message): void {}
  bind(_handler: PeerChannelHandler): void {}
}

export function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function servedBytes(honest: Uint8Array, kind: Kind, other: Uint8Array): Uint8Array {
  if (kind === 'other-dict') return other;
  if (kind === 'bigger') return BIGGER;
  if (kind === 'smaller') return SMALLER;
  if (kind === 'huge') return HUGE;
  return honest;
}

export interface Event {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A virtual clock, an event queue, the fetcher and its fake peers. */
export class Sim {
  nowMs = 0;
  readonly rng: Rng;
  readonly peers: FakePeer[] = [];
  readonly warnings: string[] = [];
  readonly bad = new Map<PeerChannel, string>();
  metadata: Metainfo | null = null;
  failed: Error | null = null;
  doneAtMs: number | null = null;
  readonly fetcher: MetadataFetcher;
  private readonly queue: Event[] = [];
  private seq = 0;

  constructor(
    specs: readonly PeerSpec[],
    opts: {
      seed?: number;
      honest?: Uint8Array;
      other?: Uint8Array;
      target?: MetadataFetcherOptions['target'];
    } = {},
  ) {
    this.rng = new Rng(opts.seed ?? 42);
    this.honest = opts.honest ?? HONEST;
    this.other = opts.other ?? OTHER;
    this.fetcher = new MetadataFetcher({
      target: opts.target ?? V1_TARGET,
      now: () => this.nowMs,
      onMetadata: (m) => {
        assert.equal(this.metadata, null, 'metadata delivered once');
        this.metadata = m;
        this.doneAtMs = this.nowMs;
      },
      onWarning: (message) => this.warnings.push(message),
      onFailed: (err) => {
        this.failed = err;
        this.doneAtMs = this.nowMs;
      },
      onBadPeer: (channel, reason) => {
        assert.equal(this.bad.has(channel), false, 'a peer is reported once');
        this.bad.set(channel, reason);
      },
    });
    for (const spec of specs) this.addPeer(spec);
  }

  readonly honest: Uint8Array;
  readonly other: Uint8Array;

  addPeer(spec: PeerSpec): FakePeer {
    const peer = new FakePeer(this, spec, this.peers.length);
    this.peers.push(peer);
    this.later(spec.arriveMs ?? 0, () => {
      if (peer.isClosed) return;
      if (this.doneAtMs === null) peer.hasArrived = true;
      this.fetcher.addPeer(peer);
    });
    if (spec.leaveMs !== undefined) this.later(spec.leaveMs, () => peer.leave());
    return peer;
  }

  later(delayMs: number, run: () => void): void {
    const ev = { atMs: this.nowMs + delayMs, seq: this.seq++, run };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.queue[mid]!;
      if (m.atMs < ev.atMs || (m.atMs === ev.atMs && m.seq < ev.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, ev);
  }

  deliver(peer: FakePeer, payload: Uint8Array, isBad: () => boolean): void {
    if (peer.isClosed) return;
    if (this.doneAtMs === null && isBad()) peer.deliveredBad = true;
    this.fetcher.onMessage(peer, payload);
  }

  /** Run events in time order with a fetcher tick every virtual second, until done or `limitMs`. */
  run(limitMs = 600_000): this {
    let nextTickMs = 1000;
    for (let steps = 0; this.doneAtMs === null && this.nowMs <= limitMs && steps < 500_000; steps++) {
      const ev = this.queue[0];
      if (ev === undefined || ev.atMs >= nextTickMs) {
        this.nowMs = nextTickMs;
        nextTickMs += 1000;
        this.fetcher.tick();
        continue;
      }
      this.queue.shift();
      this.nowMs = ev.atMs;
      ev.run();
    }
    return this;
  }

  get requests(): number {
    return this.peers.reduce((n, p) => n + p.requests, 0);
  }
}

/**
 * The outcome every scenario must have: the honest metadata, every liar that sent bad metadata
 * (and every peer still claiming a wrong size) reported and closed, no truthful peer blamed,
 * warnings at most one per peer (+1), and requests bounded.
 */
export function assertOutcome(sim: Sim): void {
  assert.ok(sim.metadata, `metadata delivered (warnings: ${sim.warnings.length}, at ${sim.nowMs} ms)`);
  assert.ok(bytesEq(sim.metadata.infoBytes, sim.honest), 'it is the honest metadata');
  for (const p of sim.peers) {
    const what = `peer ${p.remotePort} (${p.spec.kind})`;
    if (TRUTHFUL.has(p.spec.kind)) {
      assert.equal(sim.bad.get(p), undefined, `${what} is never blamed`);
      assert.equal(p.closedReason, null, `${what} is not closed`);
      continue;
    }
    const wrongSize = p.served.length !== sim.honest.length && p.hasArrived && !p.hasLeft;
    if (p.deliveredBad || wrongSize) {
      assert.ok(sim.bad.has(p), `${what} is reported`);
      if (!p.hasLeft) assert.match(p.closedReason ?? '', /^METADATA_/, `${what} is closed with a code`);
    }
  }
  assert.ok(sim.warnings.length <= sim.peers.length + 1, `${sim.warnings.length} warnings`);
  // Each peer fills at most the mixed assembly and its own one; re-requests only after timeouts.
  const pieces = metadataPieceCount(Math.max(...sim.peers.map((p) => p.served.length)));
  const timeoutRounds = Math.ceil(sim.nowMs / 10_000);
  const bound = sim.peers.length * (2 * pieces + 4 * timeoutRounds) + pieces;
  assert.ok(sim.requests <= bound, `${sim.requests} requests (bound ${bound})`);
}

export function run(specs: readonly PeerSpec[], opts?: ConstructorParameters<typeof Sim>[1]): Sim {
  const sim = new Sim(specs, opts).run();
  assertOutcome(sim);
  return sim;
}
