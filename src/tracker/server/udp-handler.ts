import { decodeUtf8Lenient } from '../../util/bytes.js';
import type { Clock } from '../../util/clock.js';
import { TrackerError } from '../errors.js';
import type { AnnounceEvent } from '../protocol/announce.js';
import type { AddressFamily } from '../protocol/compact.js';
import {
  decodeUdpRequest,
  encodeUdpResponse,
  UDP_ANNOUNCE_REQUEST_BYTES,
  type UdpRequest,
} from '../protocol/udp.js';
import type { TrackerLogger } from './log.js';
import type { TrackerMetrics } from './metrics.js';
import { passkeyFromTarget } from './passkey.js';
import type { IpRateLimiter } from './rate-limit.js';
import { compactAddress, idKey, normalizeRemote } from './swarm-address.js';
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

/** Room for the largest reply: an announce with `maxNumWant` (≤ 200) 18-byte IPv6 peers. */
export const UDP_REPLY_BUFFER_BYTES = 20 + 200 * 18;

const EVENTS: readonly AnnounceEvent[] = ['none', 'completed', 'started', 'stopped'];

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 255;
  out[at + 2] = (v >>> 8) & 255;
  out[at + 3] = v & 255;
}

function getU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Copy a whole reply into `out`; returns its length. */
function put(out: Uint8Array, reply: Uint8Array): number {
  out.set(reply, 0);
  return reply.length;
}

export class UdpTrackerHandler {
  constructor(private readonly deps: UdpHandlerDeps) {}

  /** Handle one datagram; returns the reply or null. Never throws for any input bytes. */
  handle(bytes: Uint8Array, from: UdpFrom): Uint8Array | null {
    const out = new Uint8Array(UDP_REPLY_BUFFER_BYTES);
    const n = this.handleInto(bytes, from.host, from.port, out);
    return n === 0 ? null : out.slice(0, n);
  }

  /**
   * The transport's entry: the reply is written into `out` (at least
   * {@link UDP_REPLY_BUFFER_BYTES}, reused from datagram to datagram) and its length returned;
   * 0 means stay silent. A plain 98-byte announce to a public tracker, the bulk of the traffic,
   * is read field by field from the packet and answered from the registry's stored compact
   * peers without allocating anything but two 20-character key strings; everything else
   * (connect, scrape, BEP 41 options, private mode) takes the general codec.
   */
  handleInto(bytes: Uint8Array, fromHost: string, fromPort: number, out: Uint8Array): number {
    const { metrics, rateLimiter, registry } = this.deps;
    let host = fromHost;
    let family: AddressFamily = 4;
    if (host.includes(':')) {
      const remote = normalizeRemote(host);
      host = remote.host;
      family = remote.family;
    }
    if (rateLimiter.isEnabled && !rateLimiter.allow(host)) {
      metrics.reject('udp', 'rate-limited');
      return 0;
    }
    if (bytes.length !== UDP_ANNOUNCE_REQUEST_BYTES || getU32(bytes, 8) !== 1 || registry.isPrivate) {
      return this.general(bytes, host, family, fromPort, out);
    }
    const tid = getU32(bytes, 12);
    if (!this.deps.connectionIds.verifyHalves(getU32(bytes, 0), getU32(bytes, 4), host, fromPort)) {
      return put(out, this.refuse(tid, 'bad-connection-id', fromHost, fromPort));
    }
    const event = EVENTS[getU32(bytes, 80)];
    const port = (bytes[96]! << 8) | bytes[97]!;
    if (event === undefined || port === 0) {
      metrics.reject('udp', 'bad-request');
      return 0;
    }
    const compact = compactAddress(host, port, family);
    if (compact === null) return put(out, this.refuse(tid, 'bad-request', fromHost, fromPort));
    let isSeeder = true;
    for (let i = 64; i < 72; i++) if (bytes[i] !== 0) isSeeder = false;
    const numWant = getU32(bytes, 92) | 0;
    const n = registry.announceInto(
      latin1(bytes, 16, 36),
      latin1(bytes, 36, 56),
      compact,
      family,
      getU32(bytes, 88),
      isSeeder,
      event,
      numWant,
      out,
      20,
    );
    if (n < 0) return put(out, this.refuse(tid, registry.rejection, fromHost, fromPort));
    metrics.announce('udp', event);
    putU32(out, 0, 1);
    putU32(out, 4, tid);
    putU32(out, 8, registry.intervalSeconds);
    putU32(out, 12, registry.lastIncomplete);
    putU32(out, 16, registry.lastComplete);
    return 20 + n * (family === 4 ? 6 : 18);
  }

  /** Every request but the plain public announce, through the general codec. */
  private general(
    bytes: Uint8Array,
    host: string,
    family: AddressFamily,
    port: number,
    out: Uint8Array,
  ): number {
    const { metrics } = this.deps;
    let req: UdpRequest;
    try {
      req = decodeUdpRequest(bytes);
    } catch (err) {
      if (!(err instanceof TrackerError)) throw err;
      metrics.reject('udp', 'bad-request');
      return 0;
    }
    if (req.action === 'connect') {
      metrics.connects++;
      const connectionId = this.deps.connectionIds.issue(host, port);
      return put(
        out,
        encodeUdpResponse({ action: 'connect', transactionId: req.transactionId, connectionId }),
      );
    }
    if (!this.deps.connectionIds.verify(req.connectionId, host, port)) {
      return put(out, this.refuse(req.transactionId, 'bad-connection-id', host, port));
    }
    if (req.action === 'scrape') {
      // BEP 41 URL data exists only on announces, so a private tracker cannot scrape over UDP.
      const refused = this.deps.registry.admit(null, undefined);
      if (refused !== null) return put(out, this.refuse(req.transactionId, refused, host, port));
      metrics.scrapes.udp++;
      const stats = this.deps.registry.swarmStats(req.infoHashes);
      const files = stats.map((s) => s ?? { complete: 0, downloaded: 0, incomplete: 0 });
      return put(out, encodeUdpResponse({ action: 'scrape', transactionId: req.transactionId, files }));
    }
    const passkey = req.urlData === undefined ? undefined : passkeyFromTarget(decodeUtf8Lenient(req.urlData));
    const res = this.deps.registry.announce(req.request, {
      host,
      family,
      ...(passkey === undefined ? {} : { passkey }),
    });
    if (!res.ok) return put(out, this.refuse(req.transactionId, res.reason, host, port));
    metrics.announce('udp', req.request.event);
    return put(out, announcePacket(req.transactionId, res));
  }

  private refuse(transactionId: number, reason: RejectReason, host: string, port: number): Uint8Array {
    this.deps.metrics.reject('udp', reason);
    this.deps.logger.event('udp-reject', { reason, host, port });
    return encodeUdpResponse({ action: 'error', transactionId, message: REJECT_MESSAGES[reason] });
  }
}

/** A binary string (one char per byte) of `b[from..to)`: the registry's key for an id. */
function latin1(b: Uint8Array, from: number, to: number): string {
  // Buffer's native latin1 slice (what `toString('latin1', …)` ends in) is ~5× the JS loop.
  return Buffer.isBuffer(b)
    ? (b as Buffer & { latin1Slice(from: number, to: number): string }).latin1Slice(from, to)
    : idKey(b.subarray(from, to));
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
