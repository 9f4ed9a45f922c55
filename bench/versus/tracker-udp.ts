/**
 * UDP announce throughput (BEP 15): `peerdrop tracker` against Debian's `opentracker` and the
 * npm `bittorrent-tracker` server, one load generator, same synthetic swarm, same machine,
 * one run. Each tracker is pinned to one core (taskset) and the generator to the other.
 *
 *   node --import tsx bench/versus/tracker-udp.ts [--torrents 1000] [--peers 100]
 *        [--seconds 10] [--only peerdrop,opentracker,bittorrent-tracker] [--json]
 *
 * Phases per tracker: `load` (every peer announces `started` once: 100k announces for the
 * default swarm) then `steady` (random re-announces for `--seconds`). The headline figure is
 * steady announces/s; ratios are peerdrop/other. Memory: an in-process probe (SwarmRegistry
 * only, `--expose-gc`, heap delta for 100k peers) and the tracker process's RSS delta.
 * The npm tracker lives in its own package (bench/versus/tracker-ref/), installed on demand.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwarmRegistry } from '../../src/tracker/server/swarm-registry.js';
import { systemClock } from '../../src/util/clock.js';
import { mathRandom } from '../../src/util/random.js';
import { freePort } from '../../test/helpers/ports.js';
import { type Managed, startProcess } from '../../test/helpers/process.js';
import { infoHashOf, type LoadResult, runLoad, type Swarm } from './tracker-udp-loadgen.js';

const PYTHON = '/usr/bin/python3';
const PY_LOADGEN = fileURLToPath(new URL('./tracker-udp-loadgen.py', import.meta.url));

/**
 * One load phase with the Python generator (pinned to core 0) when Debian's python3 is there,
 * else the Node one (which cannot keep a C tracker busy: figures then say so).
 */
