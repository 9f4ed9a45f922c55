import { truncatedV2 } from '../metainfo/index.js';
import {
  DEFAULT_GUARDED_MAX_BYTES,
  type DestinationPolicy,
  guardedHttpGet,
  type OutboundTarget,
  parseOutboundUrl,
  refusedRange,
  vetDestination,
} from '../net/outbound-guard.js';
import { TrackerError } from '../tracker/errors.js';
import { buildScrapeUrl, decodeScrapeResponse, type ScrapeStats } from '../tracker/protocol/index.js';
import { fromHex, toHex } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import { parseIp } from '../util/ip.js';
import type { HealthCandidate, IndexStore } from './store.js';

/**
 * Swarm health (seeders/leechers) for index entries. A `HealthSource` answers for a batch of
 * entries; the `HealthUpdater` asks it periodically for the entries checked longest ago and
 * writes the answers to the store. Two sources:
 * - `TrackerScrapeHealthSource` scrapes the entries' own trackers (BEP 48 / BEP 15) through
 *   an injected transport, bounded per round and rate-limited per tracker. Publishers choose
 *   those URLs, so the real transport is `GuardedScrapeTransport`: every scrape goes through
 *   the outbound guard (`net/outbound-guard.ts`) and can never reach the index's own network;
 * - `CoLocatedHealthSource` reads a `peerdrop tracker` running in the same process.
 */
export interface HealthTarget {
  readonly id: string;
  /** The 20-byte hash trackers know the swarm by: v1, else the truncated v2 hash (BEP 52). */
  readonly swarmHash: Uint8Array;
  readonly trackers: readonly string[];
}

export interface SwarmHealth {
  readonly id: string;
  readonly seeders: number;
  readonly leechers: number;
}

export interface HealthSource {
  /** Health for as many targets as it can answer (others are left out); never throws for one bad tracker. */
  check(targets: readonly HealthTarget[], signal?: AbortSignal): Promise<SwarmHealth[]>;
}

export function healthTarget(c: HealthCandidate): HealthTarget | null {
  const v1 = c.infoHash === null ? null : fromHex(c.infoHash);
  const v2 = c.infoHashV2 === null ? null : fromHex(c.infoHashV2);
  const swarmHash = v1 ?? (v2 ? truncatedV2(v2) : null);
  return swarmHash ? { id: c.id, swarmHash, trackers: c.trackers } : null;
}

/** What a co-located tracker exposes (its pure registry's `swarmStats`). */
export interface SwarmStatsProvider {
  swarmStats(
    infoHashes: readonly Uint8Array[],
  ): ReadonlyArray<{ complete: number; incomplete: number } | null>;
}

export class CoLocatedHealthSource implements HealthSource {
  constructor(private readonly registry: SwarmStatsProvider) {}

  async check(targets: readonly HealthTarget[]): Promise<SwarmHealth[]> {
    const stats = this.registry.swarmStats(targets.map((t) => t.swarmHash));
    const out: SwarmHealth[] = [];
    targets.forEach((t, i) => {
      const s = stats[i];
      out.push({ id: t.id, seeders: s?.complete ?? 0, leechers: s?.incomplete ?? 0 });
    });
    return out;
  }
}

/** The part of the tracker client's transport that scraping needs. */
export interface ScrapeTransport {
  scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]>;
}

export interface ScrapeSourceOptions {
  readonly clock: Clock;
  /** Trackers contacted per `check` (default 8). */
  readonly maxTrackersPerRound?: number;
  /** Minimum time between two scrapes of one tracker (default 5 min). */
  readonly minTrackerIntervalMs?: number;
  /** Per-scrape timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Hashes per scrape request (default 74: what fits a UDP packet, BEP 15). */
  readonly maxHashesPerScrape?: number;
  /**
   * Plan scrapes of trackers whose address is written as a refused one (loopback, private…) or
   * named `localhost`. Off by default: such trackers are passed over at planning time so the
   * entry's next tracker gets the slot. This is only the early, cheap pass; the rule itself is
   * enforced by `GuardedScrapeTransport` (set its `allowPrivate` too).
   */
  readonly allowPrivateTrackers?: boolean;
}

const MAX_TRACKED_TRACKERS = 10_000;
const FAILURE_BACKOFF_FACTOR = 3;
const TRACKER_SCHEMES = ['http', 'https', 'udp'] as const;

/** The tracker as the guard will read it, or null if the guard would refuse it outright. */
function trackerTarget(url: string): OutboundTarget | null {
  try {
    return parseOutboundUrl(url, TRACKER_SCHEMES);
  } catch {
    return null;
  }
}

