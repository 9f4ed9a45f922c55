import { lookup } from 'node:dns/promises';
import { bindUdp, type UdpSocket } from '../../net/udp.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import { TrackerError } from '../errors.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeStats } from '../protocol/announce.js';
import { ipFamily, parseIpv6 } from '../protocol/compact.js';
import { urlDataOf } from '../protocol/udp.js';
import { type UdpTarget, UdpTrackerCore } from './udp-tracker.js';

/**
 * The I/O edge of the UDP tracker client: resolves `udp://host:port/…` (IPv4 or IPv6), owns
 * one udp4 and one udp6 socket (bound lazily), feeds datagrams to `UdpTrackerCore` and runs
 * its `upkeep()` from a single timer. Share one instance across torrents.
 */
export interface UdpTransportOptions {
  clock?: Clock;
  random?: Random;
  baseTimeoutMs?: number;
  maxRetries?: number;
  connectionIdTtlMs?: number;
  maxPeers?: number;
  /** Local addresses to bind (default all interfaces); tests use 127.0.0.1 / ::1. */
  bindHost4?: string;
  bindHost6?: string;
}

/** Transaction ids must be unguessable by a spoofer: use the platform CSPRNG by default. */
const cryptoRandom: Random = {
  next: () => crypto.getRandomValues(new Uint32Array(1))[0]! / 0x1_0000_0000,
};

export class UdpTrackerTransport {
  private readonly core: UdpTrackerCore;
  private readonly sockets = new Map<4 | 6, Promise<UdpSocket>>();
  private readonly clock: Clock;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private isClosed = false;

  constructor(private readonly options: UdpTransportOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.core = new UdpTrackerCore({
      clock: this.clock,
      random: options.random ?? cryptoRandom,
      send: (bytes, target) => this.send(bytes, target),
      ...(options.baseTimeoutMs === undefined ? {} : { baseTimeoutMs: options.baseTimeoutMs }),
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
      ...(options.connectionIdTtlMs === undefined ? {} : { connectionIdTtlMs: options.connectionIdTtlMs }),
      ...(options.maxPeers === undefined ? {} : { maxPeers: options.maxPeers }),
    });
  }

  async announce(url: string, req: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    const target = await this.resolve(url);
    await this.socketFor(target.family);
    const urlData = urlDataOf(url);
    const p = this.core.announce(target, req, urlData.length > 0 ? urlData : undefined, signal);
    this.arm();
    return p.finally(() => this.arm());
  }

  async scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]> {
    const target = await this.resolve(url);
    await this.socketFor(target.family);
    const p = this.core.scrape(target, infoHashes, signal);
    this.arm();
    return p.finally(() => this.arm());
  }

  async close(): Promise<void> {
    this.isClosed = true;
    if (this.timer) clearTimeout(this.timer);
    this.core.close();
    const sockets = await Promise.allSettled(this.sockets.values());
    await Promise.all(sockets.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
  }

  /** Parse and resolve a `udp://` URL to an IP target. */
  private async resolve(url: string): Promise<UdpTarget> {
    if (this.isClosed) throw new TrackerError('TRACKER_ABORTED', 'UDP tracker transport closed');
    const m = /^udp:\/\/(\[[^\]]+\]|[^/:?#]+):(\d{1,5})(?:[/?#]|$)/i.exec(url);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 0xffff)
      throw new TrackerError('TRACKER_BAD_URL', `bad UDP tracker URL ${url}`);
    const hostText = m[1]!;
    if (hostText.startsWith('[')) {
      const v6 = parseIpv6(hostText);
      if (!v6) throw new TrackerError('TRACKER_BAD_URL', `bad IPv6 address in ${url}`);
      return { host: hostText.slice(1, -1), port, family: 6 };
    }
    const literal = ipFamily(hostText);
    if (literal) return { host: hostText, port, family: literal };
    try {
      const r = await lookup(hostText);
      return { host: r.address, port, family: r.family === 6 ? 6 : 4 };
    } catch (err) {
      throw new TrackerError('TRACKER_NETWORK', `cannot resolve ${hostText}`, { cause: err });
    }
  }

  private socketFor(family: 4 | 6): Promise<UdpSocket> {
    let p = this.sockets.get(family);
    if (!p) {
      const host = family === 4 ? this.options.bindHost4 : this.options.bindHost6;
      p = bindUdp({ type: family === 4 ? 'udp4' : 'udp6', ...(host === undefined ? {} : { host }) }).then(
        (s) => {
          s.onMessage((bytes, from) => {
            this.core.handleMessage(bytes, from);
            this.arm();
          });
          // Send errors (unreachable, etc.) surface as timeouts of the request; nothing to crash.
          s.onError(() => {});
          return s;
        },
      );
      p.catch(() => this.sockets.delete(family));
      this.sockets.set(family, p);
    }
    return p.catch((err) => {
      throw new TrackerError('TRACKER_NETWORK', `cannot bind a UDP${family === 4 ? '4' : '6'} socket`, {
        cause: err,
      });
    });
  }

  private send(bytes: Uint8Array, target: UdpTarget): void {
    void this.sockets.get(target.family)?.then(
      (s) => s.send(bytes, target.host, target.port),
      () => {},
    );
  }

  /** One timer for all pending requests, set to the earliest retransmission deadline. */
  private arm(): void {
    if (this.isClosed) return;
    const next = this.core.nextDeadlineMs();
    if (next === undefined) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer && next >= this.timerAtMs) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAtMs = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAtMs = Number.POSITIVE_INFINITY;
        this.core.upkeep();
        this.arm();
      },
      Math.max(0, next - this.clock.now()),
    );
    this.timer.unref();
  }
}
