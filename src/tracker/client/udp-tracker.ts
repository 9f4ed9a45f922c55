import type { Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import { TrackerError } from '../errors.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeStats } from '../protocol/announce.js';
import { type AddressFamily, DEFAULT_MAX_PEERS, normalizeHost } from '../protocol/compact.js';
import {
  decodeUdpResponse,
  encodeUdpRequest,
  UDP_MAX_SCRAPE_HASHES,
  type UdpResponse,
} from '../protocol/udp.js';

/**
 * The client side of BEP 15, sans-I/O (as Transmission's announcer): input arrives through
 * `handleMessage(bytes, from)`, packets leave through the injected `send`, and time advances
 * through `upkeep()`. No socket, no timer, no `Date.now()` here.
 *
 * One core serves every UDP tracker of every torrent: connection ids are cached per
 * tracker address for one minute (BEP 15), transactions are matched by a random 32-bit id
 * AND the address they were sent to.
 */
export interface UdpTarget {
  /** IP literal (the adapter resolves names). */
  readonly host: string;
  readonly port: number;
  readonly family: AddressFamily;
}

export interface UdpTrackerCoreOptions {
  clock: Clock;
  random: Random;
  send(bytes: Uint8Array, target: UdpTarget): void;
  /** BEP 15: 15 s; the n-th retransmission waits base · 2^n. Shorter in tests. */
  baseTimeoutMs?: number;
  /** BEP 15: n goes up to 8. After the last wait the request fails with `TRACKER_TIMEOUT`. */
  maxRetries?: number;
  /** BEP 15: a connection id is valid for one minute. */
  connectionIdTtlMs?: number;
  maxPeers?: number;
}

type Job =
  | {
      kind: 'announce';
      request: AnnounceRequest;
      urlData: Uint8Array | undefined;
      done: Settle<AnnounceResponse>;
    }
  | { kind: 'scrape'; infoHashes: readonly Uint8Array[]; done: Settle<ScrapeStats[]> };

interface Settle<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

interface Transaction {
  readonly target: UdpTarget;
  readonly job: Job;
  stage: 'connect' | 'request';
  transactionId: number;
  connectionId: bigint;
  attempt: number;
  deadlineMs: number;
  cleanup: () => void;
}

interface CachedConnection {
  readonly connectionId: bigint;
  readonly obtainedAtMs: number;
}

export class UdpTrackerCore {
  private readonly pending = new Map<number, Transaction>();
  private readonly connections = new Map<string, CachedConnection>();
  private readonly baseTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly ttlMs: number;

  constructor(private readonly options: UdpTrackerCoreOptions) {
    this.baseTimeoutMs = options.baseTimeoutMs ?? 15_000;
    this.maxRetries = options.maxRetries ?? 8;
    this.ttlMs = options.connectionIdTtlMs ?? 60_000;
  }

  announce(
    target: UdpTarget,
    request: AnnounceRequest,
    urlData?: Uint8Array,
    signal?: AbortSignal,
  ): Promise<AnnounceResponse> {
    return new Promise((resolve, reject) => {
      this.start(target, { kind: 'announce', request, urlData, done: { resolve, reject } }, signal);
    });
  }

  scrape(target: UdpTarget, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]> {
    if (infoHashes.length === 0 || infoHashes.length > UDP_MAX_SCRAPE_HASHES) {
      return Promise.reject(new RangeError(`scrape needs 1..${UDP_MAX_SCRAPE_HASHES} info-hashes`));
    }
    return new Promise((resolve, reject) => {
      this.start(target, { kind: 'scrape', infoHashes, done: { resolve, reject } }, signal);
    });
  }

  /** Number of requests waiting for an answer. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether a request is waiting for this transaction id (a shared UDP port routes by it). */
  hasTransaction(transactionId: number): boolean {
    return this.pending.has(transactionId);
  }

  /** The earliest retransmission deadline, for the adapter's timer. */
  nextDeadlineMs(): number | undefined {
    let next: number | undefined;
    for (const t of this.pending.values()) if (next === undefined || t.deadlineMs < next) next = t.deadlineMs;
    return next;
  }

  /** Retransmit what timed out (BEP 15: 15·2^n s); fail what ran out of retries. */
  upkeep(): void {
    const now = this.options.clock.now();
    for (const t of [...this.pending.values()]) {
      if (now < t.deadlineMs) continue;
      if (t.attempt >= this.maxRetries) {
        this.finish(
          t,
          new TrackerError('TRACKER_TIMEOUT', `UDP tracker ${t.target.host}:${t.target.port} did not answer`),
        );
        continue;
      }
      t.attempt++;
      if (t.stage === 'request' && !this.cachedConnection(t.target)) t.stage = 'connect';
      this.transmit(t);
    }
  }

  /** Feed one datagram from a socket. Unknown or spoofed packets are ignored. */
  handleMessage(bytes: Uint8Array, from: { host: string; port: number }): void {
    if (bytes.length < 8) return;
    const tid = ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
    const t = this.pending.get(tid);
    if (!t || from.port !== t.target.port || normalizeHost(from.host) !== normalizeHost(t.target.host))
      return;
    let res: UdpResponse;
    try {
      res = decodeUdpResponse(bytes, t.target.family, this.options.maxPeers ?? DEFAULT_MAX_PEERS);
    } catch (err) {
      this.finish(t, err as Error);
      return;
    }
    this.onResponse(t, res);
  }

  /** Fail every pending request (shutdown). */
  close(): void {
    for (const t of [...this.pending.values()]) {
      this.finish(t, new TrackerError('TRACKER_ABORTED', 'UDP tracker client closed'));
    }
  }

  private start(target: UdpTarget, job: Job, signal: AbortSignal | undefined): void {
    if (signal?.aborted) {
      job.done.reject(new TrackerError('TRACKER_ABORTED', 'tracker request aborted'));
      return;
    }
    const onAbort = (): void =>
      this.finish(t, new TrackerError('TRACKER_ABORTED', 'tracker request aborted'));
    const t: Transaction = {
      target,
      job,
      stage: this.cachedConnection(target) ? 'request' : 'connect',
      transactionId: 0,
      connectionId: 0n,
      attempt: 0,
      deadlineMs: 0,
      cleanup: () => signal?.removeEventListener('abort', onAbort),
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.transmit(t);
  }

  private onResponse(t: Transaction, res: UdpResponse): void {
    if (res.action === 'error') {
      // The id may have been refused; get a fresh one next time.
      this.connections.delete(keyOf(t.target));
      this.finish(
        t,
        new TrackerError('TRACKER_FAILURE', `tracker error: ${res.message}`, { failureReason: res.message }),
      );
      return;
    }
    if (t.stage === 'connect') {
      if (res.action !== 'connect') {
        this.finish(
          t,
          new TrackerError('TRACKER_BAD_PACKET', `expected a connect response, got ${res.action}`),
        );
        return;
      }
      this.connections.set(keyOf(t.target), {
        connectionId: res.connectionId,
        obtainedAtMs: this.options.clock.now(),
      });
      t.stage = 'request';
      this.transmit(t);
      return;
    }
    if (t.job.kind === 'announce' && res.action === 'announce') {
      const job = t.job;
      this.finish(t);
      job.done.resolve(res.response);
    } else if (t.job.kind === 'scrape' && res.action === 'scrape') {
      const job = t.job;
      this.finish(t);
      job.done.resolve(
        job.infoHashes.slice(0, res.files.length).map((infoHash, i) => ({ infoHash, ...res.files[i]! })),
      );
    } else {
      this.finish(
        t,
        new TrackerError('TRACKER_BAD_PACKET', `expected a ${t.job.kind} response, got ${res.action}`),
      );
    }
  }

  private transmit(t: Transaction): void {
    this.pending.delete(t.transactionId);
    t.transactionId = this.freshTransactionId();
    this.pending.set(t.transactionId, t);
    t.deadlineMs = this.options.clock.now() + this.baseTimeoutMs * 2 ** t.attempt;
    if (t.stage === 'connect') {
      this.options.send(encodeUdpRequest({ action: 'connect', transactionId: t.transactionId }), t.target);
      return;
    }
    const conn = this.cachedConnection(t.target)!;
    t.connectionId = conn.connectionId;
    const bytes =
      t.job.kind === 'announce'
        ? encodeUdpRequest({
            action: 'announce',
            connectionId: conn.connectionId,
            transactionId: t.transactionId,
            request: t.job.request,
            ...(t.job.urlData ? { urlData: t.job.urlData } : {}),
          })
        : encodeUdpRequest({
            action: 'scrape',
            connectionId: conn.connectionId,
            transactionId: t.transactionId,
            infoHashes: t.job.infoHashes,
          });
    this.options.send(bytes, t.target);
  }

  private finish(t: Transaction, err?: Error): void {
    if (this.pending.get(t.transactionId) !== t) return;
    this.pending.delete(t.transactionId);
    t.cleanup();
    if (err) t.job.done.reject(err);
  }

  private cachedConnection(target: UdpTarget): CachedConnection | undefined {
    const c = this.connections.get(keyOf(target));
    if (!c) return undefined;
    if (this.options.clock.now() - c.obtainedAtMs >= this.ttlMs) {
      this.connections.delete(keyOf(target));
      return undefined;
    }
    return c;
  }

  private freshTransactionId(): number {
    for (;;) {
      const id = Math.floor(this.options.random.next() * 0x1_0000_0000) >>> 0;
      if (!this.pending.has(id)) return id;
    }
  }
}

function keyOf(target: UdpTarget): string {
  return `${normalizeHost(target.host)}|${target.port}`;
}
