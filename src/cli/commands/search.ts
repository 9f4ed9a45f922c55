import type { Command } from 'commander';
import { IndexClient, type IndexSearchResult } from '../../index-server/client.js';
import { jsonForTerminal, sanitizeForTerminal } from '../../util/terminal-text.js';
import { formatBytes, usageError } from '../output.js';
import { fitToWidth, padStartToWidth } from '../text-width.js';
import { indexUrl } from './publish.js';

/**
 * `peerdrop search <words...> --index URL [--category C] [--json]`: a readable table, or with
 * `--json` an array of results (`infoHash`, `infoHashV2`, `name`, `magnet`, `seeders`,
 * `leechers`, …) that `peerdrop get` accepts via `magnet`. Words starting with `-` exclude
 * (`peerdrop search collection -movie`); a word with spaces (shell-quoted) is a phrase.
 * Everything printed that the index sent goes through `sanitizeForTerminal`/`jsonForTerminal`.
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

/**
 * The results as a table, columns aligned by display width (a CJK title takes two columns per
 * character). The magnet link comes last and whole, so it can be copied even where it wraps.
 */
export function table(results: readonly IndexSearchResult[]): string {
  const nameWidth = 40;
  const lines = [
    `${'SEED'.padStart(5)} ${'LEECH'.padStart(5)} ${'SIZE'.padStart(10)}  ${fitToWidth('NAME', nameWidth)}  MAGNET`,
  ];
  for (const r of results) {
    const seeds = r.seeders === null ? '?' : String(r.seeders);
    const leech = r.leechers === null ? '?' : String(r.leechers);
    const name = sanitizeForTerminal(r.title || r.name) || sanitizeForTerminal(r.name);
    lines.push(
      `${padStartToWidth(seeds, 5)} ${padStartToWidth(leech, 5)} ${formatBytes(r.sizeBytes).padStart(10)}  ${fitToWidth(name, nameWidth)}  ${sanitizeForTerminal(r.magnet)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The query string from the words as the shell split them. Commander passes unknown dash words
 * through (`-movie`); a real but misspelt long option (`--categroy`) is refused rather than
 * searched for. A word holding spaces came from shell quotes: it becomes a quoted phrase.
 */
export function queryFromWords(words: readonly string[]): string {
  return words
    .map((w) => {
      if (w.startsWith('--'))
        throw usageError(
          `unknown option '${sanitizeForTerminal(w, { maxChars: 40 })}' (see peerdrop search --help)`,
        );
      if (!/\s/.test(w) || w.includes('"')) return w;
      return w.startsWith('-') ? `-"${w.slice(1)}"` : `"${w}"`;
    })
    .join(' ');
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
    // `-movie` is an excluded word, not an option: unknown options reach `words` (checked there).
    .allowUnknownOption()
    .action(async (words: string[], o: SearchOptions) => {
      const q = queryFromWords(words);
      const page = positive(o.page, '--page');
      const perPage = positive(o.perPage, '--per-page');
      const client = new IndexClient(indexUrl(o.index));
      const r = await client.search(q, { category: o.category, page, perPage });
      if (o.json) process.stdout.write(`${jsonForTerminal(r.results)}\n`);
      else if (r.results.length === 0) process.stdout.write('no results\n');
      else process.stdout.write(table(r.results));
    });
}
