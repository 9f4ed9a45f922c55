import type { Clock } from './clock.js';

/**
 * A token bucket on an injected clock: tokens (bytes) refill at `rateBytesPerSec` up to
 * `burstBytes`. `take(n)` grants what is available now and says how long to wait for the
 * rest, so callers never busy-loop. A rate of `Infinity` means unlimited.
 *
 * Hierarchy (global + per-torrent): a transfer asks its torrent's bucket first and the
 * global bucket second through {@link takeAll}, which grants the minimum of what every
 * bucket can give and charges each bucket exactly that amount, so neither limit is exceeded
 * and no bucket is charged for bytes another one refused.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly clock: Clock,
    private rateBytesPerSec: number,
    private burstBytes = Math.max(16 * 1024, rateBytesPerSec / 4),
  ) {
    this.tokens = burstBytes;
    this.lastMs = clock.now();
  }

  /** Change the rate (and optionally the burst); tokens above the new burst are dropped. */
  setRate(rateBytesPerSec: number, burstBytes = Math.max(16 * 1024, rateBytesPerSec / 4)): void {
    this.refill();
    this.rateBytesPerSec = rateBytesPerSec;
    this.burstBytes = burstBytes;
    this.tokens = Math.min(this.tokens, burstBytes);
  }

  /** Bytes that could be taken right now. */
  available(): number {
    if (this.rateBytesPerSec === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Take up to `n` bytes. `waitMs` is when the remainder (if any) will be available. */
  take(n: number): { readonly granted: number; readonly waitMs: number } {
    const granted = Math.min(n, this.available());
    this.charge(granted);
    return { granted, waitMs: this.waitFor(n - granted) };
  }

  /** Consume `n` bytes already granted elsewhere (may go negative: debt is repaid first). */
  charge(n: number): void {
    if (this.rateBytesPerSec !== Number.POSITIVE_INFINITY) this.tokens -= n;
  }

  /** Milliseconds until `n` more bytes are available (0 if now). */
  waitFor(n: number): number {
    if (n <= 0 || this.rateBytesPerSec === Number.POSITIVE_INFINITY) return 0;
    this.refill();
    const missing = Math.min(n, this.burstBytes) - this.tokens;
    if (missing <= 0) return 0;
    if (this.rateBytesPerSec <= 0) return Number.POSITIVE_INFINITY;
    return Math.ceil((missing * 1000) / this.rateBytesPerSec);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.lastMs;
    if (elapsed <= 0) return;
    this.lastMs = now;
    this.tokens = Math.min(this.burstBytes, this.tokens + (elapsed * this.rateBytesPerSec) / 1000);
  }
}

/** Take `n` bytes from several buckets at once (e.g. per-torrent then global); see {@link TokenBucket}. */
export function takeAll(
  buckets: readonly TokenBucket[],
  n: number,
): { readonly granted: number; readonly waitMs: number } {
  let granted = n;
  for (const b of buckets) granted = Math.min(granted, b.available());
  granted = Math.max(0, granted);
  let waitMs = 0;
  for (const b of buckets) {
    b.charge(granted);
    waitMs = Math.max(waitMs, b.waitFor(n - granted));
  }
  return { granted, waitMs };
}
