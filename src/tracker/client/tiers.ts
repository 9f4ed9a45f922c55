import type { Random } from '../../util/random.js';
import { type ScheduleOptions, TrackerAnnounceState } from './announce-state.js';

/**
 * BEP 12 announce tiers, pure: URLs are shuffled within each tier once, tried in order, and a
 * tracker that answers moves to the front of its tier. We announce to the first working
 * tracker of EACH tier (as libtorrent's `announce_to_all_tiers`), so a torrent listed on
 * several independent trackers is visible on all of them.
 */
export class TrackerTiers {
  readonly tiers: TrackerAnnounceState[][];

  constructor(tierUrls: readonly (readonly string[])[], random: Random, schedule?: ScheduleOptions) {
    const seen = new Set<string>();
    this.tiers = [];
    for (const urls of tierUrls) {
      const tier: TrackerAnnounceState[] = [];
      for (const url of urls) {
        if (seen.has(url)) continue;
        seen.add(url);
        tier.push(new TrackerAnnounceState(url, schedule));
      }
      shuffle(tier, random);
      if (tier.length > 0) this.tiers.push(tier);
    }
  }

  all(): TrackerAnnounceState[] {
    return this.tiers.flat();
  }

  /**
   * The tracker each tier should announce to now, if any: the first working tracker when it
   * is due; otherwise (none working) the first one in order that is due. A tier with a
   * request in flight waits for it.
   */
  dueTrackers(nowMs: number): TrackerAnnounceState[] {
    const out: TrackerAnnounceState[] = [];
    for (const tier of this.tiers) {
      const t = this.candidate(tier, nowMs);
      if (t) out.push(t);
    }
    return out;
  }

  private candidate(tier: TrackerAnnounceState[], nowMs: number): TrackerAnnounceState | undefined {
    if (tier.some((t) => t.isInFlight)) return undefined;
    const working = tier.find((t) => t.isWorking);
    if (working) return working.isDue(nowMs) ? working : undefined;
    return tier.find((t) => t.isDue(nowMs));
  }

  /** The earliest time any tier will want to announce (for the timer), or undefined. */
  nextDueAtMs(): number | undefined {
    let next: number | undefined;
    for (const tier of this.tiers) {
      if (tier.some((t) => t.isInFlight)) continue;
      const working = tier.find((t) => t.isWorking);
      const candidates = working ? [working] : tier;
      for (const t of candidates) {
        const at = t.dueAtMs();
        if (next === undefined || at < next) next = at;
      }
    }
    return next;
  }

  /** BEP 12: a tracker that answered moves to the front of its tier. */
  promote(state: TrackerAnnounceState): void {
    for (const tier of this.tiers) {
      const i = tier.indexOf(state);
      if (i > 0) {
        tier.splice(i, 1);
        tier.unshift(state);
      }
    }
  }

  /** The tracker per tier to scrape or to send `stopped` to: the working one, else the first. */
  representatives(): TrackerAnnounceState[] {
    return this.tiers.map((tier) => tier.find((t) => t.isWorking) ?? tier[0]!);
  }
}

function shuffle<T>(items: T[], random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
