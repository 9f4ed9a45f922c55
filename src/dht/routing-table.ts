/**
 * The Kademlia routing table of one address family (BEP 5; BEP 32 keeps one per family).
 *
 * Buckets split from the one that holds our own id, as in BEP 5. As in libtorrent's extended
 * routing table, the first buckets (the far half, quarter… of the id space, where a lookup's
 * first hop lands) hold more than k nodes: 16k, 8k, 4k, 2k, then k. A fuller view there
 * shortens every lookup by about a hop.
 *
 * What the table tracks per node, and why:
 * - only nodes that answered one of our queries are inserted (a spoofed query or an address in
 *   someone's `nodes` list proves nothing), so every entry has been verified once;
 * - state: good (answered within 15 minutes), questionable (silent longer), bad (2 failed
 *   queries in a row); bad nodes are replaced first, questionable ones get pinged by upkeep;
 * - a replacement cache per bucket, of verified nodes that did not fit, promoted when a node
 *   goes bad;
 * - one entry per IP in the whole table and at most `maxPerSubnet` per /24 (IPv4) or /64
 *   (IPv6) per bucket, so one host or one small network cannot fill a bucket;
 * - BEP 42: a full bucket trades a non-compliant node for a compliant newcomer.
 */
import { bytesEqual, toHex } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import { ipBytes } from './ip-cache.js';
import type { NodeContact } from './krpc.js';
import { commonPrefixBits, compareDistance, isCompliantId } from './node-id.js';

export const K = 8;
/** BEP 5: a node is good while it answered within the last 15 minutes. */
export const GOOD_FOR_MS = 15 * 60_000;
/** Failed queries in a row after which a node is bad. */
export const BAD_AFTER_FAILURES = 2;
const EXTENDED_FACTORS = [16, 8, 4, 2];
const MAX_BUCKETS = 160;

export type NodeState = 'good' | 'questionable' | 'bad';

export interface RoutingEntry extends NodeContact {
  lastResponseMs: number;
  /** Last query or response from it: a node that queries us is alive even if we did not ask. */
  lastSeenMs: number;
  failures: number;
  readonly isCompliant: boolean;
  /** /24 or /64, computed once. */
  readonly subnet: string;
}

interface Bucket {
  readonly nodes: RoutingEntry[];
  readonly replacements: RoutingEntry[];
  lastChangedMs: number;
}

export interface RoutingTableOptions {
  readonly ownId: Uint8Array;
  readonly clock: Clock;
  readonly k?: number;
  /** libtorrent's larger first buckets (default true). */
  readonly extended?: boolean;
  /**
   * One entry per IP and few per subnet (default true). Off only where every node shares an
   * address, as on loopback (libtorrent's `dht_restrict_routing_ips`).
   */
  readonly restrictIps?: boolean;
  readonly maxPerSubnet?: number;
  readonly replacementsPerBucket?: number;
}

export type InsertResult = 'added' | 'updated' | 'replacement' | 'refused';

export class RoutingTable {
  readonly ownId: Uint8Array;
  private readonly buckets: Bucket[];
  private readonly byAddress = new Map<string, RoutingEntry>();
  private readonly k: number;
  private readonly isExtended: boolean;
  private readonly restrictIps: boolean;
  private readonly maxPerSubnet: number;
  private readonly maxReplacements: number;
  /**
   * For `questionable`, which upkeep calls every few seconds on every node: no entry answered
   * before this (a lower bound: answers only move forward, promoted replacements lower it),
   * and whether an entry may have failed once. When neither can make a node questionable yet,
   * the scan is skipped (it was a third of a 10,000-node simulation's time).
   */
  private earliestResponseMs = Number.NEGATIVE_INFINITY;
  private mayHaveFailing = true;

  constructor(private readonly options: RoutingTableOptions) {
    this.ownId = options.ownId;
    this.k = options.k ?? K;
    this.isExtended = options.extended ?? true;
    this.restrictIps = options.restrictIps ?? true;
    this.maxPerSubnet = options.maxPerSubnet ?? 2;
    this.maxReplacements = options.replacementsPerBucket ?? 8;
    this.buckets = [{ nodes: [], replacements: [], lastChangedMs: options.clock.now() }];
  }

