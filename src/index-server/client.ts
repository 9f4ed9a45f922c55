import { sanitizeForTerminal } from '../util/terminal-text.js';
import {
  canonicalEntryBytes,
  type EntryBody,
  parseEntryBody,
  type SignedEntry,
  type SignedRemoval,
} from './entry.js';
import { httpStatusOf, IndexError, type IndexErrorCode } from './errors.js';
import { type Identity, signEntry, signRemoval, verifyBytes } from './identity.js';

/**
 * A small client for an index's HTTP API (used by `peerdrop publish/unpublish/search`).
 * The index is not trusted: replies are read with a size cap and their shape is checked
 * (`INDEX_BAD_REPLY` names the index and the field), server errors surface as `IndexError`
 * with the server's code only when it is one of ours (else `INDEX_UNAVAILABLE`), and every
 * message that carries server text is made terminal-safe and one line here.
 */
export interface IndexSearchResult {
  readonly infoHash: string | null;
  readonly infoHashV2: string | null;
  readonly name: string;
  readonly title: string;
  readonly category: string;
  readonly sizeBytes: number;
  readonly magnet: string;
  readonly seeders: number | null;
  readonly leechers: number | null;
  readonly publisher: string;
  readonly publishedAt: string;
}

export interface IndexSearchOptions {
  readonly category?: string;
  readonly page?: number;
  readonly perPage?: number;
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly since?: string;
  readonly publisher?: string;
}

const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
/** An index's error message is shown to the user: one line, at most this long. */
const MAX_MESSAGE_CHARS = 300;
const MAX_RESULTS = 100;
const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const ERROR_CODE = /^[A-Z][A-Z_]{0,39}$/;

/** An entry as `GET /api/entries/<hash>` returns it (shape checked, signature not yet). */
export interface IndexEntry extends EntryBody {
  readonly signature: string;
}

/** What was wrong with a reply, at which path: thrown by the shape checks, caught by `call`. */
class ShapeError extends Error {}

function shape(ok: boolean, path: string, want: string): void {
  if (!ok) throw new ShapeError(`${path} is not ${want}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  shape(typeof v === 'string', `${path}.${key}`, 'a string');
  return v as string;
}

function hashOrNull(o: Record<string, unknown>, key: string, re: RegExp, path: string): string | null {
  const v = o[key];
  shape(v === null || (typeof v === 'string' && re.test(v)), `${path}.${key}`, 'a hex info-hash or null');
  return v as string | null;
}

function count(o: Record<string, unknown>, key: string, path: string, nullable: boolean): number | null {
  const v = o[key];
  if (nullable && v === null) return null;
  shape(
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
    `${path}.${key}`,
    'a non-negative integer',
  );
  return v as number;
}

function strings(o: Record<string, unknown>, key: string, path: string): string[] {
  const v = o[key];
  shape(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${path}.${key}`, 'an array of strings');
  return v as string[];
}

function searchResult(v: unknown, path: string): IndexSearchResult {
  shape(isRecord(v), path, 'an object');
  const r = v as Record<string, unknown>;
  const infoHash = hashOrNull(r, 'infoHash', HEX40, path);
  const infoHashV2 = hashOrNull(r, 'infoHashV2', HEX64, path);
  shape(infoHash !== null || infoHashV2 !== null, path, 'a result with an info-hash');
  const magnet = str(r, 'magnet', path);
  shape(magnet.startsWith('magnet:?'), `${path}.magnet`, 'a magnet link');
  return {
    infoHash,
    infoHashV2,
    name: str(r, 'name', path),
    title: str(r, 'title', path),
    category: str(r, 'category', path),
    sizeBytes: count(r, 'sizeBytes', path, false) as number,
    magnet,
    seeders: count(r, 'seeders', path, true),
    leechers: count(r, 'leechers', path, true),
    publisher: str(r, 'publisher', path),
    publishedAt: str(r, 'publishedAt', path),
  };
}

