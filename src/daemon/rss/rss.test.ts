import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFeed } from './parse.js';
import { episodeOf, parseEpisodeFilter, type RssRule, ruleMatches, ruleProblem } from './rules.js';

const RSS = `<?xml version="1.0"?>
<!-- a comment with <item> inside -->
<rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/">
<channel><title>Shows &amp; more</title><link>https://example.org/</link>
<item><title><![CDATA[Show S01E02 <1080p> & co]]></title>
  <guid isPermaLink="false">id-2</guid>
  <enclosure url="https://example.org/t/2.torrent?x=1&amp;y=2" length="12345" type="application/x-bittorrent"/>
  <pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate></item>
<item><title>Show S01E03</title><link>magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&amp;dn=x</link></item>
<item><title>No download here</title><link>https://example.org/page</link></item>
<item><title>Other &#x4E2D;&#25991;</title><torrent:magnetURI><![CDATA[magnet:?xt=urn:btih:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]]></torrent:magnetURI></item>
</channel></rss>`;

const ATOM = `<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title type="html">Film &lt;2024&gt;</title><id>urn:x:1</id><updated>2025-01-02T03:04:05Z</updated>
<link rel="alternate" href="https://example.org/film"/>
<link rel="enclosure" type="application/x-bittorrent" href="https://example.org/film.torrent" length="99"/></entry>
<entry><title>Magnet entry</title><link href='magnet:?xt=urn:btih:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'/></entry>
</feed>`;

describe('feed parser', () => {
  it('reads RSS 2.0: CDATA titles, enclosures, magnet links, entities, ezrss magnetURI', () => {
    const feed = parseFeed(RSS);
    assert.equal(feed.format, 'rss');
    assert.equal(feed.title, 'Shows & more');
    assert.equal(feed.items.length, 3, 'the item without a download is left out');
    const [a, b, c] = feed.items;
    assert.equal(a!.title, 'Show S01E02 <1080p> & co');
    assert.equal(a!.guid, 'id-2');
    assert.equal(a!.torrentUrl, 'https://example.org/t/2.torrent?x=1&y=2');
    assert.equal(a!.sizeBytes, 12345);
    assert.equal(a!.publishedMs, Date.UTC(2025, 5, 10, 4));
    assert.match(b!.magnet ?? '', /^magnet:\?xt=urn:btih:0123/);
    assert.equal(b!.guid, b!.magnet);
    assert.equal(c!.title, 'Other 中文');
    assert.match(c!.magnet ?? '', /aaaa$/);
  });

  it('reads Atom: enclosure links by rel or type, magnet hrefs, the alternate link', () => {
    const feed = parseFeed(ATOM);
    assert.equal(feed.format, 'atom');
    assert.equal(feed.items.length, 2);
    assert.equal(feed.items[0]!.title, 'Film <2024>');
    assert.equal(feed.items[0]!.torrentUrl, 'https://example.org/film.torrent');
    assert.equal(feed.items[0]!.link, 'https://example.org/film');
    assert.equal(feed.items[0]!.guid, 'urn:x:1');
    assert.match(feed.items[1]!.magnet ?? '', /bbbb$/);
  });

  it('refuses what is not a feed, and survives truncated input', () => {
    assert.throws(() => parseFeed('<html><body>hi</body></html>'), { code: 'RSS_NOT_A_FEED' });
    const cut = parseFeed(RSS.slice(0, RSS.indexOf('Show S01E03') + 40));
    assert.ok(cut.items.length >= 1);
  });
});

const rule = (over: Partial<RssRule> = {}): RssRule => ({
  id: 'r',
  name: 'r',
  isEnabled: true,
  feedIds: [],
  mustContain: '',
  mustNotContain: '',
  isRegex: false,
  episodeFilter: null,
  label: null,
  downloadDir: null,
  addPaused: false,
  ...over,
});

describe('download rules', () => {
  const none = new Set<string>();
  it('words: space is AND, | is OR, case-insensitive; must-not-contain refuses', () => {
    const r = rule({ mustContain: 'show 1080p | film', mustNotContain: 'cam' });
    assert.equal(ruleMatches(r, 'f', 'The Show S01E01 1080p', none), true);
    assert.equal(ruleMatches(r, 'f', 'The Show S01E01 720p', none), false);
    assert.equal(ruleMatches(r, 'f', 'A FILM', none), true);
    assert.equal(ruleMatches(r, 'f', 'A film CAM', none), false);
    assert.equal(ruleMatches({ ...r, feedIds: ['other'] }, 'f', 'A film', none), false);
    assert.equal(ruleMatches({ ...r, isEnabled: false }, 'f', 'A film', none), false);
  });

  it('regex rules, checked when saved', () => {
    assert.equal(
      ruleMatches(rule({ mustContain: '^show s0\\dE', isRegex: true }), 'f', 'Show S01E02', none),
      true,
    );
    assert.match(ruleProblem(rule({ mustContain: '(', isRegex: true })) ?? '', /regular expression|Invalid/i);
  });

  it('episode filter ranges, each episode once', () => {
    assert.deepEqual(episodeOf('Show.S02E07.720p'), { season: 2, episode: 7 });
    assert.deepEqual(episodeOf('Show 3x04'), { season: 3, episode: 4 });
    assert.equal(parseEpisodeFilter('1x01-1x05;2x-').length, 2);
    assert.throws(() => parseEpisodeFilter('1x05-3'), /ends before/);
    const r = rule({ episodeFilter: '1x2-5;2x-' });
    assert.equal(ruleMatches(r, 'f', 'Show S01E03', none), true);
    assert.equal(ruleMatches(r, 'f', 'Show S01E06', none), false);
    assert.equal(ruleMatches(r, 'f', 'Show S02E60', none), true);
    assert.equal(ruleMatches(r, 'f', 'Show S01E03', new Set(['1x3'])), false);
    assert.equal(ruleMatches(r, 'f', 'Show special', none), false);
  });
});
