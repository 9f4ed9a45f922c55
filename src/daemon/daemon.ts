/**
 * The daemon's core: one engine `Session` for many torrents, their durable records in the
 * `DaemonStore`, and the operations the HTTP API, the Transmission RPC and the CLI share. It
 * owns no sockets of its own (see http-server.ts). The engine's public API only: handles from
 * `session.add`, their events and controls.
 *
 * What is durable and when: a record is written before `add` answers and on every change
 * (pause, resume, priorities, limits, labels), so a `kill -9` loses no acknowledged action;
 * the engine's resume records (in `<data-dir>/session`) keep the verified pieces.
 *
 * Only torrents that run are in the engine: paused ones and those waiting in the queue are
 * dormant (dormant.ts), shown from their record's snapshot, and handed to the engine when they
 * run (then their storage opens and their resume record is read).
 */
import { type FileRisk, nameRisks } from '../metainfo/file-risk.js';
import type { Metainfo } from '../metainfo/types.js';
import { encryptionTransportOptions } from '../mse/mse-transport.js';
import { Session } from '../session/session.js';
import type { TorrentHandle } from '../session/torrent-handle.js';
import type { TorrentStatus } from '../session/torrent-types.js';
import { createHashPool } from '../storage/hash-pool.js';
import type { FilePriority } from '../storage/storage.js';
import { systemScheduler } from '../util/clock.js';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { newRecord, parseAddRequest } from './add-request.js';
import { cachedStore } from './cached-store.js';
import { type DaemonPaths, daemonPaths } from './config.js';
import { DaemonJobs } from './daemon-jobs.js';
import type {
  AddRequest,
  DaemonEvents,
  DaemonLogLevel,
  DaemonOptions,
  FileView,
  TorrentView,
} from './daemon-types.js';
import { type Diagnosis, diagnose, TorrentActivity } from './diagnosis.js';
import { dormantHandle, dormantStatus, snapshotOf } from './dormant.js';
import { contentRisks, removeTorrentData, resolveDownloadDir } from './files.js';
import { IdleHashPool } from './idle-hash-pool.js';
import { PieceWatch } from './piece-watch.js';
import { moveInQueue, planRestore, queueOrder } from './queue.js';
import { copyResumeRecords, moveTorrentFiles } from './relocate.js';
import { FeedManager } from './rss/feeds.js';
import { type DaemonSettings, readSettings, type SettingsPatch } from './settings.js';
import { openDaemonStore } from './sqlite-daemon-store.js';
import type { DaemonStore, SeedGoals, TorrentLimitsRecord, TorrentRecord } from './store.js';
import {
  brokenStatus,
  buildView,
  firstSnapshot,
  metainfoOf,
  NO_RISKS,
  safeTrackers,
  torrentBytes,
} from './torrent-view.js';
import { ViewJson } from './view-json.js';
import { WatchFolder } from './watch-folder.js';

