import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { IndexClient } from '../../index-server/client.js';
import { ENTRY_LIMITS, type EntryBody } from '../../index-server/entry.js';
import { loadOrCreateIdentity } from '../../index-server/identity.js';
import {
  DEFAULT_METAINFO_LIMITS,
  infoHashHex,
  infoHashV2Hex,
  type Metainfo,
  parseMetainfo,
} from '../../metainfo/index.js';
import { CliError, usageError } from '../output.js';

/**
 * `peerdrop publish <torrent-file> --index URL [--title T] [--description D] [--tag X]... [--category C]`:
 * describe a torrent on an index, signed with the local publisher identity (created on first
 * use in $PEERDROP_HOME). Publishing again updates the entry (a larger seq).
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

export function entryFromMetainfo(
  m: Metainfo,
  o: Omit<PublishOptions, 'index'>,
): Omit<EntryBody, 'publisher' | 'seq'> {
  const trackers: string[] = [];
  for (const tier of m.announceTiers)
    for (const url of tier)
      if (
        /^(https?|udp):\/\//i.test(url) &&
        !trackers.includes(url) &&
        trackers.length < ENTRY_LIMITS.maxTrackers
      )
        trackers.push(url);
  return {
    infoHash: infoHashHex(m),
    infoHashV2: infoHashV2Hex(m),
    name: m.name,
    files: m.files
      .filter((f) => !f.attributes.isPadding)
      .map((f) => ({ path: [...f.path], length: f.lengthBytes })),
    trackers,
    title: o.title ?? m.name,
    description: o.description ?? m.comment ?? '',
    tags: o.tag,
    category: o.category ?? 'other',
  };
}

async function loadTorrent(file: string): Promise<Metainfo> {
  const size = (await stat(file)).size;
  if (size > DEFAULT_METAINFO_LIMITS.maxTorrentBytes)
    throw new CliError(`${file} is too large to be a .torrent`);
  return parseMetainfo(await readFile(file));
}

export function register(program: Command): void {
  program
    .command('publish')
    .description('publish a torrent on an index, signed with your publisher key')
    .argument('<torrent-file>', 'path to a .torrent file')
    .option('--index <url>', 'the index URL (or PEERDROP_INDEX)')
    .option('--title <title>', 'title shown in search results (default: the torrent name)')
    .option('--description <text>', 'a longer description')
    .option('--tag <tag>', 'a tag (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--category <category>', 'audio, video, software, books, images, data, games or other')
    .action(async (file: string, o: PublishOptions) => {
      const client = new IndexClient(indexUrl(o.index));
      const m = await loadTorrent(file);
      const entry = entryFromMetainfo(m, o);
      const outcome = await client.publish(loadOrCreateIdentity(), entry);
      process.stdout.write(`${outcome} ${entry.infoHash ?? entry.infoHashV2} ${entry.name}\n`);
    });
}
