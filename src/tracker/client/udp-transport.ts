import { lookup } from 'node:dns/promises';
import { bindUdp, type UdpSocket } from '../../net/udp.js';
import type { MuxRegistration, UdpMux } from '../../net/udp-mux.js';
import type { CancelTimer, Clock, Scheduler } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import { TrackerError } from '../errors.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeStats } from '../protocol/announce.js';
import { ipFamily, parseIpv6 } from '../protocol/compact.js';
import { urlDataOf } from '../protocol/udp.js';
import { schedulerFrom } from './scheduling.js';
import { type UdpTarget, UdpTrackerCore } from './udp-tracker.js';

/**
 * The I/O edge of the UDP tracker client: resolves `udp://host:port/…` (IPv4 or IPv6), feeds
 * datagrams to `UdpTrackerCore` and runs its `upkeep()` from a single scheduler timer. Share one
 * instance across torrents.
 *
 * Two ways to reach the network:
 *  - with `mux`, requests leave from the session's shared UDP port and the mux hands back the
 *    replies whose transaction id the core is waiting for (BEP 15 ids are random 32-bit values,
 *    so the DHT and uTP on the same port never see them, and a spoofer must guess one);
 *  - without, it binds its own udp4 / udp6 socket lazily (`peerdrop get` without a session
 *    port, tests), and closes them on `close()`.
 */
export interface UdpTransportOptions {
  /** Timers (retransmissions) and time; default the event loop's. */
  scheduler?: Scheduler;
  /** @deprecated Pass `scheduler`; a Scheduler passed here is used as one. */
  clock?: Clock;
  random?: Random;
  baseTimeoutMs?: number;
  maxRetries?: number;
  connectionIdTtlMs?: number;
  maxPeers?: number;
  /** The shared UDP port (not closed by `close()`: its owner closes it). */
  mux?: UdpMux;
  /** Standalone mode: local addresses to bind (default all interfaces); tests use 127.0.0.1 / ::1. */
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
  private readonly scheduler: Scheduler;
  private readonly registration: MuxRegistration | undefined;
  private cancelTimer: CancelTimer | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private isClosed = false;

  constructor(private readonly options: UdpTransportOptions = {}) {
    this.scheduler = schedulerFrom(options);
    this.core = new UdpTrackerCore({
      clock: this.scheduler,
      random: options.random ?? cryptoRandom,
      send: (bytes, target) => this.send(bytes, target),
      ...(options.baseTimeoutMs === undefined ? {} : { baseTimeoutMs: options.baseTimeoutMs }),
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
      ...(options.connectionIdTtlMs === undefined ? {} : { connectionIdTtlMs: options.connectionIdTtlMs }),
      ...(options.maxPeers === undefined ? {} : { maxPeers: options.maxPeers }),
    });
    this.registration = options.mux?.register('tracker', (bytes, from) => this.receive(bytes, from), {
      ownsTransaction: (tid) => this.core.hasTransaction(tid),
    });
  }

  async announce(url: string, req: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    const target = await this.resolve(url);
    await this.ready(target.family);
    const urlData = urlDataOf(url);
    const p = this.core.announce(target, req, urlData.length > 0 ? urlData : undefined, signal);
    this.arm();
    return p.finally(() => this.arm());
  }

  async scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]> {
    const target = await this.resolve(url);
    await this.ready(target.family);
    const p = this.core.scrape(target, infoHashes, signal);
    this.arm();
    return p.finally(() => this.arm());
  }

  /** Fail what is pending and close our own sockets; a shared mux is only left. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.registration?.unregister();
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

  /** A way out for this family: the mux's socket, or our own (bound on first use). */
  private async ready(family: 4 | 6): Promise<void> {
    const mux = this.options.mux;
    if (mux === undefined) {
      await this.socketFor(family);
      return;
    }
    if (!mux.hasFamily(family))
      throw new TrackerError('TRACKER_NETWORK', `the shared UDP port has no IPv${family} socket`);
  }

  private socketFor(family: 4 | 6): Promise<UdpSocket> {
    let p = this.sockets.get(family);
    if (!p) {
      const host = family === 4 ? this.options.bindHost4 : this.options.bindHost6;
      p = bindUdp({ type: family === 4 ? 'udp4' : 'udp6', ...(host === undefined ? {} : { host }) }).then(
        (s) => {
          s.onMessage((bytes, from) => this.receive(bytes, from));
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

  private receive(bytes: Uint8Array, from: { host: string; port: number }): void {
    this.core.handleMessage(bytes, from);
    this.arm();
  }

  private send(bytes: Uint8Array, target: UdpTarget): void {
    if (this.registration) {
      // False only when the family has no socket, which `ready` refused already; a lost
      // datagram is retransmitted by the core either way.
      this.registration.send(bytes, target.host, target.port);
      return;
    }
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
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.cancelTimer && next >= this.timerAtMs) return;
    this.cancelTimer?.();
    this.timerAtMs = next;
    this.cancelTimer = this.scheduler.setTimer(next - this.scheduler.now(), () => {
      this.cancelTimer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      this.core.upkeep();
      this.arm();
    });
  }
}