/** RFC 6761: `localhost` and names under it are loopback whatever DNS says. */
function isPlainlyPrivate(t: OutboundTarget): boolean {
  const bytes = parseIp(t.host);
  if (bytes) return refusedRange(bytes) !== null;
  return /(^|\.)localhost\.?$/i.test(t.host);
}

export interface GuardedScrapeOptions extends DestinationPolicy {
  /**
   * Sends BEP 15 scrapes (e.g. the tracker client's `UdpTrackerTransport`). It is only ever
   * handed `udp://<vetted IP literal>:<port>/announce`, so it never resolves a name itself.
   */
  readonly udp: ScrapeTransport;
  /** Scrape response bytes kept at most (default 2 MiB). */
  readonly maxBodyBytes?: number;
  /** Deadline of one HTTP scrape, lookups and redirects included (default 10 s). */
  readonly timeoutMs?: number;
  /** HTTP redirects followed at most, each one vetted again (default 3). */
  readonly maxRedirects?: number;
}

/**
 * The scrape transport for URLs that publishers chose. HTTP(S) scrapes go through
 * `guardedHttpGet` (resolved, checked, pinned, redirects re-checked); a UDP tracker's host is
 * resolved and checked by `vetDestination` and the datagrams go to that address literal, so a
 * second lookup cannot answer differently. Refusals fail the scrape with the guard's
 * `NET_DESTINATION_REFUSED` / `NET_USERINFO_REFUSED` codes, like any other tracker failure.
 */
export class GuardedScrapeTransport implements ScrapeTransport {
  private readonly policy: DestinationPolicy;

  constructor(private readonly opts: GuardedScrapeOptions) {
    this.policy = {
      ...(opts.allowPrivate === undefined ? {} : { allowPrivate: opts.allowPrivate }),
      ...(opts.resolve === undefined ? {} : { resolve: opts.resolve }),
      ...(opts.refusal === undefined ? {} : { refusal: opts.refusal }),
    };
  }

  async scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeStats[]> {
    const target = parseOutboundUrl(url, TRACKER_SCHEMES);
    const maxBytes = this.opts.maxBodyBytes ?? DEFAULT_GUARDED_MAX_BYTES;
    if (target.scheme === 'udp') {
      const dest = await vetDestination(target.host, target.port, this.policy, signal);
      const literal = dest.family === 6 ? `[${dest.address}]` : dest.address;
      return this.opts.udp.scrape(`udp://${literal}:${target.port}/announce`, infoHashes, signal);
    }
    // The normalised href, so the URL fetched is exactly the one the guard parsed.
    const scrapeUrl = buildScrapeUrl(target.url.href, infoHashes);
    if (scrapeUrl === null) throw new TrackerError('TRACKER_BAD_URL', `${url} has no scrape URL (BEP 48)`);
    const res = await guardedHttpGet(scrapeUrl, {
      ...this.policy,
      maxBytes,
      timeoutMs: this.opts.timeoutMs ?? 10_000,
      maxRedirects: this.opts.maxRedirects ?? 3,
      headers: { 'user-agent': 'peerdrop/0.1' },
      ...(signal === undefined ? {} : { signal }),
    });
    if (res.status < 200 || res.status > 299)
      throw new TrackerError('TRACKER_HTTP_STATUS', `tracker answered HTTP ${res.status}`);
    return decodeScrapeResponse(res.body, { maxBytes });
  }
}

export class TrackerScrapeHealthSource implements HealthSource {
  private readonly lastScrapeMs = new Map<string, number>();
  private readonly opts: Required<ScrapeSourceOptions>;

  constructor(
    private readonly transport: ScrapeTransport,
    options: ScrapeSourceOptions,
  ) {
    this.opts = {
      maxTrackersPerRound: 8,
      minTrackerIntervalMs: 5 * 60_000,
      timeoutMs: 10_000,
      maxHashesPerScrape: 74,
      allowPrivateTrackers: false,
      ...options,
    };
  }

  /** Group targets by the first tracker of theirs that may be scraped now. */
  plan(targets: readonly HealthTarget[]): Map<string, HealthTarget[]> {
    const now = this.opts.clock.now();
    const groups = new Map<string, HealthTarget[]>();
    for (const t of targets) {
      for (const url of t.trackers) {
        const target = trackerTarget(url);
        if (target === null || (!this.opts.allowPrivateTrackers && isPlainlyPrivate(target))) continue;
        const group = groups.get(url);
        if (group) {
          if (group.length < this.opts.maxHashesPerScrape) group.push(t);
          break;
        }
        const last = this.lastScrapeMs.get(url);
        if (last !== undefined && now - last < this.opts.minTrackerIntervalMs) continue;
        if (groups.size >= this.opts.maxTrackersPerRound) continue;
        groups.set(url, [t]);
        break;
      }
    }
    return groups;
  }

