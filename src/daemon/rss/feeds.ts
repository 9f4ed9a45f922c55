/**
 * RSS subscriptions: each feed is fetched on its interval (one Scheduler timer checks which are
 * due), through the outbound guard (a feed URL must not reach our own network; size and time
 * capped), parsed, and every item not seen before is offered to the rules; a match is added to
 * the daemon (a magnet as is, a `.torrent` fetched through the guard too). Feeds, rules, seen
 * items and episodes taken are kept as settings values, so a restart neither forgets a feed
 * nor downloads an item twice.
 */
import { randomUUID } from 'node:crypto';
import { type DestinationPolicy, guardedHttpGet } from '../../net/outbound-guard.js';
import type { CancelTimer, Scheduler } from '../../util/clock.js';
import { errorMessage, PeerdropError } from '../../util/errors.js';
import type { Daemon } from '../daemon.js';
import { type FeedItem, MAX_FEED_CHARS, parseFeed } from './parse.js';
import { episodeKey, episodeOf, type RssRule, ruleMatches, ruleProblem } from './rules.js';

export interface RssFeed {
  readonly id: string;
  readonly url: string;
  readonly name: string;
  readonly isEnabled: boolean;
  readonly intervalMinutes: number;
  /** Label and folder for what this feed's rules add, unless the rule names its own. */
  readonly label: string | null;
  readonly downloadDir: string | null;
}

export interface FeedState {
  readonly lastFetchedMs: number | null;
  readonly lastError: string | null;
  readonly items: readonly (FeedItem & { readonly matchedRule: string | null })[];
}

const CHECK_EVERY_MS = 60_000;
const MAX_SEEN_PER_FEED = 2000;
const MAX_TORRENT_BYTES = 10 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 20_000;

export type NewFeed = Omit<RssFeed, 'id'>;
export type NewRule = Omit<RssRule, 'id'>;

export class FeedManager {
  private readonly state = new Map<string, FeedState>();
  private readonly fetching = new Map<string, Promise<FeedState>>();
  private cancel: CancelTimer | null = null;

  constructor(
    private readonly daemon: Daemon,
    private readonly scheduler: Scheduler,
    private readonly policy: DestinationPolicy = {},
  ) {}

