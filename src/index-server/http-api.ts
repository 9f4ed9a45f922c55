import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createGuardedServer, type HttpGuardLimits, type HttpGuardStats } from '../net/http-guard.js';
import { systemClock } from '../util/clock.js';
import { entryId, normalizeHashParam, parseSignedEntry, parseSignedRemoval } from './entry.js';
import { IndexError } from './errors.js';
import { renderSearchPage } from './html-page.js';
import { assertEntrySignature, assertRemovalSignature } from './identity.js';
import { OPENAPI } from './openapi.js';
import { parseQuery } from './query.js';
import { DEFAULT_RATE_LIMIT, IpRateLimiter, type RateLimitOptions } from './rate-limit.js';
import {
  DEFAULT_PER_PAGE,
  type IndexStore,
  MAX_REASON_CHARS,
  type SearchFilters,
  type SearchHit,
  type SearchPage,
  type StoredEntry,
  toSearchHit,
} from './store.js';

/**
 * The index's JSON HTTP API (node:http) and its search page. Every failure answers
 * `{ "error": { "code", "message" } }` with a 4xx (5xx only for our own faults). Limits come
 * before work: URL length, then the per-IP rate limit, then the body size (Content-Length
 * and the bytes actually read), then JSON, shape, signature, and finally the store.
 */
export interface IndexApiOptions {
  readonly store: IndexStore;
  /** Bearer token for `/api/admin/*`; without one, admin routes always answer 401. */
  readonly adminToken?: string;
  /** Wall clock (ms since the epoch) for publication dates; injected in tests. */
  readonly now?: () => number;
  readonly rateLimit?: RateLimitOptions;
  readonly maxBodyBytes?: number;
  /** Called for 5xx failures (the server never logs by itself). */
  readonly onError?: (err: unknown) => void;
}

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_URL_CHARS = 4096;
const WRITE_COST = 5; // a signed write costs more of the rate limit than a read

type Handler = (req: IncomingMessage, url: URL) => Promise<Reply>;
interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly html?: boolean;
}

