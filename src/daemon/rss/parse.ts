/**
 * RSS 2.0 and Atom feeds read by a careful extractor, not an XML processor: no DTDs, no entity
 * expansion beyond the five predefined ones and character references, no namespaces beyond
 * ignoring a prefix. Feeds from torrent sites are often not well-formed, so this takes what it
 * can (items with a title and something to download) and never throws on content except for
 * input that is not a feed at all (`RSS_NOT_A_FEED`). Bounded: input size, items, field length.
 *
 * CDATA sections are cut out first (their text is literal and may contain `<`), comments are
 * dropped, then items (`<item>`, `<entry>`) are found and their children read.
 */
import { PeerdropError } from '../../util/errors.js';

export const MAX_FEED_CHARS = 4 * 1024 * 1024;
export const MAX_FEED_ITEMS = 1000;
const MAX_FIELD_CHARS = 8 * 1024;

export interface FeedItem {
  readonly title: string;
  /** `<guid>`/`<id>`, else the download link, else the title: what "seen" is keyed by. */
  readonly guid: string;
  /** The page about the item. */
  readonly link: string | null;
  /** A `.torrent` to fetch (enclosure, Atom enclosure link, or a link ending in .torrent). */
  readonly torrentUrl: string | null;
  readonly magnet: string | null;
  readonly publishedMs: number | null;
  readonly sizeBytes: number | null;
}

export interface ParsedFeed {
  readonly format: 'rss' | 'atom';
  readonly title: string | null;
  readonly items: readonly FeedItem[];
}

interface Element {
  readonly attrs: ReadonlyMap<string, string>;
  /** Raw inner text (null for `<x/>`). */
  readonly inner: string | null;
}

/** Private-use characters mark where a CDATA section was (input ones are dropped first). */
const PLACEHOLDER = '\ue000';

export function parseFeed(input: string): ParsedFeed {
  if (input.length > MAX_FEED_CHARS)
    throw new PeerdropError('RSS_TOO_LARGE', `feed of ${input.length} characters is over ${MAX_FEED_CHARS}`);
  const cdata: string[] = [];
  const text = input
    .replace(/\ue000/g, '')
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, body: string) => {
      cdata.push(body);
      return `${PLACEHOLDER}${cdata.length - 1}${PLACEHOLDER}`;
    })
    .replace(/<!--[\s\S]*?(-->|$)/g, '');
  const isAtom = /<(?:[\w.-]+:)?feed\b/i.test(text) && !/<(?:[\w.-]+:)?(rss|channel)\b/i.test(text);
  const isRss = /<(?:[\w.-]+:)?(rss|channel|rdf)\b/i.test(text);
  if (!isAtom && !isRss) throw new PeerdropError('RSS_NOT_A_FEED', 'not an RSS or Atom feed');
  const read = (raw: string | null) => decodeText(raw ?? '', cdata);
  const blocks = findElements(text, isAtom ? 'entry' : 'item', MAX_FEED_ITEMS);
  const items: FeedItem[] = [];
  for (const block of blocks) {
    const item = isAtom ? atomItem(block.inner ?? '', read) : rssItem(block.inner ?? '', read);
    if (item) items.push(item);
  }
  // The feed's own title: the first <title> before the first item.
  const head = text.slice(
    0,
    Math.max(0, text.search(isAtom ? /<(?:[\w.-]+:)?entry\b/i : /<(?:[\w.-]+:)?item\b/i)),
  );
  const titleEl = findElements(head.length > 0 ? head : text, 'title', 1)[0];
  const title = titleEl ? clip(read(titleEl.inner)) || null : null;
  return { format: isAtom ? 'atom' : 'rss', title, items };
}

type Reader = (raw: string | null) => string;

function rssItem(inner: string, read: Reader): FeedItem | null {
  const title = clip(read(first(inner, 'title')?.inner ?? null));
  const link = clip(read(first(inner, 'link')?.inner ?? null)) || null;
  let torrentUrl: string | null = null;
  let magnet: string | null = null;
  let sizeBytes: number | null = null;
  for (const enc of findElements(inner, 'enclosure', 16)) {
    const url = clip(decodeText(enc.attrs.get('url') ?? '', []));
    const type = (enc.attrs.get('type') ?? '').toLowerCase();
    if (url.startsWith('magnet:')) magnet ??= url;
    else if (
      url !== '' &&
      (type === 'application/x-bittorrent' || type === '' || /\.torrent(\?|$)/i.test(url))
    )
      torrentUrl ??= url;
    sizeBytes ??= parseSize(enc.attrs.get('length'));
  }
  const magnetEl = first(inner, 'magnetURI') ?? first(inner, 'magnetUri');
  if (magnetEl) magnet ??= clip(read(magnetEl.inner)) || null;
  if (link?.startsWith('magnet:')) magnet ??= link;
  else if (link && /\.torrent(\?|$)/i.test(link)) torrentUrl ??= link;
  sizeBytes ??= parseSize(read(first(inner, 'contentLength')?.inner ?? first(inner, 'size')?.inner ?? null));
  const guid = clip(read(first(inner, 'guid')?.inner ?? null));
  const date = read(first(inner, 'pubDate')?.inner ?? first(inner, 'date')?.inner ?? null);
  return finish(title, guid, link, torrentUrl, magnet, date, sizeBytes);
}

