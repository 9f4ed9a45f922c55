/**
 * Time as an injected dependency, so protocol cores run on a virtual clock in tests and
 * simulations. Nothing in a sans-I/O core calls `Date.now()` or `setTimeout` directly.
 *
 * Two levels: a `Clock` only reads the time (what pure cores need); a `Scheduler` is a clock
 * that also runs timers (what the engine above the cores needs: the session, the tracker
 * client, the DHT, discovery, daemon jobs). `systemScheduler` uses the event loop;
 * `VirtualScheduler` moves only when told to, so a whole swarm runs deterministically.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
}

/** Stops a timer; calling it again, or after the timer fired, does nothing. */
export type CancelTimer = () => void;

export interface Scheduler extends Clock {
  /** Run `fn` once, `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): CancelTimer;
  /** Run `fn` every `periodMs` until cancelled. */
  setInterval(periodMs: number, fn: () => void): CancelTimer;
}

/**
 * The event loop's timers. They are unref'd: engine timers never keep a process alive on their
 * own (sockets and the caller's own work do), so a library user's script exits when it is done.
 */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return () => clearTimeout(t);
  },
  setInterval(periodMs, fn) {
    const t = setInterval(fn, Math.max(1, periodMs));
    t.unref();
    return () => clearInterval(t);
  },
};

/** The system scheduler, under the name callers that only read the time use. */
export const systemClock: Scheduler = systemScheduler;

interface VirtualTimer {
  readonly id: number;
  atMs: number;
  readonly periodMs: number | null;
  readonly fn: () => void;
  isCancelled: boolean;
}

/**
 * A scheduler on virtual time. `advance(ms)` runs every timer that falls due, in time order
 * (ties in creation order), with `now()` set to each timer's due time while it runs; timers
 * created by timers are honoured in the same advance. Deterministic: no real time is read.
 */
export class VirtualScheduler implements Scheduler {
  private readonly heap: VirtualTimer[] = [];
  private nextId = 0;

  constructor(private nowMs = 0) {}

  now(): number {
    return this.nowMs;
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.heap.filter((t) => !t.isCancelled).length;
  }

  /** Due time of the earliest live timer, or null when none is waiting. */
  nextDueMs(): number | null {
    this.dropCancelledHead();
    return this.heap[0]?.atMs ?? null;
  }

  setTimer(delayMs: number, fn: () => void): CancelTimer {
    return this.schedule(Math.max(0, delayMs), null, fn);
  }

  setInterval(periodMs: number, fn: () => void): CancelTimer {
    const period = Math.max(1, periodMs);
    return this.schedule(period, period, fn);
  }

  /** Move time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    this.runUntil(this.nowMs + Math.max(0, ms));
  }

  /** Run timers due at or before `targetMs`, then set the time to `targetMs`. */
  runUntil(targetMs: number): void {
    for (;;) {
      this.dropCancelledHead();
      const head = this.heap[0];
      if (head === undefined || head.atMs > targetMs) break;
      this.runHead(head);
    }
    if (targetMs > this.nowMs) this.nowMs = targetMs;
  }

  /** Run the earliest timer (moving time to it); false when none is waiting. */
  step(): boolean {
    this.dropCancelledHead();
    const head = this.heap[0];
    if (head === undefined) return false;
    this.runHead(head);
    return true;
  }

  private runHead(head: VirtualTimer): void {
    this.pop();
    if (head.atMs > this.nowMs) this.nowMs = head.atMs;
    if (head.periodMs !== null) {
      head.atMs = this.nowMs + head.periodMs;
      this.push(head);
    }
    head.fn();
  }

  private schedule(delayMs: number, periodMs: number | null, fn: () => void): CancelTimer {
    const timer: VirtualTimer = {
      id: this.nextId++,
      atMs: this.nowMs + delayMs,
      periodMs,
      fn,
      isCancelled: false,
    };
    this.push(timer);
    return () => {
      timer.isCancelled = true;
    };
  }

  private dropCancelledHead(): void {
    while (this.heap[0]?.isCancelled) this.pop();
  }

  // A binary min-heap on (atMs, id): O(log n) per timer, so 10^5 timers stay cheap.
  private less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.id < b.id);
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** A clock that moves only when told to (tests); with timers, it is the virtual scheduler. */
export class ManualClock extends VirtualScheduler {}