export function createIndexApi(
  options: IndexApiOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const limiter = new IpRateLimiter(systemClock, options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const ctx: Ctx = {
    ...options,
    now: options.now ?? Date.now,
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
  };
  return (req, res) => {
    handle(ctx, limiter, req)
      .catch((err: unknown) => errorReply(err, ctx))
      .then((reply) => send(res, reply));
  };
}

interface Ctx extends IndexApiOptions {
  readonly now: () => number;
  readonly maxBodyBytes: number;
}

async function handle(ctx: Ctx, limiter: IpRateLimiter, req: IncomingMessage): Promise<Reply> {
  const rawUrl = req.url ?? '/';
  if (rawUrl.length > MAX_URL_CHARS) throw new IndexError('QUERY_TOO_LONG', 'the URL is too long');
  const isWrite = req.method !== 'GET' && req.method !== 'HEAD';
  if (!limiter.allow(req.socket.remoteAddress ?? 'unknown', isWrite ? WRITE_COST : 1))
    throw new IndexError('RATE_LIMITED', 'too many requests from this address; slow down');
  let url: URL;
  try {
    url = new URL(rawUrl, 'http://index.invalid');
  } catch {
    throw new IndexError('BAD_REQUEST', 'malformed URL');
  }
  return route(ctx, req, url);
}

async function route(ctx: Ctx, req: IncomingMessage, url: URL): Promise<Reply> {
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const table: Record<string, Partial<Record<string, Handler>>> = {
    '/': { GET: (_r, u) => searchPage(ctx, u) },
    '/healthz': { GET: async () => ({ status: 200, body: { ok: true, ...(await ctx.store.stats()) } }) },
    '/api/openapi.json': { GET: async () => ({ status: 200, body: OPENAPI }) },
    '/api/search': {
      GET: async (_r, u) => ({ status: 200, body: publicPage(await search(ctx, u.searchParams)) }),
    },
    '/api/entries': { POST: (r) => publish(ctx, r, null) },
    '/api/admin/takedown': { POST: (r) => takedown(ctx, r) },
    '/api/admin/audit': { GET: (r) => audit(ctx, r) },
  };
  const m = /^\/api\/entries\/([^/]+)$/.exec(path);
  const routes: Partial<Record<string, Handler>> | undefined = m
    ? {
        GET: () => getEntry(ctx, m[1]!),
        PUT: (r) => publish(ctx, r, m[1]!),
        DELETE: (r) => removeEntry(ctx, r, m[1]!),
      }
    : table[path];
  if (!routes) throw new IndexError('NOT_FOUND', `no route ${path}`);
  const handler = routes[method === 'HEAD' ? 'GET' : method];
  if (!handler) throw new IndexError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`);
  return handler(req, url);
}

/** Read a JSON body: size checked from Content-Length first, then while reading. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    throw new IndexError('UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes)
    throw new IndexError('BODY_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new IndexError('BODY_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new IndexError('BAD_JSON', 'the body is not valid JSON');
  }
}

function hashParam(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = raw;
  }
  const h = normalizeHashParam(decoded);
  if (h === null) throw new IndexError('BAD_REQUEST', 'the info-hash must be 40 or 64 hex digits');
  return h;
}

/** JSON form of a hit: adds an ISO date next to the millisecond fields. */
function publicHit(h: SearchHit): Record<string, unknown> {
  return {
    ...h,
    publishedAt: new Date(h.publishedAtMs).toISOString(),
    checkedAt: h.checkedAtMs === null ? null : new Date(h.checkedAtMs).toISOString(),
  };
}

function publicPage(p: SearchPage): unknown {
  return { results: p.results.map(publicHit), page: p.page, perPage: p.perPage, hasMore: p.hasMore };
}

function publicEntry(e: StoredEntry): unknown {
  return {
    ...publicHit(toSearchHit(e)),
    files: e.files,
    trackers: e.trackers,
    seq: e.seq,
    signature: e.signature,
  };
}

async function publish(ctx: Ctx, req: IncomingMessage, pathHash: string | null): Promise<Reply> {
  const hash = pathHash === null ? null : hashParam(pathHash);
  const signed = parseSignedEntry(await readJsonBody(req, ctx.maxBodyBytes));
  const e = signed.entry;
  if (hash !== null && hash !== e.infoHash && hash !== e.infoHashV2)
    throw new IndexError('BAD_REQUEST', "the info-hash in the path is not the entry's");
  assertEntrySignature(signed);
  const existing = await ctx.store.get(entryId(e));
  if (hash === null && existing)
    throw new IndexError('ENTRY_EXISTS', 'already published; update it with PUT');
  if (hash !== null && !existing) throw new IndexError('NOT_FOUND', 'no such entry; publish it with POST');
  const outcome = await ctx.store.publish(signed, ctx.now());
  const stored = await ctx.store.get(entryId(e));
  return {
    status: outcome === 'created' ? 201 : 200,
    body: { outcome, entry: stored ? publicEntry(stored) : null },
  };
}

async function getEntry(ctx: Ctx, raw: string): Promise<Reply> {
  const e = await ctx.store.get(hashParam(raw));
  if (!e) throw new IndexError('NOT_FOUND', 'no such entry');
  return { status: 200, body: { entry: publicEntry(e) } };
}

async function removeEntry(ctx: Ctx, req: IncomingMessage, raw: string): Promise<Reply> {
  const hash = hashParam(raw);
  const signed = parseSignedRemoval(await readJsonBody(req, ctx.maxBodyBytes));
  if (signed.removal.infoHash !== hash)
    throw new IndexError('BAD_REQUEST', "the info-hash in the path is not the removal's");
  assertRemovalSignature(signed);
  await ctx.store.remove(hash, signed.removal.publisher, signed.removal.seq, ctx.now());
  return { status: 200, body: { removed: hash } };
}

function assertAdmin(ctx: Ctx, req: IncomingMessage): void {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(ctx.adminToken ?? '');
  const ok = want.length > 0 && given.length === want.length && timingSafeEqual(given, want);
  if (!ok) throw new IndexError('UNAUTHORIZED', 'admin token missing or wrong');
}

async function takedown(ctx: Ctx, req: IncomingMessage): Promise<Reply> {
  assertAdmin(ctx, req);
  const body = (await readJsonBody(req, ctx.maxBodyBytes)) as { infoHash?: unknown; reason?: unknown } | null;
  const hash = typeof body?.infoHash === 'string' ? normalizeHashParam(body.infoHash) : null;
  if (hash === null) throw new IndexError('BAD_REQUEST', 'infoHash must be 40 or 64 hex digits');
  const reason = body?.reason;
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON_CHARS)
    throw new IndexError(
      'BAD_REQUEST',
      `reason must be a non-empty string of at most ${MAX_REASON_CHARS} characters`,
    );
  await ctx.store.takedown(hash, reason, 'admin', ctx.now());
  return { status: 200, body: { takenDown: hash } };
}

async function audit(ctx: Ctx, req: IncomingMessage): Promise<Reply> {
  assertAdmin(ctx, req);
  return { status: 200, body: { records: await ctx.store.auditLog(100) } };
}

const INT = /^\d{1,15}$/;

function intParam(p: URLSearchParams, name: string): number | undefined {
  const v = p.get(name);
  if (v === null || v === '') return undefined;
  if (!INT.test(v)) throw new IndexError('BAD_REQUEST', `${name} must be a non-negative integer`);
  return Number(v);
}

function sinceParam(p: URLSearchParams): number | undefined {
  const v = p.get('since');
  if (v === null || v === '') return undefined;
  if (INT.test(v)) return Number(v) * 1000;
  const ms = v.length <= 40 ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new IndexError('BAD_REQUEST', 'since must be an ISO date or Unix seconds');
  return ms;
}

/** Parse search parameters (shared by the API and the page) and run the search. */
export async function search(ctx: Pick<Ctx, 'store'>, p: URLSearchParams): Promise<SearchPage> {
  const query = parseQuery(p.get('q') ?? '');
  const category = p.get('category') || undefined;
  const publisher = p.get('publisher') || undefined;
  if (category !== undefined && !/^[a-z0-9][a-z0-9-]{0,31}$/.test(category))
    throw new IndexError('BAD_REQUEST', 'unknown category format');
  if (publisher !== undefined && !/^[0-9a-f]{64}$/.test(publisher))
    throw new IndexError('BAD_REQUEST', 'publisher must be a 64-hex public key');
  const filters: SearchFilters = {
    category,
    publisher,
    minSizeBytes: intParam(p, 'minSize'),
    maxSizeBytes: intParam(p, 'maxSize'),
    sinceMs: sinceParam(p),
  };
  const page = intParam(p, 'page') ?? 1;
  const perPage = intParam(p, 'perPage') ?? DEFAULT_PER_PAGE;
  return ctx.store.search({ query, filters, page, perPage });
}

async function searchPage(ctx: Ctx, url: URL): Promise<Reply> {
  const p = url.searchParams;
  const q = (p.get('q') ?? '').slice(0, 1000);
  const category = (p.get('category') ?? '').slice(0, 100);
  const model = {
    q,
    category,
    results: null as SearchHit[] | null,
    page: 1,
    hasMore: false,
    error: null as string | null,
  };
  if (q !== '' || category !== '') {
    try {
      const r = await search(ctx, p);
      Object.assign(model, { results: r.results, page: r.page, hasMore: r.hasMore });
    } catch (err) {
      if (!(err instanceof IndexError) || err.httpStatus >= 500) throw err;
      model.error = err.message;
    }
  }
  return { status: 200, body: renderSearchPage(model), html: true };
}

function errorReply(err: unknown, ctx: Ctx): Reply {
  if (err instanceof IndexError && err.httpStatus < 500)
    return { status: err.httpStatus, body: { error: { code: err.code, message: err.message } } };
  ctx.onError?.(err);
  const code = err instanceof IndexError ? err.code : 'INTERNAL';
  const status = err instanceof IndexError ? err.httpStatus : 500;
  return { status, body: { error: { code, message: 'internal error' } } };
}

function send(res: ServerResponse, reply: Reply): void {
  const body = reply.html ? String(reply.body) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': reply.html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    ...(reply.html ? { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" } : {}),
    // The body may not have been read (e.g. 413): close rather than parse leftovers as a request.
    ...(reply.status >= 400 ? { connection: 'close' } : {}),
  });
  res.end(body);
}

export interface RunningIndexServer {
  readonly server: Server;
  /** e.g. `http://127.0.0.1:8001/` */
  readonly url: string;
  /** The connection guard's counters (refused, evicted, bodies rejected, bytes reserved). */
  guardStats(): HttpGuardStats;
  close(): Promise<void>;
}

/**
 * Index defaults for the HTTP guard (`src/net/http-guard.ts`): a search is one small GET, a
 * publish one body of at most `maxBodyBytes`; unfinished bodies share 16 MiB (2 MiB per
 * address), so a thousand half-sent 1 MiB bodies cost 16 MiB, not a gigabyte.
 */
export const INDEX_HTTP_LIMITS: HttpGuardLimits = {
  maxConnections: 2000,
  maxConnectionsPerAddress: 32,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5000,
  maxPendingBodyBytes: 16 * 1024 * 1024,
  maxPendingBodyBytesPerAddress: 2 * 1024 * 1024,
};

/** Start the API on `bind:port` (port 0 picks a free one). Closing it does not close the store. */
export async function startIndexServer(
  options: IndexApiOptions & {
    readonly port: number;
    readonly bind: string;
    /** Connection caps and deadlines over {@link INDEX_HTTP_LIMITS}. */
    readonly limits?: HttpGuardLimits;
  },
): Promise<RunningIndexServer> {
  const guarded = createGuardedServer(createIndexApi(options), {
    ...INDEX_HTTP_LIMITS,
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
    ...options.limits,
    // The guard's own 413/503 in the API's error shape.
    renderRejection: (r) => ({
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ error: { code: r.code, message: r.message } }),
    }),
  });
  const server = guarded.server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const host = options.bind.includes(':') ? `[${options.bind}]` : options.bind;
  return {
    server,
    url: `http://${host}:${port}/`,
    guardStats: guarded.stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
