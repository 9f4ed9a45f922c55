import type { Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import type { AnnounceRequest, ScrapeStats } from '../protocol/announce.js';
import { type AddressFamily, encodeCompactPeers, formatIpv4, formatIpv6 } from '../protocol/compact.js';
import { PeerList } from './peer-list.js';

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
 *  - torrents themselves in least-recently-announced order, for torrent and total-peer caps.
 *
 * Invariants: `totalPeers` equals the number of peers in all halves; a peer is in exactly one
 * of `seeders`/`leechers` of its half, at `peer.index`.
 *
 * Identity: a peer is (torrent, address family, peer id). A re-announce from another IP keeps
 * its identity only if it carries the same announce `key` (BEP 3/15 `key`); otherwise it is
 * rejected, so nobody can move or stop someone else's entry by knowing their peer id.
 */

/** A peer as stored. The compact form (IP bytes + port, as a latin1 string) is built once. */
export interface SwarmPeer {
  /** The 20-byte peer id as a binary string (one char per byte). */
  readonly id: string;
  /** BEP 23 compact address: 6 (IPv4) or 18 (IPv6) bytes as a binary string. */
  compact: string;
  /** Announce key, or -1 when the peer sent none. */
  key: number;
  lastSeenMs: number;
  isSeeder: boolean;
  /** Counted once in `completed` (BEP 48 `downloaded`). */
  hasCompleted: boolean;
  /** Position in its half's `seeders` or `leechers`. */
  index: number;
}

interface SwarmHalf {
  readonly byId: Map<string, SwarmPeer>;
  readonly seeders: PeerList<SwarmPeer>;
  readonly leechers: PeerList<SwarmPeer>;
}

interface Torrent {
  readonly id: string;
  readonly v4: SwarmHalf;
  readonly v6: SwarmHalf;
  /** Times completed (event=completed, once per peer). */
  completed: number;
  lastAnnounceMs: number;
}

export interface RegistryOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** Re-announce interval sent to clients (default 1800 s). */
  readonly intervalSeconds?: number;
  /** `min interval` sent to clients (default interval / 2). */
  readonly minIntervalSeconds?: number;
  /** A peer that has not announced for this long is gone (default 2 × interval + 60 s). */
  readonly peerTimeoutMs?: number;
  /** Peers returned when the client gives no `numwant` (default 50). */
  readonly defaultNumWant?: number;
  /** Hard cap on `numwant` (default 200). */
  readonly maxNumWant?: number;
  readonly maxTorrents?: number;
  readonly maxPeersPerTorrent?: number;
  readonly maxPeers?: number;
  /** Only these info-hashes (20 bytes each) are tracked; null/undefined = any. */
  readonly allowList?: Iterable<Uint8Array> | null;
  /** Private mode: the accepted passkeys; null/undefined = public tracker. */
  readonly passkeys?: Iterable<string> | null;
}

/** Where a request came from: the transport's view of the remote address. */
export interface AnnounceSource {
  /** A normalized IP literal (IPv4-mapped IPv6 already turned into IPv4). */
  readonly host: string;
  readonly family: AddressFamily;
  /** Private mode: the passkey found in the URL (path or query, or BEP 41 URL data). */
  readonly passkey?: string;
}

/** Why an announce or scrape was refused; also the metric label. */
export type RejectReason =
  | 'bad-request'
  | 'not-allowed'
  | 'unknown-passkey'
  | 'key-mismatch'
  | 'rate-limited'
  | 'bad-connection-id'
  | 'full-scrape';

export const REJECT_MESSAGES: Readonly<Record<RejectReason, string>> = {
  'bad-request': 'malformed request',
  'not-allowed': 'torrent is not on this tracker',
  'unknown-passkey': 'unknown passkey',
  'key-mismatch': 'peer id is registered from another address with another key',
  'rate-limited': 'too many requests, slow down',
  'bad-connection-id': 'invalid or expired connection id',
  'full-scrape': 'full scrape is not supported; name the info_hash values',
};

