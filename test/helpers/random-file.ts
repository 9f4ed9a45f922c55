import { randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/**
 * A file of random bytes, written in 16 MiB chunks and synced: on disk before a benchmark's
 * first run, so the kernel's writeback of it does not overlap (and slow) whichever side runs first.
 */
export function writeRandomFile(path: string, sizeBytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.alloc(Math.min(16 * 1024 * 1024, Math.max(1, sizeBytes)));
    for (let done = 0; done < sizeBytes; ) {
      const n = Math.min(chunk.length, sizeBytes - done);
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n);
      done += n;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
