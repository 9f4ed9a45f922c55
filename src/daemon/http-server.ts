/**
 * The daemon's HTTP side (fastify): security first, in one `onRequest` hook that every route
 * passes through — Host allow-list, failed-login limit, the token (Bearer, Basic or the login
 * cookie), a CSRF header for cookie-authenticated writes — then the routes: the JSON API
 * (routes-api.ts), the Transmission RPC (transmission-rpc.ts), the web page (web.ts). No CORS
 * headers are ever sent, so other origins cannot read anything; errors are `{code, message}`.
 */
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { Authenticator, allowedHosts, FailureLimiter, isAllowedHost, sessionCookieHeader } from './auth.js';
import type { Daemon } from './daemon.js';
import {
  BODY_LIMIT_BYTES,
  MAX_TORRENT_BYTES,
  type RouteContext,
  SECURITY_HEADERS,
  sendError,
  statusFor,
  VERSION,
} from './http-common.js';
import { registerApiRoutes } from './routes-api.js';
import { registerHandoffRoutes } from './routes-handoff.js';
import { registerSearchRoutes } from './routes-search.js';
import { registerShareRoutes } from './routes-share.js';
import { registerTransmissionRpc } from './transmission-rpc.js';
import { registerWebRoutes } from './web.js';

export interface HttpServerOptions {
  readonly daemon: Daemon;
  readonly token: string;
  readonly host: string;
  readonly port: number;
  /** Extra Host names to answer to (a reverse proxy's name), from `--allow-host`. */
  readonly extraHosts?: readonly string[];
  /** Mark the login cookie Secure (behind an HTTPS proxy). */
  readonly isSecureCookie?: boolean;
  /** How long a stream waits for a missing piece (default 30 s). */
  readonly pieceTimeoutMs?: number;
  readonly failureLimit?: { readonly max: number; readonly windowMs: number };
}

export interface DaemonHttpServer {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly url: string;
  /** A fresh one-time login link. */
  loginUrl(): string;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<DaemonHttpServer> {
  const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES, logger: false, trustProxy: false });
  const auth = new Authenticator(options.token);
  const limiter = new FailureLimiter(options.failureLimit?.max, options.failureLimit?.windowMs);
  let hosts = allowedHosts(options.host, options.port, options.extraHosts ?? []);
  let port = options.port;
  const displayHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const baseUrl = () => `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}`;

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (!isAllowedHost(request.headers.host, hosts))
      return sendError(
        reply,
        421,
        'HOST_NOT_ALLOWED',
        "this Host name is not one of the daemon's (DNS rebinding guard)",
      );
    const client = request.ip;
    if (limiter.isBlocked(client)) {
      reply.header('retry-after', String(limiter.retryAfterSeconds(client)));
      return sendError(reply, 429, 'AUTH_RATE_LIMITED', 'too many failed logins; try again later');
    }
    const path = request.url.split('?', 1)[0]!;
    if (path === '/login') return;
    const credential = auth.check(request.headers.authorization, request.headers.cookie);
    if (!credential) {
      // Only wrong credentials count as failed logins; a first request without any does not.
      if (request.headers.authorization || request.headers.cookie) limiter.fail(client);
      if (path.startsWith('/transmission/')) reply.header('www-authenticate', 'Basic realm="peerdrop"');
      return sendError(
        reply,
        401,
        'AUTH_REQUIRED',
        'an access token is required (Bearer, Basic password, or the login link)',
      );
    }
    // Browsers cache Basic credentials and send them with other sites' requests too; only the
    // Transmission RPC (with its session-id dance) takes them.
    if (credential === 'basic' && !path.startsWith('/transmission/'))
      return sendError(reply, 401, 'AUTH_REQUIRED', 'Basic authentication is for /transmission/rpc only');
    // A cookie rides along with requests other sites make; a custom header cannot (it needs a
    // CORS preflight, which is never granted), so writes made with the cookie must carry one.
    if (
      credential === 'cookie' &&
      !['GET', 'HEAD'].includes(request.method) &&
      !request.headers['x-peerdrop-csrf']
    )
      return sendError(
        reply,
        403,
        'CSRF_HEADER_MISSING',
        'writes with the login cookie need the X-Peerdrop-CSRF header',
      );
  });

  app.setErrorHandler((err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    if (err.validation) return sendError(reply, 400, 'BAD_REQUEST', err.message);
    if (err instanceof PeerdropError) return sendError(reply, statusFor(err.code), err.code, err.message);
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status < 500) return sendError(reply, status, err.code ?? 'BAD_REQUEST', err.message);
    return sendError(reply, 500, 'INTERNAL', errorMessage(err));
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'NOT_FOUND', 'no such endpoint'));

  await app.register(swagger, {
    openapi: {
      info: { title: 'peerdrop daemon', version: VERSION },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          basic: { type: 'http', scheme: 'basic' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'peerdrop_session' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }, { cookie: [] }],
    },
  });
  await app.register(multipart, {
    limits: { fileSize: MAX_TORRENT_BYTES, files: 1, fields: 10, fieldSize: 64 * 1024 },
  });

  const context: RouteContext = {
    daemon: options.daemon,
    auth,
    pieceTimeoutMs: options.pieceTimeoutMs ?? 30_000,
    baseUrl,
  };
  app.get('/login', { schema: { hide: true } }, async (request, reply) => {
    const code = (request.query as { code?: unknown }).code;
    if (typeof code !== 'string' || !auth.redeem(code)) {
      limiter.fail(request.ip);
      return sendError(reply, 401, 'LOGIN_LINK_INVALID', 'this login link was already used or has expired');
    }
    reply.header('set-cookie', sessionCookieHeader(auth.newSessionCookie(), options.isSecureCookie ?? false));
    return reply.redirect('/', 303);
  });
  registerApiRoutes(app, context);
  registerTransmissionRpc(app, context);
  registerShareRoutes(app, context);
  registerSearchRoutes(app, context);
  registerHandoffRoutes(app, context);
  registerWebRoutes(app);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  if (address && typeof address === 'object') port = address.port;
  hosts = allowedHosts(options.host, port, options.extraHosts ?? []);
  return {
    app,
    port,
    url: baseUrl(),
    loginUrl: () => `${baseUrl()}/login?code=${auth.loginCode()}`,
    close: () => app.close(),
  };
}