export interface AnnounceResult {
  readonly ok: true;
  readonly intervalSeconds: number;
  readonly minIntervalSeconds: number;
  /** Seeders (both families). */
  readonly complete: number;
  /** Leechers (both families). */
  readonly incomplete: number;
  /** Peers of the requester's family only; never the requester; no seeders for a seeder. */
  readonly peers: readonly SwarmPeer[];
  /** The same peers' compact addresses back to back (6 or 18 bytes each), ready for the wire. */
  readonly compactPeers: Uint8Array;
  readonly family: AddressFamily;
}

export interface AnnounceRejection {
  readonly ok: false;
  readonly reason: RejectReason;
  readonly message: string;
}

export interface SwarmTotals {
  readonly torrents: number;
  readonly peers: number;
  readonly seeders: number;
  readonly leechers: number;
}

const DEFAULTS = {
  intervalSeconds: 1800,
  defaultNumWant: 50,
  maxNumWant: 200,
  maxTorrents: 100_000,
  maxPeersPerTorrent: 20_000,
  maxPeers: 1_000_000,
};

/** A 20-byte id as a binary string (the Map key); ~2× faster than a per-byte loop. */
export function idKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** Normalize a socket address: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4. */
export function normalizeRemote(host: string): { host: string; family: AddressFamily } {
  if (host.startsWith('::ffff:') && host.indexOf('.') > 0) return { host: host.slice(7), family: 4 };
  return { host, family: host.includes(':') ? 6 : 4 };
}

const ipCaches = { 4: new Map<string, string | null>(), 6: new Map<string, string | null>() };
const IP_CACHE_SIZE = 4096;

/**
 * The compact form of `host:port` as a binary string, via the protocol codec; null if not an
 * IP. The IP part is cached per host text (bounded), since parsing it is most of the cost and
 * the same hosts announce again and again.
 */
export function compactAddress(host: string, port: number, family: AddressFamily): string | null {
  const ipCache = ipCaches[family];
  let ip = ipCache.get(host);
  if (ip === undefined) {
    const bytes = encodeCompactPeers([{ host, port: 1 }], family);
    ip = bytes.length === 0 ? null : idKey(bytes.subarray(0, bytes.length - 2));
    if (ipCache.size >= IP_CACHE_SIZE) ipCache.clear();
    ipCache.set(host, ip);
  }
  return ip === null ? null : ip + String.fromCharCode(port >> 8, port & 0xff);
}

/** The IP literal and port of a stored peer (for the dictionary model and logs). */
export function peerEndpoint(peer: SwarmPeer): { host: string; port: number; peerId: Uint8Array } {
  const c = peer.compact;
  const bytes = new Uint8Array(c.length);
  for (let i = 0; i < c.length; i++) bytes[i] = c.charCodeAt(i);
  const n = bytes.length;
  const host = n === 6 ? formatIpv4(bytes) : formatIpv6(bytes);
  const peerId = new Uint8Array(20);
  for (let i = 0; i < 20; i++) peerId[i] = peer.id.charCodeAt(i);
  return { host, port: (bytes[n - 2]! << 8) | bytes[n - 1]!, peerId };
}

function newHalf(size: number): SwarmHalf {
  return { byId: new Map(), seeders: new PeerList(size), leechers: new PeerList(size) };
}

const EMPTY = new Uint8Array(0);

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

