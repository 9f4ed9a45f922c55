import type { Command } from 'commander';
import { sanitizeForTerminal } from '../../util/terminal-text.js';
import { printJson } from '../output.js';
import { resolveSource } from '../source.js';
import { dataDirOption, offlineNote, withControl } from './torrent-control.js';

export function register(program: Command): void {
  dataDirOption(
    program
      .command('add')
      .description('add a torrent to the daemon (or, when none runs, to its saved state)')
      .argument('<source>', 'a magnet: link or a .torrent file')
      .option('--download-dir <dir>', "folder inside the daemon's download folder")
      .option('--paused', 'add it paused')
      .option('--json', 'print the added torrent as JSON'),
  ).action(
    async (
      source: string,
      opts: { dataDir?: string; downloadDir?: string; paused?: boolean; json?: boolean },
    ) => {
      const input = await resolveSource(source, undefined);
      await withControl(opts, async (control) => {
        const t = await control.add({
          ...(typeof input === 'string' ? { magnet: input } : { torrent: input }),
          ...(opts.downloadDir ? { downloadDir: opts.downloadDir } : {}),
          isPaused: opts.paused ?? false,
        });
        if (opts.json) printJson(t);
        else
          process.stdout.write(
            `added ${t.id} ${t.infoHash} ${sanitizeForTerminal(t.name)}${offlineNote(control)}\n`,
          );
      });
    },
  );
}
