import { nodeHttpFetch } from '../../net/http-fetch.js';
import { concatBytes } from '../../util/bytes.js';
import { TrackerError } from '../errors.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeStats } from '../protocol/announce.js';
import {
  buildAnnounceUrl,
  buildScrapeUrl,
  decodeAnnounceResponse,
  decodeScrapeResponse,
} from '../protocol/http.js';

/**
 * HTTP(S) tracker transport: a timeout through `AbortSignal`, and a body read as a stream and
 * cut off at `maxBodyBytes` (after any decompression, so a gzip bomb stops at the cap too).
 * Requests go through `nodeHttpFetch` (node:http), not the global `fetch`, which refuses the
 * Fetch standard's "bad ports" (6000, 6665–6669, 10080…) that trackers may well use.
 */
export interface HttpTransportOptions {
  /** Default 15 s. */
  timeoutMs?: number;
  /** Default 2 MiB. */
  maxBodyBytes?: number;
  maxPeers?: number;
  userAgent?: string;
  /** Injected for tests; defaults to `nodeHttpFetch` (any port, unlike the global `fetch`). */
  fetch?: typeof fetch;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

export class HttpTrackerTransport {
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpTransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.fetchImpl = options.fetch ?? nodeHttpFetch;
  }

  async announce(url: string, req: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    const body = await this.get(buildAnnounceUrl(url, req), signal);
    return decodeAnnounceResponse(body, {
      maxBytes: this.maxBodyBytes,
      ...(this.options.maxPeers === undefined ? {} : { maxPeers: this.options.maxPeers }),
    });
  }

  async scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]> {
    const scrapeUrl = buildScrapeUrl(url, infoHashes);
    if (scrapeUrl === null) throw new TrackerError('TRACKER_BAD_URL', `${url} has no scrape URL (BEP 48)`);
    return decodeScrapeResponse(await this.get(scrapeUrl, signal), { maxBytes: this.maxBodyBytes });
  }

  private async get(url: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        signal: combined,
        redirect: 'follow',
        headers: { 'user-agent': this.options.userAgent ?? 'peerdrop/0.1', accept: '*/*' },
      });
    } catch (err) {
      throw mapFetchError(err, timeout, url);
    }
    const body = await this.readCapped(res, timeout, url);
    if (res.status < 200 || res.status > 299) {
      // Many trackers send a bencoded failure reason with a 4xx: prefer it when present.
      try {
        decodeAnnounceResponse(body, { maxBytes: this.maxBodyBytes });
      } catch (err) {
        if (err instanceof TrackerError && err.code === 'TRACKER_FAILURE') throw err;
      }
      throw new TrackerError('TRACKER_HTTP_STATUS', `tracker answered HTTP ${res.status}`);
    }
    return body;
  }

  private async readCapped(res: Response, timeout: AbortSignal, url: string): Promise<Uint8Array> {
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > this.maxBodyBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(this.maxBodyBytes);
    }
    if (!res.body) return new Uint8Array();
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.maxBodyBytes) {
          await reader.cancel().catch(() => {});
          throw tooLarge(this.maxBodyBytes);
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof TrackerError) throw err;
      throw mapFetchError(err, timeout, url);
    }
    return concatBytes(chunks);
  }
}

function tooLarge(max: number): TrackerError {
  return new TrackerError('TRACKER_RESPONSE_TOO_LARGE', `tracker response over ${max} bytes`);
}

function mapFetchError(err: unknown, timeout: AbortSignal, url: string): TrackerError {
  if (err instanceof TrackerError) return err;
  if (timeout.aborted)
    return new TrackerError('TRACKER_TIMEOUT', 'tracker did not answer in time', { cause: err });
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new TrackerError('TRACKER_ABORTED', 'tracker request aborted', { cause: err });
  }
  if (
    err instanceof TypeError &&
    /invalid url|url/i.test(err.message) &&
    !/fetch failed/i.test(err.message)
  ) {
    return new TrackerError('TRACKER_BAD_URL', `bad tracker URL ${url}`, { cause: err });
  }
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return new TrackerError('TRACKER_NETWORK', `tracker unreachable${cause}`, { cause: err });
}
