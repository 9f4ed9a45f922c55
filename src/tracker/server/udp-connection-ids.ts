import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../../util/clock.js';

/**
 * BEP 15 connection ids that a spoofer cannot guess: the first 8 bytes of
 * HMAC-SHA256(secret_w, window ‖ port ‖ ip), where `w` is the current time window and the
 * secret is replaced by a fresh random one every window. An id is accepted in the window it
 * was issued and the next, so it lives between `windowMs` and `2 × windowMs` (default 60 s:
 * a client may use it for the minute BEP 15 promises, never longer than two minutes).
 *
 * Why: the id proves the client received a packet at its source address, so nobody can make
 * the tracker send announce responses (bigger than requests) to a forged address. A constant
 * id (bittorrent-tracker echoes the protocol magic) proves nothing.
 *
 * Verifying costs up to two HMACs (~2 µs each); a bounded cache of ids recently issued to an
 * address answers the common case (a client announcing with the id it just got) with one Map
 * lookup. A cache miss falls back to the HMAC, so eviction never rejects a valid id.
 */
export interface ConnectionIdOptions {
  readonly clock: Clock;
  /** Window length; an id is valid for one to two windows (default 60 s). */
  readonly windowMs?: number;
  /** Source of secrets (tests inject a deterministic one). */
  readonly randomBytes?: (n: number) => Uint8Array;
  /** Entries in the issued-id cache (default 65,536). */
  readonly cacheSize?: number;
}

interface Issued {
  readonly id: bigint;
  /** The id's high and low 32 bits, so the hot path compares numbers, not BigInts. */
  readonly hi: number;
  readonly lo: number;
  readonly window: number;
}

export class ConnectionIds {
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly random: (n: number) => Uint8Array;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, Issued>();
  private window = Number.NaN;
  private secret: Uint8Array = new Uint8Array(0);
  private previousSecret: Uint8Array | null = null;

  constructor(options: ConnectionIdOptions) {
    this.clock = options.clock;
    this.windowMs = options.windowMs ?? 60_000;
    this.random = options.randomBytes ?? ((n) => new Uint8Array(randomBytes(n)));
    this.cacheSize = options.cacheSize ?? 65_536;
  }

  /** A connection id for a client at `host:port` (its UDP source address). */
  issue(host: string, port: number): bigint {
    const w = this.rotate();
    const id = this.mac(this.secret, w, host, port);
    const k = `${host}|${port}`;
    this.cache.delete(k);
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(k, { id, hi: Number(id >> 32n), lo: Number(id & 0xffffffffn), window: w });
    return id;
  }

  /** True when `id` was issued to `host:port` in this window or the previous one. */
  verify(id: bigint, host: string, port: number): boolean {
    const w = this.rotate();
    const hit = this.cache.get(`${host}|${port}`);
    if (hit !== undefined && hit.id === id && hit.window >= w - 1) return true;
    if (this.mac(this.secret, w, host, port) === id) return true;
    return this.previousSecret !== null && this.mac(this.previousSecret, w - 1, host, port) === id;
  }

  /**
   * {@link verify} for an id read as two u32 halves (the UDP hot path reads them straight from
   * the packet): a cache hit costs one Map lookup and no allocation but the key string.
   */
  verifyHalves(hi: number, lo: number, host: string, port: number): boolean {
    const w = this.rotate();
    const hit = this.cache.get(`${host}|${port}`);
    if (hit !== undefined && hit.hi === hi && hit.lo === lo && hit.window >= w - 1) return true;
    return this.verify((BigInt(hi) << 32n) | BigInt(lo), host, port);
  }

  /** Advance to the current window, replacing the secret; returns the window number. */
  private rotate(): number {
    const w = Math.floor(this.clock.now() / this.windowMs);
    if (w === this.window) return w;
    this.previousSecret = w === this.window + 1 ? this.secret : null;
    this.secret = this.random(32);
    this.window = w;
    return w;
  }

  private mac(secret: Uint8Array, window: number, host: string, port: number): bigint {
    const digest = createHmac('sha256', secret).update(`${window}|${port}|${host}`).digest();
    return digest.readBigUInt64BE(0);
  }
}
