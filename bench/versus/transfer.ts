/**
 * Transfer benchmark (issue 5): one seeder → one leecher over 127.0.0.1, every pair in ONE run:
 * peerdrop→peerdrop, libtorrent→peerdrop, peerdrop→libtorrent, libtorrent→libtorrent and
 * aria2→aria2. Each client is its own process (peerdrop through the built CLI, `dist/`), and
 * the leecher runs under `/usr/bin/time` so wall time, peak RSS and CPU are per process.
 * Reported per pair: wall seconds, MB/s, leecher peak RSS, leecher CPU seconds per GiB; and
 * the ratio of the fastest reference pair's time to each peerdrop pair's (≥ 1.0 = peerdrop at
 * least as fast). Targets: ratio ≥ 1.0, leecher RSS ≤ 200 MB.
 *   node --import tsx bench/versus/transfer.ts [sizeMiB=1024] [pair,...]
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import { aria2Args, libtorrentArgs, startOpentracker } from '../../test/helpers/clients/index.js';
import { freePort } from '../../test/helpers/ports.js';
import { type Managed, startProcess } from '../../test/helpers/process.js';

export type Client = 'peerdrop' | 'libtorrent' | 'aria2';
export interface Pair {
  readonly seeder: Client;
  readonly leecher: Client;
}

export const ALL_PAIRS: readonly Pair[] = [
  { seeder: 'peerdrop', leecher: 'peerdrop' },
  { seeder: 'libtorrent', leecher: 'peerdrop' },
  { seeder: 'peerdrop', leecher: 'libtorrent' },
  { seeder: 'libtorrent', leecher: 'libtorrent' },
  { seeder: 'aria2', leecher: 'aria2' },
];

export interface PairResult {
  readonly pair: string;
  readonly isOk: boolean;
  readonly error?: string;
  readonly wallSeconds: number;
  readonly megabytesPerSecond: number;
  readonly leecherPeakRssMB: number;
  readonly leecherCpuSecondsPerGiB: number;
}

export interface TransferBenchResult {
  readonly sizeBytes: number;
  readonly pieceLengthBytes: number;
  readonly results: readonly PairResult[];
  /** The fastest successful pair without peerdrop. */
  readonly fastestReference: string | null;
  /** For each successful pair with peerdrop: fastest reference time / its time (≥ 1.0 is the target). */
  readonly ratios: Readonly<Record<string, number>>;
}

export interface TransferBenchOptions {
  readonly sizeBytes?: number;
  readonly pairs?: readonly Pair[];
  /** Per-pair limit (default: 30 s + 1 s per 10 MiB). */
  readonly timeoutMs?: number;
}

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TIME_FORMAT = 'BENCH_TIME %e %M %U %S';
const GIB = 1024 ** 3;

