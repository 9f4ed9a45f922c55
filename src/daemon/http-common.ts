/** What the daemon's route files share: limits, headers, the error shape, the route context. */
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { Authenticator } from './auth.js';
import type { Daemon } from './daemon.js';

export const VERSION = '0.1.0';
/** A `.torrent` upload: 10 MiB of metainfo, base64 (4/3) plus JSON around it. */
export const BODY_LIMIT_BYTES = 16 * 1024 * 1024;
export const MAX_TORRENT_BYTES = 10 * 1024 * 1024;

export interface RouteContext {
  readonly daemon: Daemon;
  readonly auth: Authenticator;
  readonly pieceTimeoutMs: number;
  /** The address of the web page, for links. */
  baseUrl(): string;
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'cache-control': 'no-store',
};

/** Error codes and their HTTP status; anything else with a parser prefix is the client's fault. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  DAEMON_NOT_FOUND: 404,
  DAEMON_BAD_REQUEST: 400,
  DAEMON_PATH_OUTSIDE: 400,
  DAEMON_METADATA_PENDING: 409,
  DAEMON_TORRENT_BROKEN: 409,
  TORRENT_NOT_RUNNING: 409,
  DAEMON_DATA_UNAVAILABLE: 503,
  DAEMON_CLOSED: 503,
};

export function statusFor(code: string): number {
  return STATUS_BY_CODE[code] ?? (/^(METAINFO|MAGNET|BENCODE)_/.test(code) ? 400 : 500);
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).type('application/json; charset=utf-8').send({ code, message });
}

export const TorrentId = Type.String({
  pattern: '^([0-9a-fA-F]{40}|[0-9]{1,9})$',
  description: 'hex info-hash or numeric id',
});
export const IdParams = Type.Object({ id: TorrentId });
