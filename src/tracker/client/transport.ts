import { TrackerError } from '../errors.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeStats } from '../protocol/announce.js';
import { HttpTrackerTransport, type HttpTransportOptions } from './http-transport.js';
import { UdpTrackerTransport, type UdpTransportOptions } from './udp-transport.js';

/**
 * What the `TrackerClient` needs from the network: one announce and one scrape, by URL.
 * Tests replace it with an in-memory fake; the session shares one real instance across all
 * torrents (one UDP socket pair, one connection-id cache).
 */
export interface TrackerTransport {
  announce(url: string, req: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse>;
  scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]>;
  close(): Promise<void>;
}

/** Dispatches on the URL scheme: `http:`/`https:` → fetch, `udp:` → BEP 15. */
export class DefaultTrackerTransport implements TrackerTransport {
  readonly http: HttpTrackerTransport;
  readonly udp: UdpTrackerTransport;

  constructor(options: { http?: HttpTransportOptions; udp?: UdpTransportOptions } = {}) {
    this.http = new HttpTrackerTransport(options.http);
    this.udp = new UdpTrackerTransport(options.udp);
  }

  async announce(url: string, req: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    return this.pick(url).announce(url, req, signal);
  }

  async scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]> {
    return this.pick(url).scrape(url, infoHashes, signal);
  }

  close(): Promise<void> {
    return this.udp.close();
  }

  private pick(url: string): HttpTrackerTransport | UdpTrackerTransport {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
    if (scheme === 'http' || scheme === 'https') return this.http;
    if (scheme === 'udp') return this.udp;
    throw new TrackerError('TRACKER_BAD_URL', `unsupported tracker URL scheme in ${url}`);
  }
}

/** Whether a URL is one we can announce to (used to filter `announce-list`). */
export function isSupportedTrackerUrl(url: string): boolean {
  return /^(https?|udp):\/\/[^/?#]+/i.test(url);
}
