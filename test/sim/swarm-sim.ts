/**
 * A deterministic in-process swarm on a virtual clock, driving peerdrop's real swarm policy
 * (PiecePicker, chooseUnchoked, RequestPipeline) with peers as ids and no wire bytes.
 *
 * Network model: every node is connected to every other; each message takes `latencyMs`
 * one way; a node's upload is a single server that sends one 16 KiB block at a time at its
 * upload cap, round-robin over the peers it unchokes (a packet model of a fair-queued
 * uplink). Downloads are not capped. Pieces verify instantly (nobody lies here). Leechers
 * keep seeding after they complete, as the fluid model assumes.
 */
import { type ChokerPeer, chooseUnchoked, DEFAULT_CHOKER_SETTINGS } from '../../src/swarm/choker.js';
import { PiecePicker } from '../../src/swarm/piece-picker.js';
import { RateMeter } from '../../src/swarm/rate-meter.js';
import { RequestPipeline } from '../../src/swarm/request-pipeline.js';
import type { BlockRef } from '../../src/swarm/types.js';
import { Bitfield } from '../../src/util/bitfield.js';
import type { Clock } from '../../src/util/clock.js';
import { seededRandom } from '../../src/util/random.js';
import { EventQueue } from './event-queue.js';

export interface SwarmSimOptions {
  readonly leechers: number;
  readonly pieces: number;
  readonly pieceLengthBytes: number;
  readonly seedUploadBps: number;
  /** Upload cap of leecher `i`, bytes/s. */
  readonly leecherUploadBps: (i: number) => number;
  readonly latencyMs: number;
  readonly seed: number;
  /** Give up after this much virtual time. */
  readonly maxTimeMs: number;
  readonly uploadSlots?: number;
}

export interface SwarmSimResult {
  /** Virtual time when the last leecher completed (Infinity if one did not). */
  readonly completionMs: number;
  /** Fluid-model bound max(F/u_seed, N·F/(u_seed + Σ u_leechers)). */
  readonly lowerBoundMs: number;
  readonly ratio: number;
  readonly completed: number;
  readonly completedAtMs: readonly number[];
  /** Bytes received more than once (endgame duplicates, races). */
  readonly duplicateBytes: number;
  readonly seedUploadedBytes: number;
  readonly events: number;
}

type SimEvent =
  | { k: 'request' | 'cancel' | 'block'; to: number; from: number; block: BlockRef }
  | { k: 'have'; to: number; from: number; piece: number }
  | { k: 'choke' | 'unchoke'; to: number; from: number }
  | { k: 'interest'; to: number; from: number; isInterested: boolean }
  | { k: 'free' | 'rechoke'; node: number }
  | { k: 'tick' };

interface SimNode {
  readonly index: number;
  readonly id: string;
  readonly uploadBps: number;
  readonly have: Bitfield;
  readonly picker: PiecePicker | null;
  readonly known: Bitfield[];
  /** `wantCount[j]`: pieces node j has that this node lacks (interest without rescans). */
  readonly wantCount: Int32Array;
  readonly unchoking: Set<number>;
  readonly unchokedBy: Set<number>;
  readonly interestedIn: Set<number>;
  readonly interestedFrom: Set<number>;
  readonly pipelines: Map<number, RequestPipeline>;
  readonly queues: Map<number, BlockRef[]>;
  readonly uploadMeters: Map<number, RateMeter>;
  readonly unchokedSince: Map<number, number>;
  readonly unchokeEnded: Map<number, number>;
  readonly lastBlockFrom: Map<number, number>;
  rr: number;
  isBusy: boolean;
  isRechokePending: boolean;
  optimistic: string | null;
  optimisticSinceMs: number;
  completedAtMs: number | null;
  uploadedBytes: number;
}

/** Runs one simulated swarm to completion (or `maxTimeMs`). */
export function runSwarmSim(opts: SwarmSimOptions): SwarmSimResult {
  return new SwarmSim(opts).run();
}

class SwarmSim {
  private nowMs = 0;
  private readonly clock: Clock = { now: () => this.nowMs };
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes: SimNode[] = [];
  private readonly random;
  private duplicateBytes = 0;
  private completedCount = 0;
  private events = 0;
  private readonly totalBytes: number;

  constructor(private readonly opts: SwarmSimOptions) {
    this.random = seededRandom(opts.seed);
    this.totalBytes = opts.pieces * opts.pieceLengthBytes;
    for (let i = 0; i <= opts.leechers; i++) this.nodes.push(this.makeNode(i));
  }