  start(): void {
    this.cancel ??= this.scheduler.setInterval(CHECK_EVERY_MS, () => void this.pollDue());
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  // ---- stored lists -------------------------------------------------------------------------

  feeds(): RssFeed[] {
    return this.list<RssFeed>('rssFeeds');
  }

  rules(): RssRule[] {
    return this.list<RssRule>('rssRules');
  }

  feedState(id: string): FeedState {
    return this.state.get(id) ?? { lastFetchedMs: null, lastError: null, items: [] };
  }

  addFeed(feed: NewFeed): RssFeed {
    if (this.feeds().some((f) => f.url === feed.url))
      throw new PeerdropError('DAEMON_BAD_REQUEST', `already subscribed to ${feed.url}`);
    const created: RssFeed = { ...feed, id: randomUUID() };
    this.daemon.store.setSettings({ rssFeeds: [...this.feeds(), created] });
    return created;
  }

  updateFeed(id: string, patch: Partial<NewFeed>): RssFeed {
    const found = this.feeds().find((f) => f.id === id);
    if (!found) throw new PeerdropError('DAEMON_NOT_FOUND', `no feed ${id}`);
    const updated = { ...found, ...patch, id };
    this.daemon.store.setSettings({ rssFeeds: this.feeds().map((f) => (f.id === id ? updated : f)) });
    return updated;
  }

  removeFeed(id: string): void {
    const feeds = this.feeds();
    if (!feeds.some((f) => f.id === id)) throw new PeerdropError('DAEMON_NOT_FOUND', `no feed ${id}`);
    const seen = { ...this.seen() };
    delete seen[id];
    this.daemon.store.setSettings({ rssFeeds: feeds.filter((f) => f.id !== id), rssSeen: seen });
    this.state.delete(id);
  }

  addRule(rule: NewRule): RssRule {
    checkRule(rule);
    const created: RssRule = { ...rule, id: randomUUID() };
    this.daemon.store.setSettings({ rssRules: [...this.rules(), created] });
    return created;
  }

  updateRule(id: string, patch: Partial<NewRule>): RssRule {
    const found = this.rules().find((r) => r.id === id);
    if (!found) throw new PeerdropError('DAEMON_NOT_FOUND', `no rule ${id}`);
    const updated = { ...found, ...patch, id };
    checkRule(updated);
    this.daemon.store.setSettings({ rssRules: this.rules().map((r) => (r.id === id ? updated : r)) });
    return updated;
  }

  removeRule(id: string): void {
    const rules = this.rules();
    if (!rules.some((r) => r.id === id)) throw new PeerdropError('DAEMON_NOT_FOUND', `no rule ${id}`);
    this.daemon.store.setSettings({ rssRules: rules.filter((r) => r.id !== id) });
  }

  // ---- polling ------------------------------------------------------------------------------

  private async pollDue(): Promise<void> {
    const now = this.scheduler.now();
    for (const feed of this.feeds()) {
      if (!feed.isEnabled) continue;
      const last = this.state.get(feed.id)?.lastFetchedMs ?? null;
      if (last === null || now - last >= feed.intervalMinutes * 60_000)
        await this.refresh(feed.id).catch(() => {});
    }
  }

  /** Fetch a feed now and add what its rules match; one fetch per feed at a time. */
  refresh(id: string): Promise<FeedState> {
    const feed = this.feeds().find((f) => f.id === id);
    if (!feed) return Promise.reject(new PeerdropError('DAEMON_NOT_FOUND', `no feed ${id}`));
    let running = this.fetching.get(id);
    if (!running) {
      running = this.fetchAndApply(feed).finally(() => this.fetching.delete(id));
      this.fetching.set(id, running);
    }
    return running;
  }

  private async fetchAndApply(feed: RssFeed): Promise<FeedState> {
    const now = this.scheduler.now();
    let items: readonly FeedItem[];
    try {
      const res = await guardedHttpGet(feed.url, {
        ...this.policy,
        maxBytes: MAX_FEED_CHARS,
        timeoutMs: FETCH_TIMEOUT_MS,
        headers: {
          accept: 'application/rss+xml, application/atom+xml, application/xml, text/xml;q=0.9, */*;q=0.1',
        },
      });
      if (res.status !== 200)
        throw new PeerdropError('RSS_HTTP_STATUS', `the feed answered HTTP ${res.status}`);
      items = parseFeed(new TextDecoder().decode(res.body)).items;
    } catch (err) {
      const failed = { ...this.feedState(feed.id), lastFetchedMs: now, lastError: errorMessage(err) };
      this.state.set(feed.id, failed);
      this.daemon.log('warn', `feed ${feed.name}: ${failed.lastError}`);
      return failed;
    }
    const seen = this.seen();
    const seenHere = new Set(seen[feed.id] ?? []);
    const rules = this.rules();
    const out: (FeedItem & { matchedRule: string | null })[] = [];
    for (const item of items) {
      const isNew = !seenHere.has(item.guid);
      const rule = isNew ? await this.apply(feed, item, rules) : null;
      if (isNew) seenHere.add(item.guid);
      out.push({ ...item, matchedRule: rule?.id ?? null });
    }
    seen[feed.id] = [...seenHere].slice(-MAX_SEEN_PER_FEED);
    this.daemon.store.setSettings({ rssSeen: seen });
    const done: FeedState = { lastFetchedMs: now, lastError: null, items: out };
    this.state.set(feed.id, done);
    return done;
  }

  /** The first matching rule adds the item; returns it (null: no rule took the item). */
  private async apply(feed: RssFeed, item: FeedItem, rules: readonly RssRule[]): Promise<RssRule | null> {
    const taken = this.taken();
    for (const rule of rules) {
      let isMatch: boolean;
      try {
        isMatch = ruleMatches(rule, feed.id, item.title, new Set(taken[rule.id] ?? []));
      } catch {
        continue; // a stored rule whose pattern no longer compiles matches nothing
      }
      if (!isMatch) continue;
      try {
        await this.download(feed, rule, item);
      } catch (err) {
        this.daemon.log(
          'warn',
          `feed ${feed.name}: could not add ${JSON.stringify(item.title)}: ${errorMessage(err)}`,
        );
        return null;
      }
      const ep = episodeOf(item.title);
      if (rule.episodeFilter && ep) {
        taken[rule.id] = [...(taken[rule.id] ?? []), episodeKey(ep)].slice(-5000);
        this.daemon.store.setSettings({ rssTaken: taken });
      }
      this.daemon.log('info', `feed ${feed.name}: rule ${rule.name} added ${JSON.stringify(item.title)}`);
      return rule;
    }
    return null;
  }

  private async download(feed: RssFeed, rule: RssRule, item: FeedItem): Promise<void> {
    const label = rule.label ?? feed.label;
    const downloadDir = rule.downloadDir ?? feed.downloadDir;
    const common = {
      isPaused: rule.addPaused,
      ...(label ? { labels: [label] } : {}),
      ...(downloadDir ? { downloadDir } : {}),
    };
    if (item.magnet) {
      await this.daemon.add({ magnet: item.magnet, ...common });
      return;
    }
    const res = await guardedHttpGet(item.torrentUrl!, {
      ...this.policy,
      maxBytes: MAX_TORRENT_BYTES,
      timeoutMs: FETCH_TIMEOUT_MS,
    });
    if (res.status !== 200)
      throw new PeerdropError('RSS_HTTP_STATUS', `the .torrent answered HTTP ${res.status}`);
    await this.daemon.add({ torrent: res.body, ...common });
  }

  private list<T>(key: string): T[] {
    const v = this.daemon.store.getSettings()[key];
    return Array.isArray(v) ? (v as T[]) : [];
  }

  private seen(): Record<string, string[]> {
    const v = this.daemon.store.getSettings().rssSeen;
    return v && typeof v === 'object' ? { ...(v as Record<string, string[]>) } : {};
  }

  private taken(): Record<string, string[]> {
    const v = this.daemon.store.getSettings().rssTaken;
    return v && typeof v === 'object' ? { ...(v as Record<string, string[]>) } : {};
  }
}

function checkRule(
  rule: Pick<RssRule, 'mustContain' | 'mustNotContain' | 'isRegex' | 'episodeFilter'>,
): void {
  const problem = ruleProblem(rule);
  if (problem) throw new PeerdropError('DAEMON_BAD_REQUEST', `rule: ${problem}`);
}
