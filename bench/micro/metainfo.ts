/**
 * Micro-benchmark of `parseMetainfo` on very large torrents: parse time and heap for 100,000,
 * 600,000 and 1,000,000 files (v1, two-level paths), the sizes issue 9 measured.
 *   node --expose-gc --import tsx bench/micro/metainfo.ts [fileCount ...]
 * Heap figures are exact only with --expose-gc (without it they include uncollected garbage).
 */
import { parseMetainfo } from '../../src/metainfo/parse.js';
import { hugeTorrent } from '../../test/helpers/huge-torrent.js';

export interface MetainfoBenchRow {
  readonly fileCount: number;
  readonly torrentBytes: number;
  readonly parseMs: number;
  /** CPU time of the parse (user + system), less sensitive to a busy machine than wall time. */
  readonly cpuMs: number;
  /** Heap held by the parsed `Metainfo` (after a GC when available). */
  readonly retainedHeapBytes: number;
  /** Heap in use right after parsing, garbage included. */
  readonly peakHeapBytes: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

export function runMetainfoBench(
  fileCounts: readonly number[] = [100_000, 600_000, 1_000_000],
): MetainfoBenchRow[] {
  const rows: MetainfoBenchRow[] = [];
  for (const fileCount of fileCounts) {
    const bytes = hugeTorrent(fileCount);
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const m = parseMetainfo(bytes);
    const parseMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const peak = process.memoryUsage().heapUsed - before;
    gc?.();
    const retained = process.memoryUsage().heapUsed - before;
    if (m.files.length !== fileCount) throw new Error(`parsed ${m.files.length} of ${fileCount} files`);
    rows.push({
      fileCount,
      torrentBytes: bytes.length,
      parseMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      retainedHeapBytes: retained,
      peakHeapBytes: peak,
    });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  for (const r of runMetainfoBench(counts.length ? counts : undefined)) {
    process.stdout.write(
      `metainfo: ${r.fileCount} files (${mib(r.torrentBytes)} torrent)  parse ${r.parseMs.toFixed(0)} ms ` +
        `(cpu ${r.cpuMs.toFixed(0)} ms)  heap retained ${mib(r.retainedHeapBytes)}, peak ${mib(r.peakHeapBytes)}` +
        `${gc ? '' : ' (no --expose-gc)'}\n`,
    );
  }
}
