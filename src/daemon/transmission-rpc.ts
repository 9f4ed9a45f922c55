/**
 * Transmission RPC (rpc-spec, version 17) at /transmission/rpc and /transmission/rpc/ (3.00
 * posts to the second), so remote GUIs, media managers and `transmission-remote` drive
 * peerdrop. Authentication is the daemon's (Basic with the token as password); on top, the
 * X-Transmission-Session-Id dance: a request without the right id gets 409 with the id in a
 * header. A page on another site can neither read that header nor set it, which is what makes
 * it CSRF protection that works behind a reverse proxy (no Referer involved).
 */
import { statfs } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metainfo } from '../metainfo/types.js';
import type { TorrentState } from '../session/torrent-types.js';
import { errorMessage, PeerdropError } from '../util/errors.js';
import type { Daemon, TorrentView } from './daemon.js';
import { MAX_TORRENT_BYTES, type RouteContext, VERSION } from './http-common.js';
import { sessionStats, settingsOf } from './routes-api.js';
import type { TorrentRecord } from './store.js';

const SESSION_HEADER = 'x-transmission-session-id';
const KB = 1000; // Transmission's speed unit in the RPC ("KBps")

type Args = Record<string, unknown>;
interface RpcRequest {
  readonly method: string;
  readonly arguments: Args;
  readonly tag?: number;
}

class RpcError extends Error {}

export function registerTransmissionRpc(app: FastifyInstance, ctx: RouteContext): void {
  void app.register(async (scope) => {
    // Clients post JSON with whatever content type their HTTP library picks.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: Math.ceil(MAX_TORRENT_BYTES * 1.4) },
      (_r, body, done) => done(null, body),
    );
    const handler = (request: FastifyRequest, reply: FastifyReply) => handle(ctx, request, reply);
    scope.post('/transmission/rpc', { schema: { hide: true } }, handler);
    scope.post('/transmission/rpc/', { schema: { hide: true } }, handler);
    scope.get('/transmission/rpc', { schema: { hide: true } }, handler);
    scope.get('/transmission/rpc/', { schema: { hide: true } }, handler);
  });
}

async function handle(ctx: RouteContext, request: FastifyRequest, reply: FastifyReply) {
  const sessionId = ctx.auth.transmissionSessionId();
  reply.header(SESSION_HEADER, sessionId);
  if (request.headers[SESSION_HEADER] !== sessionId) {
    return reply
      .code(409)
      .type('text/html; charset=utf-8')
      .send('<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>');
  }
  let rpc: RpcRequest;
  try {
    rpc = parseRequest(request.body);
  } catch (err) {
    return reply.code(400).send({ result: errorMessage(err), arguments: {} });
  }
  try {
    const args = await dispatch(ctx, rpc);
    return reply.send({
      result: 'success',
      arguments: args,
      ...(rpc.tag === undefined ? {} : { tag: rpc.tag }),
    });
  } catch (err) {
    return reply.send({
      result: errorMessage(err),
      arguments: {},
      ...(rpc.tag === undefined ? {} : { tag: rpc.tag }),
    });
  }
}

function parseRequest(body: unknown): RpcRequest {
  const value = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
  if (typeof value !== 'object' || value === null) throw new RpcError('expected a JSON object');
  const { method, arguments: args, tag } = value as Record<string, unknown>;
  if (typeof method !== 'string') throw new RpcError('missing "method"');
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))
    throw new RpcError('"arguments" must be an object');
  return { method, arguments: (args as Args | undefined) ?? {}, ...(typeof tag === 'number' ? { tag } : {}) };
}

async function dispatch(ctx: RouteContext, rpc: RpcRequest): Promise<Args> {
  const { daemon } = ctx;
  const a = rpc.arguments;
  switch (rpc.method) {
    case 'session-get':
      return sessionGet(ctx, a);
    case 'session-set':
      return sessionSet(ctx, a);
    case 'session-stats':
      return sessionStatsArgs(ctx);
    case 'torrent-add':
      return torrentAdd(daemon, a);
    case 'torrent-get':
      return torrentGet(daemon, a);
    case 'torrent-start':
    case 'torrent-start-now':
      for (const r of select(daemon, a.ids)) await daemon.resume(r.infoHash);
      return {};
    case 'torrent-stop':
      for (const r of select(daemon, a.ids)) await daemon.pause(r.infoHash);
      return {};
    case 'torrent-remove':
      for (const r of select(daemon, a.ids))
        await daemon.remove(r.infoHash, { deleteData: a['delete-local-data'] === true });
      return {};
    case 'torrent-set':
      return torrentSet(daemon, a);
    case 'free-space':
      return freeSpace(daemon, a);
    case 'port-test':
      return { 'port-is-open': false };
    default:
      throw new RpcError(`method name not recognized: ${rpc.method}`);
  }
}

