/**
 * Small bounded guards a node keeps about strangers: per-IP query rate limits and the votes
 * for our external address (BEP 42 `ip` fields).
 */
import type { Clock } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';

const MAX_TRACKED = 10_000;

interface Bucket {
  tokens: number;
  lastMs: number;
}

/** A token bucket per IP (or per IP and port on a loopback network). */
export class QueryRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly keyBy: 'ip' | 'address',
  ) {}

  allow(from: PeerAddress): boolean {
    const key = this.keyBy === 'ip' ? from.host : `${from.host}|${from.port}`;
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (!b) {
      // Bounded: forgetting everyone is safe (a forgotten flooder starts with one burst again).
      if (this.buckets.size >= MAX_TRACKED) this.buckets.clear();
      b = { tokens: this.burst, lastMs: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.lastMs) / 1000) * this.perSecond);
    b.lastMs = now;
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }
}

/** Votes needed before we believe an external address. */
const MIN_VOTES = 3;
const MAX_VOTERS = 64;

/** One vote per voter IP, newest kept; the address most voters report wins. */
export class ExternalAddressVotes {
  private readonly byVoter = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private cached: string | null = null;
  private isDirty = false;

  add(voterHost: string, reported: string): void {
    const previous = this.byVoter.get(voterHost);
    if (previous === reported) return;
    if (previous !== undefined) this.uncount(previous);
    this.byVoter.delete(voterHost);
    this.byVoter.set(voterHost, reported);
    this.counts.set(reported, (this.counts.get(reported) ?? 0) + 1);
    if (this.byVoter.size > MAX_VOTERS) {
      const [oldest, address] = this.byVoter.entries().next().value!;
      this.byVoter.delete(oldest);
      this.uncount(address);
    }
    this.isDirty = true;
  }

  /** The address at least `MIN_VOTES` voters and a majority report, or null. */
  winner(): string | null {
    if (!this.isDirty) return this.cached;
    this.isDirty = false;
    let best: string | null = null;
    let bestCount = 0;
    for (const [a, n] of this.counts) {
      if (n > bestCount) {
        best = a;
        bestCount = n;
      }
    }
    this.cached = bestCount >= MIN_VOTES && bestCount * 2 > this.byVoter.size ? best : null;
    return this.cached;
  }

  private uncount(address: string): void {
    const n = (this.counts.get(address) ?? 1) - 1;
    if (n <= 0) this.counts.delete(address);
    else this.counts.set(address, n);
  }
}

/** Datagrams that fail to decode before an address is ignored for `BAN_MS`. */
const GARBAGE_STRIKES = 3;
const BAN_MS = 10 * 60_000;
const MAX_BANNED = 4096;
const MAX_VERIFIED = 8192;

/**
 * What a node remembers about addresses, bounded: which answered our queries (verified: they
 * receive at their source address, so answers to them need no amplification limit), which sent
 * garbage (strikes), and which are ignored for a while (banned).
 */
export class AddressRecords {
  private readonly verified = new Map<string, number>();
  private readonly strikes = new Map<string, number>();
  private readonly banned = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    /** Ban by IP (true) or by IP and port (loopback networks, where everyone is 127.0.0.1). */
    private readonly isByIp: boolean,
  ) {}

  markVerified(a: PeerAddress): void {
    const key = `${a.host}|${a.port}`;
    this.verified.delete(key);
    this.verified.set(key, this.clock.now());
    if (this.verified.size > MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
  }

  isVerified(a: PeerAddress): boolean {
    return this.verified.has(`${a.host}|${a.port}`);
  }

  /** Count a garbage datagram; true when this one got the address banned. */
  strike(a: PeerAddress): boolean {
    const key = this.banKey(a);
    const n = (this.strikes.get(key) ?? 0) + 1;
    this.strikes.set(key, n);
    if (this.strikes.size > MAX_BANNED) this.strikes.clear();
    if (n < GARBAGE_STRIKES) return false;
    if (this.banned.size >= MAX_BANNED) this.banned.delete(this.banned.keys().next().value!);
    this.banned.set(key, this.clock.now() + BAN_MS);
    return true;
  }

  isBanned(a: PeerAddress): boolean {
    const key = this.banKey(a);
    const until = this.banned.get(key);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.banned.delete(key);
    this.strikes.delete(key);
    return false;
  }

  private banKey(a: PeerAddress): string {
    return this.isByIp ? a.host : `${a.host}|${a.port}`;
  }
}
