/**
 * Transfer benchmark (issues 5 and 11): one seeder → one leecher over 127.0.0.1, every pair in
 * ONE run: peerdrop→peerdrop, libtorrent→peerdrop, peerdrop→libtorrent, libtorrent→libtorrent,
 * aria2→aria2, transmission→peerdrop and transmission→libtorrent, and encrypted (MSE, RC4
 * forced on libtorrent, `--encryption require` on peerdrop) libtorrent→peerdrop and
 * libtorrent→libtorrent. Each client is its own process (peerdrop through the built CLI,
 * `dist/`), and the leecher runs under `/usr/bin/time` so wall time, peak RSS and CPU are per
 * process. Reported per pair: wall seconds, MB/s, leecher peak RSS, leecher CPU seconds per GiB;
 * `ratios`: the fastest plaintext reference pair's time (libtorrent→libtorrent, aria2→aria2) /
 * each peerdrop pair's (≥ 1.0 = peerdrop at least as fast; target ≥ 1.0, leecher RSS ≤ 200 MB);
 * `sameSeederRatios`: libtorrent-as-leecher time / peerdrop-as-leecher time from the same
 * seeder with the same encryption (targets: Transmission ≥ 0.8, i.e. ≤ 1.25× the time;
 * encrypted ≥ 0.8).
 *   node --import tsx bench/versus/transfer.ts [sizeMiB=1024] [pair,...]
 * where a pair is `seeder-leecher`, `+rc4` for the encrypted ones (`libtorrent-peerdrop+rc4`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import {
  aria2Args,
  libtorrentArgs,
  startOpentracker,
  transmissionCommand,
} from '../../test/helpers/clients/index.js';
import { freePort } from '../../test/helpers/ports.js';
import { type Managed, startProcess } from '../../test/helpers/process.js';
import { writeRandomFile } from '../../test/helpers/random-file.js';

/** Transmission seeds only (transmission-cli never exits on completion). */
export type Client = 'peerdrop' | 'libtorrent' | 'aria2' | 'transmission';
export interface Pair {
  readonly seeder: Client;
  readonly leecher: Exclude<Client, 'transmission'>;
  /** MSE with RC4 forced (libtorrent and peerdrop only). */
  readonly rc4?: boolean;
}

export const ALL_PAIRS: readonly Pair[] = [
  { seeder: 'peerdrop', leecher: 'peerdrop' },
  { seeder: 'libtorrent', leecher: 'peerdrop' },
  { seeder: 'peerdrop', leecher: 'libtorrent' },
  { seeder: 'libtorrent', leecher: 'libtorrent' },
  { seeder: 'aria2', leecher: 'aria2' },
  { seeder: 'transmission', leecher: 'peerdrop' },
  { seeder: 'transmission', leecher: 'libtorrent' },
  { seeder: 'libtorrent', leecher: 'peerdrop', rc4: true },
  { seeder: 'libtorrent', leecher: 'libtorrent', rc4: true },
];