function select(daemon: Daemon, ids: unknown): TorrentRecord[] {
  const all = daemon.store.listTorrents();
  if (ids === undefined) return all;
  if (ids === 'recently-active') return all.filter((r) => r.state === 'active');
  const list = Array.isArray(ids) ? ids : [ids];
  if (list.length > 100_000) throw new RpcError('too many ids');
  const out: TorrentRecord[] = [];
  for (const id of list) {
    if (typeof id !== 'number' && typeof id !== 'string') throw new RpcError('ids must be numbers or hashes');
    const r = daemon.resolve(id);
    if (r) out.push(r);
  }
  return out;
}

const TRANSMISSION_ENCRYPTION = { prefer: 'preferred', require: 'required', off: 'tolerated' } as const;

function sessionGet(ctx: RouteContext, a: Args): Args {
  const settings = settingsOf(ctx);
  const all: Args = {
    version: `${VERSION} (peerdrop)`,
    'rpc-version': 17,
    'rpc-version-minimum': 14,
    'download-dir': settings.downloadDir,
    'peer-port': settings.peerPort,
    'speed-limit-down': Math.round((settings.globalDownloadBps ?? 0) / KB),
    'speed-limit-down-enabled': settings.globalDownloadBps !== null,
    'speed-limit-up': Math.round((settings.globalUploadBps ?? 0) / KB),
    'speed-limit-up-enabled': settings.globalUploadBps !== null,
    seedRatioLimit: settings.seedRatio ?? 0,
    seedRatioLimited: settings.seedRatio !== null,
    'dht-enabled': ctx.daemon.session.dht !== null,
    'pex-enabled': ctx.daemon.options.session?.pex !== false,
    'lpd-enabled': Boolean(ctx.daemon.options.session?.lsd),
    'utp-enabled': false,
    // Transmission's names for MSE policies: prefer = preferred, require = required.
    encryption: TRANSMISSION_ENCRYPTION[ctx.daemon.options.encryption ?? 'off'],
    'start-added-torrents': true,
    units: {
      'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'],
      'speed-bytes': KB,
      'size-units': ['kB', 'MB', 'GB', 'TB'],
      'size-bytes': 1000,
      'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'],
      'memory-bytes': 1024,
    },
  };
  return pick(all, a.fields);
}

function sessionSet(ctx: RouteContext, a: Args): Args {
  const values: Record<string, unknown> = {};
  const rate = (kb: unknown) => (typeof kb === 'number' && kb > 0 ? Math.round(kb * KB) : null);
  if (a['speed-limit-down-enabled'] === false) values.globalDownloadBps = null;
  else if ('speed-limit-down' in a) values.globalDownloadBps = rate(a['speed-limit-down']);
  if (a['speed-limit-up-enabled'] === false) values.globalUploadBps = null;
  else if ('speed-limit-up' in a) values.globalUploadBps = rate(a['speed-limit-up']);
  if (
    typeof a['peer-port'] === 'number' &&
    Number.isInteger(a['peer-port']) &&
    a['peer-port'] >= 0 &&
    a['peer-port'] <= 65535
  )
    values.peerPort = a['peer-port'];
  if (a.seedRatioLimited === false) values.seedRatio = null;
  else if (typeof a.seedRatioLimit === 'number' && a.seedRatioLimit >= 0) values.seedRatio = a.seedRatioLimit;
  if ('download-dir' in a && a['download-dir'] !== ctx.daemon.downloadRoot)
    throw new RpcError('download-dir is set with --download-dir when the daemon starts');
  ctx.daemon.store.setSettings(values);
  return {};
}

function sessionStatsArgs(ctx: RouteContext): Args {
  const s = sessionStats(ctx);
  const totals = {
    uploadedBytes: s.uploadedBytes,
    downloadedBytes: s.downloadedBytes,
    filesAdded: s.torrents,
    sessionCount: 1,
    secondsActive: Math.round(process.uptime()),
  };
  return {
    activeTorrentCount: s.activeTorrents,
    pausedTorrentCount: s.pausedTorrents,
    torrentCount: s.torrents,
    downloadSpeed: s.downloadRate,
    uploadSpeed: s.uploadRate,
    'cumulative-stats': totals,
    'current-stats': totals,
  };
}

