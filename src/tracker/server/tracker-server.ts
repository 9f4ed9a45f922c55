import type { HttpGuardLimits } from '../../net/http-guard.js';
import { type Clock, systemClock } from '../../util/clock.js';
import { mathRandom, type Random } from '../../util/random.js';
import { HttpTrackerHandler } from './http-handler.js';
import { type HttpTransport, listenHttp } from './http-server.js';
import { silentLogger, type TrackerLogger } from './log.js';
import { type StatsSnapshot, TrackerMetrics } from './metrics.js';
import { IpRateLimiter } from './rate-limit.js';
import { SwarmRegistry } from './swarm-registry.js';
import type { RegistryOptions } from './swarm-types.js';
import { ConnectionIds } from './udp-connection-ids.js';
import { UdpTrackerHandler } from './udp-handler.js';
import { listenUdp, type UdpTransport } from './udp-server.js';

/**
 * `peerdrop tracker` as a library: one registry shared by an HTTP and a UDP transport, a sweep
 * timer that expires silent peers, and an orderly `close()`. Everything but the sockets and
 * timers lives in pure parts (registry, handlers, connection ids, rate limiter).
 */
export interface TrackerServerOptions
  extends Omit<RegistryOptions, 'clock' | 'random' | 'allowList' | 'passkeys'> {
  /** Address for both transports (default 127.0.0.1). */
  readonly bind?: string;
  /** HTTP port (0 = any free port; null = no HTTP). Default 8000. */
  readonly httpPort?: number | null;
  /** UDP port (0 = any free port; null = no UDP). Default 8000. */
  readonly udpPort?: number | null;
  readonly allowList?: Iterable<Uint8Array> | null;
  readonly passkeys?: Iterable<string> | null;
  /** Requests per second per IP over both protocols (default 20, burst 4×); 0 disables. */
  readonly rateLimitPerSecond?: number;
  /** `/stats` and `/metrics` requests per second per IP (default 2, burst 10); 0 disables. */
  readonly statsRateLimitPerSecond?: number;
  /** HTTP connection limits and deadlines (see `src/net/http-guard.ts`). */
  readonly httpLimits?: HttpGuardLimits;
  readonly logger?: TrackerLogger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Unexpected transport errors (the server keeps running). */
  readonly onError?: (err: Error) => void;
  /** How often silent peers are swept (default min(60 s, peer timeout / 4)). */
  readonly sweepEveryMs?: number;
}

export interface TrackerServer {
  readonly registry: SwarmRegistry;
  /** `http://host:port/announce`, or null without HTTP. */
  readonly httpAnnounceUrl: string | null;
  /** `udp://host:port/announce`, or null without UDP. */
  readonly udpAnnounceUrl: string | null;
  stats(): StatsSnapshot;
  /** Stop accepting, close sockets, flush logs. */
  close(): Promise<void>;
}

function urlHost(bind: string): string {
  if (bind === '0.0.0.0') return '127.0.0.1';
  if (bind === '::') return '[::1]';
  return bind.includes(':') ? `[${bind}]` : bind;
}

export async function startTrackerServer(options: TrackerServerOptions = {}): Promise<TrackerServer> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const bind = options.bind ?? '127.0.0.1';
  const registry = new SwarmRegistry({
    ...options,
    clock,
    random: options.random ?? mathRandom,
    allowList: options.allowList ?? null,
    passkeys: options.passkeys ?? null,
  });
  const metrics = new TrackerMetrics(clock.now());
  const rateLimiter = new IpRateLimiter({ clock, ratePerSecond: options.rateLimitPerSecond ?? 20 });
  const memory = (): StatsSnapshot['memory'] => {
    const m = process.memoryUsage();
    return { rssBytes: m.rss, heapUsedBytes: m.heapUsed };
  };
  const statsRate = options.statsRateLimitPerSecond ?? 2;
  const statsRateLimiter = new IpRateLimiter({ clock, ratePerSecond: statsRate, burst: statsRate * 5 });
  let httpT: HttpTransport | null = null;
  const http = new HttpTrackerHandler({
    registry,
    rateLimiter,
    metrics,
    logger,
    clock,
    memory,
    statsRateLimiter,
    guardStats: () => httpT?.guardStats(),
  });
  const udp = new UdpTrackerHandler({
    registry,
    rateLimiter,
    metrics,
    logger,
    clock,
    connectionIds: new ConnectionIds({ clock }),
  });
  const onError = (err: Error): void => {
    logger.event('error', { message: err.message });
    options.onError?.(err);
  };
  const httpPort = options.httpPort === undefined ? 8000 : options.httpPort;
  const udpPort = options.udpPort === undefined ? 8000 : options.udpPort;
  let udpT: UdpTransport | null = null;
  try {
    if (httpPort !== null) {
      const limits = options.httpLimits ?? {};
      httpT = await listenHttp(http, { host: bind, port: httpPort, onError, limits });
    }
    if (udpPort !== null) udpT = await listenUdp(udp, { host: bind, port: udpPort, onError });
  } catch (err) {
    await httpT?.close();
    throw err;
  }
  const sweepEveryMs = options.sweepEveryMs ?? Math.min(60_000, Math.max(1000, registry.peerTimeoutMs / 4));
  const sweeper = setInterval(() => {
    const removed = registry.sweep();
    if (removed > 0) logger.event('sweep', { expired: removed, ...registry.totals() });
  }, sweepEveryMs);
  sweeper.unref();
  const host = urlHost(bind);
  const httpAnnounceUrl = httpT ? `http://${host}:${httpT.port}/announce` : null;
  const udpAnnounceUrl = udpT ? `udp://${host}:${udpT.port}/announce` : null;
  logger.event('start', { httpAnnounceUrl, udpAnnounceUrl, private: registry.isPrivate });
  let closed: Promise<void> | null = null;
  return {
    registry,
    httpAnnounceUrl,
    udpAnnounceUrl,
    stats: () => http.stats(),
    close() {
      closed ??= (async () => {
        clearInterval(sweeper);
        await Promise.all([httpT?.close(), udpT?.close()]);
        logger.event('stop', { ...registry.totals() });
        logger.close();
      })();
      return closed;
    },
  };
}
