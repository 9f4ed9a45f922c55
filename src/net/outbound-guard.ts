import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { PeerdropError } from '../util/errors.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../util/ip.js';

/**
 * The one policy for a URL peerdrop fetches on behalf of someone else: an index scraping the
 * trackers a publisher named, web seeds, feeds, whatever the daemon fetches next. Whoever wrote
 * the URL must not make us talk to our own network (loopback services, the LAN, cloud metadata).
 *
 * Design:
 * - **Check the address, never the text.** An address has many spellings (`2130706433`,
 *   `0x7f.1`, `0177.0.0.1`, `127.1`, `[::ffff:7f00:1]`, `0`, fullwidth digits, `%31…`), and a
 *   name can resolve anywhere. So the URL is parsed the way the HTTP stack parses it (WHATWG
 *   `URL`), the host is resolved the way the socket would resolve it (`dns.lookup`, i.e.
 *   getaddrinfo and /etc/hosts), and the resulting bytes are compared with the refused ranges.
 *   IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged
 *   by that IPv4 address.
 * - **Every resolved address must pass**, not just the first: the connecting side may pick any
 *   of them (happy eyeballs, retries), and an attacker's DNS can mix a public and a private one.
 * - **Resolve, then pin.** Between our check and the connection a second lookup could answer
 *   differently (DNS rebinding, TTL 0). The request therefore connects to the vetted address
 *   through a `lookup` that returns only it; the Host header and the TLS server name stay the
 *   original name, so virtual hosting and certificate checks are unchanged. No agent, so no
 *   pooled socket vetted for one name is reused for another.
 * - **Redirects are followed by hand**, a few at most, each hop parsed and vetted from scratch.
 * - Userinfo (`user@host`) is refused outright: no tracker needs it, and it exists in attacks
 *   mainly to make naive parsers read the wrong host.
 * - Everything is bounded: one deadline for the whole fetch (lookups and hops included), a body
 *   cap checked before buffering, and the caller's `AbortSignal`.
 * UDP users (BEP 15 trackers) call `vetDestination` and send to the returned literal.
 */

export type OutboundErrorCode =
  | 'NET_BAD_URL'
  | 'NET_USERINFO_REFUSED'
  | 'NET_DESTINATION_REFUSED'
  | 'NET_RESOLVE_FAILED'
  | 'NET_TOO_MANY_REDIRECTS'
  | 'NET_BAD_REDIRECT'
  | 'NET_RESPONSE_TOO_LARGE'
  | 'NET_TIMEOUT'
  | 'NET_ABORTED'
  | 'NET_HTTP_FAILED';

export class OutboundError extends PeerdropError {
  declare readonly code: OutboundErrorCode;
  /** The host as written (after URL normalisation), when known. */
  readonly host: string | undefined;
  /** The resolved address that was refused, for `NET_DESTINATION_REFUSED`. */
  readonly address: string | undefined;

