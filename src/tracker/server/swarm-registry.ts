import type { Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import type { AnnounceEvent, AnnounceRequest, ScrapeStats } from '../protocol/announce.js';
import type { AddressFamily } from '../protocol/compact.js';
import { compactAddress, idKey, sameIp } from './swarm-address.js';
import {
  familyOf,
  findPeer,
  gcd,
  halfSize,
  leechersOf,
  newHalf,
  newPeer,
  reject,
  type SwarmHalf,
  seedersOf,
  type Torrent,
} from './swarm-torrent.js';
import {
  type AnnounceRejection,
  type AnnounceResult,
  type AnnounceSource,
  REJECT_MESSAGES,
  type RegistryOptions,
  type RejectReason,
  type SwarmPeer,
  type SwarmTotals,
} from './swarm-types.js';

/**
 * The tracker's pure core: torrents → peers, and announce → peer list. Both transports (HTTP
 * and UDP) call {@link SwarmRegistry.announce} with a parsed request and the address it came
 * from; they only parse and write bytes. Time comes from an injected Clock, selection from an
 * injected Random.
 *
 * What it tracks (see NOTES below):
 *  - per torrent, two halves kept apart: IPv4 peers and IPv6 peers (`peers` / `peers6`);
 *  - per half, `byId` (peer id → peer) in least-recently-announced order (a re-announce
 *    re-inserts the entry), so expiry and eviction read the stalest entries first, in O(1);
 *  - per half, `seeders` and `leechers` lists (swap-remove, each peer knows its index, compact
 *    addresses and last-seen times in contiguous typed arrays, see peer-list.ts) so a random
 *    selection never scans the swarm, never chases pointers, and a seeder is never sent seeders;
 *  - torrents themselves in least-recently-announced order, for the total-peer cap and expiry;
 *  - running totals of peers and seeders, so `/stats` costs the same at any torrent count.
 *
 * Memory under a flood of random info-hashes: a torrent exists only while it has a peer (a
 * `stopped` that empties it, an expiry or an eviction that leaves it empty removes it at once),
 * and a torrent that has only ever had one peer holds it as `solo`, without halves, maps or
 * lists (about 300 bytes in all); halves are made per family when a second peer arrives, and
 * their lists grow from nothing. At `maxTorrents` an
 * announce for a new info-hash is refused (`torrent-limit`) rather than evicting a live swarm:
 * a flood can then delay new torrents until its own peers expire, but never push out the
 * torrents already tracked.
 *
 * Invariants: `totalPeers` equals the number of peers in all halves and `totalSeeders` the
 * seeders; a peer is in exactly one of `seeders`/`leechers` of its half, at `peer.index`;
 * every torrent has at least one peer.
 *
 * Identity: a peer is (torrent, address family, peer id). A re-announce from another IP keeps
 * its identity only if it carries the same announce `key` (BEP 3/15 `key`); otherwise it is
 * rejected, so nobody can move or stop someone else's entry by knowing their peer id.
 */

const DEFAULTS = {
  intervalSeconds: 1800,
  defaultNumWant: 50,
  maxNumWant: 200,
  maxTorrents: 100_000,
  maxPeersPerTorrent: 20_000,
  maxPeers: 1_000_000,
};

/** `completed` counts of removed torrents remembered at most (so BEP 48 `downloaded` survives). */
const RETIRED_COMPLETED_ENTRIES = 10_000;

const EMPTY = new Uint8Array(0);

export class SwarmRegistry {
  private readonly torrents = new Map<string, Torrent>();
  private totalPeers = 0;
  private totalSeeders = 0;
  /** `completed` of torrents removed for being empty, least recently removed first (bounded). */
  private readonly retiredCompleted = new Map<string, number>();
  private allowList: Set<string> | null = null;
  private passkeys: Set<string> | null = null;
  private readonly clock: Clock;
  private readonly random: Random;
  readonly intervalSeconds: number;
  readonly minIntervalSeconds: number;
  readonly peerTimeoutMs: number;
  private readonly defaultNumWant: number;
  private readonly maxNumWant: number;
  private readonly maxTorrents: number;
  private readonly maxPeersPerTorrent: number;
  private readonly maxPeers: number;
  /** Peers evicted to honour a cap (not expiry): an operator's signal to raise the caps. */
  evictions = 0;
  /** Announces for new info-hashes refused at `maxTorrents`. */
  torrentLimitRejects = 0;

  constructor(options: RegistryOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.intervalSeconds = options.intervalSeconds ?? DEFAULTS.intervalSeconds;
    this.minIntervalSeconds = options.minIntervalSeconds ?? Math.max(1, Math.floor(this.intervalSeconds / 2));
    this.peerTimeoutMs = options.peerTimeoutMs ?? (2 * this.intervalSeconds + 60) * 1000;
    this.defaultNumWant = options.defaultNumWant ?? DEFAULTS.defaultNumWant;
    this.maxNumWant = options.maxNumWant ?? DEFAULTS.maxNumWant;
    this.maxTorrents = options.maxTorrents ?? DEFAULTS.maxTorrents;
    this.maxPeersPerTorrent = options.maxPeersPerTorrent ?? DEFAULTS.maxPeersPerTorrent;
    this.maxPeers = options.maxPeers ?? DEFAULTS.maxPeers;
    if (options.allowList) this.setAllowList(options.allowList);
    if (options.passkeys) this.setPasskeys(options.passkeys);
  }

  /** Allow-list mode (null turns it off). Torrents no longer listed are dropped at once. */
  setAllowList(infoHashes: Iterable<Uint8Array> | null): void {
    if (infoHashes === null) {
      this.allowList = null;
      return;
    }
    const next = new Set<string>();
    for (const h of infoHashes) if (h.length === 20) next.add(idKey(h));
    this.allowList = next;
    for (const t of [...this.torrents.values()]) if (!next.has(t.id)) this.dropTorrent(t);
  }

  /** Private mode: accepted passkeys (null = public tracker). */
  setPasskeys(passkeys: Iterable<string> | null): void {
    this.passkeys = passkeys === null ? null : new Set(passkeys);
  }

  get isPrivate(): boolean {
    return this.passkeys !== null;
  }

  /** Check allow-list and passkey: the gate shared by announce and scrape. */
  admit(infoHash: Uint8Array | null, passkey: string | undefined): RejectReason | null {
    if (this.passkeys !== null && (passkey === undefined || !this.passkeys.has(passkey))) {
      return 'unknown-passkey';
    }
    if (infoHash !== null && this.allowList !== null && !this.allowList.has(idKey(infoHash))) {
      return 'not-allowed';
    }
    return null;
  }

  /** Handle one announce (BEP 3 semantics) and choose the peers to return. */
  announce(req: AnnounceRequest, from: AnnounceSource): AnnounceResult | AnnounceRejection {
    const refused = this.admit(req.infoHash, from.passkey);
    if (refused !== null) return reject(refused);
    const compact = compactAddress(from.host, req.port, from.family);
    if (compact === null) return reject('bad-request');
    const now = this.clock.now();
    const tid = idKey(req.infoHash);
    const why = this.record(
      tid,
      idKey(req.peerId),
      compact,
      from.family,
      req.key ?? -1,
      req.left === 0,
      req.event,
      now,
    );
    if (why !== null) return reject(why);
    const torrent = this.current;
    const peer = this.currentPeer;
    this.current = undefined;
    this.currentPeer = undefined;
    // Stopped, or alone in its torrent: there is nobody to send.
    if (torrent === undefined || peer === undefined || torrent.solo !== null) {
      return this.result(torrent, [], EMPTY, from.family);
    }
    const wanted = Math.min(req.numWant ?? this.defaultNumWant, this.maxNumWant);
    const half = this.halfFor(torrent, from.family);
    const size = half.leechers.size;
    const out = Buffer.allocUnsafe(Math.min(wanted, half.byId.size) * size);
    const peers: SwarmPeer[] = [];
    const n = this.select(half, peer, wanted, now, out, 0, peers);
    return this.result(torrent, peers, out.subarray(0, n * size), from.family);
  }

  /**
   * The UDP hot path: the same announce as {@link announce}, given in the registry's own terms
   * (info-hash and peer id as binary strings, the compact address built by the caller) and
   * answered without allocating: the chosen peers' compact addresses are written into `out`
   * from `at` (room for `numWant` peers is the caller's job; fewer are written if `out` ends
   * first). Returns the number of peers written, or -1 when refused ({@link rejection} says
   * why). Seeders and leechers of the torrent are left in {@link lastComplete} and
   * {@link lastIncomplete}. Only for a public tracker (the caller checks {@link isPrivate}).
   */
  announceInto(
    tid: string,
    pid: string,
    compact: string,
    family: AddressFamily,
    key: number,
    isSeeder: boolean,
    event: AnnounceEvent,
    numWant: number,
    out: Uint8Array,
    at: number,
  ): number {
    this.lastComplete = 0;
    this.lastIncomplete = 0;
    if (this.allowList !== null && !this.allowList.has(tid)) {
      this.rejection = 'not-allowed';
      return -1;
    }
    const now = this.clock.now();
    const why = this.record(tid, pid, compact, family, key, isSeeder, event, now);
    if (why !== null) {
      this.rejection = why;
      return -1;
    }
    const torrent = this.current;
    const peer = this.currentPeer;
    this.current = undefined;
    this.currentPeer = undefined;
    if (torrent === undefined) return 0;
    this.lastComplete = seedersOf(torrent);
    this.lastIncomplete = leechersOf(torrent);
    if (peer === undefined || torrent.solo !== null) return 0;
    const half = this.halfFor(torrent, family);
    const room = Math.floor((out.length - at) / half.leechers.size);
    const wanted = Math.min(numWant < 0 ? this.defaultNumWant : numWant, this.maxNumWant, room);
    return this.select(half, peer, wanted, now, out, at, null);
  }

  /** Why the last {@link announceInto} returned -1. */
  rejection: RejectReason = 'bad-request';
  /** Seeders and leechers of the torrent of the last {@link announceInto}. */
  lastComplete = 0;
  lastIncomplete = 0;
  /** The torrent and peer {@link record} just touched (undefined after a `stopped`). */
  private current: Torrent | undefined = undefined;
  private currentPeer: SwarmPeer | undefined = undefined;

  /**
   * Apply one announce to the swarm (join, refresh, move between seeders and leechers, stop)
   * and leave the torrent and peer in `current`/`currentPeer`; null, or why it was refused.
   */
  private record(
    tid: string,
    pid: string,
    compact: string,
    family: AddressFamily,
    key: number,
    isSeeder: boolean,
    event: AnnounceEvent,
    now: number,
  ): RejectReason | null {
    let torrent = this.torrents.get(tid);
    let peer = torrent === undefined ? undefined : findPeer(torrent, family, pid);
    this.current = torrent;
    this.currentPeer = undefined;
    if (peer !== undefined && peer.compact !== compact && !sameIp(peer.compact, compact)) {
      // A different IP: only the holder of the same key may move the entry (BEP 15 `key`).
      if (peer.key === -1 || peer.key !== key) return 'key-mismatch';
    }
    if (event === 'stopped') {
      if (torrent !== undefined && peer !== undefined) {
        this.detach(torrent, peer);
        // The last peer left: nothing to keep (a flood of started/stopped leaves no trace).
        if (this.peerCount(torrent) === 0) this.dropTorrent(torrent);
      }
      return null;
    }
    if (torrent === undefined) {
      const added = this.addTorrent(tid, now);
      if (added === null) {
        this.torrentLimitRejects++;
        return 'torrent-limit';
      }
      torrent = added;
    } else this.touchTorrent(torrent, now);
    if (peer === undefined) peer = this.join(torrent, family, pid, compact, key, isSeeder, now);
    else if (torrent.solo === peer) this.refreshSolo(peer, compact, key, isSeeder, now);
    else this.refreshPeer(this.halfFor(torrent, family), peer, compact, key, isSeeder, now);
    if (event === 'completed' && !peer.hasCompleted) {
      peer.hasCompleted = true;
      torrent.completed++;
    }
    this.current = torrent;
    this.currentPeer = peer;
    return null;
  }

  /** Scrape and the co-located index: seeders, leechers, completed; null for an unknown torrent. */
  swarmStats(infoHashes: readonly Uint8Array[]): Array<ScrapeStats | null> {
    return infoHashes.map((h) => {
      const t = h.length === 20 ? this.torrents.get(idKey(h)) : undefined;
      if (t === undefined) return null;
      return { infoHash: h, complete: seedersOf(t), incomplete: leechersOf(t), downloaded: t.completed };
    });
  }

  /** O(1): running counters, never a walk over the torrents. */
  totals(): SwarmTotals {
    const seeders = this.totalSeeders;
    return {
      torrents: this.torrents.size,
      peers: this.totalPeers,
      seeders,
      leechers: this.totalPeers - seeders,
    };
  }

  /**
   * Drop peers that missed their announces, and the torrents they leave empty. Each half is in
   * least-recently-announced order, so this stops at the first live peer: O(expired + torrents).
   * Returns how many peers were removed.
   */
  sweep(): number {
    const cutoff = this.clock.now() - this.peerTimeoutMs;
    let removed = 0;
    // Deleting the entry being visited is safe during Map iteration.
    for (const t of this.torrents.values()) {
      if (t.solo !== null && t.solo.lastSeenMs < cutoff) {
        this.detach(t, t.solo);
        removed++;
      }
      removed += this.expireHalf(t.v4, cutoff) + this.expireHalf(t.v6, cutoff);
      if (this.peerCount(t) === 0) this.dropTorrent(t);
    }
    return removed;
  }

  /** Checks the invariants in the class comment (tests call it after every scenario). */
  assertInvariants(): void {
    let total = 0;
    let seeders = 0;
    for (const t of this.torrents.values()) {
      if (this.peerCount(t) === 0) throw new Error('an empty torrent is kept');
      if (t.solo !== null) {
        if (t.v4 !== null || t.v6 !== null) throw new Error('a solo torrent has halves');
        total++;
        if (t.solo.isSeeder) seeders++;
      }
      for (const h of [t.v4, t.v6]) {
        if (h === null) continue;
        total += h.byId.size;
        seeders += h.seeders.length;
        if (h.seeders.length + h.leechers.length !== h.byId.size) throw new Error('half sizes disagree');
        for (const p of h.byId.values()) {
          const list = p.isSeeder ? h.seeders : h.leechers;
          if (list.peers[p.index] !== p) throw new Error('peer index is stale');
        }
      }
    }
    if (total !== this.totalPeers) throw new Error(`totalPeers ${this.totalPeers} != ${total}`);
    if (seeders !== this.totalSeeders) throw new Error(`totalSeeders ${this.totalSeeders} != ${seeders}`);
    if (this.torrents.size > this.maxTorrents) throw new Error('more torrents than maxTorrents');
  }

  private result(
    torrent: Torrent | undefined,
    peers: SwarmPeer[],
    compactPeers: Uint8Array,
    family: AddressFamily,
  ): AnnounceResult {
    const complete = torrent === undefined ? 0 : seedersOf(torrent);
    const incomplete = torrent === undefined ? 0 : leechersOf(torrent);
    return {
      ok: true,
      intervalSeconds: this.intervalSeconds,
      minIntervalSeconds: this.minIntervalSeconds,
      complete,
      incomplete,
      peers,
      compactPeers,
      family,
    };
  }

  /**
   * Up to `wanted` peers of `half`, never `self` nor anyone at self's address, never an expired
   * peer; a seeder gets leechers only. Random start and a random stride coprime with the pool
   * size walk the pool without repeats and without building a shuffled copy.
   */
  private select(
    half: SwarmHalf,
    self: SwarmPeer,
    wanted: number,
    now: number,
    out: Uint8Array,
    outAt: number,
    peers: SwarmPeer[] | null,
  ): number {
    const a = half.leechers;
    const b = half.seeders;
    const nA = a.length;
    const n = self.isSeeder ? nA : nA + b.length;
    if (wanted <= 0 || n === 0) return 0;
    const selfList = self.isSeeder ? b : a;
    const selfIndex = self.index;
    const size = a.size;
    // byId is in least-recently-announced order: when its first peer is live, every peer is,
    // and the walk reads no last-seen times (half the memory it would otherwise touch).
    const stalest = half.byId.values().next().value;
    const cutoff =
      stalest !== undefined && stalest.lastSeenMs >= now - this.peerTimeoutMs ? -1 : now - this.peerTimeoutMs;
    let start = 0;
    let stride = 1;
    if (n > wanted + 1) {
      start = Math.floor(this.random.next() * n);
      for (let tries = 0; tries < 4; tries++) {
        const s = 1 + Math.floor(this.random.next() * (n - 1));
        if (gcd(s, n) === 1) {
          stride = s;
          break;
        }
      }
    }
    let got = 0;
    for (let i = 0, at = start; i < n && got < wanted; i++) {
      const list = at < nA ? a : b;
      const slot = at < nA ? at : at - nA;
      at += stride;
      if (at >= n) at -= n;
      if (list === selfList && slot === selfIndex) continue;
      if ((cutoff >= 0 && list.seen[slot]! < cutoff) || list.sameAddress(slot, selfList, selfIndex)) continue;
      list.copyAddress(slot, out, outAt + got * size);
      if (peers !== null) peers.push(list.peers[slot]!);
      got++;
    }
    return got;
  }

  /**
   * A new torrent, or null at `maxTorrents`. At the cap only a torrent whose peers have all
   * expired (not yet swept) makes room; a live swarm is never dropped for a new info-hash.
   */
  private addTorrent(id: string, now: number): Torrent | null {
    if (this.torrents.size >= this.maxTorrents) {
      const stalest = this.torrents.values().next().value;
      // touchTorrent is exact to a second, so a torrent this stale has no live peer.
      if (stalest === undefined || stalest.lastAnnounceMs >= now - this.peerTimeoutMs - 1000) return null;
      this.dropTorrent(stalest);
    }
    const completed = this.retiredCompleted.get(id) ?? 0;
    if (completed > 0) this.retiredCompleted.delete(id);
    const t: Torrent = { id, solo: null, v4: null, v6: null, completed, lastAnnounceMs: now };
    this.torrents.set(id, t);
    return t;
  }

  private halfFor(t: Torrent, family: AddressFamily): SwarmHalf {
    if (family === 4) {
      t.v4 ??= newHalf(6);
      return t.v4;
    }
    t.v6 ??= newHalf(18);
    return t.v6;
  }

  private touchTorrent(t: Torrent, now: number): void {
    // Re-insert so the Map's first torrent is the least recently announced one; at most once a
    // second per torrent (a popular torrent is announced to many times a second), so the order
    // is exact to within a second, which is all eviction needs.
    if (now - t.lastAnnounceMs < 1000) return;
    t.lastAnnounceMs = now;
    this.torrents.delete(t.id);
    this.torrents.set(t.id, t);
  }

  /** A new peer: the solo peer of a new torrent, else into its family's half. */
  private join(
    torrent: Torrent,
    family: AddressFamily,
    id: string,
    compact: string,
    key: number,
    isSeeder: boolean,
    now: number,
  ): SwarmPeer {
    if (this.peerCount(torrent) > 0) {
      this.unsolo(torrent);
      return this.addPeer(torrent, this.halfFor(torrent, family), id, compact, key, isSeeder, now);
    }
    while (this.totalPeers >= this.maxPeers) {
      if (!this.evictGlobal(torrent)) break;
    }
    const peer = newPeer(id, compact, key, isSeeder, now);
    torrent.solo = peer;
    this.totalPeers++;
    if (isSeeder) this.totalSeeders++;
    return peer;
  }

  /** A second peer arrives: the solo peer moves into its family's half. */
  private unsolo(t: Torrent): void {
    const p = t.solo;
    if (p === null) return;
    t.solo = null;
    const h = this.halfFor(t, familyOf(p));
    (p.isSeeder ? h.seeders : h.leechers).push(p, p.compact, p.lastSeenMs);
    h.byId.set(p.id, p);
  }

  private refreshSolo(peer: SwarmPeer, compact: string, key: number, isSeeder: boolean, now: number): void {
    peer.compact = compact;
    if (key !== -1) peer.key = key;
    peer.lastSeenMs = now;
    if (peer.isSeeder !== isSeeder) this.totalSeeders += isSeeder ? 1 : -1;
    peer.isSeeder = isSeeder;
  }

  /** Remove a peer from wherever it is held (solo or its half), keeping the totals true. */
  private detach(t: Torrent, peer: SwarmPeer): void {
    if (t.solo !== peer) {
      const half = familyOf(peer) === 4 ? t.v4 : t.v6;
      if (half !== null) this.removePeer(half, peer);
      return;
    }
    t.solo = null;
    this.totalPeers--;
    if (peer.isSeeder) this.totalSeeders--;
  }

  private addPeer(
    torrent: Torrent,
    half: SwarmHalf,
    id: string,
    compact: string,
    key: number,
    isSeeder: boolean,
    now: number,
  ): SwarmPeer {
    if (this.peerCount(torrent) >= this.maxPeersPerTorrent) this.evictFrom(torrent);
    while (this.totalPeers >= this.maxPeers) {
      if (!this.evictGlobal(torrent)) break;
    }
    const list = isSeeder ? half.seeders : half.leechers;
    const peer = newPeer(id, compact, key, isSeeder, now);
    list.push(peer, compact, now);
    half.byId.set(id, peer);
    this.totalPeers++;
    if (isSeeder) this.totalSeeders++;
    return peer;
  }

  private refreshPeer(
    half: SwarmHalf,
    peer: SwarmPeer,
    compact: string,
    key: number,
    isSeeder: boolean,
    now: number,
  ): void {
    peer.compact = compact;
    if (key !== -1) peer.key = key;
    peer.lastSeenMs = now;
    if (peer.isSeeder !== isSeeder) {
      (peer.isSeeder ? half.seeders : half.leechers).remove(peer);
      peer.isSeeder = isSeeder;
      this.totalSeeders += isSeeder ? 1 : -1;
      (isSeeder ? half.seeders : half.leechers).push(peer, compact, now);
    } else {
      (isSeeder ? half.seeders : half.leechers).update(peer, compact, now);
    }
    half.byId.delete(peer.id);
    half.byId.set(peer.id, peer);
  }

  private removePeer(half: SwarmHalf, peer: SwarmPeer): void {
    if (half.byId.get(peer.id) !== peer) return;
    half.byId.delete(peer.id);
    (peer.isSeeder ? half.seeders : half.leechers).remove(peer);
    this.totalPeers--;
    if (peer.isSeeder) this.totalSeeders--;
  }

  /** Evict the stalest peer of `torrent` (the older of its halves' first entries). */
  private evictFrom(torrent: Torrent): boolean {
    if (torrent.solo !== null) {
      this.detach(torrent, torrent.solo);
      this.evictions++;
      return true;
    }
    const p4 = torrent.v4?.byId.values().next().value;
    const p6 = torrent.v6?.byId.values().next().value;
    const use4 = p4 !== undefined && (p6 === undefined || p4.lastSeenMs <= p6.lastSeenMs);
    const half = use4 ? torrent.v4 : torrent.v6;
    const victim = use4 ? p4 : p6;
    if (victim === undefined || half === null) return false;
    this.removePeer(half, victim);
    this.evictions++;
    return true;
  }

  /** Total cap: evict from the least recently announced torrent (not `current` if avoidable). */
  private evictGlobal(current: Torrent): boolean {
    // Deleting the entry being visited is safe during Map iteration.
    for (const t of this.torrents.values()) {
      if (t === current && this.torrents.size > 1) continue;
      if (this.evictFrom(t)) {
        if (t !== current && this.peerCount(t) === 0) this.dropTorrent(t);
        return true;
      }
    }
    return false;
  }

  private expireHalf(half: SwarmHalf | null, cutoff: number): number {
    if (half === null) return 0;
    let removed = 0;
    for (const p of half.byId.values()) {
      if (p.lastSeenMs >= cutoff) break;
      this.removePeer(half, p);
      removed++;
    }
    return removed;
  }

  /** Forget a torrent and its peers (remembering its `completed` count, bounded). */
  private dropTorrent(t: Torrent): void {
    this.totalPeers -= this.peerCount(t);
    this.totalSeeders -= seedersOf(t);
    if (this.torrents.get(t.id) === t) this.torrents.delete(t.id);
    if (t.completed > 0) {
      if (this.retiredCompleted.size >= RETIRED_COMPLETED_ENTRIES) {
        const oldest = this.retiredCompleted.keys().next().value;
        if (oldest !== undefined) this.retiredCompleted.delete(oldest);
      }
      this.retiredCompleted.set(t.id, t.completed);
    }
  }

  private peerCount(t: Torrent): number {
    return t.solo !== null ? 1 : halfSize(t.v4) + halfSize(t.v6);
  }
}
