/**
 * `peerdrop create` (the built CLI) against `mktorrent -t 2` on the same file and piece length,
 * in one run: both run once to warm the page cache, then alternate `runs` times each. Prints the
 * median times, the ratio mktorrent/peerdrop (≥ 1.0 means peerdrop is at least as fast) and
 * peerdrop's peak RSS (from `/usr/bin/time`). Also checks that both produce the same info-hash.
 *
 *   node --import tsx bench/versus/create.ts [size, default 1GiB] [piece length, default 1MiB]
 *   PEERDROP_BENCH_SIZE=64MiB node --import tsx bench/versus/create.ts
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSize } from '../../src/cli/output.js';
import { infoHashV1 } from '../../src/metainfo/info-hash.js';
import { parseMetainfo } from '../../src/metainfo/parse.js';
import { toHex } from '../../src/util/bytes.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TIME = '/usr/bin/time';
const MKTORRENT = '/usr/bin/mktorrent';

export interface CreateBenchOptions {
  readonly sizeBytes: number;
  readonly pieceLengthBytes: number;
  /** Timed runs of each tool after the warm-up run. */
  readonly runs: number;
}

export interface CreateBenchResult {
  readonly sizeBytes: number;
  readonly pieceLengthBytes: number;
  readonly peerdropMs: readonly number[];
  readonly mktorrentMs: readonly number[];
  readonly peerdropMedianMs: number;
  readonly mktorrentMedianMs: number;
  /** mktorrent time / peerdrop time: ≥ 1 means peerdrop is at least as fast. */
  readonly ratio: number;
  /** Peak RSS of the peerdrop process over all runs, or null without /usr/bin/time. */
  readonly peerdropPeakRssBytes: number | null;
  readonly isSameInfoHash: boolean;
}

interface Run {
  readonly ms: number;
  readonly rssBytes: number | null;
}

function timed(cmd: string, args: readonly string[]): Run {
  const hasTime = existsSync(TIME);
  const started = process.hrtime.bigint();
  const r = hasTime
    ? spawnSync(TIME, ['-f', '%M', cmd, ...args], { encoding: 'utf8', timeout: 300_000 })
    : spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  const kb = hasTime ? Number(r.stderr.trim().split('\n').at(-1)) : Number.NaN;
  return { ms, rssBytes: Number.isFinite(kb) ? kb * 1024 : null };
}

function writeContent(path: string, sizeBytes: number): void {
  // 16 MiB of random bytes, rewritten with a changing first byte: incompressible, fast to make.
  const chunk = randomBytes(Math.min(sizeBytes, 16 * 1024 * 1024));
  const fd = openSync(path, 'w');
  try {
    for (let written = 0, i = 0; written < sizeBytes; i++) {
      chunk[0] = i & 255;
      written += writeSync(fd, chunk, 0, Math.min(chunk.length, sizeBytes - written));
    }
  } finally {
    closeSync(fd);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function hashOf(torrentPath: string): string {
  return toHex(infoHashV1(parseMetainfo(readFileSync(torrentPath)).infoBytes));
}

/** Run the comparison (needs `dist/` built and mktorrent installed). */
export function benchCreate(options: CreateBenchOptions): CreateBenchResult {
  const dir = mkdtempSync(join(tmpdir(), 'peerdrop-bench-create-'));
  try {
    const data = join(dir, 'content.bin');
    writeContent(data, options.sizeBytes);
    const pdOut = join(dir, 'pd.torrent');
    const mkOut = join(dir, 'mk.torrent');
    const log2 = String(Math.log2(options.pieceLengthBytes));
    const peerdrop = () =>
      timed(process.execPath, [
        CLI,
        'create',
        data,
        '--piece-length',
        String(options.pieceLengthBytes),
        '-o',
        pdOut,
        '--force',
      ]);
    const mktorrent = () => {
      rmSync(mkOut, { force: true }); // mktorrent never overwrites
      return timed(MKTORRENT, ['-t', '2', '-l', log2, '-o', mkOut, data]);
    };
    peerdrop(); // warm the page cache and both binaries
    mktorrent();
    const pd: Run[] = [];
    const mk: Run[] = [];
    for (let i = 0; i < options.runs; i++) {
      pd.push(peerdrop());
      mk.push(mktorrent());
    }
    const rss = pd.map((r) => r.rssBytes).filter((x): x is number => x !== null);
    const peerdropMedianMs = median(pd.map((r) => r.ms));
    const mktorrentMedianMs = median(mk.map((r) => r.ms));
    return {
      sizeBytes: options.sizeBytes,
      pieceLengthBytes: options.pieceLengthBytes,
      peerdropMs: pd.map((r) => r.ms),
      mktorrentMs: mk.map((r) => r.ms),
      peerdropMedianMs,
      mktorrentMedianMs,
      ratio: mktorrentMedianMs / peerdropMedianMs,
      peerdropPeakRssBytes: rss.length > 0 ? Math.max(...rss) : null,
      isSameInfoHash: hashOf(pdOut) === hashOf(mkOut),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: CreateBenchResult): string {
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  return [
    `create: ${mib(r.sizeBytes)} MiB, piece length ${mib(r.pieceLengthBytes)} MiB, ${r.peerdropMs.length} runs each (page cache warm)`,
    `  peerdrop   median ${r.peerdropMedianMs.toFixed(0)} ms  runs ${r.peerdropMs.map((x) => x.toFixed(0)).join(', ')}`,
    `  mktorrent  median ${r.mktorrentMedianMs.toFixed(0)} ms  runs ${r.mktorrentMs.map((x) => x.toFixed(0)).join(', ')}`,
    `  ratio mktorrent/peerdrop = ${r.ratio.toFixed(2)} (target >= 1.0)`,
    `  peerdrop peak RSS = ${r.peerdropPeakRssBytes === null ? 'n/a' : `${mib(r.peerdropPeakRssBytes)} MiB`} (target <= 150 MB)`,
    `  same info-hash: ${r.isSameInfoHash}`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = process.argv.includes('--json');
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const sizeText = positional[0] ?? process.env.PEERDROP_BENCH_SIZE ?? '1GiB';
  const plText = positional[1] ?? process.env.PEERDROP_BENCH_PIECE_LENGTH ?? '1MiB';
  const sizeBytes = parseSize(sizeText);
  const pieceLengthBytes = parseSize(plText);
  if (!sizeBytes || !pieceLengthBytes) throw new Error(`bad size "${sizeText}" or piece length "${plText}"`);
  const runs = Number(process.env.PEERDROP_BENCH_RUNS ?? 3);
  const r = benchCreate({ sizeBytes, pieceLengthBytes, runs });
  if (json) {
    const line = {
      bench: 'create',
      sizeBytes: r.sizeBytes,
      pieceLengthBytes: r.pieceLengthBytes,
      ratio: r.ratio,
      target: 1.0,
      peerdrop: { medianMs: r.peerdropMedianMs, runsMs: r.peerdropMs, peakRssBytes: r.peerdropPeakRssBytes },
      mktorrent: { medianMs: r.mktorrentMedianMs, runsMs: r.mktorrentMs },
      isSameInfoHash: r.isSameInfoHash,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } else process.stdout.write(`${report(r)}\n`);
}
