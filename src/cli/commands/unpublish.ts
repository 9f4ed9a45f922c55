import type { Command } from 'commander';
import { IndexClient } from '../../index-server/client.js';
import { normalizeHashParam } from '../../index-server/entry.js';
import { loadOrCreateIdentity } from '../../index-server/identity.js';
import { sanitizeForTerminal } from '../../util/terminal-text.js';
import { usageError } from '../output.js';
import { indexUrl } from './publish.js';

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
      await new IndexClient(indexUrl(o.index)).unpublish(loadOrCreateIdentity(), h);
      process.stdout.write(`removed ${h}\n`);
    });
}
