/**
 * The daemon's core: one engine `Session` for many torrents, their durable records in the
 * `DaemonStore`, and the operations the HTTP API, the Transmission RPC and the CLI share. It
 * owns no sockets of its own (see http-server.ts). The engine's public API only: handles from
 * `session.add`, their events and controls.
 *
 * What is durable and when: a record is written before `add` answers and on every change
 * (pause, resume, priorities, limits, labels), so a `kill -9` loses no acknowledged action;
 * the engine's resume records (in `<data-dir>/session`) keep the verified pieces.
 */
import { encode } from '../bencode/index.js';
import { magnetFromMetainfo, parseMagnet, parseMetainfo, wireInfoHash } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { Session, type SessionOptions } from '../session/session.js';
import type { TorrentHandle } from '../session/torrent-handle.js';
import { idleTorrentStatus, type TorrentStatus } from '../session/torrent-types.js';
import type { FilePriority } from '../storage/storage.js';
import { concatBytes } from '../util/bytes.js';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { cachedStore } from './cached-store.js';
import { type DaemonPaths, daemonPaths } from './config.js';
import { removeTorrentData, resolveDownloadDir } from './files.js';
import { PieceWatch } from './piece-watch.js';
import { openDaemonStore } from './sqlite-daemon-store.js';
import type { DaemonStore, SeedGoals, TorrentLimitsRecord, TorrentRecord } from './store.js';

export interface DaemonOptions {
  readonly dataDir: string;
  /** The download root: every torrent's folder is inside it. */
  readonly downloadDir: string;
  /** Passed to the engine (tests: host 127.0.0.1); `stateDir` is always `<data-dir>/session`. */
  readonly session?: Omit<SessionOptions, 'stateDir'>;
  readonly now?: () => number;
  /** Torrents restored at once at start (each opens storage and reads its resume record). */
  readonly restoreConcurrency?: number;
}

export interface AddRequest {
  readonly torrent?: Uint8Array;
  readonly magnet?: string;
  /** Relative to (or inside) the download root. */
  readonly downloadDir?: string;
  readonly isPaused?: boolean;
  readonly labels?: readonly string[];
  /** File indices to download (others priority 0); all when omitted. */
  readonly files?: readonly number[];
}

export interface FileView {
  readonly index: number;
  readonly path: string;
  readonly lengthBytes: number;
  readonly priority: number;
}

/** One torrent as the API shows it: the engine's status plus the daemon's record. */
export interface TorrentView extends TorrentStatus {
  readonly id: number;
  readonly downloadDir: string;
  readonly addedAtMs: number;
  readonly labels: readonly string[];
  readonly limits: TorrentLimitsRecord;
  readonly seedGoals: SeedGoals;
  readonly magnet: string | null;
  readonly totalBytes: number | null;
  readonly fileCount: number | null;
}

export interface DaemonEvents {
  [key: string]: (...args: never[]) => void;
  added: (view: TorrentView) => void;
  removed: (infoHash: string, id: number) => void;
  changed: (infoHash: string) => void;
}

/** What a failed restore left: the record stays, shown with its error, until removed. */
interface Broken {
  readonly record: TorrentRecord;
  readonly error: string;
}

export class Daemon extends TypedEmitter<DaemonEvents> {
  readonly paths: DaemonPaths;
  readonly session: Session;
  readonly pieces = new PieceWatch();
  private readonly broken = new Map<string, Broken>();
  private readonly detach = new Map<string, () => void>();
  private readonly now: () => number;
  private isClosed = false;

