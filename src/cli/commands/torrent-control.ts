import type { Command } from 'commander';
import { connectToDaemon, type TorrentControl } from '../../daemon/client.js';
import { defaultDataDir } from '../../daemon/config.js';

/** `--data-dir` for the commands that drive the daemon (`add`, `list`, `pause`…). */
export function dataDirOption(command: Command): Command {
  return command.option('--data-dir <dir>', "the daemon's state folder (default $XDG_DATA_HOME/peerdrop)");
}

/** Run `fn` against the running daemon, or the store when none runs. */
export async function withControl<T>(
  opts: { dataDir?: string; downloadDir?: string },
  fn: (control: TorrentControl) => Promise<T>,
): Promise<T> {
  const control = await connectToDaemon(opts.dataDir ?? defaultDataDir(), opts.downloadDir);
  try {
    return await fn(control);
  } finally {
    control.close();
  }
}

export function offlineNote(control: TorrentControl): string {
  return control.mode === 'offline' ? ' (no daemon running: saved for its next start)' : '';
}