  get size(): number {
    let n = 0;
    for (const b of this.buckets) n += b.nodes.length;
    return n;
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  stateOf(entry: RoutingEntry): NodeState {
    if (entry.failures >= BAD_AFTER_FAILURES) return 'bad';
    return this.options.clock.now() - entry.lastResponseMs <= GOOD_FOR_MS ? 'good' : 'questionable';
  }

  /** The entry at this address, if any. */
  find(host: string, port: number): RoutingEntry | undefined {
    const e = this.byAddress.get(this.addressKey(host, port));
    return e && e.port === port ? e : undefined;
  }

  /** Every entry, nearest buckets last. */
  all(): RoutingEntry[] {
    return this.buckets.flatMap((b) => b.nodes);
  }

  /**
   * A node answered one of our queries: insert or refresh it. Its id must be the one it
   * answered with; a known address answering with another id is a liar and is removed.
   * `isIdShared`: the caller never changes `contact.id`, so the entry keeps it without a copy
   * (a simulation's 10,000 tables share their nodes' ids).
   */
  heardResponse(contact: NodeContact, isIdShared = false): InsertResult {
    const now = this.options.clock.now();
    const known = this.find(contact.host, contact.port);
    if (known) {
      if (!sameId(known.id, contact.id)) {
        this.remove(known);
        return 'refused';
      }
      known.lastResponseMs = now;
      known.lastSeenMs = now;
      known.failures = 0;
      return 'updated';
    }
    if (sameId(contact.id, this.ownId)) return 'refused';
    if (this.byAddress.has(this.addressKey(contact.host, contact.port))) return 'refused'; // same IP, other port
    const entry: RoutingEntry = {
      id: isIdShared ? contact.id : contact.id.slice(),
      host: contact.host,
      port: contact.port,
      lastResponseMs: now,
      lastSeenMs: now,
      failures: 0,
      isCompliant: isCompliantId(contact.id, contact.host),
      subnet: subnetKey(contact.host),
    };
    return this.insert(entry);
  }

  /** A node in the table queried us: it is alive. */
  heardQuery(host: string, port: number, id: Uint8Array): void {
    const e = this.find(host, port);
    if (e && sameId(e.id, id)) e.lastSeenMs = this.options.clock.now();
  }

  /** Whether a verified node with this id and address would get a place (for pinging strangers). */
  wouldAccept(contact: NodeContact): boolean {
    if (this.find(contact.host, contact.port) || sameId(contact.id, this.ownId)) return false;
    if (this.byAddress.has(this.addressKey(contact.host, contact.port))) return false;
    const index = this.bucketIndex(contact.id);
    const bucket = this.buckets[index]!;
    if (bucket.nodes.length < this.capacity(index)) return true;
    if (index === this.buckets.length - 1 && this.buckets.length < MAX_BUCKETS) return true;
    return bucket.nodes.some((n) => this.stateOf(n) !== 'good');
  }

  /** A query to this address timed out. Bad nodes give way to a replacement. */
  failed(host: string, port: number): void {
    const e = this.find(host, port);
    if (!e) return;
    e.failures++;
    if (this.stateOf(e) !== 'bad') {
      this.mayHaveFailing = true;
      return;
    }
    const bucket = this.buckets[this.bucketIndex(e.id)]!;
    const replacement = bucket.replacements.pop();
    if (replacement) {
      this.earliestResponseMs = Math.min(this.earliestResponseMs, replacement.lastResponseMs);
      if (replacement.failures > 0) this.mayHaveFailing = true;
      this.remove(e);
      bucket.nodes.push(replacement);
      this.byAddress.set(this.addressKey(replacement.host, replacement.port), replacement);
      bucket.lastChangedMs = this.options.clock.now();
    }
  }

  /** Drop a node (garbage, lies, or its address sent us something we cannot use). */
  remove(entry: Pick<NodeContact, 'host' | 'port'>): boolean {
    const key = this.addressKey(entry.host, entry.port);
    const e = this.byAddress.get(key);
    if (!e || e.port !== entry.port) return false;
    this.byAddress.delete(key);
    const bucket = this.buckets[this.bucketIndex(e.id)]!;
    const i = bucket.nodes.indexOf(e);
    if (i >= 0) bucket.nodes.splice(i, 1);
    return true;
  }

  /** Up to `count` nodes closest to `target`; bad ones never. */
  closest(target: Uint8Array, count: number): RoutingEntry[] {
    // Selection into a small sorted array: O(n · count) with early-exit comparisons, cheaper
    // than sorting the whole table on every answer.
    const out: RoutingEntry[] = [];
    for (const b of this.buckets) {
      for (const n of b.nodes) {
        if (n.failures >= BAD_AFTER_FAILURES) continue;
        if (out.length === count && compareDistance(target, n.id, out[count - 1]!.id) >= 0) continue;
        let i = out.length === count ? count - 1 : out.length;
        while (i > 0 && compareDistance(target, n.id, out[i - 1]!.id) < 0) i--;
        out.splice(i, 0, n);
        if (out.length > count) out.pop();
      }
    }
    return out;
  }

  /** Questionable nodes (or ones that failed once), longest silent first: upkeep pings them. */
  questionable(limit: number): RoutingEntry[] {
    const out: RoutingEntry[] = [];
    const cutoff = this.options.clock.now() - GOOD_FOR_MS;
    if (!this.mayHaveFailing && this.earliestResponseMs >= cutoff) return out;
    let earliest = Number.POSITIVE_INFINITY;
    let isFailing = false;
    for (const b of this.buckets) {
      for (const n of b.nodes) {
        if (n.failures >= BAD_AFTER_FAILURES) continue;
        if (n.failures > 0) isFailing = true;
        else earliest = Math.min(earliest, n.lastResponseMs);
        if (n.failures === 0 && n.lastResponseMs >= cutoff) continue;
        out.push(n);
      }
    }
    this.earliestResponseMs = earliest;
    this.mayHaveFailing = isFailing;
    if (out.length > limit) out.sort((a, b) => a.lastSeenMs - b.lastSeenMs);
    return out.slice(0, limit);
  }

  /** Buckets unchanged for `idleMs`: index and the prefix length an id in it shares with ours. */
  staleBuckets(idleMs: number): number[] {
    const now = this.options.clock.now();
    const out: number[] = [];
    for (const [i, b] of this.buckets.entries()) if (now - b.lastChangedMs >= idleMs) out.push(i);
    return out;
  }

  /** Mark a bucket refreshed (a lookup into it ran). */
  touchBucket(index: number): void {
    const b = this.buckets[index];
    if (b) b.lastChangedMs = this.options.clock.now();
  }

  /** Invariants for tests: bucket ranges, capacities, IP and subnet limits, the address index. */
  assertInvariants(): void {
    let count = 0;
    for (const [i, b] of this.buckets.entries()) {
      if (b.nodes.length > this.capacity(i)) throw new Error(`bucket ${i} over capacity`);
      const subnets = new Map<string, number>();
      for (const n of b.nodes) {
        count++;
        if (this.bucketIndex(n.id) !== i) throw new Error(`node in wrong bucket ${i}`);
        if (this.byAddress.get(this.addressKey(n.host, n.port)) !== n)
          throw new Error('address index out of step');
        const s = n.subnet;
        subnets.set(s, (subnets.get(s) ?? 0) + 1);
        if (this.restrictIps && subnets.get(s)! > this.maxPerSubnet)
          throw new Error(`subnet ${s} over limit`);
      }
    }
    if (count !== this.byAddress.size) throw new Error('address index has stale entries');
  }

  private insert(entry: RoutingEntry): InsertResult {
    for (;;) {
      const index = this.bucketIndex(entry.id);
      const bucket = this.buckets[index]!;
      if (this.restrictIps && this.subnetCount(bucket, entry.host) >= this.maxPerSubnet) return 'refused';
      if (bucket.nodes.length < this.capacity(index)) {
        this.place(bucket, entry);
        return 'added';
      }
      if (index === this.buckets.length - 1 && this.buckets.length < MAX_BUCKETS) {
        this.split();
        continue;
      }
      return this.replaceIn(bucket, entry);
    }
  }

  private replaceIn(bucket: Bucket, entry: RoutingEntry): InsertResult {
    const bad = bucket.nodes.find((n) => this.stateOf(n) === 'bad');
    const weaker = bad ?? (entry.isCompliant ? bucket.nodes.find((n) => !n.isCompliant) : undefined);
    if (weaker) {
      this.remove(weaker);
      if (!bad) this.addReplacement(bucket, weaker);
      this.place(bucket, entry);
      return 'added';
    }
    this.addReplacement(bucket, entry);
    return 'replacement';
  }

  private addReplacement(bucket: Bucket, entry: RoutingEntry): void {
    const same = bucket.replacements.findIndex((r) => r.host === entry.host && r.port === entry.port);
    if (same >= 0) bucket.replacements.splice(same, 1);
    bucket.replacements.push(entry);
    if (bucket.replacements.length > this.maxReplacements) bucket.replacements.shift();
  }

  private place(bucket: Bucket, entry: RoutingEntry): void {
    bucket.nodes.push(entry);
    this.byAddress.set(this.addressKey(entry.host, entry.port), entry);
    bucket.lastChangedMs = this.options.clock.now();
  }

  /** Split the last bucket: nodes sharing one more bit with our id move to a new last bucket. */
  private split(): void {
    const last = this.buckets[this.buckets.length - 1]!;
    const next: Bucket = { nodes: [], replacements: [], lastChangedMs: last.lastChangedMs };
    const depth = this.buckets.length - 1;
    this.buckets.push(next);
    const moveOut = (list: RoutingEntry[], to: RoutingEntry[]) => {
      for (let i = list.length - 1; i >= 0; i--) {
        if (commonPrefixBits(this.ownId, list[i]!.id) > depth) to.unshift(...list.splice(i, 1));
      }
    };
    moveOut(last.nodes, next.nodes);
    moveOut(last.replacements, next.replacements);
    // The new bucket may be smaller (extended sizes shrink with depth): the excess waits as
    // replacements.
    while (next.nodes.length > this.capacity(depth + 1)) {
      const extra = next.nodes.pop()!;
      this.byAddress.delete(this.addressKey(extra.host, extra.port));
      this.addReplacement(next, extra);
    }
  }

  private bucketIndex(id: Uint8Array): number {
    return Math.min(commonPrefixBits(this.ownId, id), this.buckets.length - 1);
  }

  private capacity(index: number): number {
    return bucketCapacity(index, this.isExtended, this.k);
  }

  private subnetCount(bucket: Bucket, host: string): number {
    const key = subnetKey(host);
    let n = 0;
    for (const e of bucket.nodes) if (e.subnet === key) n++;
    return n;
  }

  /** With IP restriction one entry per IP, else one per IP and port. */
  private addressKey(host: string, port: number): string {
    return this.restrictIps ? host : `${host}|${port}`;
  }
}

const sameId = bytesEqual;

/** Nodes a bucket holds: k, or in an extended table 16k, 8k, 4k, 2k for the first four. */
export function bucketCapacity(index: number, extended: boolean, k = K): number {
  return extended && index < EXTENDED_FACTORS.length ? k * EXTENDED_FACTORS[index]! : k;
}

/** /24 for IPv4, /64 for IPv6. */
export function subnetKey(host: string): string {
  const ip = ipBytes(host);
  if (!ip) return host;
  return ip.length === 4 ? `${ip[0]}.${ip[1]}.${ip[2]}` : toHex(ip.subarray(0, 8));
}
