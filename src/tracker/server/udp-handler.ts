import { decodeUtf8Lenient } from '../../util/bytes.js';
import type { Clock } from '../../util/clock.js';
import { TrackerError } from '../errors.js';
import { decodeUdpRequest, encodeUdpResponse, type UdpRequest } from '../protocol/udp.js';
import type { TrackerLogger } from './log.js';
import type { TrackerMetrics } from './metrics.js';
import { passkeyFromTarget } from './passkey.js';
import type { IpRateLimiter } from './rate-limit.js';
import { normalizeRemote } from './swarm-address.js';
import type { SwarmRegistry } from './swarm-registry.js';
import { type AnnounceResult, REJECT_MESSAGES, type RejectReason } from './swarm-types.js';
import type { ConnectionIds } from './udp-connection-ids.js';

/**
 * BEP 15 (with BEP 41 URL data) on top of the registry, sans-I/O: a datagram and its source in,
 * the reply datagram (or null: stay silent) out. The UDP adapter only moves bytes.
 *
 * What gets an answer:
 *  - a malformed packet, or one over the per-IP rate: silence (answering floods or garbage
 *    would make us a reflector);
 *  - announce/scrape with a connection id that was not issued to this address in the last one
 *    to two minutes (spoofed, guessed or expired): an error packet, "invalid or expired
 *    connection id" (8 + 32 bytes, smaller than the request, so no amplification). A real
 *    client then reconnects;
 *  - a refused announce (allow-list, passkey, key mismatch): an error packet with the reason.
 */
export interface UdpHandlerDeps {
  readonly registry: SwarmRegistry;
  readonly connectionIds: ConnectionIds;
  readonly rateLimiter: IpRateLimiter;
  readonly metrics: TrackerMetrics;
  readonly logger: TrackerLogger;
  readonly clock: Clock;
}

export interface UdpFrom {
  readonly host: string;
  readonly port: number;
}

export class UdpTrackerHandler {
  constructor(private readonly deps: UdpHandlerDeps) {}

  /** Handle one datagram; returns the reply or null. Never throws for any input bytes. */
  handle(bytes: Uint8Array, from: UdpFrom): Uint8Array | null {
    const { metrics, rateLimiter } = this.deps;
    const remote = normalizeRemote(from.host);
    if (!rateLimiter.allow(remote.host)) {
      metrics.reject('udp', 'rate-limited');
      return null;
    }
    let req: UdpRequest;
    try {
      req = decodeUdpRequest(bytes);
    } catch (err) {
      if (!(err instanceof TrackerError)) throw err;
      metrics.reject('udp', 'bad-request');
      return null;
    }
    if (req.action === 'connect') {
      metrics.connects++;
      const connectionId = this.deps.connectionIds.issue(remote.host, from.port);
      return encodeUdpResponse({ action: 'connect', transactionId: req.transactionId, connectionId });
    }
    if (!this.deps.connectionIds.verify(req.connectionId, remote.host, from.port)) {
      return this.refuse(req.transactionId, 'bad-connection-id', from);
    }
    if (req.action === 'scrape') {
      // BEP 41 URL data exists only on announces, so a private tracker cannot scrape over UDP.
      const refused = this.deps.registry.admit(null, undefined);
      if (refused !== null) return this.refuse(req.transactionId, refused, from);
      metrics.scrapes.udp++;
      const stats = this.deps.registry.swarmStats(req.infoHashes);
      const files = stats.map((s) => s ?? { complete: 0, downloaded: 0, incomplete: 0 });
      return encodeUdpResponse({ action: 'scrape', transactionId: req.transactionId, files });
    }
    const passkey = req.urlData === undefined ? undefined : passkeyFromTarget(decodeUtf8Lenient(req.urlData));
    const res = this.deps.registry.announce(req.request, {
      host: remote.host,
      family: remote.family,
      ...(passkey === undefined ? {} : { passkey }),
    });
    if (!res.ok) return this.refuse(req.transactionId, res.reason, from);
    metrics.announce('udp', req.request.event);
    return announcePacket(req.transactionId, res);
  }

  private refuse(transactionId: number, reason: RejectReason, from: UdpFrom): Uint8Array {
    this.deps.metrics.reject('udp', reason);
    this.deps.logger.event('udp-reject', { reason, host: from.host, port: from.port });
    return encodeUdpResponse({ action: 'error', transactionId, message: REJECT_MESSAGES[reason] });
  }
}

/**
 * The announce reply: the 20-byte header from the protocol codec, then the registry's compact
 * peer bytes as they are (6 bytes per IPv4 peer; 18 per IPv6 peer, BEP 15 for a request that
 * came over IPv6), so no address is parsed or formatted per response.
 */
function announcePacket(transactionId: number, res: AnnounceResult): Uint8Array {
  const header = encodeUdpResponse(
    {
      action: 'announce',
      transactionId,
      response: {
        intervalSeconds: res.intervalSeconds,
        complete: res.complete,
        incomplete: res.incomplete,
        peers: [],
      },
    },
    res.family,
  );
  const out = Buffer.allocUnsafe(header.length + res.compactPeers.length);
  out.set(header, 0);
  out.set(res.compactPeers, header.length);
  return out;
}