  private constructor(
    readonly options: DaemonOptions,
    readonly store: DaemonStore,
  ) {
    super();
    this.paths = daemonPaths(options.dataDir);
    this.now = options.now ?? Date.now;
    // Engine-wide settings are read once: the engine has no setter for them yet.
    const settings = store.getSettings();
    const rate = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);
    const downloadLimit = rate(settings.globalDownloadBps);
    const uploadLimit = rate(settings.globalUploadBps);
    const port = typeof settings.peerPort === 'number' ? settings.peerPort : undefined;
    this.session = new Session({
      ...(downloadLimit === undefined ? {} : { downloadLimit }),
      ...(uploadLimit === undefined ? {} : { uploadLimit }),
      ...(port === undefined ? {} : { port }),
      ...options.session,
      stateDir: this.paths.stateDir,
    });
  }

  /** Open the store, start the engine and bring every torrent back as it was. */
  static async open(options: DaemonOptions): Promise<Daemon> {
    const { mkdirSync } = await import('node:fs');
    const paths = daemonPaths(options.dataDir);
    mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
    mkdirSync(options.downloadDir, { recursive: true });
    const daemon = new Daemon(options, cachedStore(openDaemonStore(paths.db)));
    await daemon.session.listen();
    await daemon.restore();
    return daemon;
  }

  get downloadRoot(): string {
    return this.options.downloadDir;
  }

  private async restore(): Promise<void> {
    const records = this.store.listTorrents();
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const record = records[next++]!;
        try {
          await this.start(record);
        } catch (err) {
          this.broken.set(record.infoHash, { record, error: errorMessage(err) });
        }
      }
    };
    const n = Math.max(1, Math.min(this.options.restoreConcurrency ?? 8, records.length));
    await Promise.all(Array.from({ length: n }, worker));
  }

  /** Hand a record to the engine, in the state it was in. */
  private async start(record: TorrentRecord): Promise<TorrentHandle> {
    const input = record.source.kind === 'torrent' ? record.source.bytes : record.source.uri;
    const priorities = record.filePriorities;
    const handle = await this.session.add(input, {
      dir: record.downloadDir,
      ...(priorities ? { files: priorities.flatMap((p, i) => (p > 0 ? [i] : [])) } : {}),
      ...(record.limits.downloadBps === null ? {} : { downloadLimit: record.limits.downloadBps }),
      ...(record.limits.uploadBps === null ? {} : { uploadLimit: record.limits.uploadBps }),
    });
    this.watch(handle);
    if (record.state === 'paused') await handle.pause();
    else await this.applyPriorities(handle, record);
    return handle;
  }

  private watch(handle: TorrentHandle): void {
    const key = handle.infoHash;
    const changed = () => this.emit('changed', key);
    const offs = [
      handle.on('piece', (p) => this.pieces.verified(key, p)),
      handle.on('metadata', (m) => this.onMetadata(handle, m)),
      handle.on('done', changed),
      handle.on('paused', changed),
      handle.on('resumed', changed),
      handle.on('error', changed),
    ];
    this.detach.set(key, () => {
      for (const off of offs) off();
    });
  }

  /** A magnet's metadata came: keep it as `.torrent` bytes so a restart needs no peers for it. */
  private onMetadata(handle: TorrentHandle, metainfo: Metainfo): void {
    const record = this.store.getTorrent(handle.infoHash);
    if (!record || record.source.kind === 'torrent') return;
    const trackers = record.source.uri ? safeTrackers(record.source.uri) : [];
    this.store.updateTorrent(handle.infoHash, {
      source: { kind: 'torrent', bytes: torrentBytes(metainfo.infoBytes, trackers) },
    });
    void this.applyPriorities(handle, record).catch(() => {});
    this.emit('changed', handle.infoHash);
  }

  /** The engine forgets priorities over a pause (a new Torrent starts from `files`): apply them again. */
  private async applyPriorities(handle: TorrentHandle, record: TorrentRecord): Promise<void> {
    const wanted = record.filePriorities;
    const current = handle.filePriorities();
    if (!wanted || !current) return;
    for (let i = 0; i < Math.min(wanted.length, current.length); i++)
      if (wanted[i] !== current[i]) await handle.setFilePriority(i, wanted[i] as FilePriority);
  }

  // ---- operations ---------------------------------------------------------------------------

  async add(request: AddRequest): Promise<TorrentView> {
    this.assertOpen();
    const hasTorrent = request.torrent !== undefined;
    if (hasTorrent === (request.magnet !== undefined))
      throw new PeerdropError('DAEMON_BAD_REQUEST', 'give exactly one of a .torrent file or a magnet link');
    // Parse first: bad input is a 400, and the info-hash names the record.
    const metainfo = request.torrent ? parseMetainfo(request.torrent) : null;
    const magnet = request.magnet !== undefined ? parseMagnet(request.magnet) : null;
    const infoHash = Buffer.from(metainfo ? wireInfoHash(metainfo) : wireInfoHash(magnet!)).toString('hex');
    const dir = await resolveDownloadDir(this.downloadRoot, request.downloadDir);
    const existing = this.store.getTorrent(infoHash);
    if (existing && this.session.get(infoHash)) return this.view(infoHash)!;
    let priorities: number[] | null = null;
    if (request.files && metainfo) {
      const wanted = new Set(request.files);
      for (const i of wanted)
        if (!Number.isInteger(i) || i < 0 || i >= metainfo.files.length)
          throw new PeerdropError('DAEMON_BAD_REQUEST', `file index ${i} is not in the torrent`);
      priorities = metainfo.files.map((_, i) => (wanted.has(i) ? 4 : 0));
    }
    const record = this.store.insertTorrent({
      infoHash,
      source: request.torrent
        ? { kind: 'torrent', bytes: request.torrent }
        : { kind: 'magnet', uri: request.magnet! },
      magnet: metainfo ? magnetFromMetainfo(metainfo) : request.magnet!,
      downloadDir: dir,
      state: request.isPaused ? 'paused' : 'active',
      addedAtMs: this.now(),
      labels: [...(request.labels ?? [])],
      filePriorities: priorities,
      limits: { downloadBps: null, uploadBps: null },
      seedGoals: { ratio: null, seedSeconds: null },
    });
    this.broken.delete(infoHash);
    try {
      await this.start(record);
    } catch (err) {
      this.store.deleteTorrent(infoHash);
      throw err;
    }
    const view = this.view(infoHash)!;
    this.emit('added', view);
    return view;
  }

  async pause(infoHash: string): Promise<void> {
    const handle = this.handle(infoHash);
    this.store.updateTorrent(handle.infoHash, { state: 'paused' });
    await handle.pause();
  }

  async resume(infoHash: string): Promise<void> {
    const handle = this.handle(infoHash);
    const record = this.store.updateTorrent(handle.infoHash, { state: 'active' })!;
    await handle.resume();
    await this.applyPriorities(handle, record);
  }

  /** Forget a torrent; with `deleteData` also its files (inside its download folder only). */
  async remove(infoHash: string, options: { deleteData?: boolean } = {}): Promise<void> {
    const key = infoHash.toLowerCase();
    const record = this.store.getTorrent(key);
    if (!record) throw notFound(infoHash);
    const metainfo = this.session.get(key)?.metainfo ?? metainfoOf(record);
    this.detach.get(key)?.();
    this.detach.delete(key);
    await this.session.remove(key);
    this.store.deleteTorrent(key);
    this.broken.delete(key);
    this.pieces.forget(key);
    if (options.deleteData && metainfo) await removeTorrentData(record.downloadDir, metainfo);
    this.emit('removed', key, record.id);
  }

  /** Set priorities (0 skips a file); kept in the record and applied now or when the torrent runs. */
  async setFilePriorities(infoHash: string, changes: readonly { index: number; priority: number }[]) {
    const handle = this.handle(infoHash);
    const metainfo = handle.metainfo;
    if (!metainfo)
      throw new PeerdropError('DAEMON_METADATA_PENDING', 'the file list is not known yet (magnet link)');
    const record = this.store.getTorrent(handle.infoHash)!;
    const priorities = [...(record.filePriorities ?? metainfo.files.map(() => 4))];
    for (const { index, priority } of changes) {
      if (!Number.isInteger(index) || index < 0 || index >= metainfo.files.length)
        throw new PeerdropError('DAEMON_BAD_REQUEST', `file index ${index} is not in the torrent`);
      priorities[index] = priority;
    }
    const updated = this.store.updateTorrent(handle.infoHash, { filePriorities: priorities })!;
    if (record.state === 'active') await this.applyPriorities(handle, updated);
    this.emit('changed', handle.infoHash);
  }

  setLimits(infoHash: string, limits: Partial<TorrentLimitsRecord>): void {
    const handle = this.handle(infoHash);
    const record = this.store.getTorrent(handle.infoHash)!;
    const next = { ...record.limits, ...limits };
    this.store.updateTorrent(handle.infoHash, { limits: next });
    handle.setLimits({
      downloadBps: next.downloadBps ?? Number.POSITIVE_INFINITY,
      uploadBps: next.uploadBps ?? Number.POSITIVE_INFINITY,
    });
    this.emit('changed', handle.infoHash);
  }

  setLabels(infoHash: string, labels: readonly string[]): void {
    const record = this.record(infoHash);
    this.store.updateTorrent(record.infoHash, { labels: [...labels] });
    this.emit('changed', record.infoHash);
  }

  setSeedGoals(infoHash: string, goals: Partial<SeedGoals>): void {
    const record = this.record(infoHash);
    this.store.updateTorrent(record.infoHash, { seedGoals: { ...record.seedGoals, ...goals } });
    this.emit('changed', record.infoHash);
  }

  // ---- queries ------------------------------------------------------------------------------

  /** A torrent by hex info-hash or by numeric id. */
  resolve(id: string | number): TorrentRecord | null {
    if (typeof id === 'number' || /^\d{1,9}$/.test(id)) {
      const n = Number(id);
      return this.store.listTorrents().find((r) => r.id === n) ?? null;
    }
    return /^[0-9a-fA-F]{40}$/.test(id) ? this.store.getTorrent(id.toLowerCase()) : null;
  }

  record(id: string | number): TorrentRecord {
    const r = this.resolve(id);
    if (!r) throw notFound(String(id));
    return r;
  }

  handle(id: string | number): TorrentHandle {
    const record = this.record(id);
    const handle = this.session.get(record.infoHash);
    if (!handle) {
      const why = this.broken.get(record.infoHash)?.error ?? 'not running';
      throw new PeerdropError('DAEMON_TORRENT_BROKEN', `torrent ${record.infoHash} could not start: ${why}`);
    }
    return handle;
  }

  list(): TorrentView[] {
    return this.store.listTorrents().map((r) => this.viewOf(r));
  }

  view(id: string | number): TorrentView | null {
    const record = this.resolve(id);
    return record ? this.viewOf(record) : null;
  }

  files(id: string | number): FileView[] | null {
    const record = this.record(id);
    const metainfo = this.session.get(record.infoHash)?.metainfo ?? metainfoOf(record);
    if (!metainfo) return null;
    return metainfo.files.map((f, index) => ({
      index,
      path: f.path.join('/'),
      lengthBytes: f.lengthBytes,
      priority: f.attributes.isPadding ? 0 : (record.filePriorities?.[index] ?? 4),
    }));
  }

  viewOf(record: TorrentRecord): TorrentView {
    const handle = this.session.get(record.infoHash);
    const broken = this.broken.get(record.infoHash);
    const status: TorrentStatus = handle ? handle.status() : idleStatus(record, broken?.error ?? null);
    const metainfo = handle?.metainfo ?? null;
    // Listed field by field, not spread: one object shape for every view (spreading the
    // engine's status made each view a dictionary-mode object, ~50 µs apiece at 1,000 torrents).
    return {
      infoHash: status.infoHash,
      name: status.name,
      state: status.state,
      progress: status.progress,
      wantedBytes: status.wantedBytes,
      verifiedBytes: status.verifiedBytes,
      downloadedBytes: status.downloadedBytes,
      uploadedBytes: status.uploadedBytes,
      downloadRate: status.downloadRate,
      uploadRate: status.uploadRate,
      peers: status.peers,
      seeds: status.seeds,
      etaSeconds: status.etaSeconds,
      error: status.error,
      id: record.id,
      downloadDir: record.downloadDir,
      addedAtMs: record.addedAtMs,
      labels: record.labels,
      limits: record.limits,
      seedGoals: record.seedGoals,
      magnet: record.magnet,
      totalBytes: metainfo?.totalLengthBytes ?? null,
      fileCount: metainfo?.files.length ?? null,
    };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const off of this.detach.values()) off();
    await this.session.close();
    this.store.close();
  }

  private assertOpen(): void {
    if (this.isClosed) throw new PeerdropError('DAEMON_CLOSED', 'the daemon is shutting down');
  }
}