/** Run the benchmark; data lives in a temporary folder that is always removed. */
export async function runTransferBench(o: TransferBenchOptions = {}): Promise<TransferBenchResult> {
  const sizeBytes = o.sizeBytes ?? GIB;
  // 1 MiB pieces for large sizes (as real clients pick), 64 KiB for the smoke size.
  const log2Piece = sizeBytes >= 256 * 1024 * 1024 ? 20 : 16;
  const timeoutMs = o.timeoutMs ?? 30_000 + Math.ceil(sizeBytes / (10 * 1024 * 1024)) * 1000;
  const work = mkdtempSync(join(tmpdir(), 'peerdrop-bench-'));
  try {
    const srcDir = join(work, 'src');
    mkdirSync(srcDir);
    writeRandomFile(join(srcDir, 'bench.bin'), sizeBytes);
    const probe = join(work, 'probe.torrent');
    execFileSync(
      '/usr/bin/mktorrent',
      [
        '-l',
        String(log2Piece),
        '-t',
        '2',
        '-a',
        'http://127.0.0.1:1/a',
        '-o',
        probe,
        join(srcDir, 'bench.bin'),
      ],
      { stdio: 'ignore' },
    );
    const infoHash = torrentInfoHash(probe);
    const tracker = await startOpentracker([infoHash]);
    try {
      const torrentPath = join(work, 'bench.torrent');
      execFileSync(
        '/usr/bin/mktorrent',
        [
          '-l',
          String(log2Piece),
          '-t',
          '2',
          '-a',
          tracker.announceUrl,
          '-o',
          torrentPath,
          join(srcDir, 'bench.bin'),
        ],
        { stdio: 'ignore' },
      );
      const results: PairResult[] = [];
      for (const pair of o.pairs ?? ALL_PAIRS) {
        results.push(await runPair(pair, { work, srcDir, torrentPath, sizeBytes, timeoutMs }));
      }
      return summarize(sizeBytes, 2 ** log2Piece, results);
    } finally {
      await tracker.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface PairContext {
  readonly work: string;
  readonly srcDir: string;
  readonly torrentPath: string;
  readonly sizeBytes: number;
  readonly timeoutMs: number;
}

async function runPair(pair: Pair, c: PairContext): Promise<PairResult> {
  const name = `${pair.seeder}→${pair.leecher}`;
  const dir = join(c.work, `leech-${pair.seeder}-${pair.leecher}`);
  mkdirSync(dir);
  let seeder: Managed | null = null;
  let leecher: Managed | null = null;
  try {
    const seedPort = await freePort();
    seeder = startSeeder(pair.seeder, c, seedPort);
    await seederReady(pair.seeder, seeder, c.timeoutMs);
    const leechPort = await freePort();
    leecher = startProcess('/usr/bin/time', [
      '-f',
      TIME_FORMAT,
      ...leecherCommand(pair, c, dir, leechPort, seedPort),
    ]);
    const code = await leecher.exited(c.timeoutMs);
    const m = /BENCH_TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(leecher.output());
    if (code !== 0 || !m) throw new Error(`leecher exited ${code}: ${leecher.output().slice(-1500)}`);
    verifySameBytes(join(c.srcDir, 'bench.bin'), join(dir, 'bench.bin'));
    const wallSeconds = Number(m[1]);
    const cpuSeconds = Number(m[3]) + Number(m[4]);
    return {
      pair: name,
      isOk: true,
      wallSeconds,
      megabytesPerSecond: round(c.sizeBytes / 1e6 / wallSeconds),
      leecherPeakRssMB: round(Number(m[2]) / 1024),
      leecherCpuSecondsPerGiB: round(cpuSeconds / (c.sizeBytes / GIB)),
    };
  } catch (err) {
    return {
      pair: name,
      isOk: false,
      error: (err as Error).message.slice(0, 2000),
      wallSeconds: Number.NaN,
      megabytesPerSecond: Number.NaN,
      leecherPeakRssMB: Number.NaN,
      leecherCpuSecondsPerGiB: Number.NaN,
    };
  } finally {
    await leecher?.stop();
    await seeder?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function startSeeder(client: Client, c: PairContext, port: number): Managed {
  switch (client) {
    case 'peerdrop':
      return startProcess(process.execPath, [
        CLI,
        'seed',
        c.torrentPath,
        '--dir',
        c.srcDir,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--json',
      ]);
    case 'libtorrent':
      return startProcess(
        '/usr/bin/python3',
        libtorrentArgs({ mode: 'seed', torrentPath: c.torrentPath, dir: c.srcDir, port, maxSeconds: 3600 }),
      );
    case 'aria2':
      return startProcess(
        '/usr/bin/aria2c',
        aria2Args({ mode: 'seed', torrentPath: c.torrentPath, dir: c.srcDir, port }),
      );
  }
}

/** Wait until the seeder has verified its data and announced (aria2 prints SEED in its summary). */
async function seederReady(client: Client, seeder: Managed, timeoutMs: number): Promise<void> {
  const re = { peerdrop: /"event":"done"/, libtorrent: /SEEDING/, aria2: /SEED\(/ }[client];
  await seeder.waitFor(re, timeoutMs);
}

function leecherCommand(pair: Pair, c: PairContext, dir: string, port: number, seedPort: number): string[] {
  const peer = `127.0.0.1:${seedPort}`;
  switch (pair.leecher) {
    case 'peerdrop':
      return [
        process.execPath,
        CLI,
        'get',
        c.torrentPath,
        '--dir',
        dir,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--peer',
        peer,
        '--json',
      ];
    case 'libtorrent':
      return [
        '/usr/bin/python3',
        ...libtorrentArgs({
          mode: 'leech',
          torrentPath: c.torrentPath,
          dir,
          port,
          peers: [peer],
          maxSeconds: c.timeoutMs / 1000,
        }),
      ];
    case 'aria2':
      // aria2 cannot be given a peer: it finds the seeder through the tracker.
      return ['/usr/bin/aria2c', ...aria2Args({ mode: 'leech', torrentPath: c.torrentPath, dir, port })];
  }
}

function summarize(sizeBytes: number, pieceLengthBytes: number, results: PairResult[]): TransferBenchResult {
  const references = results.filter((r) => r.isOk && !r.pair.includes('peerdrop'));
  const fastest = references.reduce<PairResult | null>(
    (best, r) => (best && best.wallSeconds <= r.wallSeconds ? best : r),
    null,
  );
  const ratios: Record<string, number> = {};
  if (fastest) {
    for (const r of results)
      if (r.isOk && r.pair.includes('peerdrop')) ratios[r.pair] = round(fastest.wallSeconds / r.wallSeconds);
  }
  return { sizeBytes, pieceLengthBytes, results, fastestReference: fastest?.pair ?? null, ratios };
}

function writeRandomFile(path: string, sizeBytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.alloc(Math.min(16 * 1024 * 1024, Math.max(1, sizeBytes)));
    for (let done = 0; done < sizeBytes; ) {
      const n = Math.min(chunk.length, sizeBytes - done);
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n);
      done += n;
    }
    // On disk before any pair runs: otherwise the kernel's writeback of this file overlaps
    // (and slows) whichever pair happens to run first.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function torrentInfoHash(torrentPath: string): string {
  return Buffer.from(wireInfoHash(parseMetainfo(readFileSync(torrentPath)))).toString('hex');
}

/** Compare the downloaded file with the source in 16 MiB chunks (cmp is exact and fast). */
function verifySameBytes(expected: string, actual: string): void {
  execFileSync('/usr/bin/cmp', ['--silent', expected, actual]);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const wanted = process.argv[3]?.split(',');
  const pairs = wanted ? ALL_PAIRS.filter((p) => wanted.includes(`${p.seeder}-${p.leecher}`)) : ALL_PAIRS;
  const r = await runTransferBench({ sizeBytes: sizeMiB * 1024 * 1024, pairs });
  for (const x of r.results) process.stdout.write(`${JSON.stringify(x)}\n`);
  process.stdout.write(`${JSON.stringify({ fastestReference: r.fastestReference, ratios: r.ratios })}\n`);
}
