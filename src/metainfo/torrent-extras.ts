import { type BDict, type BValue, isBytes, isList } from '../bencode/index.js';
import { decodeUtf8Lenient, decodeUtf8Strict } from '../util/bytes.js';
import type { Metainfo } from './types.js';

/**
 * The informational fields of a `.torrent` (outside the file layout). They cannot make the data
 * wrong, so a malformed entry is skipped rather than refused, as libtorrent does.
 */
export type TorrentExtras = Pick<
  Metainfo,
  'isPrivate' | 'announceTiers' | 'urlList' | 'nodes' | 'comment' | 'createdBy' | 'creationDate' | 'source'
>;

function text(dict: BDict, key: string): string | undefined {
  const alt = dict.get(`${key}.utf-8`);
  const v = isBytes(alt) ? alt : dict.get(key);
  return isBytes(v) ? decodeUtf8Lenient(v) : undefined;
}

function urlText(v: BValue | undefined): string | undefined {
  if (!isBytes(v)) return undefined;
  const s = decodeUtf8Strict(v)?.trim();
  return s ? s : undefined;
}

/** BEP 12: `announce-list` when it has any URL, else the lone `announce`; duplicates dropped. */
function readTrackers(root: BDict): string[][] {
  const seen = new Set<string>();
  const tiers: string[][] = [];
  const list = root.get('announce-list');
  if (isList(list)) {
    for (const tier of list) {
      if (!isList(tier)) continue;
      const urls: string[] = [];
      for (const item of tier) {
        const url = urlText(item);
        if (url !== undefined && !seen.has(url)) urls.push(url);
        if (url !== undefined) seen.add(url);
      }
      if (urls.length > 0) tiers.push(urls);
    }
  }
  const single = urlText(root.get('announce'));
  if (tiers.length === 0 && single) tiers.push([single]);
  return tiers;
}

/** BEP 19 `url-list`: one string or a list of strings. */
function readUrlList(root: BDict): string[] {
  const v = root.get('url-list');
  const items = isList(v) ? v : [v];
  return [...new Set(items.map(urlText).filter((u): u is string => u !== undefined))];
}

function readNodes(root: BDict): { host: string; port: number }[] {
  const v = root.get('nodes');
  if (!isList(v)) return [];
  const out: { host: string; port: number }[] = [];
  for (const n of v) {
    if (!isList(n) || n.length !== 2) continue;
    const host = urlText(n[0]);
    const port = n[1];
    if (host && typeof port === 'number' && port > 0 && port < 65536) out.push({ host, port });
  }
  return out;
}

/** The informational parts of a torrent: trackers, web seeds, nodes, private flag, comment, dates. */
export function readTorrentExtras(root: BDict, info: BDict): TorrentExtras {
  const comment = text(root, 'comment');
  const createdBy = text(root, 'created by');
  const date = root.get('creation date');
  const source = text(info, 'source');
  return {
    // BEP 27: private only when the key is exactly the integer 1.
    isPrivate: info.get('private') === 1,
    announceTiers: readTrackers(root),
    urlList: readUrlList(root),
    nodes: readNodes(root),
    ...(comment === undefined ? {} : { comment }),
    ...(createdBy === undefined ? {} : { createdBy }),
    ...(typeof date === 'number' ? { creationDate: date } : {}),
    ...(source === undefined ? {} : { source }),
  };
}