function searchReply(v: unknown): { results: IndexSearchResult[]; hasMore: boolean } {
  shape(isRecord(v), 'the reply', 'an object');
  const o = v as Record<string, unknown>;
  shape(Array.isArray(o.results), 'results', 'an array');
  const list = o.results as unknown[];
  shape(list.length <= MAX_RESULTS, 'results', `at most ${MAX_RESULTS} results`);
  shape(typeof o.hasMore === 'boolean', 'hasMore', 'a boolean');
  return { results: list.map((r, i) => searchResult(r, `results[${i}]`)), hasMore: o.hasMore as boolean };
}

function entryReply(v: unknown, hash: string): IndexEntry {
  shape(isRecord(v) && isRecord(v.entry), 'the reply', 'an object with an entry');
  const e = (v as { entry: Record<string, unknown> }).entry;
  const p = 'entry';
  const infoHash = hashOrNull(e, 'infoHash', HEX40, p);
  const infoHashV2 = hashOrNull(e, 'infoHashV2', HEX64, p);
  shape(infoHash === hash || infoHashV2 === hash, `${p}.infoHash`, `the requested ${hash}`);
  shape(Array.isArray(e.files), `${p}.files`, 'an array');
  const files = (e.files as unknown[]).map((f, i) => {
    shape(isRecord(f), `${p}.files[${i}]`, 'an object');
    const r = f as Record<string, unknown>;
    return {
      path: strings(r, 'path', `${p}.files[${i}]`),
      length: count(r, 'length', `${p}.files[${i}]`, false) as number,
    };
  });
  const seq = count(e, 'seq', p, false) as number;
  const signature = str(e, 'signature', p);
  shape(HEX128.test(signature), `${p}.signature`, 'a 128-hex signature');
  const publisher = str(e, 'publisher', p);
  shape(HEX64.test(publisher), `${p}.publisher`, 'a 64-hex key');
  return {
    infoHash,
    infoHashV2,
    name: str(e, 'name', p),
    files,
    trackers: strings(e, 'trackers', p),
    title: str(e, 'title', p),
    description: str(e, 'description', p),
    tags: strings(e, 'tags', p),
    category: str(e, 'category', p),
    seq,
    publisher,
    signature,
  };
}

function outcomeReply(v: unknown): 'created' | 'updated' {
  const outcome = isRecord(v) ? v.outcome : undefined;
  shape(outcome === 'created' || outcome === 'updated', 'outcome', '"created" or "updated"');
  return outcome as 'created' | 'updated';
}

/**
 * Whether `e` (from {@link IndexClient.get}) is this identity's entry with a signature that
 * verifies: only then may its fields be reused in a new signed version (a lying index cannot
 * make us sign a title we never wrote).
 */
export function isOwnVerifiedEntry(id: Identity, e: IndexEntry): boolean {
  const { signature, ...body } = e;
  return e.publisher === id.publicKeyHex && verifyBytes(e.publisher, canonicalEntryBytes(body), signature);
}

export interface PublishOptions {
  /** Milliseconds since the epoch; `seq` is at least this. */
  readonly nowMs?: number;
  /** The stored entry, if the caller already fetched it (saves a request). */
  readonly existing?: IndexEntry | null;
}

export class IndexClient {
  private readonly base: URL;
  /** The index as shown in messages. */
  private readonly label: string;

  constructor(baseUrl: string) {
    try {
      this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    } catch {
      throw new IndexError('BAD_REQUEST', `not a URL: ${sanitizeForTerminal(baseUrl, { maxChars: 200 })}`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:')
      throw new IndexError(
        'BAD_REQUEST',
        `the index URL must be http(s): ${sanitizeForTerminal(baseUrl, { maxChars: 200 })}`,
      );
    this.label = sanitizeForTerminal(this.base.origin);
  }

  private fail(code: IndexErrorCode, what: string, cause?: unknown): IndexError {
    return new IndexError(code, `the index at ${this.label} ${what}`, { cause });
  }

  /** One request; `parse` checks the reply's shape. Every failure is an `IndexError` naming the index. */
  private async call<T>(
    method: string,
    path: string,
    parse: (json: unknown) => T,
    body?: unknown,
  ): Promise<T> {
    const url = new URL(path, this.base);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const why = sanitizeForTerminal(errorText(err), { maxChars: MAX_MESSAGE_CHARS });
      throw this.fail('INDEX_UNAVAILABLE', `cannot be reached: ${why}`, err);
    }
    const text = await this.readCapped(res);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw res.ok
        ? this.fail('INDEX_BAD_REPLY', `sent a reply that is not JSON (HTTP ${res.status})`)
        : this.fail('INDEX_UNAVAILABLE', `answered HTTP ${res.status} without a JSON error`);
    }
    if (!res.ok) throw this.serverError(res.status, json);
    try {
      return parse(json);
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      throw this.fail('INDEX_BAD_REPLY', `sent a malformed reply: ${sanitizeForTerminal(err.message)}`);
    }
  }