/** `seeder→leecher`, with ` (rc4)` for encrypted pairs. */
export function pairName(p: Pair): string {
  return `${p.seeder}→${p.leecher}${p.rc4 ? ' (rc4)' : ''}`;
}

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
  /**
   * For each successful X→peerdrop pair with a successful X→libtorrent pair (same encryption):
   * that pair's time / peerdrop's (≥ 0.8 is the target for Transmission and RC4).
   */
  readonly sameSeederRatios: Readonly<Record<string, number>>;
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
      const pairs = o.pairs ?? ALL_PAIRS;
      const results: PairResult[] = [];
      for (const pair of pairs) {
        results.push(await runPair(pair, { work, srcDir, torrentPath, sizeBytes, timeoutMs }));
      }
      return summarize(sizeBytes, 2 ** log2Piece, pairs, results);
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
  const name = pairName(pair);
  const dir = join(c.work, `leech-${pair.seeder}-${pair.leecher}${pair.rc4 ? '-rc4' : ''}`);
  mkdirSync(dir);
  let seeder: Managed | null = null;
  let leecher: Managed | null = null;
  try {
    const seedPort = await freePort();
    seeder = startSeeder(pair, c, seedPort);
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

function startSeeder(pair: Pair, c: PairContext, port: number): Managed {
  switch (pair.seeder) {
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
        // The reference clients run without DHT too (no bootstrap lookups during the run).
        '--no-dht',
        ...(pair.rc4 ? ['--encryption', 'require'] : []),
      ]);
    case 'libtorrent':
      return startProcess(
        '/usr/bin/python3',
        libtorrentArgs({
          mode: 'seed',
          torrentPath: c.torrentPath,
          dir: c.srcDir,
          port,
          maxSeconds: 3600,
          forcedRc4: pair.rc4 === true,
        }),
      );
    case 'aria2':
      return startProcess(
        '/usr/bin/aria2c',
        aria2Args({ mode: 'seed', torrentPath: c.torrentPath, dir: c.srcDir, port }),
      );
    case 'transmission': {
      const t = transmissionCommand({ torrentPath: c.torrentPath, dir: c.srcDir, port });
      const proc = startProcess(t.command, t.args);
      proc.child.once('exit', () => rmSync(t.configDir, { recursive: true, force: true }));
      return proc;
    }
  }
}

/** Wait until the seeder has verified its data and announced (aria2 prints SEED in its summary). */
async function seederReady(client: Client, seeder: Managed, timeoutMs: number): Promise<void> {
  const re = { peerdrop: /"event":"done"/, libtorrent: /SEEDING/, aria2: /SEED\(/, transmission: /Seeding/ }[
    client
  ];
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
        '--no-dht',
        ...(pair.rc4 ? ['--encryption', 'require'] : []),
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
          forcedRc4: pair.rc4 === true,
        }),
      ];
    case 'aria2':
      // aria2 cannot be given a peer: it finds the seeder through the tracker.
      return ['/usr/bin/aria2c', ...aria2Args({ mode: 'leech', torrentPath: c.torrentPath, dir, port })];
  }
}

function summarize(
  sizeBytes: number,
  pieceLengthBytes: number,
  pairs: readonly Pair[],
  results: PairResult[],
): TransferBenchResult {
  const isReference = (p: Pair) =>
    !p.rc4 && p.seeder === p.leecher && (p.seeder === 'libtorrent' || p.seeder === 'aria2');
  const references = results.filter((r, i) => r.isOk && isReference(pairs[i]!));
  const fastest = references.reduce<PairResult | null>(
    (best, r) => (best && best.wallSeconds <= r.wallSeconds ? best : r),
    null,
  );
  const ratios: Record<string, number> = {};
  if (fastest) {
    for (const r of results)
      if (r.isOk && r.pair.includes('peerdrop')) ratios[r.pair] = round(fastest.wallSeconds / r.wallSeconds);
  }
  const sameSeederRatios: Record<string, number> = {};
  for (const [i, r] of results.entries()) {
    const p = pairs[i]!;
    if (!r.isOk || p.leecher !== 'peerdrop') continue;
    const ref = results.find((x) => x.isOk && x.pair === pairName({ ...p, leecher: 'libtorrent' }));
    if (ref) sameSeederRatios[r.pair] = round(ref.wallSeconds / r.wallSeconds);
  }
  return {
    sizeBytes,
    pieceLengthBytes,
    results,
    fastestReference: fastest?.pair ?? null,
    ratios,
    sameSeederRatios,
  };
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
  const key = (p: Pair) => `${p.seeder}-${p.leecher}${p.rc4 ? '+rc4' : ''}`;
  const pairs = wanted ? ALL_PAIRS.filter((p) => wanted.includes(key(p))) : ALL_PAIRS;
  const r = await runTransferBench({ sizeBytes: sizeMiB * 1024 * 1024, pairs });
  for (const x of r.results) process.stdout.write(`${JSON.stringify(x)}\n`);
  const { fastestReference, ratios, sameSeederRatios } = r;
  process.stdout.write(`${JSON.stringify({ fastestReference, ratios, sameSeederRatios })}\n`);
}
