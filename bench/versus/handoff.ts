/**
 * Handoff throughput benchmark (issue 14): one file sent over 127.0.0.1 by `peerdrop send` →
 * `peerdrop receive` (CPace, then every byte in AES-256-GCM frames) against peerdrop's own
 * plaintext transfer of the same file (`peerdrop seed` → `peerdrop get`, MSE off, same piece
 * length), in ONE run. Each side is its own process of the built CLI (`dist/`); the receiver runs
 * under `/usr/bin/time` (wall, CPU, peak RSS of the whole receive: handshake, metadata, pieces,
 * hashing, disk), the sender's CPU is read from /proc over the receiver's lifetime (so the
 * sender's own hashing before it is ready is not counted). `ratio` = plaintext wall time /
 * handoff wall time (target ≥ 0.8). With several rounds the runs alternate and each side's
 * fastest counts.
 *   node --import tsx bench/versus/handoff.ts [sizeMiB=1024] [--rounds N] [--json]
 *   npm run bench -- handoff --json
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent } from '../../src/storage/create-torrent.js';
import { freePort } from '../../test/helpers/ports.js';
import { type Managed, startProcess } from '../../test/helpers/process.js';
import { writeRandomFile } from '../../test/helpers/random-file.js';

export type Side = 'plaintext' | 'handoff';

export interface SideResult {
  readonly side: Side;
  readonly wallSeconds: number;
  readonly megabytesPerSecond: number;
  readonly receiverCpuSeconds: number;
  readonly senderCpuSeconds: number;
  readonly receiverPeakRssMB: number;
}

export interface HandoffBenchResult {
  readonly sizeBytes: number;
  readonly pieceLengthBytes: number;
  readonly rounds: number;
  readonly plaintext: SideResult;
  readonly handoff: SideResult;
  /** Plaintext wall time / handoff wall time (≥ 0.8 is the target). */
  readonly ratio: number;
  /** 1-minute load average before and after the run (2-core machine: above 2 is contention). */
  readonly loadAverage: readonly [number, number];
}

export interface HandoffBenchOptions {
  readonly sizeBytes?: number;
  readonly rounds?: number;
  /** Per-run limit (default: 30 s + 1 s per 10 MiB). */
  readonly timeoutMs?: number;
}

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TIME_FORMAT = 'BENCH_TIME %e %M %U %S';
const GIB = 1024 ** 3;
/** Both sides alike: no DHT, LSD, PEX or multicast rendezvous; loopback only. */
const QUIET = ['--no-dht', '--host', '127.0.0.1'];

