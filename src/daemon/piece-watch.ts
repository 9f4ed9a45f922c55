/**
 * Which pieces the daemon knows are verified, and waiting for the ones it does not, for
 * streaming. The engine's handle tells verified pieces only as `piece` events (no bitfield in
 * the public API), so the daemon records them here; pieces verified before this process
 * started are checked by the streamer itself against the piece hash (stream.ts).
 */
import { systemScheduler } from '../util/clock.js';

export class PieceWatch {
  private readonly known = new Map<string, Set<number>>();
  private readonly waiters = new Map<string, Map<number, Set<() => void>>>();

  verified(key: string, piece: number): void {
    let set = this.known.get(key);
    if (!set) {
      set = new Set();
      this.known.set(key, set);
    }
    set.add(piece);
    const waiting = this.waiters.get(key)?.get(piece);
    if (!waiting) return;
    this.waiters.get(key)!.delete(piece);
    for (const wake of waiting) wake();
  }

  isVerified(key: string, piece: number): boolean {
    return this.known.get(key)?.has(piece) ?? false;
  }

  forget(key: string): void {
    this.known.delete(key);
    const all = this.waiters.get(key);
    this.waiters.delete(key);
    for (const set of all?.values() ?? []) for (const wake of set) wake();
  }

  /** Resolves true once the piece is verified, false on timeout or abort. */
  waitFor(key: string, piece: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.isVerified(key, piece)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let byPiece = this.waiters.get(key);
      if (!byPiece) {
        byPiece = new Map();
        this.waiters.set(key, byPiece);
      }
      let set = byPiece.get(piece);
      if (!set) {
        set = new Set();
        byPiece.set(piece, set);
      }
      const finish = (ok: boolean) => {
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        set.delete(wake);
        resolve(ok);
      };
      const wake = () => finish(this.isVerified(key, piece));
      const onAbort = () => finish(false);
      const cancelTimer = systemScheduler.setTimer(timeoutMs, () => finish(false));
      set.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