export class SwarmRegistry {
  private readonly torrents = new Map<string, Torrent>();
  private totalPeers = 0;
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
    const pid = idKey(req.peerId);
    let torrent = this.torrents.get(tid);
    const half = torrent === undefined ? undefined : from.family === 4 ? torrent.v4 : torrent.v6;
    let peer = half?.byId.get(pid);
    const key = req.key ?? -1;
    if (peer !== undefined && peer.compact !== compact && !sameIp(peer.compact, compact)) {
      // A different IP: only the holder of the same key may move the entry (BEP 15 `key`).
      if (peer.key === -1 || peer.key !== key) return reject('key-mismatch');
    }
    if (req.event === 'stopped') {
      if (torrent !== undefined && half !== undefined && peer !== undefined) this.removePeer(half, peer);
      return this.result(torrent, [], EMPTY, from.family);
    }
    if (torrent === undefined) torrent = this.addTorrent(tid, now);
    else this.touchTorrent(torrent, now);
    const h = from.family === 4 ? torrent.v4 : torrent.v6;
    const isSeeder = req.left === 0;
    if (peer === undefined) {
      peer = this.addPeer(torrent, h, pid, compact, key, isSeeder, now);
    } else {
      this.refreshPeer(h, peer, compact, key, isSeeder, now);
    }
    if (req.event === 'completed' && !peer.hasCompleted) {
      peer.hasCompleted = true;
      torrent.completed++;
    }
    const wanted = Math.min(req.numWant ?? this.defaultNumWant, this.maxNumWant);
    return this.select(torrent, h, peer, wanted, now, from.family);
  }

  /** Scrape and the co-located index: seeders, leechers, completed; null for an unknown torrent. */
  swarmStats(infoHashes: readonly Uint8Array[]): Array<ScrapeStats | null> {
    return infoHashes.map((h) => {
      const t = h.length === 20 ? this.torrents.get(idKey(h)) : undefined;
      if (t === undefined) return null;
      const complete = t.v4.seeders.length + t.v6.seeders.length;
      const incomplete = t.v4.leechers.length + t.v6.leechers.length;
      return { infoHash: h, complete, incomplete, downloaded: t.completed };
    });
  }

  totals(): SwarmTotals {
    let seeders = 0;
    let leechers = 0;
    for (const t of this.torrents.values()) {
      seeders += t.v4.seeders.length + t.v6.seeders.length;
      leechers += t.v4.leechers.length + t.v6.leechers.length;
    }
    return { torrents: this.torrents.size, peers: this.totalPeers, seeders, leechers };
  }

  /**
   * Drop peers that missed their announces, and torrents left empty and idle. Each half is in
   * least-recently-announced order, so this stops at the first live peer: O(expired + torrents).
   * Returns how many peers were removed.
   */
  sweep(): number {
    const now = this.clock.now();
    const cutoff = now - this.peerTimeoutMs;
    let removed = 0;
    for (const t of [...this.torrents.values()]) {
      removed += this.expireHalf(t.v4, cutoff) + this.expireHalf(t.v6, cutoff);
      if (this.peerCount(t) === 0 && t.lastAnnounceMs < cutoff) this.torrents.delete(t.id);
    }
    return removed;
  }

  /** Checks the invariants in the class comment (tests call it after every scenario). */
  assertInvariants(): void {
    let total = 0;
    for (const t of this.torrents.values()) {
      for (const h of [t.v4, t.v6]) {
        total += h.byId.size;
        if (h.seeders.length + h.leechers.length !== h.byId.size) throw new Error('half sizes disagree');
        for (const p of h.byId.values()) {
          const list = p.isSeeder ? h.seeders : h.leechers;
          if (list.peers[p.index] !== p) throw new Error('peer index is stale');
        }
      }
    }
    if (total !== this.totalPeers) throw new Error(`totalPeers ${this.totalPeers} != ${total}`);
  }

  private result(
    torrent: Torrent | undefined,
    peers: SwarmPeer[],
    compactPeers: Uint8Array,
    family: AddressFamily,
  ): AnnounceResult {
    const complete = torrent === undefined ? 0 : torrent.v4.seeders.length + torrent.v6.seeders.length;
    const incomplete = torrent === undefined ? 0 : torrent.v4.leechers.length + torrent.v6.leechers.length;
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
    torrent: Torrent,
    half: SwarmHalf,
    self: SwarmPeer,
    wanted: number,
    now: number,
    family: AddressFamily,
  ): AnnounceResult {
    const a = half.leechers;
    const b = half.seeders;
    const nA = a.length;
    const n = self.isSeeder ? nA : nA + b.length;
    if (wanted <= 0 || n === 0) return this.result(torrent, [], EMPTY, family);
    const selfList = self.isSeeder ? b : a;
    const size = a.size;
    const cutoff = now - this.peerTimeoutMs;
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
    const out = Buffer.allocUnsafe(Math.min(wanted, n) * size);
    const peers: SwarmPeer[] = [];
    for (let i = 0, at = start; i < n && peers.length < wanted; i++) {
      const list = at < nA ? a : b;
      const slot = at < nA ? at : at - nA;
      at += stride;
      if (at >= n) at -= n;
      if (list === selfList && slot === self.index) continue;
      if (list.seen[slot]! < cutoff || list.sameAddress(slot, selfList, self.index)) continue;
      list.copyAddress(slot, out, peers.length * size);
      peers.push(list.peers[slot]!);
    }
    return this.result(torrent, peers, out.subarray(0, peers.length * size), family);
  }

  private addTorrent(id: string, now: number): Torrent {
    if (this.torrents.size >= this.maxTorrents) {
      const stalest = this.torrents.values().next().value;
      if (stalest !== undefined) {
        this.evictions += this.peerCount(stalest);
        this.dropTorrent(stalest);
      }
    }
    const t: Torrent = { id, v4: newHalf(6), v6: newHalf(18), completed: 0, lastAnnounceMs: now };
    this.torrents.set(id, t);
    return t;
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
    const peer: SwarmPeer = {
      id,
      compact,
      key,
      lastSeenMs: now,
      isSeeder,
      hasCompleted: false,
      index: 0,
    };
    list.push(peer, compact, now);
    half.byId.set(id, peer);
    this.totalPeers++;
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
  }

  /** Evict the stalest peer of `torrent` (the older of its halves' first entries). */
  private evictFrom(torrent: Torrent): boolean {
    const p4 = torrent.v4.byId.values().next().value;
    const p6 = torrent.v6.byId.values().next().value;
    const use4 = p4 !== undefined && (p6 === undefined || p4.lastSeenMs <= p6.lastSeenMs);
    const half = use4 ? torrent.v4 : torrent.v6;
    const victim = use4 ? p4 : p6;
    if (victim === undefined) return false;
    this.removePeer(half, victim);
    this.evictions++;
    return true;
  }

  /** Total cap: evict from the least recently announced torrent (not `current` if avoidable). */
  private evictGlobal(current: Torrent): boolean {
    // Deleting the entry being visited is safe during Map iteration.
    for (const t of this.torrents.values()) {
      if (t === current && this.torrents.size > 1) continue;
      if (t !== current && this.peerCount(t) === 0) {
        this.torrents.delete(t.id);
        continue;
      }
      if (this.evictFrom(t)) {
        if (t !== current && this.peerCount(t) === 0) this.torrents.delete(t.id);
        return true;
      }
    }
    return false;
  }

  private expireHalf(half: SwarmHalf, cutoff: number): number {
    let removed = 0;
    for (const p of half.byId.values()) {
      if (p.lastSeenMs >= cutoff) break;
      this.removePeer(half, p);
      removed++;
    }
    return removed;
  }

  private dropTorrent(t: Torrent): void {
    this.totalPeers -= t.v4.byId.size + t.v6.byId.size;
    this.torrents.delete(t.id);
  }

  private peerCount(t: Torrent): number {
    return t.v4.byId.size + t.v6.byId.size;
  }
}

function reject(reason: RejectReason): AnnounceRejection {
  return { ok: false, reason, message: REJECT_MESSAGES[reason] };
}

/** Same IP in two compact addresses of one family (everything but the 2-byte port). */
function sameIp(a: string, b: string): boolean {
  return a.length === b.length && a.slice(0, -2) === b.slice(0, -2);
}
