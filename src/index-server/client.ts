import type { EntryBody, SignedEntry, SignedRemoval } from './entry.js';
import { IndexError, type IndexErrorCode } from './errors.js';
import { type Identity, signEntry, signRemoval } from './identity.js';

/**
 * A small client for an index's HTTP API (used by `peerdrop publish/unpublish/search`).
 * Responses are read with a size cap; server errors surface as `IndexError` with the server's
 * code when it is one of ours, else `INDEX_UNAVAILABLE`.
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

export class IndexClient {
  private readonly base: URL;

  constructor(baseUrl: string) {
    try {
      this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    } catch {
      throw new IndexError('BAD_REQUEST', `not a URL: ${baseUrl}`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:')
      throw new IndexError('BAD_REQUEST', `the index URL must be http(s): ${baseUrl}`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
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
      throw new IndexError(
        'INDEX_UNAVAILABLE',
        `cannot reach the index at ${this.base.origin}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const text = await readCapped(res);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new IndexError('INDEX_UNAVAILABLE', `the index answered HTTP ${res.status} without JSON`);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } }).error;
      throw new IndexError(
        (e?.code as IndexErrorCode | undefined) ?? 'INDEX_UNAVAILABLE',
        e?.message ?? `HTTP ${res.status}`,
      );
    }
    return json;
  }

  async get(hash: string): Promise<(EntryBody & { seq: number }) | null> {
    try {
      const r = (await this.call('GET', `api/entries/${encodeURIComponent(hash)}`)) as { entry: EntryBody };
      return r.entry;
    } catch (err) {
      if (err instanceof IndexError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  /** Publish or update: picks `seq` above the stored one (and at least the current time in ms). */
  async publish(
    id: Identity,
    entry: Omit<EntryBody, 'publisher' | 'seq'>,
    nowMs = Date.now(),
  ): Promise<'created' | 'updated'> {
    const hash = entry.infoHash ?? entry.infoHashV2 ?? '';
    const existing = await this.get(hash);
    const signed: SignedEntry = signEntry(id, { ...entry, seq: Math.max(nowMs, (existing?.seq ?? 0) + 1) });
    const r = (await (existing
      ? this.call('PUT', `api/entries/${hash}`, signed)
      : this.call('POST', 'api/entries', signed))) as { outcome: 'created' | 'updated' };
    return r.outcome;
  }

  async unpublish(id: Identity, hash: string, nowMs = Date.now()): Promise<void> {
    const existing = await this.get(hash);
    if (!existing) throw new IndexError('NOT_FOUND', `no entry ${hash} on this index`);
    const signed: SignedRemoval = signRemoval(id, { infoHash: hash, seq: Math.max(nowMs, existing.seq + 1) });
    await this.call('DELETE', `api/entries/${hash}`, signed);
  }

  async search(
    q: string,
    options: IndexSearchOptions = {},
  ): Promise<{ results: IndexSearchResult[]; hasMore: boolean }> {
    const p = new URLSearchParams({ q });
    for (const [k, v] of Object.entries(options)) if (v !== undefined) p.set(k, String(v));
    return (await this.call('GET', `api/search?${p}`)) as { results: IndexSearchResult[]; hasMore: boolean };
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES)
      throw new IndexError('INDEX_UNAVAILABLE', 'the index response is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