  constructor(
    code: OutboundErrorCode,
    message: string,
    detail: { host?: string; address?: string; cause?: unknown } = {},
  ) {
    super(code, message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.host = detail.host;
    this.address = detail.address;
  }
}

// ---------------------------------------------------------------------------------------------
// Refused ranges (pure)

interface Range {
  readonly prefix: readonly number[];
  readonly bits: number;
  readonly name: string;
}

const r = (prefix: number[], bits: number, name: string): Range => ({ prefix, bits, name });

const REFUSED_V4: readonly Range[] = [
  r([255, 255, 255, 255], 32, 'limited broadcast (255.255.255.255)'),
  r([0], 8, '"this network" (0.0.0.0/8)'),
  r([10], 8, 'private (10.0.0.0/8)'),
  r([100, 64], 10, 'carrier-grade NAT (100.64.0.0/10)'),
  r([127], 8, 'loopback (127.0.0.0/8)'),
  r([169, 254], 16, 'link-local (169.254.0.0/16)'),
  r([172, 16], 12, 'private (172.16.0.0/12)'),
  r([192, 0, 0], 24, 'IETF protocol assignments (192.0.0.0/24)'),
  r([192, 168], 16, 'private (192.168.0.0/16)'),
  r([198, 18], 15, 'benchmarking (198.18.0.0/15)'),
  r([224], 4, 'multicast (224.0.0.0/4)'),
  r([240], 4, 'reserved (240.0.0.0/4)'),
];

/** Ranges refused outright. Forms that embed an IPv4 address are handled in `refusedRange`. */
const REFUSED_V6: readonly Range[] = [
  r([], 128, 'unspecified (::)'),
  r([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, 'loopback (::1)'),
  r([0, 0x64, 0xff, 0x9b, 0, 1], 48, 'local-use NAT64 (64:ff9b:1::/48)'),
  r([1, 0, 0, 0, 0, 0, 0, 0], 64, 'discard-only (100::/64)'),
  r([0x20, 0x01, 0x0d, 0xb8], 32, 'documentation (2001:db8::/32)'),
  r([0xfc], 7, 'unique local (fc00::/7)'),
  r([0xfe, 0x80], 10, 'link-local (fe80::/10)'),
  r([0xfe, 0xc0], 10, 'site-local (fec0::/10)'),
  r([0xff], 8, 'multicast (ff00::/8)'),
];

/** IPv6 prefixes whose packets end up at an IPv4 address, and where that address sits. */
const EMBEDS_V4: ReadonlyArray<Range & { at: number; xor: number }> = [
  { ...r([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, 'IPv4-mapped'), at: 12, xor: 0 },
  { ...r([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96, 'NAT64 (64:ff9b::/96)'), at: 12, xor: 0 },
  { ...r([0x20, 0x02], 16, '6to4 (2002::/16)'), at: 2, xor: 0 },
  // RFC 4380: the Teredo client's IPv4 address is stored inverted in the last 32 bits.
  { ...r([0x20, 0x01, 0, 0], 32, 'Teredo (2001::/32)'), at: 12, xor: 0xff },
  { ...r([], 96, 'IPv4-compatible (::/96)'), at: 12, xor: 0 },
];

function inRange(bytes: Uint8Array, range: Range): boolean {
  const full = range.bits >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== (range.prefix[i] ?? 0)) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[full] ?? 0) & mask) === ((range.prefix[full] ?? 0) & mask);
}

/**
 * Why an address may not be contacted on someone else's behalf, or null if it may. `ip` is 4
 * or 16 bytes; anything else is refused (fail closed).
 */
export function refusedRange(ip: Uint8Array): string | null {
  if (ip.length === 4) return REFUSED_V4.find((x) => inRange(ip, x))?.name ?? null;
  if (ip.length !== 16) return `not an IP address (${ip.length} bytes)`;
  const direct = REFUSED_V6.find((x) => inRange(ip, x));
  if (direct) return direct.name;
  for (const e of EMBEDS_V4) {
    if (!inRange(ip, e)) continue;
    const v4 = ip.slice(e.at, e.at + 4).map((b) => b ^ e.xor);
    const why = refusedRange(v4);
    return why === null ? null : `${e.name} ${formatIpv4(v4)}: ${why}`;
  }
  return null;
}

/** `refusedRange` for address text as a resolver returns it; unparseable text is refused. */
export function refusedAddress(text: string): string | null {
  const bytes = parseIpBytes(text);
  return bytes ? refusedRange(bytes) : `not an IP address (${JSON.stringify(text)})`;
}

function parseIpBytes(text: string): Uint8Array | null {
  const bare = text.replace(/%.*$/, ''); // a zone id does not change which range it is in
  return parseIpv4(bare) ?? parseIpv6(bare);
}

// ---------------------------------------------------------------------------------------------
// URLs and destinations

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Name → every address the socket layer could connect to. */
export type Resolver = (host: string) => Promise<readonly ResolvedAddress[]>;

/** `dns.lookup` (getaddrinfo, /etc/hosts): the resolution `net.connect` itself would use. */
export const systemResolver: Resolver = async (host) => {
  const all = await lookup(host, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface Destination extends ResolvedAddress {
  /** The host as normalised by the URL parser (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

export interface DestinationPolicy {
  /** Allow private, loopback and other refused ranges (tests, company-internal indexes). Default false. */
  readonly allowPrivate?: boolean;
  /** Default `systemResolver`. */
  readonly resolve?: Resolver;
  /**
   * The reason to refuse a destination, or null to allow it. Default: `refusedRange` unless
   * `allowPrivate`. Tests use it to let one loopback server play a public host.
   */
  readonly refusal?: (dest: Destination) => string | null;
}

export interface OutboundTarget {
  /** Lower case, without the colon: `http`, `https`, `udp`. */
  readonly scheme: string;
  /** Normalised host; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** The URL as parsed (for udp: with its host normalised like an http URL's). */
  readonly url: URL;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

/**
 * Parse an outbound URL as the HTTP stack would. `udp:` is not a WHATWG "special" scheme, so
 * its host would stay opaque text (`udp://2130706433:80` keeps `2130706433`, which getaddrinfo
 * then reads as 127.0.0.1): its host is normalised as an http URL's host instead.
 */
export function parseOutboundUrl(text: string, schemes: readonly string[]): OutboundTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new OutboundError('NET_BAD_URL', `not a URL: ${JSON.stringify(text)}`, { cause: err });
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!schemes.includes(scheme))
    throw new OutboundError('NET_BAD_URL', `scheme ${scheme}: is not fetched (only ${schemes.join(', ')})`);
  if (url.username !== '' || url.password !== '')
    throw new OutboundError('NET_USERINFO_REFUSED', `URLs with user info are refused: ${url.host}`, {
      host: url.hostname,
    });
  const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port);
  if (port === undefined || port < 1 || port > 0xffff)
    throw new OutboundError('NET_BAD_URL', `no usable port in ${scheme}: URL`, { host: url.hostname });
  const host = DEFAULT_PORTS[scheme] === undefined ? normaliseHost(url.hostname) : url.hostname;
  if (host === '') throw new OutboundError('NET_BAD_URL', 'URL has no host');
  if (DEFAULT_PORTS[scheme] === undefined) {
    const bracketed = host.includes(':') ? `[${host}]` : host;
    url = new URL(`${scheme}://${bracketed}:${port}${url.pathname}${url.search}`);
  }
  return { scheme, host: unbracket(host), port, url };
}

/** A host as the WHATWG parser spells it for special schemes; refuses anything that is not only a host. */
function normaliseHost(host: string): string {
  const raw = unbracket(host);
  const written = raw.includes(':') ? `[${raw}]` : raw;
  let u: URL;
  try {
    u = new URL(`http://${written}/`);
  } catch (err) {
    throw new OutboundError('NET_BAD_URL', `not a host: ${JSON.stringify(host)}`, { cause: err });
  }
  if (u.username !== '' || u.password !== '')
    throw new OutboundError('NET_USERINFO_REFUSED', `hosts with user info are refused: ${host}`, { host });
  if (u.port !== '' || u.pathname !== '/' || u.search !== '' || u.hash !== '')
    throw new OutboundError('NET_BAD_URL', `not a host: ${JSON.stringify(host)}`, { host });
  return unbracket(u.hostname);
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** IPv4-mapped IPv6 becomes plain IPv4, so a udp4 socket can send to it; other text is canonical. */
function canonical(bytes: Uint8Array): ResolvedAddress {
  const mapped = bytes.length === 16 && inRange(bytes, EMBEDS_V4[0]!);
  if (bytes.length === 4 || mapped) return { address: formatIpv4(bytes, mapped ? 12 : 0), family: 4 };
  return { address: formatIpv6(bytes), family: 6 };
}

/**
 * Resolve `host` and check every address it resolves to; returns the one to connect to (the
 * first). Throws `NET_DESTINATION_REFUSED` naming the address and the range if any is refused.
 */
export async function vetDestination(
  host: string,
  port: number,
  policy: DestinationPolicy = {},
  signal?: AbortSignal,
): Promise<ResolvedAddress> {
  const name = normaliseHost(host);
  const literal = parseIpBytes(name);
  let found: readonly ResolvedAddress[];
  if (literal) found = [canonical(literal)];
  else {
    try {
      found = await abortable((policy.resolve ?? systemResolver)(name), signal);
    } catch (err) {
      if (err instanceof OutboundError) throw err;
      if (signal?.aborted)
        throw new OutboundError('NET_ABORTED', `lookup of ${name} aborted`, { cause: err });
      throw new OutboundError('NET_RESOLVE_FAILED', `cannot resolve ${name}`, { host: name, cause: err });
    }
  }
  if (found.length === 0)
    throw new OutboundError('NET_RESOLVE_FAILED', `${name} resolved to no address`, { host: name });
  const refusal =
    policy.refusal ?? ((d: Destination) => (policy.allowPrivate ? null : refusedAddress(d.address)));
  const vetted: ResolvedAddress[] = [];
  for (const a of found) {
    const bytes = parseIpBytes(a.address);
    const address = bytes ? canonical(bytes) : null;
    const why = address ? refusal({ host: name, port, ...address }) : refusedAddress(a.address);
    if (why !== null || !address)
      throw new OutboundError(
        'NET_DESTINATION_REFUSED',
        `refused to contact ${host}${host === a.address ? '' : ` (${a.address})`}: ${why}`,
        { host: name, address: a.address },
      );
    vetted.push(address);
  }
  return vetted[0]!;
}

// ---------------------------------------------------------------------------------------------
// HTTP GET

export interface GuardedGetOptions extends DestinationPolicy {
  /** Body bytes kept at most (default 2 MiB); a longer body fails with `NET_RESPONSE_TOO_LARGE`. */
  readonly maxBytes?: number;
  /** One deadline for lookups, connections, redirects and the body (default 15 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Redirects followed at most (default 3); each hop is vetted like the first URL. */
  readonly maxRedirects?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface GuardedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array;
  /** The URL that answered (after redirects). */
  readonly url: string;
}

export const DEFAULT_GUARDED_MAX_BYTES = 2 * 1024 * 1024;
export const DEFAULT_GUARDED_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** GET `url` on someone else's behalf: vetted, pinned, redirects re-vetted, bounded. */
export async function guardedHttpGet(url: string, options: GuardedGetOptions = {}): Promise<GuardedResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_GUARDED_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      const target = parseOutboundUrl(current, ['http', 'https']);
      const dest = await vetDestination(target.host, target.port, options, signal);
      const res = await pinnedGet(target, dest, options, signal);
      const location = res.headers.location;
      if (!REDIRECT_STATUSES.has(res.statusCode ?? 0) || location === undefined)
        return await readBody(res, target.url.href, options.maxBytes ?? DEFAULT_GUARDED_MAX_BYTES, signal);
      res.destroy();
      if (hop >= maxRedirects)
        throw new OutboundError('NET_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects from ${url}`, {
          host: target.host,
        });
      current = redirectTarget(location, target.url);
    }
  } catch (err) {
    throw mapError(err, timeout, options.signal);
  }
}