async function load(
  port: number,
  swarm: Swarm,
  mode: 'load' | 'steady',
  requests: number,
  maxMs: number,
): Promise<LoadResult> {
  if (!existsSync(PYTHON)) return runLoad({ port, swarm, mode, requests, maxMs, seed: 7 });
  const args = [
    PY_LOADGEN,
    '--port',
    String(port),
    '--torrents',
    String(swarm.torrents),
    '--peers',
    String(swarm.peersPerTorrent),
    '--mode',
    mode,
    '--requests',
    String(requests),
    '--seconds',
    String(maxMs / 1000),
  ];
  const [cmd, full] = existsSync('/usr/bin/taskset')
    ? ['/usr/bin/taskset', ['-c', '0', PYTHON, ...args]]
    : [PYTHON, args];
  const proc = startProcess(cmd, full);
  const code = await proc.exited(maxMs + 60_000);
  const line = proc.output().trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{'))
    throw new Error(`load generator failed (${code}): ${proc.output().slice(-2000)}`);
  const r = JSON.parse(line) as LoadResult & { error?: string };
  if (r.error) throw new Error(`load generator: ${r.error}`);
  return r;
}

export type TrackerName = 'peerdrop' | 'opentracker' | 'bittorrent-tracker';

export interface TrackerBenchOptions {
  readonly swarm?: Swarm;
  readonly steadySeconds?: number;
  readonly only?: readonly TrackerName[];
  /** Measure registry memory per 100k peers in a child with --expose-gc (default true). */
  readonly memoryProbe?: boolean;
}

export interface TrackerBenchRow {
  readonly tracker: TrackerName;
  readonly skipped?: string;
  readonly load?: LoadResult;
  readonly steady?: LoadResult;
  /** CPU seconds the tracker process used during the steady phase (from /proc). */
  readonly steadyCpuSeconds?: number;
  /** Steady announces per CPU-second of the tracker: its capacity on one core. */
  readonly announcesPerCpuSecond?: number;
  /** peerdrop only: RSS and heap of the tracker process before and after loading the swarm. */
  readonly process?: {
    readonly rssDeltaBytes: number;
    readonly heapDeltaBytes: number;
    readonly peers: number;
  };
}

export interface TrackerBenchResult {
  readonly swarm: Swarm;
  readonly rows: readonly TrackerBenchRow[];
  /** peerdrop / other, on announces per CPU-second (capacity on one core). */
  readonly ratios: { readonly vsBittorrentTracker: number | null; readonly vsOpentracker: number | null };
  /** peerdrop / other, on observed steady announces/s (bounded by the one load generator). */
  readonly observedRatios: {
    readonly vsBittorrentTracker: number | null;
    readonly vsOpentracker: number | null;
  };
  readonly memory: {
    readonly heapBytesPer100kPeers: number;
    readonly rssBytesPer100kPeers: number;
  } | null;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REF_DIR = fileURLToPath(new URL('./tracker-ref/', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

function pinned(cmd: string, args: string[]): [string, string[]] {
  return existsSync('/usr/bin/taskset') ? ['/usr/bin/taskset', ['-c', '1', cmd, ...args]] : [cmd, args];
}

/** Install the reference tracker in its own package, once (idempotent). */
export function ensureReferenceTracker(): string | null {
  if (existsSync(join(REF_DIR, 'node_modules', 'bittorrent-tracker', 'package.json'))) return null;
  const r = spawnSync(
    'flock',
    ['/tmp/npm.lock', 'npm', 'install', '--no-audit', '--no-fund', '--loglevel=error'],
    {
      cwd: REF_DIR,
      env: { ...process.env, npm_config_yes: 'true' },
      stdio: 'inherit',
      timeout: 300_000,
    },
  );
  return r.status === 0 ? null : `npm install in ${REF_DIR} failed (exit ${r.status})`;
}

async function waitUdpReady(port: number, timeoutMs: number): Promise<void> {
  const r = await runLoad({
    port,
    swarm: { torrents: 1, peersPerTorrent: 1 },
    mode: 'load',
    requests: 1,
    maxMs: timeoutMs,
    sockets: 1,
  });
  if (r.answered === 0 && r.errors === 0) throw new Error(`no UDP tracker answering on ${port}`);
}

async function startTracker(
  name: TrackerName,
  swarm: Swarm,
  work: string,
): Promise<{ proc: Managed; udpPort: number; statsUrl?: string }> {
  const udpPort = await freePort();
  if (name === 'peerdrop') {
    const httpPort = await freePort();
    const [cmd, args] = pinned(process.execPath, [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'tracker',
      '--bind',
      '127.0.0.1',
      '--http-port',
      String(httpPort),
      '--udp-port',
      String(udpPort),
      '--rate-limit',
      '0',
    ]);
    const proc = startProcess(cmd, args, { cwd: ROOT });
    await proc.waitFor(/announce udp:/, 20_000);
    return { proc, udpPort, statsUrl: `http://127.0.0.1:${httpPort}/stats` };
  }
  if (name === 'opentracker') {
    const dir = mkdtempSync(join(work, 'ot-'));
    chmodSync(dir, 0o755);
    const hashes = Array.from({ length: swarm.torrents }, (_, t) => infoHashOf(t).toString('hex'));
    writeFileSync(join(dir, 'whitelist.txt'), `${hashes.join('\n')}\n`, { mode: 0o644 });
    const [cmd, args] = pinned('/usr/bin/opentracker', [
      '-i',
      '127.0.0.1',
      '-p',
      String(await freePort()),
      '-P',
      String(udpPort),
      '-d',
      dir,
      '-w',
      '/whitelist.txt',
    ]);
    const proc = startProcess(cmd, args);
    await waitUdpReady(udpPort, 10_000);
    return { proc, udpPort };
  }
  const [cmd, args] = pinned(process.execPath, [join(REF_DIR, 'server.mjs'), String(udpPort)]);
  const proc = startProcess(cmd, args, { cwd: REF_DIR });
  await proc.waitFor(/LISTENING/, 20_000);
  return { proc, udpPort };
}

/** utime + stime of a process in seconds (Linux /proc), or null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5); after the ")" the list starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function processMemory(statsUrl: string): Promise<{ rss: number; heap: number; peers: number }> {
  const s = (await (await fetch(statsUrl)).json()) as {
    peers: number;
    memory: { rssBytes: number; heapUsedBytes: number };
  };
  return { rss: s.memory.rssBytes, heap: s.memory.heapUsedBytes, peers: s.peers };
}

async function benchOne(
  name: TrackerName,
  swarm: Swarm,
  steadySeconds: number,
  work: string,
): Promise<TrackerBenchRow> {
  const skip =
    name === 'opentracker' && !existsSync('/usr/bin/opentracker') ? 'opentracker not installed' : null;
  if (skip) return { tracker: name, skipped: skip };
  if (name === 'bittorrent-tracker') {
    const failed = ensureReferenceTracker();
    if (failed) return { tracker: name, skipped: failed };
  }
  const t = await startTracker(name, swarm, work);
  try {
    const before = t.statsUrl ? await processMemory(t.statsUrl) : null;
    const total = swarm.torrents * swarm.peersPerTorrent;
    const loaded = await load(t.udpPort, swarm, 'load', total, 120_000);
    const after = t.statsUrl ? await processMemory(t.statsUrl) : null;
    const cpuBefore = cpuSeconds(t.proc.child.pid);
    const steady = await load(t.udpPort, swarm, 'steady', 50_000_000, steadySeconds * 1000);
    const cpuAfter = cpuSeconds(t.proc.child.pid);
    const cpu = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
    const row: TrackerBenchRow = {
      tracker: name,
      load: loaded,
      steady,
      ...(cpu !== null && cpu > 0
        ? { steadyCpuSeconds: cpu, announcesPerCpuSecond: steady.answered / cpu }
        : {}),
    };
    if (before && after) {
      return {
        ...row,
        process: {
          rssDeltaBytes: after.rss - before.rss,
          heapDeltaBytes: after.heap - before.heap,
          peers: after.peers,
        },
      };
    }
    return row;
  } finally {
    await t.proc.stop();
  }
}

/** Registry-only memory for `peers` peers, measured in a child with --expose-gc. */
function memoryProbe(swarm: Swarm): { heapBytes: number; rssBytes: number; peers: number } {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      SELF,
      '--memory-probe',
      String(swarm.torrents),
      String(swarm.peersPerTorrent),
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`memory probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    heapBytes: number;
    rssBytes: number;
    peers: number;
  };
}

function runMemoryProbe(torrents: number, peersPerTorrent: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const registry = new SwarmRegistry({ clock: systemClock, random: mathRandom, maxPeers: 10_000_000 });
  gc();
  const before = process.memoryUsage();
  for (let p = 0; p < peersPerTorrent; p++) {
    for (let t = 0; t < torrents; t++) {
      const peerId = Buffer.from('-BN0001-000000000000');
      peerId.writeUInt32BE(t, 8);
      peerId.writeUInt32BE(p, 12);
      registry.announce(
        {
          infoHash: infoHashOf(t),
          peerId,
          port: 10_000 + p,
          uploaded: 0,
          downloaded: 0,
          left: p % 5 === 0 ? 0 : 1000,
          event: 'started',
          key: t * 7919 + p,
          numWant: 0,
        },
        { host: `10.${(p >> 8) & 255}.${p & 255}.${t & 255}`, family: 4 },
      );
    }
  }
  gc();
  const after = process.memoryUsage();
  const peers = registry.totals().peers;
  process.stdout.write(
    `${JSON.stringify({ heapBytes: after.heapUsed - before.heapUsed, rssBytes: after.rss - before.rss, peers })}\n`,
  );
}

export async function runTrackerUdpBench(o: TrackerBenchOptions = {}): Promise<TrackerBenchResult> {
  const swarm = o.swarm ?? { torrents: 1000, peersPerTorrent: 100 };
  const only = o.only ?? ['peerdrop', 'opentracker'];
  const work = mkdtempSync(join(tmpdir(), 'peerdrop-bench-trk-'));
  const rows: TrackerBenchRow[] = [];
  try {
    for (const name of only) rows.push(await benchOne(name, swarm, o.steadySeconds ?? 10, work));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const observed = (n: TrackerName): number | null =>
    rows.find((r) => r.tracker === n)?.steady?.announcesPerSecond ?? null;
  const capacity = (n: TrackerName): number | null =>
    rows.find((r) => r.tracker === n)?.announcesPerCpuSecond ?? null;
  const ratioOf = (f: (n: TrackerName) => number | null, other: TrackerName): number | null => {
    const a = f('peerdrop');
    const b = f(other);
    return a !== null && b !== null && b > 0 ? a / b : null;
  };
  let memory: TrackerBenchResult['memory'] = null;
  if (o.memoryProbe !== false) {
    const m = memoryProbe(swarm);
    memory = {
      heapBytesPer100kPeers: Math.round((m.heapBytes * 100_000) / m.peers),
      rssBytesPer100kPeers: Math.round((m.rssBytes * 100_000) / m.peers),
    };
  }
  return {
    swarm,
    rows,
    ratios: {
      vsBittorrentTracker: ratioOf(capacity, 'bittorrent-tracker'),
      vsOpentracker: ratioOf(capacity, 'opentracker'),
    },
    observedRatios: {
      vsBittorrentTracker: ratioOf(observed, 'bittorrent-tracker'),
      vsOpentracker: ratioOf(observed, 'opentracker'),
    },
    memory,
  };
}

function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined ? '-' : n.toFixed(digits);
}

function printTable(r: TrackerBenchResult): void {
  const out: string[] = [];
  out.push(
    `swarm: ${r.swarm.torrents} torrents × ${r.swarm.peersPerTorrent} peers (UDP, one core per tracker)`,
  );
  out.push('tracker              load ann/s  steady ann/s  tracker CPU s  ann/CPU-s  errors  lost');
  for (const row of r.rows) {
    if (row.skipped) {
      out.push(`${row.tracker.padEnd(20)} skipped: ${row.skipped}`);
      continue;
    }
    const errors = (row.load?.errors ?? 0) + (row.steady?.errors ?? 0);
    const lost = (row.load?.lost ?? 0) + (row.steady?.lost ?? 0);
    out.push(
      `${row.tracker.padEnd(20)} ${fmt(row.load?.announcesPerSecond).padStart(11)}  ${fmt(row.steady?.announcesPerSecond).padStart(12)}  ${fmt(row.steadyCpuSeconds, 2).padStart(13)}  ${fmt(row.announcesPerCpuSecond).padStart(9)}  ${String(errors).padStart(6)}  ${String(lost).padStart(4)}`,
    );
  }
  out.push(
    `peerdrop / bittorrent-tracker: ${fmt(r.ratios.vsBittorrentTracker, 2)}× per CPU-second (target ≥ 5), ${fmt(r.observedRatios.vsBittorrentTracker, 2)}× observed`,
  );
  out.push(
    `peerdrop / opentracker:        ${fmt(r.ratios.vsOpentracker, 2)}× per CPU-second (target ≥ 0.5), ${fmt(r.observedRatios.vsOpentracker, 2)}× observed`,
  );
  if (r.memory) {
    out.push(
      `peerdrop registry memory per 100k peers: heap ${(r.memory.heapBytesPer100kPeers / 2 ** 20).toFixed(1)} MiB, RSS ${(r.memory.rssBytesPer100kPeers / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  const p = r.rows.find((x) => x.process)?.process;
  if (p) {
    out.push(
      `peerdrop tracker process after loading ${p.peers} peers: RSS +${(p.rssDeltaBytes / 2 ** 20).toFixed(1)} MiB, heap +${(p.heapDeltaBytes / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The one-line summary: `ratio` (per CPU-second vs opentracker), `rawRatio`, then each side. */
export function jsonLine(r: TrackerBenchResult): Record<string, unknown> {
  const side = (name: TrackerName): Record<string, unknown> | null => {
    const row = r.rows.find((x) => x.tracker === name);
    if (!row) return null;
    if (row.skipped) return { skipped: row.skipped };
    return {
      announcesPerCpuSecond: row.announcesPerCpuSecond ?? null,
      announcesPerSecond: row.steady?.announcesPerSecond ?? null,
      cpuSeconds: row.steadyCpuSeconds ?? null,
      loadAnnouncesPerSecond: row.load?.announcesPerSecond ?? null,
      errors: (row.load?.errors ?? 0) + (row.steady?.errors ?? 0),
      lost: (row.load?.lost ?? 0) + (row.steady?.lost ?? 0),
      generatorCpuSeconds: row.steady?.generatorCpuSeconds ?? null,
    };
  };
  return {
    bench: 'tracker-udp',
    swarm: r.swarm,
    ratio: r.ratios.vsOpentracker,
    rawRatio: r.observedRatios.vsOpentracker,
    target: 0.5,
    peerdrop: side('peerdrop'),
    opentracker: side('opentracker'),
    ...(r.rows.some((x) => x.tracker === 'bittorrent-tracker')
      ? { 'bittorrent-tracker': side('bittorrent-tracker') }
      : {}),
    memory: r.memory,
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--memory-probe')) {
    const i = process.argv.indexOf('--memory-probe');
    runMemoryProbe(Number(process.argv[i + 1]), Number(process.argv[i + 2]));
  } else {
    if (existsSync('/usr/bin/taskset'))
      spawnSync('/usr/bin/taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
    const result = await runTrackerUdpBench({
      swarm: { torrents: Number(arg('--torrents') ?? 1000), peersPerTorrent: Number(arg('--peers') ?? 100) },
      steadySeconds: Number(arg('--seconds') ?? 10),
      ...(arg('--only') ? { only: arg('--only')!.split(',') as TrackerName[] } : {}),
    });
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(jsonLine(result))}\n`);
    else printTable(result);
  }
}