  private makeNode(i: number): SimNode {
    const { pieces, pieceLengthBytes } = this.opts;
    const isSeed = i === 0;
    const known = Array.from({ length: this.opts.leechers + 1 }, (_, j) =>
      j === 0 ? Bitfield.full(pieces) : new Bitfield(pieces),
    );
    const picker = isSeed
      ? null
      : new PiecePicker({
          pieceCount: pieces,
          pieceLengthBytes,
          totalLengthBytes: this.totalBytes,
          random: this.random,
        });
    picker?.onPeerHaveAll('0');
    for (let j = 1; j <= this.opts.leechers; j++) if (j !== i) picker?.onPeerHaveNone(String(j));
    return {
      index: i,
      id: String(i),
      uploadBps: isSeed ? this.opts.seedUploadBps : this.opts.leecherUploadBps(i - 1),
      have: isSeed ? Bitfield.full(pieces) : new Bitfield(pieces),
      picker,
      known,
      wantCount: Int32Array.from({ length: this.opts.leechers + 1 }, (_, j) =>
        j === 0 && !isSeed ? pieces : 0,
      ),
      unchoking: new Set(),
      unchokedBy: new Set(),
      interestedIn: new Set(),
      interestedFrom: new Set(),
      pipelines: new Map(),
      queues: new Map(),
      uploadMeters: new Map(),
      unchokedSince: new Map(),
      unchokeEnded: new Map(),
      lastBlockFrom: new Map(),
      rr: 0,
      isBusy: false,
      isRechokePending: false,
      optimistic: null,
      optimisticSinceMs: 0,
      completedAtMs: isSeed ? 0 : null,
      uploadedBytes: 0,
    };
  }

  run(): SwarmSimResult {
    for (const n of this.nodes) if (n.index !== 0) this.setInterest(n, 0, true);
    this.queue.push(1000, { k: 'tick' });
    while (this.completedCount < this.opts.leechers) {
      const next = this.queue.pop();
      if (!next || next.atMs > this.opts.maxTimeMs) break;
      this.nowMs = next.atMs;
      this.events++;
      this.handle(next.event);
    }
    return this.result();
  }

  private result(): SwarmSimResult {
    const { leechers, seedUploadBps } = this.opts;
    const leecherNodes = this.nodes.slice(1);
    const completedAtMs = leecherNodes.map((n) => n.completedAtMs ?? Number.POSITIVE_INFINITY);
    const completionMs = Math.max(0, ...completedAtMs);
    const sumUp = leecherNodes.reduce((s, n) => s + n.uploadBps, 0);
    const F = this.totalBytes;
    const lowerBoundMs = 1000 * Math.max(F / seedUploadBps, (leechers * F) / (seedUploadBps + sumUp));
    return {
      completionMs,
      lowerBoundMs,
      ratio: completionMs / lowerBoundMs,
      completed: completedAtMs.filter(Number.isFinite).length,
      completedAtMs,
      duplicateBytes: this.duplicateBytes,
      seedUploadedBytes: this.nodes[0]?.uploadedBytes ?? 0,
      events: this.events,
    };
  }

  private node(i: number): SimNode {
    const n = this.nodes[i];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  }

  private send(e: SimEvent): void {
    this.queue.push(this.nowMs + this.opts.latencyMs, e);
  }

  private handle(e: SimEvent): void {
    switch (e.k) {
      case 'request':
        this.onRequest(this.node(e.to), e.from, e.block);
        return;
      case 'cancel': {
        const q = this.node(e.to).queues.get(e.from);
        const at = q?.findIndex((b) => b.piece === e.block.piece && b.offset === e.block.offset) ?? -1;
        if (q && at >= 0) q.splice(at, 1);
        return;
      }
      case 'block':
        this.onBlock(this.node(e.to), e.from, e.block);
        return;
      case 'have':
        this.onHave(this.node(e.to), e.from, e.piece);
        return;
      case 'choke':
        this.onChoke(this.node(e.to), e.from);
        return;
      case 'unchoke':
        this.node(e.to).unchokedBy.add(e.from);
        this.fill(this.node(e.to), e.from);
        return;
      case 'interest':
        this.onInterest(this.node(e.to), e.from, e.isInterested);
        return;
      case 'free':
        this.node(e.node).isBusy = false;
        this.kick(this.node(e.node));
        return;
      case 'rechoke':
        this.node(e.node).isRechokePending = false;
        this.rechoke(this.node(e.node));
        return;
      case 'tick':
        this.tick();
        return;
    }
  }

