import type { Command } from 'commander';
import { dataDirOption, offlineNote, withControl } from './torrent-control.js';

export function register(program: Command): void {
  dataDirOption(
    program
      .command('remove')
      .description('remove a torrent from the daemon (its data stays unless --delete-data)')
      .argument('<id>', 'numeric id or info-hash (see `peerdrop list`)')
      .option('--delete-data', 'also delete its downloaded files (inside its download folder only)'),
  ).action(async (id: string, opts: { dataDir?: string; deleteData?: boolean }) => {
    await withControl(opts, async (control) => {
      await control.remove(id, opts.deleteData ?? false);
      process.stdout.write(`removed ${id}${opts.deleteData ? ' and its data' : ''}${offlineNote(control)}\n`);
    });
  });
}