  async check(targets: readonly HealthTarget[], signal?: AbortSignal): Promise<SwarmHealth[]> {
    const groups = this.plan(targets);
    const now = this.opts.clock.now();
    for (const url of groups.keys()) this.remember(url, now);
    const answers = await Promise.all(
      [...groups].map(([url, group]) => this.scrapeGroup(url, group, signal)),
    );
    return answers.flat();
  }

  private remember(url: string, now: number): void {
    this.lastScrapeMs.delete(url);
    if (this.lastScrapeMs.size >= MAX_TRACKED_TRACKERS) {
      const oldest = this.lastScrapeMs.keys().next().value;
      if (oldest !== undefined) this.lastScrapeMs.delete(oldest);
    }
    this.lastScrapeMs.set(url, now);
  }

  private async scrapeGroup(
    url: string,
    group: readonly HealthTarget[],
    signal?: AbortSignal,
  ): Promise<SwarmHealth[]> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let stats: ScrapeStats[];
    try {
      stats = await this.transport.scrape(
        url,
        group.map((t) => t.swarmHash),
        both,
      );
    } catch {
      // One tracker down must not stop the others; back off so its entries try their next tracker.
      this.remember(url, this.opts.clock.now() + FAILURE_BACKOFF_FACTOR * this.opts.minTrackerIntervalMs);
      return [];
    }
    const byHash = new Map(stats.map((s) => [toHex(s.infoHash), s]));
    const out: SwarmHealth[] = [];
    for (const t of group) {
      const s = byHash.get(toHex(t.swarmHash));
      if (s) out.push({ id: t.id, seeders: s.complete, leechers: s.incomplete });
    }
    return out;
  }
}

export interface HealthUpdaterOptions {
  readonly store: IndexStore;
  readonly source: HealthSource;
  /** Wall-clock milliseconds (what `checkedAtMs` records). */
  readonly now: () => number;
  /** Entries per round (default 500). */
  readonly batchSize?: number;
  /** Re-check an entry after this long (default 30 min). */
  readonly staleAfterMs?: number;
}

/** Periodically refreshes the health of the stalest entries. One round at a time. */
export class HealthUpdater {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly opts: HealthUpdaterOptions) {}

  /** One round: returns how many entries got fresh health. */
  async runOnce(): Promise<number> {
    const { store, source, now } = this.opts;
    const candidates = await store.healthCandidates(
      this.opts.batchSize ?? 500,
      now() - (this.opts.staleAfterMs ?? 30 * 60_000),
    );
    const targets = candidates.map(healthTarget).filter((t): t is HealthTarget => t !== null);
    if (targets.length === 0) return 0;
    const health = await source.check(targets, this.abort.signal);
    const at = now();
    await store.updateHealth(health.map((h) => ({ ...h, checkedAtMs: at })));
    return health.length;
  }

  start(intervalMs: number, onError: (err: unknown) => void = () => undefined): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce();
      this.running.catch(onError).finally(() => {
        this.running = null;
      });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }
}

/**
 * Why a result's swarm health is unknown (seeders null), in words for the search page and the
 * API's `healthNote`; null when it is known. `allowPrivateTrackers` is the index's setting
 * (`peerdrop index --health-private-trackers`).
 */
export function healthNote(
  hit: {
    readonly seeders: number | null;
    readonly checkedAtMs: number | null;
    readonly trackers: readonly string[];
  },
  allowPrivateTrackers: boolean,
): string | null {
  if (hit.seeders !== null) return null;
  if (hit.trackers.length === 0) return 'no trackers listed: health comes from tracker scrapes';
  const targets = hit.trackers.map(trackerTarget);
  if (targets.every((t) => t === null)) return 'none of its trackers is a URL this index can scrape';
  if (!allowPrivateTrackers && targets.every((t) => t === null || isPlainlyPrivate(t)))
    return 'its trackers are on private or loopback addresses, which this index does not scrape (an operator can allow them with --health-private-trackers)';
  if (hit.checkedAtMs === null) return 'not scraped yet';
  return 'its trackers did not answer the last scrape';
}