  // ---- uploader side ----------------------------------------------------------------

  private onRequest(u: SimNode, from: number, block: BlockRef): void {
    if (!u.unchoking.has(from) || !u.have.get(block.piece)) return; // BEP 3: ignored while choked
    let q = u.queues.get(from);
    if (!q) {
      q = [];
      u.queues.set(from, q);
    }
    q.push(block);
    this.kick(u);
  }

  /** Start sending the next queued block, round-robin over unchoked peers. */
  private kick(u: SimNode): void {
    if (u.isBusy) return;
    const peers = [...u.unchoking];
    for (let k = 0; k < peers.length; k++) {
      const to = peers[(u.rr + k) % peers.length] ?? 0;
      const block = u.queues.get(to)?.shift();
      if (!block) continue;
      u.rr = (u.rr + k + 1) % peers.length;
      u.isBusy = true;
      u.uploadedBytes += block.length;
      this.meter(u.uploadMeters, to).add(block.length);
      const txMs = (block.length * 1000) / u.uploadBps;
      this.queue.push(this.nowMs + txMs, { k: 'free', node: u.index });
      this.queue.push(this.nowMs + txMs + this.opts.latencyMs, { k: 'block', to, from: u.index, block });
      return;
    }
  }

  private onInterest(u: SimNode, from: number, isInterested: boolean): void {
    if (isInterested) u.interestedFrom.add(from);
    else u.interestedFrom.delete(from);
    const slots = (this.opts.uploadSlots ?? DEFAULT_CHOKER_SETTINGS.uploadSlots) + 1;
    const busy = [...u.unchoking].filter((p) => u.interestedFrom.has(p)).length;
    // A free slot is filled at once (as libtorrent does), not at the next 10 s round.
    if ((isInterested && busy < slots) || (!isInterested && u.unchoking.has(from))) this.scheduleRechoke(u);
  }

  private scheduleRechoke(u: SimNode): void {
    if (u.isRechokePending) return;
    u.isRechokePending = true;
    this.queue.push(this.nowMs, { k: 'rechoke', node: u.index });
  }

  private rechoke(u: SimNode): void {
    const peers: ChokerPeer[] = [];
    for (const p of this.nodes) {
      if (p.index === u.index) continue;
      peers.push({
        id: p.id,
        isInterested: u.interestedFrom.has(p.index),
        amInterested: u.interestedIn.has(p.index),
        downloadRate: u.pipelines.get(p.index)?.downloadRate() ?? 0,
        uploadRate: u.uploadMeters.get(p.index)?.rate() ?? 0,
        connectedAtMs: 0,
        lastBlockAtMs: u.lastBlockFrom.get(p.index) ?? null,
        unchokedSinceMs: u.unchokedSince.get(p.index) ?? null,
        lastUnchokeEndedMs: u.unchokeEnded.get(p.index) ?? null,
      });
    }
    const settings = {
      ...DEFAULT_CHOKER_SETTINGS,
      uploadSlots: this.opts.uploadSlots ?? DEFAULT_CHOKER_SETTINGS.uploadSlots,
      isSeeding: u.completedAtMs !== null,
    };
    const d = chooseUnchoked(peers, settings, {
      nowMs: this.nowMs,
      random: this.random,
      optimistic: u.optimistic,
      optimisticSinceMs: u.optimisticSinceMs,
    });
    u.optimistic = d.optimistic;
    u.optimisticSinceMs = d.optimisticSinceMs;
    this.applyUnchokes(u, new Set([...d.unchoke].map(Number)));
  }

  private applyUnchokes(u: SimNode, next: Set<number>): void {
    for (const p of [...u.unchoking]) {
      if (next.has(p)) continue;
      u.unchoking.delete(p);
      u.queues.delete(p);
      u.unchokedSince.delete(p);
      u.unchokeEnded.set(p, this.nowMs);
      this.send({ k: 'choke', to: p, from: u.index });
    }
    for (const p of next) {
      if (u.unchoking.has(p)) continue;
      u.unchoking.add(p);
      u.unchokedSince.set(p, this.nowMs);
      this.send({ k: 'unchoke', to: p, from: u.index });
    }
  }

  // ---- downloader side --------------------------------------------------------------

