import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { createGuardedServer, type HttpGuardLimits, type HttpGuardStats } from '../net/http-guard.js';
import { systemClock } from '../util/clock.js';
import { entryId, normalizeHashParam, parseSignedEntry, parseSignedRemoval } from './entry.js';
import { IndexError, type IndexErrorCode } from './errors.js';
import { healthNote } from './health.js';
import { renderSearchPage } from './html-page.js';
import {
  ErrorReply,
  HashParams,
  OPENAPI_INFO,
  PageQuery,
  SearchQuery,
  SignedEntryBody,
  SignedRemovalBody,
  TakedownBody,
} from './http-schemas.js';
import { assertEntrySignature, assertRemovalSignature } from './identity.js';
import { parseQuery } from './query.js';
import { DEFAULT_RATE_LIMIT, IpRateLimiter, type RateLimitOptions } from './rate-limit.js';
import {
  DEFAULT_PER_PAGE,
  type IndexStore,
  type SearchFilters,
  type SearchHit,
  type SearchPage,
  type StoredEntry,
  toSearchHit,
} from './store.js';

/**
 * The index's JSON HTTP API and its search page, on fastify (the daemon's stack, issue 12):
 * TypeBox schemas (http-schemas.ts) validate every body and parameter, @fastify/swagger serves
 * the OpenAPI document. Every failure answers `{ "error": { "code", "message" } }` with a 4xx
 * (5xx only for our own faults). Limits come before work: the connection guard
 * (`net/http-guard.ts`, fastify's server through `serverFactory`) caps connections, deadlines
 * and body budgets; then the URL length and the per-IP rate limit (onRequest, before any body
 * is read); then the body size, JSON, schema, entry rules, signature, and finally the store.
 */
export interface IndexApiOptions {
  readonly store: IndexStore;
  /**
   * Where searches go (a PostgreSQL read replica: `--postgres-read`); default `store`. Writes
   * and reads by hash always use `store`, so a publisher reads its own writes.
   */
  readonly searchStore?: IndexStore;
  /** Bearer token for `/api/admin/*`; without one, admin routes always answer 401. */
  readonly adminToken?: string;
  /** Wall clock (ms since the epoch) for publication dates; injected in tests. */
  readonly now?: () => number;
  readonly rateLimit?: RateLimitOptions;
  readonly maxBodyBytes?: number;
  /** Whether health scrapes may reach private/loopback trackers (only explains unknown health here). */
  readonly healthPrivateTrackers?: boolean;
  /** Called for 5xx failures (the server never logs by itself). */
  readonly onError?: (err: unknown) => void;
}

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_URL_CHARS = 4096;
const WRITE_COST = 5; // a signed write costs more of the rate limit than a read
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

interface Ctx extends IndexApiOptions {
  readonly now: () => number;
  readonly searchStore: IndexStore;
}

type SearchParams = Partial<
  Record<'q' | 'category' | 'publisher' | 'minSize' | 'maxSize' | 'since' | 'page' | 'perPage', string>
>;

