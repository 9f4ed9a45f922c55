import type { Clock } from '../../util/clock.js';

/**
 * Per-IP token buckets in a bounded table (least recently used IP evicted first). Each entry
 * is two numbers; a request costs one Map lookup and a re-insert. An evicted IP starts again
 * with a full bucket, so the table size bounds memory, not fairness: size it above the number
 * of clients expected within one refill period.
 */
export interface RateLimitOptions {
  readonly clock: Clock;
  /** Sustained requests per second per IP; 0 or Infinity disables the limit. */
  readonly ratePerSecond: number;
  /** Requests allowed in a burst (default 4 × rate, at least 1). */
  readonly burst?: number;
  /** IPs remembered at most (default 100,000). */
  readonly maxEntries?: number;
}

interface Bucket {
  tokens: number;
  lastMs: number;
}

export class IpRateLimiter {
  private readonly clock: Clock;
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxEntries: number;
  private readonly buckets = new Map<string, Bucket>();
  readonly isEnabled: boolean;

  constructor(options: RateLimitOptions) {
    this.clock = options.clock;
    this.rate = options.ratePerSecond;
    this.isEnabled = this.rate > 0 && Number.isFinite(this.rate);
    this.burst = Math.max(1, options.burst ?? this.rate * 4);
    this.maxEntries = Math.max(1, options.maxEntries ?? 100_000);
  }

  /** Take `cost` tokens for `ip`; false means the request should be refused. */
  allow(ip: string, cost = 1): boolean {
    if (!this.isEnabled) return true;
    const now = this.clock.now();
    let b = this.buckets.get(ip);
    if (b === undefined) {
      if (this.buckets.size >= this.maxEntries) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      b = { tokens: this.burst, lastMs: now };
    } else {
      this.buckets.delete(ip);
      const elapsed = now - b.lastMs;
      if (elapsed > 0) {
        b.tokens = Math.min(this.burst, b.tokens + (elapsed * this.rate) / 1000);
        b.lastMs = now;
      }
    }
    this.buckets.set(ip, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