export async function runHandoffBench(o: HandoffBenchOptions = {}): Promise<HandoffBenchResult> {
  const sizeBytes = o.sizeBytes ?? GIB;
  const rounds = Math.max(1, o.rounds ?? 1);
  const timeoutMs = o.timeoutMs ?? 30_000 + Math.ceil(sizeBytes / (10 * 1024 * 1024)) * 1000;
  const loadBefore = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), 'peerdrop-bench-handoff-'));
  try {
    const srcDir = join(work, 'src');
    mkdirSync(srcDir);
    const file = join(srcDir, 'bench.bin');
    writeRandomFile(file, sizeBytes);
    // The same piece length the sender picks (createTorrent's default) for the plaintext side.
    const created = await createTorrent(file, {});
    const torrentPath = join(work, 'bench.torrent');
    writeFileSync(torrentPath, created.torrentBytes);
    const c: RunContext = { work, srcDir, file, torrentPath, sizeBytes, timeoutMs };
    const best = new Map<Side, SideResult>();
    for (let round = 0; round < rounds; round++) {
      // Alternate which side goes first, so the page cache and writeback favour neither.
      const order: Side[] = round % 2 === 0 ? ['plaintext', 'handoff'] : ['handoff', 'plaintext'];
      for (const side of order) {
        const r = await runSide(side, c, round);
        const prev = best.get(side);
        if (!prev || r.wallSeconds < prev.wallSeconds) best.set(side, r);
      }
    }
    const plaintext = best.get('plaintext')!;
    const handoff = best.get('handoff')!;
    return {
      sizeBytes,
      pieceLengthBytes: created.pieceLengthBytes,
      rounds,
      plaintext,
      handoff,
      ratio: round2(plaintext.wallSeconds / handoff.wallSeconds),
      loadAverage: [round2(loadBefore), round2(loadavg()[0]!)],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface RunContext {
  readonly work: string;
  readonly srcDir: string;
  readonly file: string;
  readonly torrentPath: string;
  readonly sizeBytes: number;
  readonly timeoutMs: number;
}

async function runSide(side: Side, c: RunContext, round: number): Promise<SideResult> {
  const dir = join(c.work, `out-${side}-${round}`);
  const senderState = join(c.work, `state-send-${side}-${round}`);
  const receiverState = join(c.work, `state-recv-${side}-${round}`);
  mkdirSync(dir);
  let sender: Managed | null = null;
  let receiver: Managed | null = null;
  try {
    const port = await freePort();
    const envOf = (state: string) => ({ env: { ...process.env, PEERDROP_STATE_DIR: state, NO_COLOR: '1' } });
    let receiverArgs: string[];
    if (side === 'plaintext') {
      sender = startProcess(
        process.execPath,
        [
          CLI,
          'seed',
          c.torrentPath,
          '--dir',
          c.srcDir,
          '--port',
          String(port),
          '--json',
          '--encryption',
          'off',
          '--no-lsd',
          '--no-pex',
          ...QUIET,
        ],
        envOf(senderState),
      );
      await sender.waitFor(/"event":"done"/, c.timeoutMs);
      receiverArgs = [
        CLI,
        'get',
        c.torrentPath,
        '--dir',
        dir,
        '--peer',
        `127.0.0.1:${port}`,
        '--json',
        '--encryption',
        'off',
        '--no-lsd',
        '--no-pex',
        ...QUIET,
      ];
    } else {
      sender = startProcess(
        process.execPath,
        [CLI, 'send', c.file, '--port', String(port), '--json', '--no-lan', ...QUIET],
        envOf(senderState),
      );
      const m = await sender.waitFor(/"code":"([^"]+)"[\s\S]*"event":"ready"/, c.timeoutMs);
      receiverArgs = [
        CLI,
        'receive',
        m[1]!,
        '--peer',
        `127.0.0.1:${port}`,
        '--dir',
        dir,
        '--yes',
        '--json',
        '--no-lan',
        ...QUIET,
      ];
    }
    const senderPid = sender.child.pid!;
    const senderCpuBefore = cpuSecondsOf(senderPid);
    // `send` leaves on its own once the receiver completes: keep the last reading before that.
    let senderCpuAfter = senderCpuBefore;
    const sampler = setInterval(() => {
      senderCpuAfter = cpuSecondsOf(senderPid) ?? senderCpuAfter;
    }, 100);
    receiver = startProcess(
      '/usr/bin/time',
      ['-f', TIME_FORMAT, process.execPath, ...receiverArgs],
      envOf(receiverState),
    );
    const exit = await receiver.exited(c.timeoutMs).finally(() => clearInterval(sampler));
    senderCpuAfter = cpuSecondsOf(senderPid) ?? senderCpuAfter;
    const t = /BENCH_TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(receiver.output());
    if (exit !== 0 || !t)
      throw new Error(`${side} receiver exited ${exit}: ${receiver.output().slice(-1500)}`);
    execFileSync('/usr/bin/cmp', ['--silent', c.file, join(dir, 'bench.bin')]);
    const wallSeconds = Number(t[1]);
    return {
      side,
      wallSeconds,
      megabytesPerSecond: round2(c.sizeBytes / 1e6 / wallSeconds),
      receiverCpuSeconds: round2(Number(t[3]) + Number(t[4])),
      senderCpuSeconds:
        senderCpuBefore === null || senderCpuAfter === null
          ? Number.NaN
          : round2(senderCpuAfter - senderCpuBefore),
      receiverPeakRssMB: round2(Number(t[2]) / 1024),
    };
  } finally {
    await receiver?.stop();
    await sender?.stop();
    for (const p of [dir, senderState, receiverState]) rmSync(p, { recursive: true, force: true });
  }
}

/** utime + stime of a live process (null once it is gone). */
function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const isJson = args.includes('--json');
  const roundsAt = args.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 1;
  const sizeArg = args.find((a, i) => /^\d+$/.test(a) && (roundsAt < 0 || i !== roundsAt + 1));
  const r = await runHandoffBench({ sizeBytes: Number(sizeArg ?? 1024) * 1024 * 1024, rounds });
  if (isJson) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    for (const s of [r.plaintext, r.handoff])
      process.stdout.write(
        `${s.side.padEnd(9)}  ${s.wallSeconds} s  ${s.megabytesPerSecond} MB/s  receiver CPU ${s.receiverCpuSeconds} s  sender CPU ${s.senderCpuSeconds} s  RSS ${s.receiverPeakRssMB} MB\n`,
      );
    process.stdout.write(
      `ratio (plaintext time / handoff time): ${r.ratio}  (target ≥ 0.8; load ${r.loadAverage.join(' → ')})\n`,
    );
  }
}
