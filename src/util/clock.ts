/**
 * Time as an injected dependency, so protocol cores run on a virtual clock in tests and
 * simulations. Nothing in a sans-I/O core calls `Date.now()` or `setTimeout` directly.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

/** A clock that moves only when told to (tests, simulations). */
export class ManualClock implements Clock {
  constructor(private nowMs = 0) {}
  now(): number {
    return this.nowMs;
  }
  advance(ms: number): void {
    this.nowMs += ms;
  }
}