async function torrentAdd(daemon: Daemon, a: Args): Promise<Args> {
  const dir = typeof a['download-dir'] === 'string' ? a['download-dir'] : undefined;
  const common = { ...(dir ? { downloadDir: dir } : {}), isPaused: a.paused === true };
  let view: TorrentView;
  const before = new Set(daemon.store.listTorrents().map((r) => r.infoHash));
  if (typeof a.metainfo === 'string') {
    view = await daemon.add({ torrent: new Uint8Array(Buffer.from(a.metainfo, 'base64')), ...common });
  } else if (typeof a.filename === 'string') {
    // Only magnet links: a path or URL here would make the daemon read files or fetch URLs
    // on a client's behalf.
    if (!a.filename.startsWith('magnet:'))
      throw new RpcError('only magnet links or metainfo are accepted (no paths or URLs)');
    view = await daemon.add({ magnet: a.filename, ...common });
  } else throw new RpcError('torrent-add needs "filename" (a magnet link) or "metainfo"');
  const entry = { id: view.id, name: view.name, hashString: view.infoHash };
  return before.has(view.infoHash) ? { 'torrent-duplicate': entry } : { 'torrent-added': entry };
}

/** Transmission's tr_torrent_activity. */
function statusCode(state: TorrentState | 'queued'): number {
  switch (state) {
    case 'queued':
      return 3;
    case 'checking':
      return 2;
    case 'metadata':
    case 'downloading':
      return 4;
    case 'seeding':
      return 6;
    default:
      return 0;
  }
}

function torrentGet(daemon: Daemon, a: Args): Args {
  if (!Array.isArray(a.fields) || a.fields.some((f) => typeof f !== 'string'))
    throw new RpcError('torrent-get needs "fields", a list of names');
  const fields = a.fields as string[];
  const torrents = select(daemon, a.ids).map((r) => torrentFields(daemon, r, fields));
  return { torrents };
}

function torrentFields(daemon: Daemon, record: TorrentRecord, fields: readonly string[]): Args {
  const v = daemon.viewOf(record);
  const handle = daemon.session.get(record.infoHash);
  // A dormant torrent's metainfo is parsed from its record only when a field needs it.
  let parsed: Metainfo | null | undefined;
  const meta = () => {
    parsed ??= handle?.metainfo ?? daemon.metainfo(record);
    return parsed;
  };
  const files = fields.some((f) => ['files', 'fileStats', 'wanted', 'priorities'].includes(f))
    ? (daemon.files(record.infoHash) ?? [])
    : [];
  const size = v.wantedBytes || v.totalBytes || 0;
  const get: Record<string, () => unknown> = {
    id: () => v.id,
    name: () => v.name,
    hashString: () => v.infoHash,
    status: () => statusCode(v.state),
    error: () => (v.error ? 3 : 0),
    errorString: () => v.error ?? '',
    eta: () => v.etaSeconds ?? -1,
    etaIdle: () => -1,
    isFinished: () => false,
    isStalled: () => false,
    isPrivate: () => meta()?.isPrivate ?? false,
    leftUntilDone: () => Math.max(0, v.wantedBytes - v.verifiedBytes),
    sizeWhenDone: () => size,
    totalSize: () => v.totalBytes ?? 0,
    haveValid: () => v.verifiedBytes,
    haveUnchecked: () => 0,
    desiredAvailable: () => 0,
    percentDone: () => v.progress,
    metadataPercentComplete: () => (record.source.kind === 'torrent' || handle?.metainfo ? 1 : 0),
    recheckProgress: () => (v.state === 'checking' ? v.progress : 0),
    peersConnected: () => v.peers,
    peersGettingFromUs: () => (handle?.peers() ?? []).filter((p) => !p.amChoking && p.peerInterested).length,
    peersSendingToUs: () => (handle?.peers() ?? []).filter((p) => !p.peerChoking && p.amInterested).length,
    webseedsSendingToUs: () => 0,
    rateDownload: () => Math.round(v.downloadRate),
    rateUpload: () => Math.round(v.uploadRate),
    uploadedEver: () => v.uploadedBytes,
    downloadedEver: () => v.downloadedBytes,
    corruptEver: () => 0,
    uploadRatio: () =>
      v.downloadedBytes > 0 ? v.uploadedBytes / v.downloadedBytes : v.uploadedBytes > 0 ? -2 : 0,
    downloadDir: () => v.downloadDir,
    addedDate: () => Math.floor(v.addedAtMs / 1000),
    activityDate: () => Math.floor(Date.now() / 1000),
    startDate: () => Math.floor(v.addedAtMs / 1000),
    doneDate: () => 0,
    labels: () => v.labels,
    magnetLink: () => v.magnet ?? '',
    queuePosition: () => v.id,
    bandwidthPriority: () => 0,
    honorsSessionLimits: () => true,
    downloadLimit: () => Math.round((v.limits.downloadBps ?? 0) / KB),
    downloadLimited: () => v.limits.downloadBps !== null,
    uploadLimit: () => Math.round((v.limits.uploadBps ?? 0) / KB),
    uploadLimited: () => v.limits.uploadBps !== null,
    seedRatioLimit: () => v.seedGoals.ratio ?? 0,
    seedRatioMode: () => (v.seedGoals.ratio === null ? 0 : 1),
    pieceCount: () => meta()?.pieceCount ?? 0,
    pieceSize: () => meta()?.pieceLengthBytes ?? 0,
    files: () => files.map((f) => ({ name: f.path, length: f.lengthBytes, bytesCompleted: 0 })),
    fileStats: () =>
      files.map((f) => ({ wanted: f.priority > 0, priority: trPriority(f.priority), bytesCompleted: 0 })),
    wanted: () => files.map((f) => (f.priority > 0 ? 1 : 0)),
    priorities: () => files.map((f) => trPriority(f.priority)),
    peers: () =>
      (handle?.peers() ?? []).map((p) => ({
        address: p.address,
        clientName: p.client,
        progress: p.progress,
        rateToClient: p.downloadRate,
        rateToPeer: p.uploadRate,
        isIncoming: p.isIncoming,
      })),
    trackers: () =>
      (handle?.trackers() ?? [])
        .filter((t) => t.source === 'tracker')
        .map((t, i) => ({ id: i, announce: t.name, tier: 0 })),
    trackerStats: () =>
      (handle?.trackers() ?? []).map((t, i) => ({
        id: i,
        announce: t.name,
        lastAnnounceResult: t.message ?? '',
        seederCount: -1,
        leecherCount: -1,
      })),
  };
  const out: Args = {};
  for (const f of fields) if (get[f]) out[f] = get[f]();
  return out;
}

