import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/**
 * A minimal `fetch` (GET only) over node:http/https, for tracker announces and scrapes.
 *
 * Why not the global `fetch`: it implements the Fetch standard's "bad port" list and refuses
 * to connect to ports such as 6000, 6665–6669 or 10080 (`TypeError: fetch failed`, cause
 * `bad port`). That list protects browsers from cross-protocol attacks on IRC or X11
 * servers; a BitTorrent client has no such need, and `peerdrop tracker --http-port 6667`
 * printed an announce URL that peerdrop itself then refused. libtorrent and Transmission
 * connect to any port.
 *
 * Only what the tracker transport uses: `signal` (aborts the request and the body), `headers`,
 * and `redirect: 'follow' | 'manual' | 'error'` (at most 5 redirects, http and https only). The
 * body is not decompressed: no `accept-encoding` is sent, so servers answer in identity.
 */
const MAX_REDIRECTS = 5;

export async function nodeHttpFetch(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  if (input instanceof Request) throw new TypeError('nodeHttpFetch takes a URL');
  if ((init.method ?? 'GET').toUpperCase() !== 'GET') throw new TypeError('nodeHttpFetch supports GET only');
  let url = new URL(String(input));
  const headers = Object.fromEntries(new Headers(init.headers ?? {}).entries());
  for (let redirects = 0; ; redirects++) {
    const res = await getOnce(url, headers, init.signal ?? undefined);
    const location = res.headers.location;
    const isRedirect = res.statusCode !== undefined && [301, 302, 303, 307, 308].includes(res.statusCode);
    if (!isRedirect || location === undefined || init.redirect === 'manual')
      return toResponse(res, init.signal);
    res.resume();
    if (init.redirect === 'error') throw new TypeError('fetch failed', { cause: new Error('redirect') });
    if (redirects >= MAX_REDIRECTS)
      throw new TypeError('fetch failed', { cause: new Error('too many redirects') });
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new TypeError('fetch failed', { cause: new Error(`redirect to ${next.protocol}`) });
    url = next;
  }
}

function getOnce(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new TypeError(`Invalid URL protocol ${url.protocol}`));
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // One connection per request (`agent: false`, `Connection: close`): announces are minutes
    // apart, and a kept-alive socket that a tracker (opentracker) has already closed fails the
    // next request with ECONNRESET ("socket hang up").
    const req = send(
      url,
      {
        method: 'GET',
        headers: { ...headers, connection: 'close' },
        agent: false,
        ...(signal ? { signal } : {}),
      },
      resolve,
    );
    req.on('error', (err) => {
      if (signal?.aborted) reject(abortError(signal));
      else reject(new TypeError('fetch failed', { cause: err }));
    });
    req.end();
  });
}

function toResponse(res: IncomingMessage, signal: AbortSignal | null | undefined): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const status = res.statusCode ?? 500;
  // A Response body cannot be given with 204/304; statuses outside 200–599 are not valid.
  const hasBody = status !== 204 && status !== 304;
  if (!hasBody) res.resume();
  signal?.addEventListener('abort', () => res.destroy(abortError(signal)), { once: true });
  const body = hasBody ? (Readable.toWeb(res) as ReadableStream<Uint8Array>) : null;
  return new Response(body, {
    status: status >= 200 && status <= 599 ? status : 500,
    statusText: res.statusMessage ?? '',
    headers,
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}