export type {
  AddRequest,
  DaemonEvents,
  DaemonLogLevel,
  DaemonOptions,
  FileView,
  TorrentView,
} from './daemon-types.js';
export { torrentBytes } from './torrent-view.js';

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
  private readonly activity = new Map<string, TorrentActivity>();
  private readonly risks = new Map<string, FileRisk[]>();
  private positions: Map<string, number> | null = null;
  private readonly viewJson = new ViewJson();
  private readonly now: () => number;
  private isClosed = false;
  /** Hash workers stopped while idle (idle-hash-pool.ts); null when the caller gave a pool. */
  readonly hashPool: IdleHashPool | null;
  readonly jobs: DaemonJobs;
  readonly rss: FeedManager;
  readonly watchFolder: WatchFolder;

  private constructor(
    readonly options: DaemonOptions,
    readonly store: DaemonStore,
  ) {
    super();
    this.paths = daemonPaths(options.dataDir);
    this.now = options.now ?? Date.now;
    // The peer port is read once (a new port needs a restart); limits are applied by the jobs.
    const port = this.settings().peerPort;
    const scheduler = options.scheduler ?? systemScheduler;
    this.hashPool = options.session?.hashPool ? null : new IdleHashPool(() => createHashPool(), scheduler);
    this.session = new Session({
      ...(port === null ? {} : { port }),
      ...(this.hashPool ? { hashPool: this.hashPool } : {}),
      // One listen port for plaintext and encrypted peers; the responder finds the torrent
      // among those in the engine (dormant ones take no connections anyway).
      ...encryptionTransportOptions(options.encryption ?? 'off', {
        ...(options.session?.host === undefined ? {} : { host: options.session.host }),
        port: options.session?.port ?? port ?? 0,
        infoHashesHex: () => this.session.list().map((h) => h.infoHash),
      }),
      ...options.session,
      stateDir: this.paths.stateDir,
    });
    this.jobs = new DaemonJobs(this, scheduler);
    this.rss = new FeedManager(this, scheduler, options.fetchPolicy);
    this.watchFolder = new WatchFolder(this, scheduler);
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
    daemon.jobs.start();
    daemon.rss.start();
    daemon.watchFolder.start();
    return daemon;
  }

  get downloadRoot(): string {
    return this.options.downloadDir;
  }

  /**
   * Bring every torrent back as it was: the queue decides first, so only the torrents that may
   * run are handed to the engine; paused and queued ones stay dormant (nothing announced or
   * dialled, no file opened). A record from before snapshots runs once to get one.
   */
  private async restore(): Promise<void> {
    const s = this.settings();
    const { run, hold } = planRestore(this.store.listTorrents(), this.queueOrder(), {
      maxDownloads: s.maxActiveDownloads,
      maxSeeds: s.maxActiveSeeds,
    });
    for (const r of hold) {
      this.jobs.hold(r.infoHash);
      if (!r.snapshot) this.store.updateTorrent(r.infoHash, { snapshot: firstSnapshot(r) });
    }
    let next = 0;
    const worker = async () => {
      while (next < run.length) {
        const record = run[next++]!;
        await this.runOrBreak(record);
        if (record.state === 'paused' || this.jobs.isQueued(record.infoHash))
          await this.sleep(record.infoHash);
      }
    };
    const n = Math.max(1, Math.min(this.options.restoreConcurrency ?? 8, run.length));
    await Promise.all(Array.from({ length: n }, worker));
  }

  /** Run a record in the engine; a failure is kept (shown with the torrent) instead of thrown. */
  private async runOrBreak(record: TorrentRecord): Promise<void> {
    try {
      await this.run(record);
    } catch (err) {
      this.broken.set(record.infoHash, { record, error: errorMessage(err) });
    }
  }

  /** Hand a record to the engine: it runs now, from its folder, with its files and limits. */
  private async run(record: TorrentRecord): Promise<TorrentHandle> {
    this.broken.delete(record.infoHash);
    const input = record.source.kind === 'torrent' ? record.source.bytes : record.source.uri;
    const priorities = record.filePriorities;
    const handle = await this.session.add(input, {
      dir: record.downloadDir,
      ...(priorities ? { files: priorities.flatMap((p, i) => (p > 0 ? [i] : [])) } : {}),
      ...(record.limits.downloadBps === null ? {} : { downloadLimit: record.limits.downloadBps }),
      ...(record.limits.uploadBps === null ? {} : { uploadLimit: record.limits.uploadBps }),
    });
    this.watch(handle);
    await this.applyPriorities(handle, record);
    if (handle.status().state === 'seeding' || handle.status().progress >= 1) this.checkContent(handle);
    return handle;
  }

  /** Out of the engine (paused, or held by the queue); its last status kept as the snapshot. */
  async sleep(infoHash: string): Promise<void> {
    const handle = this.session.get(infoHash);
    if (!handle) return;
    const status = handle.status();
    this.detach.get(infoHash)?.();
    this.detach.delete(infoHash);
    await this.session.remove(infoHash);
    this.store.updateTorrent(infoHash, { snapshot: snapshotOf(status, handle.metainfo) });
    this.emit('changed', infoHash);
  }

  /** Into the engine (resumed, or its turn in the queue); a failure shows with the torrent. */
  async wake(infoHash: string): Promise<void> {
    const record = this.store.getTorrent(infoHash);
    if (!record || this.session.get(infoHash)) return;
    await this.runOrBreak(record);
    this.emit('changed', infoHash);
  }

  private watch(handle: TorrentHandle): void {
    const key = handle.infoHash;
    const changed = () => this.emit('changed', key);
    const activity = new TorrentActivity();
    this.activity.set(key, activity);
    const offs = [
      handle.on('piece', (p) => this.pieces.verified(key, p)),
      handle.on('metadata', (m) => this.onMetadata(handle, m)),
      handle.on('peer', (e) => activity.onPeer(e)),
      handle.on('warning', (w) => activity.onWarning(w)),
      handle.on('done', () => {
        // Kept so a restart knows it seeds (the seed queue) before it runs again.
        this.store.updateTorrent(key, { snapshot: snapshotOf(handle.status(), handle.metainfo) });
        this.checkContent(handle);
        changed();
        // Its download slot is free now: the next queued torrent need not wait for the tick.
        this.jobs.runSoon();
      }),
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

  /** Content checks (first bytes against the extension) once the data is there; flags in `warnings`. */
  private checkContent(handle: TorrentHandle): void {
    const metainfo = handle.metainfo;
    const record = this.store.getTorrent(handle.infoHash);
    if (!metainfo || !record) return;
    void contentRisks(record.downloadDir, metainfo).then(
      (found) => {
        if (found.length === 0) return;
        this.risks.set(handle.infoHash, [...this.nameRisksOf(handle.infoHash, metainfo), ...found]);
        this.emit('changed', handle.infoHash);
      },
      () => {},
    );
  }

  private nameRisksOf(infoHash: string, metainfo: Metainfo | null): readonly FileRisk[] {
    let found = this.risks.get(infoHash);
    if (found === undefined && metainfo) {
      found = metainfo.files.filter((f) => !f.attributes.isPadding).flatMap((f) => nameRisks(f.path));
      this.risks.set(infoHash, found);
    }
    return found ?? NO_RISKS;
  }

  /** The engine forgets priorities over a pause (a new Torrent starts from `files`): apply them again. */
  async applyPriorities(handle: TorrentHandle, record: TorrentRecord): Promise<void> {
    const wanted = record.filePriorities;
    const current = handle.filePriorities();
    if (!wanted || !current) return;
    for (let i = 0; i < Math.min(wanted.length, current.length); i++)
      if (wanted[i] !== current[i]) await handle.setFilePriority(i, wanted[i] as FilePriority);
  }

  // ---- operations ---------------------------------------------------------------------------

  async add(request: AddRequest): Promise<TorrentView> {
    this.assertOpen();
    const parsed = parseAddRequest(request);
    const { infoHash } = parsed;
    const dir = await resolveDownloadDir(this.downloadRoot, request.downloadDir);
    if (this.store.getTorrent(infoHash) && !this.broken.has(infoHash)) return this.view(infoHash)!;
    const record = this.store.insertTorrent(newRecord(request, parsed, dir, this.now()));
    this.broken.delete(infoHash);
    this.positions = null;
    try {
      // Paused, or beyond a full queue: dormant from the start (never announced, never dialled).
      if (record.state === 'active') {
        if (this.jobs.shouldHold(record)) this.jobs.hold(infoHash);
        else await this.run(record);
      }
    } catch (err) {
      this.store.deleteTorrent(infoHash);
      throw err;
    }
    const view = this.view(infoHash)!;
    this.emit('added', view);
    return view;
  }

  async pause(infoHash: string): Promise<void> {
    const { infoHash: key } = this.record(infoHash);
    this.store.updateTorrent(key, { state: 'paused' });
    this.jobs.release(key);
    this.positions = null;
    await this.sleep(key);
    this.emit('changed', key);
  }

  /** Back to active: it runs now, or waits as `queued` when its queue is full. */
  async resume(infoHash: string): Promise<void> {
    const { infoHash: key } = this.record(infoHash);
    const record = this.store.updateTorrent(key, { state: 'active' })!;
    this.positions = null;
    if (!this.session.get(key)) {
      if (this.jobs.shouldHold(record)) this.jobs.hold(key);
      else {
        await this.run(record).catch((err: unknown) => {
          this.broken.set(key, { record, error: errorMessage(err) });
          throw err;
        });
      }
    }
    this.emit('changed', key);
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
    this.jobs.forget(key);
    this.activity.delete(key);
    this.risks.delete(key);
    this.viewJson.forget(key);
    this.positions = null;
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
    const live = this.session.get(handle.infoHash);
    if (live) await this.applyPriorities(live, updated);
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

  // ---- settings, queue, moving ---------------------------------------------------------------

  settings(): DaemonSettings {
    return readSettings(this.store.getSettings());
  }

  /** Store changed settings; the jobs apply limits and queue sizes within a tick (now, here). */
  async updateSettings(patch: SettingsPatch): Promise<DaemonSettings> {
    for (const key of ['completedDir', 'watchDir'] as const) {
      const dir = patch[key];
      if (typeof dir === 'string') await resolveDownloadDir(this.downloadRoot, dir);
    }
    this.store.setSettings(patch);
    await this.jobs.tick();
    return this.settings();
  }

  wallClock(): number {
    return this.now();
  }

  log(level: DaemonLogLevel, message: string): void {
    this.options.log?.(level, message);
  }

  /** The stored queue order (info-hashes the user moved; the rest follow by id). */
  queueOrder(): string[] {
    const stored = this.store.getSettings().queueOrder;
    return Array.isArray(stored) ? stored.filter((h): h is string => typeof h === 'string') : [];
  }

  /** Move a torrent to `position` in the queue (0 first); the queue follows within a tick. */
  async setQueuePosition(id: string | number, position: number): Promise<void> {
    const record = this.record(id);
    const ordered = queueOrder(this.store.listTorrents(), this.queueOrder()).map((r) => r.infoHash);
    this.store.setSettings({ queueOrder: moveInQueue(ordered, record.infoHash, position) });
    this.positions = null;
    await this.jobs.tick();
    this.emit('changed', record.infoHash);
  }

  private queuePositions(): Map<string, number> {
    if (!this.positions) {
      const active = this.store.listTorrents().filter((r) => r.state === 'active');
      this.positions = new Map(queueOrder(active, this.queueOrder()).map((r, i) => [r.infoHash, i]));
    }
    return this.positions;
  }

  /** A finished torrent into the completed folder (inside the download root); no-op when there. */
  async moveToCompleted(infoHash: string, completedDir: string): Promise<void> {
    const record = this.record(infoHash);
    const target = await resolveDownloadDir(this.downloadRoot, completedDir);
    if (record.downloadDir === target || record.downloadDir.startsWith(`${target}/`)) return;
    await this.relocate(record.infoHash, target);
  }

  /**
   * Move a torrent's data to `dir` (already resolved inside the root): stop it in the engine
   * (resume data saved), move the files and the resume record, start it again from the new
   * folder: the pieces it had are trusted, nothing is downloaded or checked again.
   */
  async relocate(infoHash: string, dir: string): Promise<TorrentRecord> {
    const record = this.record(infoHash);
    const live = this.session.get(record.infoHash);
    const metainfo = live?.metainfo ?? metainfoOf(record);
    if (!metainfo) throw new PeerdropError('DAEMON_METADATA_PENDING', 'the file list is not known yet');
    this.detach.get(record.infoHash)?.();
    this.detach.delete(record.infoHash);
    await this.session.remove(record.infoHash);
    let moved = record;
    try {
      await moveTorrentFiles(record.downloadDir, dir, metainfo);
      await copyResumeRecords(this.paths.stateDir, record.infoHash, record.downloadDir, dir);
      // Same record, same id (Transmission clients and the CLI name torrents by it).
      moved = this.store.updateTorrent(record.infoHash, { downloadDir: dir }) ?? record;
      this.log('info', `${record.infoHash}: moved to ${dir}`);
    } finally {
      if (live) await this.runOrBreak(moved);
      this.emit('changed', record.infoHash);
    }
    return moved;
  }

  /** Why a torrent is not downloading, in plain words with codes. */
  diagnose(id: string | number): Diagnosis {
    const record = this.record(id);
    const handle = this.session.get(record.infoHash);
    const isQueued = this.jobs.isQueued(record.infoHash);
    const s = this.settings();
    const limits = record.limits;
    return diagnose({
      isQueued,
      isUserPaused: record.state === 'paused',
      brokenError: handle ? null : (this.broken.get(record.infoHash)?.error ?? null),
      status: handle?.status() ?? (this.broken.has(record.infoHash) ? null : dormantStatus(record)),
      peers: handle?.peers() ?? [],
      sources: handle?.trackers() ?? [],
      activity: this.activity.get(record.infoHash) ?? null,
      incomingHandshakes: this.session.incomingHandshakes,
      peerPort: this.session.port,
      isRateLimited:
        limits.downloadBps !== null ||
        (this.jobs.isAltSpeedActive ? s.altDownloadBps !== null : s.globalDownloadBps !== null),
    });
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

  /** The engine's handle, or for a dormant torrent one with no peers that reads its record. */
  handle(id: string | number): TorrentHandle {
    const record = this.record(id);
    const handle = this.session.get(record.infoHash);
    if (handle) return handle;
    const broken = this.broken.get(record.infoHash);
    if (broken)
      throw new PeerdropError(
        'DAEMON_TORRENT_BROKEN',
        `torrent ${record.infoHash} could not start: ${broken.error}`,
      );
    const key = record.infoHash;
    return dormantHandle(record, metainfoOf(record), {
      resume: () => this.resume(key),
      pause: () => this.pause(key),
      remove: () => this.remove(key),
    });
  }

  /** The metainfo, from the engine or the record (null for a magnet without metadata yet). */
  metainfo(record: TorrentRecord): Metainfo | null {
    return this.session.get(record.infoHash)?.metainfo ?? metainfoOf(record);
  }

  /** `{"torrents":[…]}` from each view's cached JSON (GET /api/torrents). */
  listBody(): string {
    return this.viewJson.body(this.store.listTorrents().map((r) => this.viewJson.of(this.viewOf(r))));
  }

  /** Every torrent's view as JSON text; an unchanged view gives the same string as last time. */
  listJson(): { readonly infoHash: string; readonly json: string }[] {
    return this.store
      .listTorrents()
      .map((r) => ({ infoHash: r.infoHash, json: this.viewJson.of(this.viewOf(r)) }));
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
    const status: TorrentStatus = handle
      ? handle.status()
      : broken
        ? brokenStatus(record, broken.error)
        : dormantStatus(record);
    const metainfo = handle?.metainfo ?? null;
    return buildView(record, status, metainfo, {
      isQueued: this.jobs.isQueued(record.infoHash),
      queuePosition: this.queuePositions().get(record.infoHash) ?? null,
      seededSeconds: this.jobs.seededSeconds(record.infoHash),
      warnings: metainfo
        ? this.nameRisksOf(record.infoHash, metainfo)
        : (this.risks.get(record.infoHash) ?? record.snapshot?.nameRisks ?? NO_RISKS),
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.rss.stop();
    this.watchFolder.stop();
    await this.jobs.stop();
    for (const off of this.detach.values()) off();
    await this.session.close();
    await this.hashPool?.close();
    this.store.close();
  }

  private assertOpen(): void {
    if (this.isClosed) throw new PeerdropError('DAEMON_CLOSED', 'the daemon is shutting down');
  }
}

function notFound(id: string): PeerdropError {
  return new PeerdropError('DAEMON_NOT_FOUND', `no torrent ${id}`);
}
