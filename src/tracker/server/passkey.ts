import { decodeUtf8Strict } from '../../util/bytes.js';
import { TrackerError } from '../errors.js';
import { parseRawQuery } from '../protocol/http.js';

/** Passkeys are opaque tokens of URL-safe characters; anything else is not a passkey. */
const PASSKEY_RE = /^[A-Za-z0-9_.~-]{1,128}$/;

export function isValidPasskey(text: string): boolean {
  return PASSKEY_RE.test(text);
}

/**
 * The passkey of a private tracker URL (path and query only): `/announce/<passkey>`,
 * `/scrape/<passkey>` or `?passkey=<passkey>`. The same text arrives over HTTP (the request
 * target) and UDP (BEP 41 URL data), so both transports share this function.
 */
export function passkeyFromTarget(target: string): string | undefined {
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  const m = /^\/(?:announce|scrape)\/([^/]+)\/?$/.exec(path);
  if (m && PASSKEY_RE.test(m[1]!)) return m[1];
  if (q < 0) return undefined;
  let params: Array<[string, Uint8Array]>;
  try {
    params = parseRawQuery(target.slice(q + 1));
  } catch (err) {
    if (err instanceof TrackerError) return undefined;
    throw err;
  }
  for (const [name, value] of params) {
    if (name !== 'passkey') continue;
    const text = decodeUtf8Strict(value);
    return text !== null && PASSKEY_RE.test(text) ? text : undefined;
  }
  return undefined;
}
