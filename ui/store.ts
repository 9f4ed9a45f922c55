/**
 * The page's live state: every torrent by info-hash, fed by /api/events (Server-Sent Events:
 * `torrents` with the ones that changed, `added`, `removed`). EventSource reconnects by itself;
 * after a reconnect the daemon sends the full list first, so nothing is missed.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import type { TorrentView } from './api-types.js';

export type Connection = 'connecting' | 'live' | 'offline' | 'signed-out';

interface State {
  readonly torrents: ReadonlyMap<string, TorrentView>;
  readonly connection: Connection;
  /** False until the first list arrived: the page shows "loading", not "no torrents". */
  readonly isLoaded: boolean;
}

let state: State = { torrents: new Map(), connection: 'connecting', isLoaded: false };
const listeners = new Set<() => void>();

function set(patch: Partial<State>): void {
  state = { ...state, ...patch };
  for (const l of listeners) l();
}

function upsert(views: readonly TorrentView[]): void {
  const next = new Map(state.torrents);
  for (const v of views) next.set(v.infoHash, v);
  const isFirst = !state.isLoaded;
  set({ torrents: next, isLoaded: true });
  // For bench/micro/ui-first-render.ts: the first list is on screen (listeners render synchronously
  // via their state updates; the frame after shows it).
  if (isFirst) requestAnimationFrame(() => performance.mark('peerdrop-list-rendered'));
}

export function upsertTorrent(view: TorrentView): void {
  upsert([view]);
}

export function forgetTorrent(infoHash: string): void {
  const next = new Map(state.torrents);
  next.delete(infoHash);
  set({ torrents: next });
}

let source: EventSource | null = null;

export function connect(): void {
  if (source) return;
  source = new EventSource('/api/events');
  source.addEventListener('open', () => set({ connection: 'live' }));
  source.addEventListener('torrents', (e) => {
    const { torrents } = JSON.parse((e as MessageEvent<string>).data) as { torrents: TorrentView[] };
    upsert(torrents);
    if (state.connection !== 'live') set({ connection: 'live' });
  });
  source.addEventListener('added', (e) => upsert([JSON.parse((e as MessageEvent<string>).data)]));
  source.addEventListener('removed', (e) => {
    const { infoHash } = JSON.parse((e as MessageEvent<string>).data) as { infoHash: string };
    forgetTorrent(infoHash);
  });
  source.addEventListener('error', () => {
    // EventSource does not say why; one plain request tells a lost login from a stopped daemon.
    set({ connection: 'offline' });
    api.get('/api/session').then(
      () => undefined,
      (err: { status?: number }) => {
        if (err.status === 401) {
          source?.close();
          source = null;
          set({ connection: 'signed-out', isLoaded: true });
        }
      },
    );
  });
}

export function useStore(): State {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return state;
}

export function getState(): State {
  return state;
}