/** Transmission priorities: -1 low, 0 normal, 1 high; ours are 1..7. */
function trPriority(p: number): number {
  return p >= 6 ? 1 : p <= 2 ? -1 : 0;
}

async function torrentSet(daemon: Daemon, a: Args): Promise<Args> {
  const indices = (key: string): number[] => {
    const v = a[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((i) => !Number.isInteger(i) || i < 0))
      throw new RpcError(`${key} must be file indices`);
    return v as number[];
  };
  const kb = (key: string) =>
    typeof a[key] === 'number' && (a[key] as number) > 0 ? Math.round((a[key] as number) * KB) : null;
  for (const r of select(daemon, a.ids)) {
    const changes = [
      ...indices('files-wanted').map((index) => ({ index, priority: 4 })),
      ...indices('priority-normal').map((index) => ({ index, priority: 4 })),
      ...indices('priority-high').map((index) => ({ index, priority: 7 })),
      ...indices('priority-low').map((index) => ({ index, priority: 1 })),
      ...indices('files-unwanted').map((index) => ({ index, priority: 0 })),
    ];
    if (changes.length > 0) await daemon.setFilePriorities(r.infoHash, changes);
    const limits: { downloadBps?: number | null; uploadBps?: number | null } = {};
    if (a.downloadLimited === false) limits.downloadBps = null;
    else if ('downloadLimit' in a && a.downloadLimited !== false) limits.downloadBps = kb('downloadLimit');
    if (a.uploadLimited === false) limits.uploadBps = null;
    else if ('uploadLimit' in a) limits.uploadBps = kb('uploadLimit');
    if (Object.keys(limits).length > 0) daemon.setLimits(r.infoHash, limits);
    if (Array.isArray(a.labels))
      daemon.setLabels(r.infoHash, a.labels.filter((l): l is string => typeof l === 'string').slice(0, 32));
    if (a.seedRatioMode === 2) daemon.setSeedGoals(r.infoHash, { ratio: null });
    else if (typeof a.seedRatioLimit === 'number')
      daemon.setSeedGoals(r.infoHash, { ratio: a.seedRatioLimit });
  }
  return {};
}

/** Free space, only for the download folder or a folder inside it. */
async function freeSpace(daemon: Daemon, a: Args): Promise<Args> {
  if (typeof a.path !== 'string') throw new RpcError('free-space needs "path"');
  const root = resolve(daemon.downloadRoot);
  const path = resolve(root, a.path);
  if (path !== root && !path.startsWith(root + sep))
    throw new PeerdropError('DAEMON_PATH_OUTSIDE', 'free-space answers only for the download folder');
  const st = await statfs(path).catch(() => statfs(root));
  return { path: a.path, 'size-bytes': st.bavail * st.bsize, total_size: st.blocks * st.bsize };
}

/** Only the requested `fields` (all when none are named). */
function pick(all: Args, fields: unknown): Args {
  if (!Array.isArray(fields)) return all;
  const out: Args = {};
  for (const f of fields) if (typeof f === 'string' && f in all) out[f] = all[f];
  return out;
}