function atomItem(inner: string, read: Reader): FeedItem | null {
  const title = clip(read(first(inner, 'title')?.inner ?? null));
  let link: string | null = null;
  let torrentUrl: string | null = null;
  let magnet: string | null = null;
  let sizeBytes: number | null = null;
  for (const el of findElements(inner, 'link', 16)) {
    const href = clip(decodeText(el.attrs.get('href') ?? '', []));
    if (href === '') continue;
    const rel = (el.attrs.get('rel') ?? 'alternate').toLowerCase();
    const type = (el.attrs.get('type') ?? '').toLowerCase();
    if (href.startsWith('magnet:')) magnet ??= href;
    else if (rel === 'enclosure' || type === 'application/x-bittorrent' || /\.torrent(\?|$)/i.test(href)) {
      torrentUrl ??= href;
      sizeBytes ??= parseSize(el.attrs.get('length'));
    } else if (rel === 'alternate') link ??= href;
  }
  const guid = clip(read(first(inner, 'id')?.inner ?? null));
  const date = read(first(inner, 'updated')?.inner ?? first(inner, 'published')?.inner ?? null);
  return finish(title, guid, link, torrentUrl, magnet, date, sizeBytes);
}

function finish(
  title: string,
  guid: string,
  link: string | null,
  torrentUrl: string | null,
  magnet: string | null,
  date: string,
  sizeBytes: number | null,
): FeedItem | null {
  if (title === '' || (torrentUrl === null && magnet === null)) return null;
  const ms = date === '' ? Number.NaN : Date.parse(date.trim());
  return {
    title,
    guid: guid || magnet || torrentUrl || title,
    link,
    torrentUrl,
    magnet,
    publishedMs: Number.isFinite(ms) ? ms : null,
    sizeBytes,
  };
}

function parseSize(text: string | undefined | null): number | null {
  if (!text || !/^\s*\d{1,16}\s*$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

function clip(s: string): string {
  const t = s.trim();
  return t.length > MAX_FIELD_CHARS ? t.slice(0, MAX_FIELD_CHARS) : t;
}

function first(xml: string, name: string): Element | undefined {
  return findElements(xml, name, 1)[0];
}

/**
 * Elements named `name` (any namespace prefix, case-insensitive), not nested in each other,
 * at most `max`. An element never closed runs to the end of the text.
 */
function findElements(xml: string, name: string, max: number): Element[] {
  const out: Element[] = [];
  const open = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${name}(?=[\\s/>])([^>]*)>`, 'gi');
  const close = new RegExp(`</(?:[A-Za-z_][\\w.-]*:)?${name}\\s*>`, 'gi');
  while (out.length < max) {
    const m = open.exec(xml);
    if (m === null) break;
    let attrText = m[1] ?? '';
    const isEmpty = attrText.endsWith('/');
    if (isEmpty) attrText = attrText.slice(0, -1);
    const attrs = parseAttributes(attrText);
    if (isEmpty) {
      out.push({ attrs, inner: null });
      continue;
    }
    close.lastIndex = open.lastIndex;
    const c = close.exec(xml);
    const end = c ? c.index : xml.length;
    out.push({ attrs, inner: xml.slice(open.lastIndex, end) });
    open.lastIndex = c ? close.lastIndex : xml.length;
  }
  return out;
}

function parseAttributes(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  for (const m of text.matchAll(re)) {
    if (attrs.size >= 32) break;
    const key = m[1]!.toLowerCase().replace(/^[\w.-]+:/, '');
    if (!attrs.has(key)) attrs.set(key, m[2] ?? m[3] ?? '');
  }
  return attrs;
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Text content: tags dropped, predefined entities and character references decoded, CDATA restored. */
function decodeText(raw: string, cdata: readonly string[]): string {
  const noTags = raw.replace(/<[^>]*>/g, '');
  const decoded = noTags.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,6});/g, (all, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref] ?? all;
    const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    const isValid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return isValid ? String.fromCodePoint(code) : '\ufffd';
  });
  return decoded.replace(/\ue000(\d{1,7})\ue000/g, (_, i: string) => cdata[Number(i)] ?? '');
}
