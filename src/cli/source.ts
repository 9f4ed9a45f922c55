import { readFile } from 'node:fs/promises';
import { formatMagnet } from '../metainfo/magnet.js';
import { errnoInWords } from './errors.js';
import { CliError } from './output.js';

/**
 * What `peerdrop get` accepts, resolved to torrent bytes or a magnet link:
 * - a `.torrent` file path;
 * - a `magnet:` link;
 * - `-`: a search result as JSON on stdin (`peerdrop search … --json | jq '.[0]' | peerdrop get -`),
 *   one object or an array whose first element is used, read through its `magnet` field;
 * - a 40- or 64-hex info-hash, looked up on `--index` (name and trackers) when given.
 */
export async function resolveSource(
  source: string,
  indexUrl: string | undefined,
): Promise<Uint8Array | string> {
  if (source.startsWith('magnet:')) return source;
  if (source === '-') return magnetFromStdin();
  if (/^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(source))
    return magnetForHash(source.toLowerCase(), indexUrl);
  return readTorrentFile(source);
}

async function magnetFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new CliError('stdin: more than 1 MiB; expected one search result as JSON');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new CliError('stdin: not JSON; expected a search result from `peerdrop search --json`');
  }
  const first = Array.isArray(value) ? value[0] : value;
  const magnet = (first as { magnet?: unknown } | undefined)?.magnet;
  if (typeof magnet !== 'string' || !magnet.startsWith('magnet:')) {
    throw new CliError('stdin: the JSON has no "magnet" field; pipe a result of `peerdrop search --json`');
  }
  return magnet;
}

async function magnetForHash(hash: string, indexUrl: string | undefined): Promise<string> {
  const bytes = Buffer.from(hash, 'hex');
  const hashes =
    hash.length === 40 ? { infoHash: bytes, infoHashV2: null } : { infoHash: null, infoHashV2: bytes };
  if (!indexUrl) return formatMagnet({ ...hashes, trackers: [], webSeeds: [], peers: [] });
  const { IndexClient } = await import('../index-server/client.js');
  const entry = await new IndexClient(indexUrl).get(hash);
  if (!entry) throw new CliError(`${hash}: not found on ${indexUrl}`);
  return formatMagnet({ ...hashes, name: entry.name, trackers: entry.trackers, webSeeds: [], peers: [] });
}

async function readTorrentFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new CliError(
        `${path}: no such file (give a .torrent file, a magnet: link, or - for a search result)`,
      );
    throw new CliError(`cannot read ${path}: ${errnoInWords(code, String(err))}`);
  }
}
