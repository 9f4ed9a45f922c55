/** Which torrents the list shows and in what order: pure functions of the views and the controls. */
import type { TorrentView } from './api-types.js';

export type SortKey = 'added' | 'name' | 'progress' | 'down' | 'up' | 'peers' | 'eta' | 'size' | 'state';
export type Filter = 'all' | 'active' | 'downloading' | 'seeding' | 'paused' | 'error';

export const SORTS: readonly { readonly key: SortKey; readonly label: string }[] = [
  { key: 'added', label: 'Date added' },
  { key: 'name', label: 'Name' },
  { key: 'progress', label: 'Progress' },
  { key: 'down', label: 'Download rate' },
  { key: 'up', label: 'Upload rate' },
  { key: 'peers', label: 'Peers' },
  { key: 'eta', label: 'Time left' },
  { key: 'size', label: 'Size' },
  { key: 'state', label: 'State' },
];

export const FILTERS: readonly { readonly key: Filter; readonly label: string }[] = [
  { key: 'all', label: 'All' },
  { key: 'active', label: 'Active' },
  { key: 'downloading', label: 'Downloading' },
  { key: 'seeding', label: 'Seeding' },
  { key: 'paused', label: 'Paused' },
  { key: 'error', label: 'Errors' },
];

export function matchesFilter(t: TorrentView, filter: Filter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'active':
      return t.downloadRate > 0 || t.uploadRate > 0;
    case 'downloading':
      return t.state === 'downloading' || t.state === 'metadata' || t.state === 'checking';
    case 'seeding':
      return t.state === 'seeding';
    case 'paused':
      return t.state === 'paused' || t.state === 'stopped';
    case 'error':
      return t.state === 'error' || t.error !== null;
  }
}

function matchesText(t: TorrentView, text: string): boolean {
  if (!text) return true;
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const hay = `${t.name} ${t.infoHash} ${t.labels.join(' ')}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

const STATE_ORDER: Readonly<Record<string, number>> = {
  error: 0,
  downloading: 1,
  metadata: 2,
  checking: 3,
  seeding: 4,
  paused: 5,
  stopped: 6,
};

function keyOf(t: TorrentView, key: SortKey): number | string {
  switch (key) {
    case 'added':
      return t.addedAtMs;
    case 'name':
      return t.name.toLowerCase();
    case 'progress':
      return t.progress;
    case 'down':
      return t.downloadRate;
    case 'up':
      return t.uploadRate;
    case 'peers':
      return t.peers;
    case 'eta':
      // Unknown time left sorts after every known one.
      return t.etaSeconds ?? Number.MAX_SAFE_INTEGER;
    case 'size':
      return t.totalBytes ?? t.wantedBytes;
    case 'state':
      return STATE_ORDER[t.state] ?? 9;
  }
}

export function visibleTorrents(
  all: Iterable<TorrentView>,
  opts: { filter: Filter; text: string; sort: SortKey; isDescending: boolean },
): TorrentView[] {
  const list = [...all].filter((t) => matchesFilter(t, opts.filter) && matchesText(t, opts.text.trim()));
  const dir = opts.isDescending ? -1 : 1;
  list.sort((a, b) => {
    const x = keyOf(a, opts.sort);
    const y = keyOf(b, opts.sort);
    if (x < y) return -dir;
    if (x > y) return dir;
    return a.id - b.id;
  });
  return list;
}

export function countByFilter(all: Iterable<TorrentView>): Record<Filter, number> {
  const counts: Record<Filter, number> = {
    all: 0,
    active: 0,
    downloading: 0,
    seeding: 0,
    paused: 0,
    error: 0,
  };
  for (const t of all) for (const f of FILTERS) if (matchesFilter(t, f.key)) counts[f.key]++;
  return counts;
}
