import type { Command } from 'commander';
import { IndexClient, type IndexSearchResult } from '../../index-server/client.js';
import { formatBytes, printJson, usageError } from '../output.js';
import { indexUrl } from './publish.js';

/**
 * `peerdrop search <words...> --index URL [--category C] [--json]`: a readable table, or with
 * `--json` an array of results (`infoHash`, `infoHashV2`, `name`, `magnet`, `seeders`,
 * `leechers`, …) that `peerdrop get` accepts via `magnet`.
 */
interface SearchOptions {
  index?: string;
  category?: string;
  page: string;
  perPage: string;
  json?: boolean;
}

function positive(text: string, flag: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1) throw usageError(`${flag} must be a positive integer`);
  return Number(text);
}

function clip(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

function table(results: readonly IndexSearchResult[]): string {
  const lines = [
    `${'SEED'.padStart(5)} ${'LEECH'.padStart(5)} ${'SIZE'.padStart(10)}  ${clip('NAME', 50)}  INFO-HASH`,
  ];
  for (const r of results) {
    const seeds = r.seeders === null ? '?' : String(r.seeders);
    const leech = r.leechers === null ? '?' : String(r.leechers);
    const name = (r.title || r.name).replace(/\s+/g, ' ');
    lines.push(
      `${seeds.padStart(5)} ${leech.padStart(5)} ${formatBytes(r.sizeBytes).padStart(10)}  ${clip(name, 50)}  ${r.infoHash ?? r.infoHashV2}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('search')
    .description('search an index; prints a table or JSON with magnet links')
    .argument('<words...>', 'words, "quoted phrases", -excluded')
    .option('--index <url>', 'the index URL (or PEERDROP_INDEX)')
    .option('--category <category>', 'only this category')
    .option('--page <n>', 'page number', '1')
    .option('--per-page <n>', 'results per page (max 100)', '20')
    .option('--json', 'print a JSON array of results')
    .action(async (words: string[], o: SearchOptions) => {
      const client = new IndexClient(indexUrl(o.index));
      const r = await client.search(words.join(' '), {
        category: o.category,
        page: positive(o.page, '--page'),
        perPage: positive(o.perPage, '--per-page'),
      });
      if (o.json) printJson(r.results);
      else if (r.results.length === 0) process.stdout.write('no results\n');
      else process.stdout.write(table(r.results));
    });
}
