/**
 * RSS download rules (qBittorrent's "RSS downloader", the most asked-for web UI feature):
 * an item is downloaded when an enabled rule for its feed matches its title. Pure.
 *
 * - `mustContain` / `mustNotContain`: words (case-insensitive; a space means AND, `|` means OR
 *   between groups) or, with `isRegex`, one regular expression each (case-insensitive).
 * - `episodeFilter`: `1x01-1x10;2x-` style (season `x` episodes: `N`, `N-M`, `N-` open-ended),
 *   matched against `S01E05` or `1x05` in the title. Each episode is taken once per rule.
 */

export interface RssRule {
  readonly id: string;
  readonly name: string;
  readonly isEnabled: boolean;
  /** Feed ids the rule applies to; empty: every feed. */
  readonly feedIds: readonly string[];
  readonly mustContain: string;
  readonly mustNotContain: string;
  readonly isRegex: boolean;
  readonly episodeFilter: string | null;
  /** Labels and folder for what it adds (null: the feed's, else the defaults). */
  readonly label: string | null;
  readonly downloadDir: string | null;
  readonly addPaused: boolean;
}

/** Titles longer than this are cut before matching (regex cost stays bounded). */
const MAX_TITLE_CHARS = 512;

export interface Episode {
  readonly season: number;
  readonly episode: number;
}

export function episodeOf(title: string): Episode | null {
  const m = /\bS(\d{1,3})[ ._-]?E(\d{1,4})\b/i.exec(title) ?? /\b(\d{1,3})x(\d{1,4})\b/i.exec(title);
  return m ? { season: Number(m[1]), episode: Number(m[2]) } : null;
}

interface EpisodeRange {
  readonly season: number;
  readonly from: number;
  readonly to: number;
}

/** Parse an episode filter; throws a message naming the bad part. */
export function parseEpisodeFilter(filter: string): EpisodeRange[] {
  const out: EpisodeRange[] = [];
  for (const part of filter
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = /^(\d{1,3})x(\d{1,4})?(?:(-)(?:(\d{1,3})x)?(\d{1,4})?)?$/i.exec(part);
    if (!m || (m[4] !== undefined && Number(m[4]) !== Number(m[1])))
      throw new Error(
        `episode filter part ${JSON.stringify(part)} is not like 1x01, 1x2-5, 1x01-1x10 or 2x-`,
      );
    m.splice(4, 1);
    const season = Number(m[1]);
    const from = m[2] === undefined ? 0 : Number(m[2]);
    const to = m[3]
      ? m[4] === undefined
        ? Number.POSITIVE_INFINITY
        : Number(m[4])
      : m[2] === undefined
        ? Number.POSITIVE_INFINITY
        : from;
    if (to < from) throw new Error(`episode filter part ${JSON.stringify(part)} ends before it starts`);
    out.push({ season, from, to });
  }
  return out;
}

/** Check a rule's patterns (regexes compile, filter parses); returns the problem or null. */
export function ruleProblem(
  rule: Pick<RssRule, 'mustContain' | 'mustNotContain' | 'isRegex' | 'episodeFilter'>,
): string | null {
  try {
    if (rule.isRegex) {
      new RegExp(rule.mustContain, 'i');
      new RegExp(rule.mustNotContain, 'i');
    }
    if (rule.episodeFilter) parseEpisodeFilter(rule.episodeFilter);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function wordsMatch(pattern: string, title: string): boolean {
  const groups = pattern
    .toLowerCase()
    .split('|')
    .map((g) =>
      g
        .trim()
        .split(/\s+/)
        .filter((w) => w !== ''),
    )
    .filter((g) => g.length > 0);
  if (groups.length === 0) return true;
  return groups.some((words) => words.every((w) => title.includes(w)));
}

function contains(pattern: string, title: string, isRegex: boolean): boolean {
  if (isRegex) return pattern === '' || new RegExp(pattern, 'i').test(title);
  return wordsMatch(pattern, title.toLowerCase());
}

/** Does `rule` take this item? `taken` holds episode keys the rule already downloaded. */
export function ruleMatches(
  rule: RssRule,
  feedId: string,
  rawTitle: string,
  taken: ReadonlySet<string>,
): boolean {
  if (!rule.isEnabled) return false;
  if (rule.feedIds.length > 0 && !rule.feedIds.includes(feedId)) return false;
  const title = rawTitle.slice(0, MAX_TITLE_CHARS);
  if (!contains(rule.mustContain, title, rule.isRegex)) return false;
  if (rule.mustNotContain.trim() !== '') {
    if (rule.isRegex ? new RegExp(rule.mustNotContain, 'i').test(title) : anyWord(rule.mustNotContain, title))
      return false;
  }
  if (rule.episodeFilter) {
    const ep = episodeOf(title);
    if (!ep) return false;
    const ranges = parseEpisodeFilter(rule.episodeFilter);
    if (!ranges.some((r) => r.season === ep.season && ep.episode >= r.from && ep.episode <= r.to))
      return false;
    if (taken.has(episodeKey(ep))) return false;
  }
  return true;
}

/** mustNotContain in words mode: any group of words present refuses the item. */
function anyWord(pattern: string, title: string): boolean {
  const lower = title.toLowerCase();
  return pattern
    .toLowerCase()
    .split('|')
    .map((g) =>
      g
        .trim()
        .split(/\s+/)
        .filter((w) => w !== ''),
    )
    .filter((g) => g.length > 0)
    .some((words) => words.every((w) => lower.includes(w)));
}

export function episodeKey(ep: Episode): string {
  return `${ep.season}x${ep.episode}`;
}
