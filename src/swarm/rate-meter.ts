import type { Clock } from '../util/clock.js';

/**
 * Sliding-window transfer rate in bytes/s on an injected clock. Bytes are summed into
 * fixed-width slots of a ring (default 10 × 500 ms = 5 s window); `add` is O(1) amortized
 * and allocation-free, so it can run once per 16 KiB block.
 */
export class RateMeter {
  private readonly slots: Float64Array;
  private readonly slotMs: number;
  /** Index (in slot units since epoch) of the newest slot. */
  private head: number;
  private total = 0;
  private readonly startedMs: number;
  private lifetimeBytes = 0;

  constructor(
    private readonly clock: Clock,
    options: { windowMs?: number; slots?: number } = {},
  ) {
    const slots = options.slots ?? 10;
    this.slotMs = (options.windowMs ?? 5000) / slots;
    this.slots = new Float64Array(slots);
    this.startedMs = clock.now();
    this.head = Math.floor(this.startedMs / this.slotMs);
  }

  /** Record `bytes` transferred now. */
  add(bytes: number): void {
    this.advance();
    const i = this.head % this.slots.length;
    this.slots[i] = (this.slots[i] ?? 0) + bytes;
    this.total += bytes;
    this.lifetimeBytes += bytes;
  }

  /** Bytes/s over the window (or over the meter's life while younger than the window). */
  rate(): number {
    this.advance();
    const now = this.clock.now();
    // The window covers the full older slots plus the elapsed part of the newest one.
    const windowMs = now - (this.head - this.slots.length + 1) * this.slotMs;
    const ageMs = now - this.startedMs;
    return (this.total * 1000) / Math.max(1, Math.min(windowMs, ageMs));
  }

  /** All bytes ever recorded. */
  get totalBytes(): number {
    return this.lifetimeBytes;
  }

  private advance(): void {
    const now = Math.floor(this.clock.now() / this.slotMs);
    const steps = Math.min(now - this.head, this.slots.length);
    for (let k = 1; k <= steps; k++) {
      const i = (this.head + k) % this.slots.length;
      this.total -= this.slots[i] ?? 0;
      this.slots[i] = 0;
    }
    if (now > this.head) this.head = now;
  }
}
