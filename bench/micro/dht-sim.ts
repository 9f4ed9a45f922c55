/**
 * The DHT on a simulated network: N pure nodes on virtual time (latency 10–80 ms, loss, churn),
 * get_peers lookups for announced info-hashes, against a plain Kademlia baseline (α = 3, k = 8,
 * no soft timeout, no extended buckets) on the same network.
 *   npm run bench -- dht-sim [--nodes 500] [--loss 0.05] [--churn 0.2] [--lookups 200] [--seed 1]
 *                            [--join converged|wire] [--json]
 * Prints one JSON line (with --json): nodes, lookups, successRate, medianHops, medianMs, p95Ms
 * (virtual), messagesPerLookup, wallMs, and the same figures for the baseline in `baseline`.
 *
 * The tables: `--join converged` (default) fills them from a global view of the ids, as a
 * long-running network's are (each bucket full, under the table's own rules), so 10,000 nodes
 * are ready in seconds; `--join wire` has every node join over the simulated network in turn
 * (~400 datagrams per node: 2,000 nodes take minutes, 10,000 over an hour). Both networks have
 * the same nodes at the same addresses with the same ids (one seed); only the configuration
 * differs. Announces, churn (nodes leave silently after the announces, their entries stay in
 * others' tables) and the lookups always go over the simulated network, with its loss.
 */
import { spawnSync } from 'node:child_process';
import type { DhtNodeOptions } from '../../src/dht/node.js';
import { Testnet } from '../../src/dht/testnet.js';
import { seededRandom } from '../../src/util/random.js';

export interface DhtSimOptions {
  readonly nodes: number;
  readonly loss: number;
  readonly churn: number;
  readonly lookups: number;
  readonly seed: number;
  /** How the tables are built (default converged: see the file's comment). */
  readonly join?: 'converged' | 'wire';
}

export interface DhtSimFigures {
  readonly successRate: number;
  readonly medianHops: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly messagesPerLookup: number;
  readonly wallMs: number;
}

/** Plain Kademlia: α = 3, k = 8, no soft timeout (it equals the hard one), plain buckets. */
export const BASELINE: Partial<DhtNodeOptions> = { alpha: 3, softTimeoutMs: 4000, extendedTable: false };

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0;
}

/** One network, one configuration: join, announce, churn, then timed lookups. */
export async function simulate(
  o: DhtSimOptions,
  nodeOptions: Partial<DhtNodeOptions>,
): Promise<DhtSimFigures> {
  const started = performance.now();
  const net = await Testnet.create({
    size: o.nodes,
    seed: o.seed,
    loss: o.loss,
    nodeOptions,
    join: o.join ?? 'converged',
  });
  const rng = seededRandom(o.seed + 1);
  const swarms = Array.from({ length: Math.max(1, Math.ceil(o.lookups / 5)) }, (_, i) => ({
    infoHash: rng.bytes(20),
    port: 10_000 + i,
    announcer: net.nodes[rng.int(net.nodes.length)]!,
  }));
  await net.settle(Promise.all(swarms.map((s) => s.announcer.node.announce(s.infoHash, s.port))));
  // Churn: nodes leave without a word (announcers stay, so a miss is the lookup's fault).
  const announcers = new Set(swarms.map((s) => s.announcer));
  const leaving = net.nodes.filter((n) => !announcers.has(n) && rng.next() < o.churn);
  for (const n of leaving) net.removeNode(n);
  let found = 0;
  const hops: number[] = [];
  const ms: number[] = [];
  const messages: number[] = [];
  for (let i = 0; i < o.lookups; i++) {
    const swarm = swarms[i % swarms.length]!;
    const searcher = net.nodes[rng.int(net.nodes.length)]!;
    const t0 = net.scheduler.now();
    let isFound = false;
    let firstMs = Number.NaN;
    await net.settle(
      new Promise<void>((resolve) =>
        searcher.node.lookupPeers(
          swarm.infoHash,
          (peers) => {
            if (!isFound && peers.some((p) => p.port === swarm.port)) {
              isFound = true;
              firstMs = net.scheduler.now() - t0;
            }
          },
          (_closest, stats) => {
            hops.push(stats.hops);
            messages.push(stats.queries);
            resolve();
          },
        ),
      ),
    );
    if (isFound) {
      found++;
      ms.push(firstMs);
    }
  }
  net.close();
  return {
    successRate: found / o.lookups,
    medianHops: quantile(hops, 0.5),
    medianMs: Math.round(quantile(ms, 0.5)),
    p95Ms: Math.round(quantile(ms, 0.95)),
    messagesPerLookup: messages.reduce((a, b) => a + b, 0) / Math.max(1, messages.length),
    wallMs: Math.round(performance.now() - started),
  };
}

export async function runDhtSim(o: DhtSimOptions): Promise<Record<string, unknown>> {
  const ours = await simulate(o, {});
  const baseline = await simulate(o, BASELINE);
  return {
    nodes: o.nodes,
    lookups: o.lookups,
    loss: o.loss,
    churn: o.churn,
    join: o.join ?? 'converged',
    ...ours,
    baseline,
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number`);
  return v;
}

function joinArg(): 'converged' | 'wire' {
  const i = process.argv.indexOf('--join');
  const v = i >= 0 ? process.argv[i + 1] : 'converged';
  if (v !== 'converged' && v !== 'wire') throw new Error('--join must be converged or wire');
  return v;
}

/**
 * Each node's tables and state take ~150 KB, two networks are built in turn, and V8's default
 * heap (~4 GB here) left a 10,000-node run collecting garbage most of the time: above 3,000
 * nodes the benchmark runs itself again with a larger heap.
 */
function rerunWithLargerHeap(nodes: number): number | null {
  const flag = '--max-old-space-size';
  if (nodes <= 3000 || process.execArgv.some((a) => a.startsWith(flag))) return null;
  const r = spawnSync(process.execPath, [`${flag}=12288`, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rerun = rerunWithLargerHeap(arg('nodes', 500));
  if (rerun !== null) process.exit(rerun);
  const o = {
    nodes: arg('nodes', 500),
    loss: arg('loss', 0.05),
    churn: arg('churn', 0.2),
    lookups: arg('lookups', 200),
    seed: arg('seed', 1),
    join: joinArg(),
  };
  const r = await runDhtSim(o);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
