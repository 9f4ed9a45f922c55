import type { Command } from 'commander';
import { dataDirOption, offlineNote, withControl } from './torrent-control.js';

export function register(program: Command): void {
  dataDirOption(
    program
      .command('pause')
      .description('pause a torrent of the daemon')
      .argument('<id>', 'numeric id or info-hash (see `peerdrop list`)'),
  ).action(async (id: string, opts: { dataDir?: string }) => {
    await withControl(opts, async (control) => {
      await control.pause(id);
      process.stdout.write(`paused ${id}${offlineNote(control)}\n`);
    });
  });
}
