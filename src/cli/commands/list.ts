import type { Command } from 'commander';
import { sanitizeForTerminal } from '../../util/terminal-text.js';
import { formatBytes, printJson } from '../output.js';
import { dataDirOption, offlineNote, withControl } from './torrent-control.js';

export function register(program: Command): void {
  dataDirOption(
    program.command('list').description("list the daemon's torrents").option('--json', 'print JSON'),
  ).action(async (opts: { dataDir?: string; json?: boolean }) => {
    await withControl(opts, async (control) => {
      const torrents = await control.list();
      if (opts.json) return printJson(torrents);
      if (torrents.length === 0) process.stdout.write(`no torrents${offlineNote(control)}\n`);
      for (const t of torrents) {
        const progress = t.progress === null ? '   -' : `${Math.floor(t.progress * 100)}%`.padStart(4);
        process.stdout.write(
          `${String(t.id).padStart(4)}  ${t.infoHash.slice(0, 12)}  ${t.state.padEnd(11)} ${progress}  ↓${formatBytes(Math.round(t.downloadRate))}/s ↑${formatBytes(Math.round(t.uploadRate))}/s  ${sanitizeForTerminal(t.name)}\n`,
        );
      }
      if (torrents.length > 0 && control.mode === 'offline')
        process.stdout.write(`${offlineNote(control).trim()}\n`);
    });
  });
}
