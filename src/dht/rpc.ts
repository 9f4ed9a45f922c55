/**
 * Outgoing KRPC queries and their transactions: a 2-byte transaction id per query in flight,
 * a hard timeout after which the query failed, and an optional soft timeout after which a
 * lookup may use the slot for another node (a late answer still counts). A response is
 * matched only when it comes from the address the query went to, so a spoofer who guesses a
 * transaction id from elsewhere is ignored.
 */
import { toHex } from '../util/bytes.js';
import type { CancelTimer, Scheduler } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import { encodeKrpc, type KrpcMessage, type KrpcQuery, type KrpcResponse } from './krpc.js';

export type RpcOutcome =
  | { readonly kind: 'response'; readonly response: KrpcResponse; readonly ip?: PeerAddress }
  | { readonly kind: 'error'; readonly code: number; readonly message: string }
  | { readonly kind: 'timeout' };

export interface RpcOptions {
  readonly scheduler: Scheduler;
  readonly send: (bytes: Uint8Array, to: PeerAddress) => void;
  readonly ownId: () => Uint8Array;
  readonly isReadOnly: boolean;
  readonly version?: Uint8Array;
  /** Default 4 s: a node that has not answered by then is counted as failed. */
  readonly hardTimeoutMs?: number;
  /** Queries in flight at once; more are refused (the caller tries later). Default 256. */
  readonly maxInFlight?: number;
  /** Starting transaction counter (random in production, so ids are not predictable from 0). */
  readonly firstTransaction?: number;
}

interface Pending {
  readonly to: PeerAddress;
  readonly onDone: (outcome: RpcOutcome) => void;
  readonly cancelHard: CancelTimer;
  cancelSoft: CancelTimer | null;
}

export interface RpcStats {
  sent: number;
  responses: number;
  errors: number;
  timeouts: number;
  /** Responses with an unknown transaction id or from the wrong address. */
  unmatched: number;
}

export const DEFAULT_HARD_TIMEOUT_MS = 4000;

export class Rpc {
  private readonly pending = new Map<string, Pending>();
  private next: number;
  readonly stats: RpcStats = { sent: 0, responses: 0, errors: 0, timeouts: 0, unmatched: 0 };
  private readonly hardTimeoutMs: number;
  private readonly maxInFlight: number;

  constructor(private readonly options: RpcOptions) {
    this.next = (options.firstTransaction ?? 0) & 0xffff;
    this.hardTimeoutMs = options.hardTimeoutMs ?? DEFAULT_HARD_TIMEOUT_MS;
    this.maxInFlight = options.maxInFlight ?? 256;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Send `query` to `to`; `onDone` runs exactly once (response, error or timeout) unless the
   * rpc is closed. `onSoft` runs after `softTimeoutMs` if no answer came by then. False when
   * too many queries are in flight (nothing is sent).
   */
  query(
    to: PeerAddress,
    query: KrpcQuery,
    onDone: (outcome: RpcOutcome) => void,
    soft?: { readonly timeoutMs: number; readonly onSoft: () => void },
  ): boolean {
    if (this.pending.size >= this.maxInFlight) return false;
    let t: Uint8Array;
    let key: string;
    do {
      this.next = (this.next + 1) & 0xffff;
      t = new Uint8Array([this.next >> 8, this.next & 0xff]);
      key = toHex(t);
    } while (this.pending.has(key));
    const message: KrpcMessage = {
      t,
      y: 'q',
      id: this.options.ownId(),
      readOnly: this.options.isReadOnly,
      query,
      ...(this.options.version ? { version: this.options.version } : {}),
    };
    const cancelHard = this.options.scheduler.setTimer(this.hardTimeoutMs, () =>
      this.finish(key, { kind: 'timeout' }),
    );
    const entry: Pending = { to, onDone, cancelHard, cancelSoft: null };
    if (soft) {
      entry.cancelSoft = this.options.scheduler.setTimer(soft.timeoutMs, () => {
        entry.cancelSoft = null;
        soft.onSoft();
      });
    }
    this.pending.set(key, entry);
    this.stats.sent++;
    this.options.send(encodeKrpc(message), to);
    return true;
  }

  /** A response or error arrived; true when it answered one of our queries. */
  handleReply(message: KrpcMessage, from: PeerAddress): boolean {
    if (message.y === 'q') return false;
    const key = toHex(message.t);
    const entry = this.pending.get(key);
    if (!entry || entry.to.port !== from.port || entry.to.host !== from.host) {
      this.stats.unmatched++;
      return false;
    }
    if (message.y === 'r') {
      this.stats.responses++;
      this.finish(key, {
        kind: 'response',
        response: message.response,
        ...(message.ip ? { ip: message.ip } : {}),
      });
    } else {
      this.stats.errors++;
      this.finish(key, { kind: 'error', code: message.error.code, message: message.error.message });
    }
    return true;
  }

  /** Whether a query to this address is waiting (a garbage reply from it fails that query). */
  pendingTo(from: PeerAddress): string[] {
    const keys: string[] = [];
    for (const [key, p] of this.pending)
      if (p.to.host === from.host && p.to.port === from.port) keys.push(key);
    return keys;
  }

  /** Fail the queries waiting on this address as timed out (it answered with garbage). */
  failPendingTo(from: PeerAddress): void {
    for (const key of this.pendingTo(from)) this.finish(key, { kind: 'timeout' });
  }

  /** Drop every pending query without calling back. */
  close(): void {
    for (const p of this.pending.values()) {
      p.cancelHard();
      p.cancelSoft?.();
    }
    this.pending.clear();
  }

  private finish(key: string, outcome: RpcOutcome): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    entry.cancelHard();
    entry.cancelSoft?.();
    if (outcome.kind === 'timeout') this.stats.timeouts++;
    entry.onDone(outcome);
  }
}
