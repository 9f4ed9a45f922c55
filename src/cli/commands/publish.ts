import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { IndexClient, type IndexEntry, isOwnVerifiedEntry } from '../../index-server/client.js';
import { CATEGORIES, ENTRY_LIMITS, type EntryBody } from '../../index-server/entry.js';
import { IndexError } from '../../index-server/errors.js';
import { type Identity, loadOrCreateIdentity, peerdropHome } from '../../index-server/identity.js';
import {
  DEFAULT_METAINFO_LIMITS,
  infoHashHex,
  infoHashV2Hex,
  type Metainfo,
  parseMetainfo,
} from '../../metainfo/index.js';
import { sanitizeForTerminal } from '../../util/terminal-text.js';
import { notATorrentError } from '../errors.js';
import { CliError, usageError } from '../output.js';

/**
 * `peerdrop publish <torrent-file> --index URL [--title T] [--description D] [--tag X]... [--category C]`:
 * describe a torrent on an index, signed with the local publisher identity (created on first
 * use in $PEERDROP_HOME). Publishing again updates the entry (a larger seq) and keeps its
 * title, description, tags and category unless new ones are given.
 */
interface PublishOptions {
  index?: string;
  title?: string;
  description?: string;
  tag: string[];
  category?: string;
}

export function indexUrl(option: string | undefined): string {
  const url = option ?? process.env.PEERDROP_INDEX;
  if (!url) throw usageError('--index URL is required (or set PEERDROP_INDEX)');
  return url;
}

/** The described fields of a published entry, reused when publishing it again. */
export type KeptFields = Pick<EntryBody, 'title' | 'description' | 'tags' | 'category'>;

// Only printable-ASCII http(s)/udp URLs: the index refuses anything else in an entry.
const TRACKER_URL = /^(https?|udp):\/\/[\x21-\x7e]+$/i;

/**
 * The entry to sign for torrent `m`: an option given wins, else the field as it is published
 * now (`kept`), else the default (title: the torrent name, description: its comment).
 */
export function entryFromMetainfo(
  m: Metainfo,
  o: Omit<PublishOptions, 'index'>,
  kept: KeptFields | null = null,
): Omit<EntryBody, 'publisher' | 'seq'> {
  const trackers: string[] = [];
  for (const tier of m.announceTiers)
    for (const url of tier)
      if (TRACKER_URL.test(url) && !trackers.includes(url) && trackers.length < ENTRY_LIMITS.maxTrackers)
        trackers.push(url);
  return {
    infoHash: infoHashHex(m),
    infoHashV2: infoHashV2Hex(m),
    name: m.name,
    files: m.files
      .filter((f) => !f.attributes.isPadding)
      .map((f) => ({ path: [...f.path], length: f.lengthBytes })),
    trackers,
    title: o.title ?? kept?.title ?? m.name,
    description: o.description ?? kept?.description ?? m.comment ?? '',
    tags: o.tag.length > 0 ? o.tag : (kept?.tags ?? []),
    category: o.category ?? kept?.category ?? 'other',
  };
}

/** `--category`, checked against the list `--help` shows (case-insensitive). */
export function categoryOption(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const c = text.trim().toLowerCase();
  if (!CATEGORIES.includes(c))
    throw usageError(
      `--category must be one of ${CATEGORIES.join(', ')} (got '${sanitizeForTerminal(text, { maxChars: 40 })}')`,
    );
  return c;
}

/**
 * The fields of the stored entry that may be kept: only from our own entry whose signature
 * verifies, so an index cannot make us sign a title we never wrote.
 */
function keptFields(existing: IndexEntry | null, id: Identity, url: string): KeptFields | null {
  if (existing === null || existing.publisher !== id.publicKeyHex) return null;
  if (!isOwnVerifiedEntry(id, existing))
    throw new IndexError(
      'INDEX_BAD_REPLY',
      `the index at ${sanitizeForTerminal(url, { maxChars: 200 })} returned your entry with a signature that does not verify`,
    );
  return existing;
}

/** Where the publisher key lives: `$PEERDROP_HOME/identity.json` (default `~/.config/peerdrop/`). */
export function publisherKeyFile(): string {
  return join(peerdropHome(), 'identity.json');
}

/**
 * The publisher key, made on first use. Being told once matters: the key is the only proof
 * that the entries are ours, so losing it means never updating or unpublishing them.
 */
function identityTellingIfNew(): Identity {
  const file = publisherKeyFile();
  const isNew = !existsSync(file);
  const id = loadOrCreateIdentity();
  if (isNew)
    process.stderr.write(
      `created your publisher key in ${sanitizeForTerminal(file)} (public key ${id.publicKeyHex.slice(0, 16)}…).\n` +
        'Keep it and back it up: only this key can update or unpublish what you publish. Set PEERDROP_HOME to keep it elsewhere.\n',
    );
  return id;
}

async function loadTorrent(file: string): Promise<Metainfo> {
  const size = (await stat(file)).size;
  if (size > DEFAULT_METAINFO_LIMITS.maxTorrentBytes)
    throw new CliError(`${file} is too large to be a .torrent`);
  try {
    return parseMetainfo(await readFile(file));
  } catch (err) {
    throw notATorrentError(file, err);
  }
}

export function register(program: Command): void {
  program
    .command('publish')
    .description(
      'publish a torrent on an index, signed with your publisher key; publishing it again keeps its title, description, tags and category unless given',
    )
    .argument('<torrent-file>', 'path to a .torrent file')
    .option('--index <url>', 'the index URL (or PEERDROP_INDEX)')
    .option('--title <title>', 'title shown in search results (default: the torrent name)')
    .option('--description <text>', 'a longer description')
    .option('--tag <tag>', 'a tag (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--category <category>', `${CATEGORIES.slice(0, -1).join(', ')} or ${CATEGORIES.at(-1)}`)
    .action(async (file: string, o: PublishOptions) => {
      const options = { ...o, category: categoryOption(o.category) };
      const url = indexUrl(o.index);
      const client = new IndexClient(url);
      const m = await loadTorrent(file);
      const id = identityTellingIfNew();
      const hash = infoHashHex(m) ?? infoHashV2Hex(m) ?? '';
      const existing = await client.get(hash);
      const entry = entryFromMetainfo(m, options, keptFields(existing, id, url));
      const outcome = await client.publish(id, entry, { existing });
      process.stdout.write(`${outcome} ${hash} ${sanitizeForTerminal(entry.name)}\n`);
    });
}