  /** The server's `{ error: { code, message } }`, as ours only if the code is one of ours. */
  private serverError(status: number, json: unknown): IndexError {
    const e = isRecord(json) && isRecord(json.error) ? json.error : {};
    const code = typeof e.code === 'string' && ERROR_CODE.test(e.code) ? (e.code as IndexErrorCode) : null;
    const message =
      typeof e.message === 'string' ? sanitizeForTerminal(e.message, { maxChars: MAX_MESSAGE_CHARS }) : '';
    const known = code !== null && httpStatusOf(code) !== undefined;
    const what = message === '' ? `answered HTTP ${status}` : `refused: ${message}`;
    return known ? this.fail(code, what) : this.fail('INDEX_UNAVAILABLE', `${what} (HTTP ${status})`);
  }

  private async readCapped(res: Response): Promise<string> {
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    const tooLarge = () =>
      this.fail('INDEX_BAD_REPLY', `sent a reply larger than ${MAX_RESPONSE_BYTES} bytes`);
    if (declared > MAX_RESPONSE_BYTES) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!res.body) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) throw tooLarge();
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof IndexError) throw err;
      const why = sanitizeForTerminal(errorText(err), { maxChars: MAX_MESSAGE_CHARS });
      throw this.fail('INDEX_UNAVAILABLE', `broke off its reply: ${why}`, err);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The stored entry for a v1 or v2 hash, or null if the index has none. */
  async get(hash: string): Promise<IndexEntry | null> {
    try {
      return await this.call('GET', `api/entries/${encodeURIComponent(hash)}`, (j) => entryReply(j, hash));
    } catch (err) {
      if (err instanceof IndexError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  /**
   * Publish or update: the entry is put in canonical form and checked here first (a refused
   * character is reported before anything is sent), then signed with `seq` above the stored
   * one (and at least the current time in ms).
   */
  async publish(
    id: Identity,
    entry: Omit<EntryBody, 'publisher' | 'seq'>,
    options: PublishOptions = {},
  ): Promise<'created' | 'updated'> {
    const hash = entry.infoHash ?? entry.infoHashV2 ?? '';
    const existing = options.existing === undefined ? await this.get(hash) : options.existing;
    const nowMs = options.nowMs ?? Date.now();
    const signed: SignedEntry = signEntry(id, { ...entry, seq: Math.max(nowMs, (existing?.seq ?? 0) + 1) });
    parseEntryBody(signed.entry);
    return existing
      ? this.call('PUT', `api/entries/${hash}`, outcomeReply, signed)
      : this.call('POST', 'api/entries', outcomeReply, signed);
  }

  async unpublish(id: Identity, hash: string, nowMs = Date.now()): Promise<void> {
    const existing = await this.get(hash);
    if (!existing) throw new IndexError('NOT_FOUND', `no entry ${hash} on the index at ${this.label}`);
    const signed: SignedRemoval = signRemoval(id, { infoHash: hash, seq: Math.max(nowMs, existing.seq + 1) });
    await this.call('DELETE', `api/entries/${hash}`, () => undefined, signed);
  }

  async search(
    q: string,
    options: IndexSearchOptions = {},
  ): Promise<{ results: IndexSearchResult[]; hasMore: boolean }> {
    const p = new URLSearchParams({ q });
    for (const [k, v] of Object.entries(options)) if (v !== undefined) p.set(k, String(v));
    return this.call('GET', `api/search?${p}`, searchReply);
  }
}

function errorText(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown; code?: unknown } } | null;
  const cause = e?.cause;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return detail ? `${message} (${detail})` : message;
}