function notFound(id: string): PeerdropError {
  return new PeerdropError('DAEMON_NOT_FOUND', `no torrent ${id}`);
}

function metainfoOf(record: TorrentRecord): Metainfo | null {
  if (record.source.kind !== 'torrent') return null;
  try {
    return parseMetainfo(record.source.bytes);
  } catch {
    return null;
  }
}

function idleStatus(record: TorrentRecord, error: string | null): TorrentStatus {
  return idleTorrentStatus(record.infoHash, record.infoHash, error ? 'error' : 'stopped', error);
}

function safeTrackers(uri: string): string[] {
  try {
    return [...parseMagnet(uri).trackers];
  } catch {
    return [];
  }
}

/** A `.torrent` around exact info bytes (the info-hash is of those bytes, never re-encoded). */
export function torrentBytes(infoBytes: Uint8Array, trackers: readonly string[]): Uint8Array {
  const head: Uint8Array[] = [new TextEncoder().encode('d')];
  if (trackers.length > 0) {
    const outer = encode({ announce: trackers[0]!, 'announce-list': trackers.map((t) => [t]) });
    head.push(outer.subarray(1, outer.length - 1));
  }
  return concatBytes([...head, new TextEncoder().encode('4:info'), infoBytes, new TextEncoder().encode('e')]);
}
