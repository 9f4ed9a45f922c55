/**
 * How the CLI drives torrents: through the running daemon of a data folder (found by
 * `daemon.json`, HTTP on loopback with the token), or, when none runs, on the daemon's store
 * directly — the next daemon start picks the changes up. Both behind one small interface.
 */
import { mkdirSync } from 'node:fs';
import { magnetFromMetainfo, parseMagnet, parseMetainfo, wireInfoHash } from '../metainfo/index.js';
import { PeerdropError } from '../util/errors.js';
import { daemonPaths, defaultDownloadDir, findRunningDaemon, readToken } from './config.js';
import { initialSnapshot } from './dormant.js';
import { removeTorrentData, resolveDownloadDir } from './files.js';
import { openDaemonStore } from './sqlite-daemon-store.js';
import type { DaemonStore, TorrentRecord } from './store.js';

export interface ListedTorrent {
  readonly id: number;
  readonly infoHash: string;
  readonly name: string;
  readonly state: string;
  readonly progress: number | null;
  readonly downloadRate: number;
  readonly uploadRate: number;
}

export interface TorrentControl {
  /** `running` talks to a daemon; `offline` edits the store for the next start. */
  readonly mode: 'running' | 'offline';
  add(input: {
    torrent?: Uint8Array;
    magnet?: string;
    downloadDir?: string;
    isPaused?: boolean;
  }): Promise<ListedTorrent>;
  list(): Promise<ListedTorrent[]>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  remove(id: string, deleteData: boolean): Promise<void>;
  close(): void;
}

export async function connectToDaemon(dataDir: string, downloadDir?: string): Promise<TorrentControl> {
  const paths = daemonPaths(dataDir);
  const running = findRunningDaemon(paths);
  const token = readToken(paths);
  if (running && token) return httpControl(running.host, running.port, token);
  mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  return offlineControl(openDaemonStore(paths.db), downloadDir ?? defaultDownloadDir());
}

function httpControl(bind: string, port: number, token: string): TorrentControl {
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const data = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
    if (!response.ok)
      throw new PeerdropError(data.code ?? 'DAEMON_HTTP', data.message ?? `HTTP ${response.status}`);
    return data as T;
  };
  return {
    mode: 'running',
    add: (input) =>
      call<ListedTorrent>('POST', '/api/torrents', {
        ...(input.torrent ? { torrent: Buffer.from(input.torrent).toString('base64') } : {}),
        ...(input.magnet ? { magnet: input.magnet } : {}),
        ...(input.downloadDir ? { downloadDir: input.downloadDir } : {}),
        paused: input.isPaused ?? false,
      }),
    list: async () => (await call<{ torrents: ListedTorrent[] }>('GET', '/api/torrents')).torrents,
    pause: async (id) => void (await call('POST', `/api/torrents/${encodeURIComponent(id)}/pause`)),
    resume: async (id) => void (await call('POST', `/api/torrents/${encodeURIComponent(id)}/resume`)),
    remove: async (id, deleteData) =>
      void (await call('DELETE', `/api/torrents/${encodeURIComponent(id)}?deleteData=${deleteData}`)),
    close: () => {},
  };
}

function offlineControl(store: DaemonStore, downloadRoot: string): TorrentControl {
  const find = (id: string): TorrentRecord => {
    const all = store.listTorrents();
    const r = /^\d+$/.test(id) ? all.find((t) => t.id === Number(id)) : store.getTorrent(id.toLowerCase());
    if (!r) throw new PeerdropError('DAEMON_NOT_FOUND', `no torrent ${id}`);
    return r;
  };
  return {
    mode: 'offline',
    async add(input) {
      const metainfo = input.torrent ? parseMetainfo(input.torrent) : null;
      const magnet = input.magnet ? parseMagnet(input.magnet) : null;
      if (!metainfo && !magnet) throw new PeerdropError('DAEMON_BAD_REQUEST', 'nothing to add');
      const infoHash = Buffer.from(metainfo ? wireInfoHash(metainfo) : wireInfoHash(magnet!)).toString('hex');
      const record = store.insertTorrent({
        infoHash,
        source: input.torrent
          ? { kind: 'torrent', bytes: input.torrent }
          : { kind: 'magnet', uri: input.magnet! },
        magnet: metainfo ? magnetFromMetainfo(metainfo) : input.magnet!,
        downloadDir: await resolveDownloadDir(downloadRoot, input.downloadDir),
        state: input.isPaused ? 'paused' : 'active',
        addedAtMs: Date.now(),
        labels: [],
        filePriorities: null,
        limits: { downloadBps: null, uploadBps: null },
        seedGoals: { ratio: null, seedSeconds: null },
        snapshot: initialSnapshot(infoHash, metainfo, magnet),
      });
      return listed(record);
    },
    list: async () => store.listTorrents().map(listed),
    pause: async (id) => void store.updateTorrent(find(id).infoHash, { state: 'paused' }),
    resume: async (id) => void store.updateTorrent(find(id).infoHash, { state: 'active' }),
    async remove(id, deleteData) {
      const r = find(id);
      store.deleteTorrent(r.infoHash);
      if (deleteData && r.source.kind === 'torrent')
        await removeTorrentData(r.downloadDir, parseMetainfo(r.source.bytes));
    },
    close: () => store.close(),
  };
}

function listed(r: TorrentRecord): ListedTorrent {
  let name = r.infoHash;
  try {
    name =
      r.source.kind === 'torrent'
        ? parseMetainfo(r.source.bytes).name
        : (parseMagnet(r.source.uri).name ?? name);
  } catch {
    // a record that no longer parses keeps its hash as name
  }
  return {
    id: r.id,
    infoHash: r.infoHash,
    name,
    state: r.state,
    progress: null,
    downloadRate: 0,
    uploadRate: 0,
  };
}