  private onBlock(a: SimNode, from: number, block: BlockRef): void {
    a.lastBlockFrom.set(from, this.nowMs);
    this.pipeline(a, from).onBlockReceived(block);
    const picker = a.picker;
    if (!picker) return;
    const r = picker.onBlockReceived(String(from), block);
    if (!r.isNew) this.duplicateBytes += block.length;
    for (const c of r.cancels) {
      const peer = Number(c.peer);
      this.pipeline(a, peer).onRequestCancelled(c.block);
      this.send({ k: 'cancel', to: peer, from: a.index, block: c.block });
    }
    if (r.isPieceComplete) this.onPieceDone(a, block.piece);
    this.fill(a, from);
  }

  private onPieceDone(a: SimNode, piece: number): void {
    a.picker?.onPieceVerified(piece);
    a.have.set(piece);
    // Not interested any more in peers that only had pieces we now have (sent at once).
    for (let j = 0; j < this.nodes.length; j++) {
      if (!a.known[j]?.get(piece)) continue;
      a.wantCount[j] = (a.wantCount[j] ?? 0) - 1;
      if (a.wantCount[j] === 0 && a.interestedIn.has(j)) this.setInterest(a, j, false);
    }
    for (const n of this.nodes)
      if (n.index !== a.index) this.send({ k: 'have', to: n.index, from: a.index, piece });
    if (a.picker?.isComplete() && a.completedAtMs === null) {
      a.completedAtMs = this.nowMs;
      this.completedCount++;
      for (const p of [...a.interestedIn]) this.setInterest(a, p, false);
    }
  }

  private onHave(a: SimNode, from: number, piece: number): void {
    if (!a.known[from]?.set(piece)) return;
    a.picker?.onPeerHave(String(from), piece);
    if (a.have.get(piece)) return;
    a.wantCount[from] = (a.wantCount[from] ?? 0) + 1;
    if (a.completedAtMs === null && !a.interestedIn.has(from)) this.setInterest(a, from, true);
    this.fill(a, from);
  }

  private onChoke(a: SimNode, from: number): void {
    a.unchokedBy.delete(from);
    for (const b of this.pipeline(a, from).clear()) a.picker?.cancelRequest(String(from), b);
    this.fillAll(a);
  }

  private setInterest(a: SimNode, peer: number, isInterested: boolean): void {
    if (isInterested) a.interestedIn.add(peer);
    else a.interestedIn.delete(peer);
    this.send({ k: 'interest', to: peer, from: a.index, isInterested });
  }

  /** Keep the pipeline to `from` full. */
  private fill(a: SimNode, from: number): void {
    const picker = a.picker;
    if (!picker || a.completedAtMs !== null || !a.unchokedBy.has(from)) return;
    const pipe = this.pipeline(a, from);
    const n = pipe.wanted();
    const peerHas = a.known[from];
    if (n <= 0 || !peerHas) return;
    const onSteal = (victim: string, block: BlockRef) => {
      const v = Number(victim);
      this.pipeline(a, v).onRequestCancelled(block);
      this.send({ k: 'cancel', to: v, from: a.index, block });
    };
    for (const block of picker.pickBlocks(String(from), peerHas, n, { onSteal })) {
      pipe.onRequestSent(block);
      this.send({ k: 'request', to: from, from: a.index, block });
    }
  }

  private fillAll(a: SimNode): void {
    for (const p of a.unchokedBy) this.fill(a, p);
  }

  /** Every second: request timeouts, lost interest; every 10 s: the choker (BEP 3). */
  private tick(): void {
    const isChokeRound = Math.round(this.nowMs) % 10_000 === 0;
    for (const a of this.nodes) {
      for (const [peer, pipe] of a.pipelines) {
        const { timedOut } = pipe.expire();
        for (const b of timedOut) a.picker?.cancelRequest(String(peer), b);
        if (timedOut.length > 0) this.fillAll(a);
      }
      if (isChokeRound) this.rechoke(a);
    }
    this.queue.push(this.nowMs + 1000, { k: 'tick' });
  }

  private pipeline(a: SimNode, peer: number): RequestPipeline {
    let p = a.pipelines.get(peer);
    if (!p) {
      p = new RequestPipeline(this.clock);
      a.pipelines.set(peer, p);
    }
    return p;
  }

  private meter(map: Map<number, RateMeter>, peer: number): RateMeter {
    let m = map.get(peer);
    if (!m) {
      m = new RateMeter(this.clock);
      map.set(peer, m);
    }
    return m;
  }
}
