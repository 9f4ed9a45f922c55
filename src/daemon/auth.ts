/**
 * Who may talk to the daemon. Every request needs the access token, loopback included:
 *  - `Authorization: Bearer <token>` (API, CLI, scripts);
 *  - `Authorization: Basic <any user>:<token>` (Transmission clients, which speak Basic);
 *  - the `peerdrop_session` cookie (HttpOnly, SameSite=Strict) set by a one-time login link.
 * The cookie holds a random id and an HMAC of it under the token, never the token itself, so
 * a leaked cookie cannot be turned into the token, and changing the token logs everyone out.
 *
 * DNS rebinding: a page on evil.example that re-resolves to 127.0.0.1 sends `Host:
 * evil.example`; only the daemon's own names are accepted (`isAllowedHost`).
 * Brute force: failed attempts are counted per client address (`FailureLimiter`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE_NAME = 'peerdrop_session';
/** A login link is good once, for this long. */
export const LOGIN_CODE_TTL_MS = 15 * 60 * 1000;
export const COOKIE_MAX_AGE_S = 30 * 24 * 3600;

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type Credential = 'bearer' | 'basic' | 'cookie';

export class Authenticator {
  private readonly codes = new Map<string, number>();

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Which credential of the request is valid, or null. */
  check(authorization: string | undefined, cookieHeader: string | undefined): Credential | null {
    if (authorization) {
      const [scheme, value = ''] = authorization.split(' ', 2) as [string, string?];
      if (scheme.toLowerCase() === 'bearer' && safeEqual(value.trim(), this.token)) return 'bearer';
      if (scheme.toLowerCase() === 'basic') {
        const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon >= 0 && safeEqual(decoded.slice(colon + 1), this.token)) return 'basic';
      }
    }
    const cookie = readCookie(cookieHeader, COOKIE_NAME);
    if (cookie && this.isValidSession(cookie)) return 'cookie';
    return null;
  }

  /** A new one-time login code (for the link printed at start, or asked for over the API). */
  loginCode(): string {
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, this.now() + LOGIN_CODE_TTL_MS);
    for (const [c, expires] of this.codes) if (expires < this.now()) this.codes.delete(c);
    return code;
  }

  /** Spend a login code: true once, then never again. */
  redeem(code: string): boolean {
    const expires = this.codes.get(code);
    if (expires === undefined) return false;
    this.codes.delete(code);
    return expires >= this.now();
  }

  newSessionCookie(): string {
    const id = randomBytes(18).toString('base64url');
    return `${id}.${this.mac(id)}`;
  }

  private isValidSession(value: string): boolean {
    const dot = value.indexOf('.');
    if (dot <= 0) return false;
    return safeEqual(value.slice(dot + 1), this.mac(value.slice(0, dot)));
  }

  private mac(id: string): string {
    return createHmac('sha256', this.token).update(`session:${id}`).digest('base64url');
  }

  /** The Transmission RPC session id: stable for the token, unguessable without it. */
  transmissionSessionId(): string {
    return createHmac('sha256', this.token).update('transmission-session').digest('base64url').slice(0, 48);
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function sessionCookieHeader(value: string, isSecure: boolean): string {
  return `${COOKIE_NAME}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}${
    isSecure ? '; Secure' : ''
  }`;
}

/**
 * Host names the daemon answers to: loopback names, the bind address, and extra names the
 * user allows (a reverse proxy's public name) — each with or without the port.
 */
export function allowedHosts(bind: string, port: number, extra: readonly string[]): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', ...extra.map((h) => h.toLowerCase())]);
  if (bind !== '0.0.0.0' && bind !== '::') names.add(bind.includes(':') ? `[${bind}]` : bind);
  const out = new Set<string>();
  for (const n of names) {
    out.add(n);
    if (!/:\d+$/.test(n) || n.startsWith('[')) out.add(`${n}:${port}`);
  }
  return out;
}

export function isAllowedHost(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** Failed logins per client: after `max` failures in `windowMs`, refuse for the rest of the window. */
export class FailureLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxClients = 10_000,
  ) {}

  isBlocked(client: string): boolean {
    const f = this.failures.get(client);
    if (!f) return false;
    if (this.now() - f.since > this.windowMs) {
      this.failures.delete(client);
      return false;
    }
    return f.count >= this.max;
  }

  fail(client: string): void {
    const t = this.now();
    const f = this.failures.get(client);
    if (f && t - f.since <= this.windowMs) f.count++;
    else {
      // Bounded memory: the oldest entry goes first when an address flood fills the table.
      if (this.failures.size >= this.maxClients) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(client, { count: 1, since: t });
    }
  }

  /** Seconds until a blocked client may try again. */
  retryAfterSeconds(client: string): number {
    const f = this.failures.get(client);
    return f ? Math.max(1, Math.ceil((f.since + this.windowMs - this.now()) / 1000)) : 0;
  }
}
