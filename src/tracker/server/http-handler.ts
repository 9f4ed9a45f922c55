import type { HttpGuardStats } from '../../net/http-guard.js';
import { utf8 } from '../../util/bytes.js';
import type { Clock } from '../../util/clock.js';
import { TrackerError } from '../errors.js';
import type { ScrapeStats } from '../protocol/announce.js';
import {
  encodeAnnounceResponse,
  encodeFailure,
  encodeScrapeResponse,
  MAX_QUERY_LENGTH,
  parseAnnounceQuery,
  parseScrapeQuery,
} from '../protocol/http.js';
import type { TrackerLogger } from './log.js';
import { renderPrometheus, type StatsSnapshot, type TrackerMetrics } from './metrics.js';
import { passkeyFromTarget } from './passkey.js';
import type { IpRateLimiter } from './rate-limit.js';
import { normalizeRemote, peerEndpoint } from './swarm-address.js';
import type { SwarmRegistry } from './swarm-registry.js';
import { REJECT_MESSAGES, type RejectReason } from './swarm-types.js';

/**
 * HTTP tracker routes (BEP 3, 7, 23, 48) on the registry, sans-I/O: method, request target and
 * remote address in; status, content type and body out. `http-server.ts` only moves bytes.
 *
 *   GET /announce[/<passkey>]?…   bencoded announce response or `failure reason`
 *   GET /scrape[/<passkey>]?…     bencoded scrape response (named info-hashes only)
 *   GET /stats                    JSON counters and swarm totals (rate-limited per address)
 *   GET /metrics                  Prometheus text (rate-limited per address)
 *
 * `/stats` and `/metrics` cost the same at any torrent count (the registry keeps running
 * totals) and have their own, tighter per-address limit, so hammering them neither slows the
 * tracker nor uses up anyone's announce budget.
 *
 * Tracker failures are HTTP 200 with a bencoded `failure reason` (what BitTorrent clients read);
 * only transport-level problems (route, method, target too long) get 4xx.
 */
export interface HttpHandlerDeps {
  readonly registry: SwarmRegistry;
  readonly rateLimiter: IpRateLimiter;
  readonly metrics: TrackerMetrics;
  readonly logger: TrackerLogger;
  readonly clock: Clock;
  /** Process memory for /stats and /metrics (the transport measures it). */
  readonly memory?: () => StatsSnapshot['memory'];
  /** Per-address limit on /stats and /metrics; absent = unlimited. */
  readonly statsRateLimiter?: IpRateLimiter;
  /** The HTTP guard's connection counters, for /stats and /metrics. */
  readonly guardStats?: () => HttpGuardStats | undefined;
}

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** Bound on the request target: a maximal query plus a path with a passkey. */
export const MAX_TARGET_LENGTH = MAX_QUERY_LENGTH + 256;

const BENCODE = 'text/plain; charset=binary';

function plain(status: number, text: string): HttpReply {
  return { status, contentType: 'text/plain; charset=utf-8', body: utf8(`${text}\n`) };
}

export class HttpTrackerHandler {
  constructor(private readonly deps: HttpHandlerDeps) {}

  /** Handle one request. Never throws for any method, target or address. */
  handle(method: string, target: string, remoteAddress: string): HttpReply {
    if (target.length > MAX_TARGET_LENGTH) return plain(414, 'request target too long');
    if (method !== 'GET' && method !== 'HEAD') return plain(405, 'only GET');
    const q = target.indexOf('?');
    const path = q >= 0 ? target.slice(0, q) : target;
    const query = q >= 0 ? target.slice(q + 1) : '';
    const remote = normalizeRemote(remoteAddress);
    if (path === '/announce' || path.startsWith('/announce/')) {
      return this.rateLimited(remote.host) ?? this.announce(target, query, remote.host, remote.family);
    }
    if (path === '/scrape' || path.startsWith('/scrape/')) {
      return this.rateLimited(remote.host) ?? this.scrape(target, query);
    }
    if (
      (path === '/stats' || path === '/metrics') &&
      this.deps.statsRateLimiter?.allow(remote.host) === false
    ) {
      this.deps.metrics.reject('http', 'rate-limited');
      return plain(429, 'too many /stats or /metrics requests from this address; slow down');
    }
    if (path === '/stats') {
      return { status: 200, contentType: 'application/json', body: utf8(JSON.stringify(this.stats())) };
    }
    if (path === '/metrics') {
      return {
        status: 200,
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        body: utf8(renderPrometheus(this.stats())),
      };
    }
    return plain(404, 'not found: try /announce, /scrape, /stats or /metrics');
  }

  stats(): StatsSnapshot {
    const { metrics, registry, clock } = this.deps;
    return metrics.snapshot(
      clock.now(),
      registry.totals(),
      registry.evictions,
      this.deps.memory?.(),
      this.deps.guardStats?.(),
    );
  }

  private rateLimited(host: string): HttpReply | null {
    if (this.deps.rateLimiter.allow(host)) return null;
    return this.failure('rate-limited', REJECT_MESSAGES['rate-limited']);
  }

  private announce(target: string, query: string, host: string, family: 4 | 6): HttpReply {
    let req: ReturnType<typeof parseAnnounceQuery>;
    try {
      req = parseAnnounceQuery(query);
    } catch (err) {
      if (!(err instanceof TrackerError)) throw err;
      return this.failure('bad-request', err.message);
    }
    const passkey = passkeyFromTarget(target);
    const res = this.deps.registry.announce(req, {
      host,
      family,
      ...(passkey === undefined ? {} : { passkey }),
    });
    if (!res.ok) {
      this.deps.logger.event('http-reject', { reason: res.reason, host });
      return this.failure(res.reason, res.message);
    }
    this.deps.metrics.announce('http', req.event);
    const compact = req.compact !== false;
    const body = encodeAnnounceResponse(
      {
        intervalSeconds: res.intervalSeconds,
        minIntervalSeconds: res.minIntervalSeconds,
        complete: res.complete,
        incomplete: res.incomplete,
        peers: res.peers.map(peerEndpoint),
      },
      { compact, noPeerId: req.noPeerId === true },
    );
    return { status: 200, contentType: BENCODE, body };
  }

  private scrape(target: string, query: string): HttpReply {
    let hashes: Uint8Array[];
    try {
      hashes = parseScrapeQuery(query);
    } catch (err) {
      if (!(err instanceof TrackerError)) throw err;
      return this.failure('bad-request', err.message);
    }
    if (hashes.length === 0) return this.failure('full-scrape', REJECT_MESSAGES['full-scrape']);
    const refused = this.deps.registry.admit(null, passkeyFromTarget(target));
    if (refused !== null) return this.failure(refused, REJECT_MESSAGES[refused]);
    this.deps.metrics.scrapes.http++;
    const stats = this.deps.registry.swarmStats(hashes);
    const files: ScrapeStats[] = stats.map(
      (s, i) => s ?? { infoHash: hashes[i]!, complete: 0, downloaded: 0, incomplete: 0 },
    );
    return { status: 200, contentType: BENCODE, body: encodeScrapeResponse(files) };
  }

  private failure(reason: RejectReason, message: string): HttpReply {
    this.deps.metrics.reject('http', reason);
    return { status: 200, contentType: BENCODE, body: encodeFailure(message) };
  }
}
