import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { IndexClient } from '../../index-server/client.js';
import { normalizeHashParam } from '../../index-server/entry.js';
import { loadOrCreateIdentity } from '../../index-server/identity.js';
import { sanitizeForTerminal } from '../../util/terminal-text.js';
import { CliError, usageError } from '../output.js';
import { indexUrl, publisherKeyFile } from './publish.js';

/** `peerdrop unpublish <info-hash> --index URL`: remove your entry (signed removal). */
export function register(program: Command): void {
  program
    .command('unpublish')
    .description('remove an entry you published from an index')
    .argument('<info-hash>', 'v1 (40 hex) or v2 (64 hex) info-hash')
    .option('--index <url>', 'the index URL (or PEERDROP_INDEX)')
    .action(async (hash: string, o: { index?: string }) => {
      const h = normalizeHashParam(hash);
      if (h === null) throw usageError(`not an info-hash: ${sanitizeForTerminal(hash, { maxChars: 80 })}`);
      const url = indexUrl(o.index);
      // A new key could never remove an entry: only the key that published it can.
      const file = publisherKeyFile();
      if (!existsSync(file))
        throw new CliError(
          `no publisher key at ${file}: only the key that published an entry can remove it (restore it there, or set PEERDROP_HOME to its folder)`,
        );
      await new IndexClient(url).unpublish(loadOrCreateIdentity(), h);
      process.stdout.write(`removed ${h}\n`);
    });
}
