/**
 * The watch folder: `.torrent` files dropped there are added, then renamed `<name>.added`; a
 * file that is not a usable torrent is renamed `<name>.invalid` and the reason is logged, so
 * nothing is retried forever and the user sees what happened in the folder itself. Scanned on
 * a Scheduler interval (no inotify: it misses files on network shares); a file still growing
 * (size or mtime changed since the last scan) waits for the next one.
 */
import { readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CancelTimer, Scheduler } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Daemon } from './daemon.js';
import { resolveDownloadDir } from './files.js';
import { MAX_TORRENT_BYTES } from './http-common.js';

export const WATCH_SCAN_MS = 5_000;
const MAX_FILES_PER_SCAN = 100;

export interface WatchResult {
  readonly added: string[];
  readonly invalid: { readonly file: string; readonly reason: string }[];
}

export class WatchFolder {
  private cancel: CancelTimer | null = null;
  private scanning: Promise<WatchResult> | null = null;
  /** size/mtime of files seen once: added when unchanged at the next scan. */
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly daemon: Daemon,
    private readonly scheduler: Scheduler,
  ) {}

  start(): void {
    this.cancel ??= this.scheduler.setInterval(WATCH_SCAN_MS, () => void this.scan().catch(() => {}));
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  /** One scan; `isSettled` skips the wait for a file to stop changing (tests, API). */
  scan(isSettled = false): Promise<WatchResult> {
    this.scanning ??= this.runScan(isSettled).finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async runScan(isSettled: boolean): Promise<WatchResult> {
    const result: WatchResult = { added: [], invalid: [] };
    const setting = this.daemon.settings().watchDir;
    if (setting === null) return result;
    const dir = await resolveDownloadDir(this.daemon.downloadRoot, setting);
    const names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.torrent')).sort();
    for (const name of names.slice(0, MAX_FILES_PER_SCAN)) {
      const path = join(dir, name);
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) continue;
      const mark = `${st.size}/${st.mtimeMs}`;
      if (!isSettled && this.pending.get(path) !== mark) {
        this.pending.set(path, mark);
        continue;
      }
      this.pending.delete(path);
      const reason = await this.addFile(path, st.size);
      if (reason === null) {
        await rename(path, `${path}.added`).catch(() => {});
        result.added.push(name);
        this.daemon.log('info', `watch folder: added ${name}`);
      } else {
        await rename(path, `${path}.invalid`).catch(() => {});
        result.invalid.push({ file: name, reason });
        this.daemon.log(
          'warn',
          `watch folder: ${name} is not a usable torrent (${reason}); renamed .invalid`,
        );
      }
    }
    return result;
  }

  /** Add one file; returns why it could not be added, or null. */
  private async addFile(path: string, sizeBytes: number): Promise<string | null> {
    if (sizeBytes > MAX_TORRENT_BYTES)
      return `${sizeBytes} bytes is over the ${MAX_TORRENT_BYTES}-byte limit`;
    try {
      await this.daemon.add({ torrent: new Uint8Array(await readFile(path)) });
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }
}
