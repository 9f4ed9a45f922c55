import type { Clock } from '../util/clock.js';
import { TokenBucket } from '../util/token-bucket.js';

/**
 * Per-IP request limits: one token bucket per client address in a bounded table. When the
 * table is full the least recently seen address is dropped (it starts again with a full
 * bucket, which only ever helps a client that has been quiet the longest).
 */
export interface RateLimitOptions {
  readonly requestsPerSecond: number;
  readonly burst: number;
  readonly maxClients: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { requestsPerSecond: 20, burst: 60, maxClients: 10_000 };

export class IpRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly clock: Clock,
    private readonly options: RateLimitOptions = DEFAULT_RATE_LIMIT,
  ) {}

  /** Take `cost` tokens for `ip`; false means "refuse this request". */
  allow(ip: string, cost = 1): boolean {
    let bucket = this.buckets.get(ip);
    if (bucket) {
      this.buckets.delete(ip); // re-insert: Map order is our LRU order
    } else {
      if (this.buckets.size >= this.options.maxClients) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      bucket = new TokenBucket(this.clock, this.options.requestsPerSecond, this.options.burst);
    }
    this.buckets.set(ip, bucket);
    if (bucket.available() < cost) return false;
    bucket.charge(cost);
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
