import type { Command } from 'commander';
import { dataDirOption, offlineNote, withControl } from './torrent-control.js';

export function register(program: Command): void {
  dataDirOption(
    program
      .command('resume')
      .description('resume a torrent of the daemon')
      .argument('<id>', 'numeric id or info-hash (see `peerdrop list`)'),
  ).action(async (id: string, opts: { dataDir?: string }) => {
    await withControl(opts, async (control) => {
      await control.resume(id);
      process.stdout.write(`resumed ${id}${offlineNote(control)}\n`);
    });
  });
}