function redirectTarget(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch (err) {
    throw new OutboundError('NET_BAD_REDIRECT', `bad redirect location ${JSON.stringify(location)}`, {
      host: base.hostname,
      cause: err,
    });
  }
}

/** One request whose connection can only go to `dest`: the socket's lookup answers with it alone. */
function pinnedGet(
  target: OutboundTarget,
  dest: ResolvedAddress,
  options: GuardedGetOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const pinned: LookupFunction = (_hostname, opts, cb) => {
    if (opts.all) (cb as (e: null, a: ResolvedAddress[]) => void)(null, [dest]);
    else cb(null, dest.address, dest.family);
  };
  const isHttps = target.scheme === 'https';
  const isLiteral = parseIpBytes(target.host) !== null;
  return new Promise((resolve, reject) => {
    const req = (isHttps ? httpsRequest : httpRequest)({
      method: 'GET',
      hostname: target.host,
      port: target.port,
      path: `${target.url.pathname}${target.url.search}`,
      headers: { accept: '*/*', ...options.headers, host: target.url.host, 'accept-encoding': 'identity' },
      lookup: pinned,
      agent: false,
      signal,
      ...(isHttps && !isLiteral ? { servername: target.host } : {}),
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

function readBody(
  res: IncomingMessage,
  url: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<GuardedResponse> {
  const tooLarge = (): OutboundError =>
    new OutboundError('NET_RESPONSE_TOO_LARGE', `response from ${url} is over ${maxBytes} bytes`);
  const declared = Number(res.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) {
    res.destroy();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onAbort = (): void => {
      res.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => signal.removeEventListener('abort', onAbort);
    res.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        done();
        res.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    res.once('end', () => {
      done();
      const body = Buffer.concat(chunks);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
        url,
      });
    });
    res.once('error', (err) => {
      done();
      reject(err);
    });
  });
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function mapError(err: unknown, timeout: AbortSignal, caller: AbortSignal | undefined): OutboundError {
  if (err instanceof OutboundError && err.code !== 'NET_ABORTED') return err;
  if (caller?.aborted) return new OutboundError('NET_ABORTED', 'request aborted', { cause: err });
  if (timeout.aborted) return new OutboundError('NET_TIMEOUT', 'no complete answer in time', { cause: err });
  if (err instanceof OutboundError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new OutboundError('NET_HTTP_FAILED', `request failed: ${why}`, { cause: err });
}
