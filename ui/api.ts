/**
 * The page's only way to the daemon: same-origin fetch with the login cookie, and the CSRF
 * header on every write. The daemon may answer a write with 409 and a fresh session token in
 * the `X-Peerdrop-CSRF` header (as Transmission does with `X-Transmission-Session-Id`): the
 * token is kept and the request sent once more, so a restarted daemon or a proxy in front of it
 * costs the user nothing.
 */
import type { ApiErrorBody } from './api-types.js';

const CSRF_HEADER = 'x-peerdrop-csrf';
let csrfToken = '1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

async function send(method: Method, path: string, body: BodyInit | undefined, type: string | null) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers[CSRF_HEADER] = csrfToken;
  if (type) headers['content-type'] = type;
  return fetch(path, {
    method,
    credentials: 'same-origin',
    headers,
    ...(body === undefined ? {} : { body }),
  });
}

async function request<T>(method: Method, path: string, body?: BodyInit, type: string | null = null) {
  let res = await send(method, path, body, type);
  if (res.status === 409) {
    const fresh = res.headers.get(CSRF_HEADER) ?? res.headers.get('x-transmission-session-id');
    if (fresh && fresh !== csrfToken) {
      csrfToken = fresh;
      res = await send(method, path, body, type);
    }
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!res.ok) {
    const e = (data ?? {}) as Partial<ApiErrorBody>;
    const message = typeof e.message === 'string' ? e.message : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, typeof e.code === 'string' ? e.code : 'HTTP_ERROR', message, data);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) =>
    request<T>(
      'POST',
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? null : 'application/json',
    ),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, JSON.stringify(body), 'application/json'),
  del: <T>(path: string) => request<T>('DELETE', path),
  /** multipart/form-data: the browser sets the boundary itself. */
  form: <T>(path: string, form: FormData) => request<T>('POST', path, form, null),
};

/** The message to show for a failure, whatever was thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Not signed in: open the login link the daemon printed at start.';
    return err.message;
  }
  if (err instanceof TypeError) return 'The daemon cannot be reached. Is it still running?';
  return err instanceof Error ? err.message : String(err);
}

export function torrentPath(id: string | number, rest = ''): string {
  return `/api/torrents/${encodeURIComponent(String(id))}${rest}`;
}

/** The streaming URL of a file; the login cookie authenticates `<video src>` and downloads. */
export function fileUrl(infoHash: string, index: number): string {
  return torrentPath(infoHash, `/files/${index}`);
}

let routes: Promise<ReadonlySet<string>> | null = null;

/**
 * The API paths this daemon has (from its OpenAPI document), asked once: the page offers the
 * diagnosis, search and share screens only when their routes exist, and never requests a route
 * that is not there (each such 404 would be a console error).
 */
export function hasRoute(path: string): Promise<boolean> {
  routes ??= api.get<{ paths?: Record<string, unknown> }>('/api/openapi.json').then(
    (doc) => new Set(Object.keys(doc.paths ?? {})),
    () => new Set<string>(),
  );
  return routes.then((r) => r.has(path));
}