/** Build the fastify app (not listening); `serverFactory` lets the caller supply the node server. */
export async function buildIndexApp(
  options: IndexApiOptions,
  serverFactory?: (handler: Parameters<typeof createGuardedServer>[0]) => Server,
): Promise<FastifyInstance> {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const ctx: Ctx = {
    ...options,
    now: options.now ?? Date.now,
    searchStore: options.searchStore ?? options.store,
  };
  const limiter = new IpRateLimiter(systemClock, options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const app = Fastify({
    logger: false,
    bodyLimit: maxBodyBytes,
    // The URL cap is ours (onRequest); path parameters are bounded by their schema patterns.
    routerOptions: { maxParamLength: MAX_URL_CHARS },
    // Never coerce: a body is validated (and signed) exactly as sent; see http-schemas.ts.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    ...(serverFactory ? { serverFactory } : {}),
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new IndexError('BAD_JSON', 'the body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', async (req) => {
    if (req.url.length > MAX_URL_CHARS) throw new IndexError('QUERY_TOO_LONG', 'the URL is too long');
    const isWrite = req.method !== 'GET' && req.method !== 'HEAD';
    if (!limiter.allow(req.socket.remoteAddress ?? 'unknown', isWrite ? WRITE_COST : 1))
      throw new IndexError('RATE_LIMITED', 'too many requests from this address; slow down');
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // The body may not have been read (e.g. 413): close rather than parse leftovers as a request.
    if (reply.statusCode >= 400) reply.header('connection', 'close');
  });
  app.setErrorHandler((err: FastifyError, _req: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, toIndexError(err), ctx),
  );
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new IndexError('NOT_FOUND', `no route ${req.url.split('?', 1)[0]}`), ctx),
  );

  await app.register(swagger, { openapi: OPENAPI_INFO });
  registerRoutes(app, ctx);
  return app;
}

function registerRoutes(app: FastifyInstance, ctx: Ctx): void {
  const errors = { '4xx': ErrorReply };
  const allowed = new Map<string, string[]>();
  const route = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string) => {
    const list = allowed.get(url) ?? [];
    list.push(method);
    if (method === 'GET') list.push('HEAD');
    allowed.set(url, list);
  };

  route('GET', '/');
  app.get('/', { schema: { hide: true, querystring: PageQuery } }, async (req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(await searchPage(ctx, req.query as SearchParams)),
  );
  route('GET', '/healthz');
  app.get('/healthz', { schema: { summary: 'Liveness and entry count' } }, async () => ({
    ok: true,
    ...(await ctx.store.stats()),
  }));
  route('GET', '/api/openapi.json');
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  route('GET', '/api/search');
  app.get(
    '/api/search',
    {
      schema: {
        summary: 'Full-text search, ranked by relevance then seeders',
        querystring: SearchQuery,
        response: errors,
      },
    },
    async (req) => publicPage(await search(ctx, req.query as SearchParams), ctx),
  );
  route('POST', '/api/entries');
  app.post(
    '/api/entries',
    { schema: { summary: 'Publish a signed entry', body: SignedEntryBody, response: errors } },
    async (req, reply) => publish(ctx, req.body, null, reply),
  );
  for (const m of ['GET', 'PUT', 'DELETE'] as const) route(m, '/api/entries/:infoHash');
  app.get(
    '/api/entries/:infoHash',
    { schema: { summary: 'Fetch an entry', params: HashParams, response: errors } },
    async (req) => {
      const e = await ctx.store.get(hashOf(req.params));
      if (!e) throw new IndexError('NOT_FOUND', 'no such entry');
      return { entry: publicEntry(e, ctx) };
    },
  );
  app.put(
    '/api/entries/:infoHash',
    {
      schema: {
        summary: 'Update an entry (same publisher, larger seq)',
        params: HashParams,
        body: SignedEntryBody,
        response: errors,
      },
    },
    async (req, reply) => publish(ctx, req.body, hashOf(req.params), reply),
  );
  app.delete(
    '/api/entries/:infoHash',
    {
      schema: {
        summary: 'Remove an entry (signed by its publisher)',
        params: HashParams,
        body: SignedRemovalBody,
        response: errors,
      },
    },
    async (req) => {
      const hash = hashOf(req.params);
      const signed = parseSignedRemoval(req.body);
      if (signed.removal.infoHash !== hash)
        throw new IndexError('BAD_REQUEST', "the info-hash in the path is not the removal's");
      assertRemovalSignature(signed);
      await ctx.store.remove(hash, signed.removal.publisher, signed.removal.seq, ctx.now());
      return { removed: hash };
    },
  );
  route('POST', '/api/admin/takedown');
  app.post(
    '/api/admin/takedown',
    {
      schema: {
        summary: 'Take an entry down (admin token), recorded in the audit log',
        security: [{ adminToken: [] }],
        body: TakedownBody,
        response: errors,
      },
      // The token is checked before the body is read.
      onRequest: async (req) => assertAdmin(ctx, req),
    },
    async (req) => {
      const body = req.body as { infoHash: string; reason: string };
      const hash = normalizeHashParam(body.infoHash)!;
      if (body.reason.trim() === '') throw new IndexError('BAD_REQUEST', 'reason must not be blank');
      await ctx.store.takedown(hash, body.reason, 'admin', ctx.now());
      return { takenDown: hash };
    },
  );
  route('GET', '/api/admin/audit');
  app.get(
    '/api/admin/audit',
    { schema: { summary: 'The audit log, newest first', security: [{ adminToken: [] }], response: errors } },
    async (req) => {
      assertAdmin(ctx, req);
      return { records: await ctx.store.auditLog(100) };
    },
  );
  // A known path with another method is a 405, not a 404.
  for (const [url, methods] of allowed) {
    const others = METHODS.filter((m) => !methods.includes(m));
    app.route({
      method: others,
      url,
      schema: { hide: true },
      handler: async (req) => {
        throw new IndexError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url}`);
      },
    });
  }
}

/** A fastify failure (validation, body parsing, ours) as an IndexError with a stable code. */
function toIndexError(err: FastifyError): IndexError | FastifyError {
  if (err instanceof IndexError) return err;
  if (err.validation) {
    const v = err.validation[0];
    const where = err.validationContext;
    const path = v?.instancePath ?? '';
    let code: IndexErrorCode = 'BAD_REQUEST';
    if (where === 'querystring' && path === '/q' && v?.keyword === 'maxLength') code = 'QUERY_TOO_LONG';
    else if (where === 'body' && path === '/signature') code = 'BAD_SIGNATURE';
    else if (where === 'body' && (path.startsWith('/entry/') || path.startsWith('/removal/')))
      code = 'ENTRY_INVALID';
    return new IndexError(
      code,
      `${where ?? 'request'}${path.replaceAll('/', '.')} ${v?.message ?? 'is invalid'}`,
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new IndexError('BODY_TOO_LARGE', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new IndexError('UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new IndexError('BAD_JSON', 'the body is not valid JSON');
  }
  return err;
}

function sendError(reply: FastifyReply, err: IndexError | FastifyError, ctx: Ctx): FastifyReply {
  if (err instanceof IndexError && err.httpStatus < 500)
    return reply.code(err.httpStatus).send({ error: { code: err.code, message: err.message } });
  const status = err instanceof IndexError ? err.httpStatus : (err.statusCode ?? 500);
  if (status < 500) return reply.code(status).send({ error: { code: 'BAD_REQUEST', message: err.message } });
  ctx.onError?.(err);
  const code = err instanceof IndexError ? err.code : 'INTERNAL';
  return reply.code(status).send({ error: { code, message: 'internal error' } });
}

function hashOf(params: unknown): string {
  const h = normalizeHashParam((params as { infoHash: string }).infoHash);
  if (h === null) throw new IndexError('BAD_REQUEST', 'the info-hash must be 40 or 64 hex digits');
  return h;
}

/** JSON form of a hit: ISO dates next to the millisecond fields, and why health is unknown. */
function publicHit(h: SearchHit, ctx: Ctx): Record<string, unknown> {
  return {
    ...h,
    publishedAt: new Date(h.publishedAtMs).toISOString(),
    checkedAt: h.checkedAtMs === null ? null : new Date(h.checkedAtMs).toISOString(),
    healthNote: healthNote(h, ctx.healthPrivateTrackers ?? false),
  };
}

function publicPage(p: SearchPage, ctx: Ctx): unknown {
  return {
    results: p.results.map((h) => publicHit(h, ctx)),
    page: p.page,
    perPage: p.perPage,
    hasMore: p.hasMore,
  };
}

function publicEntry(e: StoredEntry, ctx: Ctx): unknown {
  return {
    ...publicHit(toSearchHit(e), ctx),
    files: e.files,
    trackers: e.trackers,
    seq: e.seq,
    signature: e.signature,
  };
}

async function publish(ctx: Ctx, body: unknown, hash: string | null, reply: FastifyReply): Promise<unknown> {
  const signed = parseSignedEntry(body);
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
  reply.code(outcome === 'created' ? 201 : 200);
  return { outcome, entry: stored ? publicEntry(stored, ctx) : null };
}

function assertAdmin(ctx: Ctx, req: FastifyRequest): void {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(ctx.adminToken ?? '');
  const ok = want.length > 0 && given.length === want.length && timingSafeEqual(given, want);
  if (!ok) throw new IndexError('UNAUTHORIZED', 'admin token missing or wrong');
}

const INT = /^\d{1,15}$/;

function intParam(p: SearchParams, name: keyof SearchParams): number | undefined {
  const v = p[name];
  if (v === undefined || v === '') return undefined;
  if (!INT.test(v)) throw new IndexError('BAD_REQUEST', `${name} must be a non-negative integer`);
  return Number(v);
}

function sinceParam(p: SearchParams): number | undefined {
  const v = p.since;
  if (v === undefined || v === '') return undefined;
  if (INT.test(v)) return Number(v) * 1000;
  const ms = v.length <= 40 ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new IndexError('BAD_REQUEST', 'since must be an ISO date or Unix seconds');
  return ms;
}

/** Parse search parameters (shared by the API and the page) and run the search. */
async function search(ctx: Ctx, p: SearchParams): Promise<SearchPage> {
  const query = parseQuery(p.q ?? '');
  const category = p.category || undefined;
  const publisher = p.publisher || undefined;
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
  return ctx.searchStore.search({ query, filters, page, perPage });
}

async function searchPage(ctx: Ctx, p: SearchParams): Promise<string> {
  const q = (p.q ?? '').slice(0, 1000);
  const category = (p.category ?? '').slice(0, 100);
  const model = {
    q,
    category,
    results: null as SearchHit[] | null,
    page: 1,
    hasMore: false,
    error: null as string | null,
    healthNote: (h: SearchHit) => healthNote(h, ctx.healthPrivateTrackers ?? false),
  };
  if (q !== '' || category !== '') {
    try {
      const r = await search(ctx, { q: p.q, category: p.category, page: p.page } as SearchParams);
      Object.assign(model, { results: r.results, page: r.page, hasMore: r.hasMore });
    } catch (err) {
      if (!(err instanceof IndexError) || err.httpStatus >= 500) throw err;
      model.error = err.message;
    }
  }
  return renderSearchPage(model);
}

export interface RunningIndexServer {
  readonly server: Server;
  readonly app: FastifyInstance;
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
  let guardStats: () => HttpGuardStats = () => {
    throw new Error('not started');
  };
  const app = await buildIndexApp(options, (handler) => {
    const guarded = createGuardedServer(handler, {
      ...INDEX_HTTP_LIMITS,
      maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
      ...options.limits,
      // The guard's own 413/503 in the API's error shape.
      renderRejection: (r) => ({
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify({ error: { code: r.code, message: r.message } }),
      }),
    });
    guardStats = guarded.stats;
    return guarded.server;
  });
  await app.listen({ port: options.port, host: options.bind });
  const server = app.server;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const host = options.bind.includes(':') ? `[${options.bind}]` : options.bind;
  return {
    server,
    app,
    url: `http://${host}:${port}/`,
    guardStats: () => guardStats(),
    close: async () => {
      server.closeAllConnections();
      await app.close();
    },
  };
}
