import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../util/random.js';
import { Testnet } from './testnet.js';

test('a 500-node testnet: lookups converge and get_peers finds announced peers', async () => {
  const started = performance.now();
  const net = await Testnet.create({ size: 500, seed: 5 });
  const joinedMs = performance.now() - started;
  const sizes = net.nodes.map((n) => n.node.tableSize()).sort((a, b) => a - b);
  const median = sizes[sizes.length >> 1]!;
  console.log(
    `joined 500 nodes in ${joinedMs.toFixed(0)} ms wall; table sizes min ${sizes[0]} median ${median} max ${sizes.at(-1)}`,
  );
  assert.ok(median >= 10, `median table ${median}`);

  const rng = seededRandom(9);
  const infoHash = rng.bytes(20);
  const announcers = [net.nodes[10]!, net.nodes[200]!, net.nodes[333]!];
  const counts = await net.settle(Promise.all(announcers.map((a, i) => a.node.announce(infoHash, 7000 + i))));
  for (const c of counts) assert.ok(c >= 4, `announce stored on ${c} nodes`);

  const queries: number[] = [];
  const hops: number[] = [];
  const virtualMs: number[] = [];
  let found = 0;
  const lookups = 20;
  const wallStart = performance.now();
  for (let i = 0; i < lookups; i++) {
    const searcher = net.nodes[(i * 37 + 1) % net.nodes.length]!;
    const peers = new Set<number>();
    const t0 = net.scheduler.now();
    await net.settle(
      new Promise<void>((resolve) =>
        searcher.node.lookupPeers(
          infoHash,
          (ps) => {
            for (const p of ps) peers.add(p.port);
          },
          (_closest, stats) => {
            queries.push(stats.queries);
            hops.push(stats.hops);
            resolve();
          },
        ),
      ),
    );
    virtualMs.push(net.scheduler.now() - t0);
    if ([7000, 7001, 7002].every((p) => peers.has(p))) found++;
  }
  const wallMs = (performance.now() - wallStart) / lookups;
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(
    `get_peers over 500 nodes: ${found}/${lookups} found all 3 peers; queries/lookup median ${med(queries)} max ${Math.max(...queries)}; hops median ${med(hops)}; virtual ms median ${med(virtualMs)}; wall ${wallMs.toFixed(1)} ms/lookup; traffic ${net.traffic.sent} datagrams`,
  );
  assert.equal(found, lookups);
  assert.ok(med(queries) <= 40, `median queries ${med(queries)}`);
  net.close();
});

test('a node restarts from its saved table without any bootstrap node', async () => {
  const net = await Testnet.create({ size: 60, seed: 8 });
  const node = net.nodes[30]!;
  const saved = node.node.saveState();
  net.removeNode(node);
  // Take the bootstrap node off the net too: only the saved table can help.
  net.removeNode(net.nodes[0]!);
  const back = net.addNode({ savedState: saved, bootstrap: [], address: node.address });
  assert.deepEqual(back.node.id, node.node.id);
  await net.settle(back.node.ready());
  net.run(10_000);
  assert.ok(back.node.tableSize() >= 20, `table ${back.node.tableSize()}`);
  const peers: number[] = [];
  const target = net.nodes[5]!;
  await net.settle(target.node.announce(new Uint8Array(20).fill(1), 9999));
  for await (const p of iterateOnNet(net, back.node.getPeers(new Uint8Array(20).fill(1)))) peers.push(p.port);
  assert.deepEqual(peers, [9999]);
  net.close();
});

/** Collect an async generator while driving the testnet's virtual time. */
async function* iterateOnNet<T>(net: Testnet, gen: AsyncGenerator<T>): AsyncGenerator<T> {
  for (;;) {
    const r = await net.settle(gen.next());
    if (r.done) return;
    yield r.value;
  }
}

test('hostile nodes: garbage answers and liars are dropped, lookups still find the peers', async () => {
  const net = await Testnet.create({ size: 150, seed: 11 });
  for (let i = 0; i < 10; i++) net.addHostile('garbage');
  for (let i = 0; i < 10; i++) net.addHostile('liar');
  net.run(60_000);
  // Lookups for random targets reach the hostile nodes that made it into tables.
  const rng = seededRandom(13);
  for (let i = 0; i < 30; i++) {
    const gen = net.nodes[(i * 7) % 150]!.node.findNode(rng.bytes(20));
    for await (const _ of iterateOnNet(net, gen)) {
      // drain
    }
  }
  let garbage = 0;
  let garbageDropped = 0;
  for (const n of net.nodes) {
    garbage += n.node.stats().garbage;
    garbageDropped += n.node.stats().liarsDropped;
  }
  assert.ok(garbage > 0, 'garbage reached honest nodes');
  assert.ok(garbageDropped > 0, 'garbage answerers were dropped from tables');
  const infoHash = new Uint8Array(20).fill(7);
  await net.settle(net.nodes[3]!.node.announce(infoHash, 4242));
  let found = 0;
  for (let i = 0; i < 10; i++) {
    const searcher = net.nodes[20 + i]!;
    const ports = new Set<number>();
    for await (const p of iterateOnNet(net, searcher.node.getPeers(infoHash))) ports.add(p.port);
    if (ports.has(4242)) found++;
  }
  assert.equal(found, 10);
  net.close();
});

test('a flood of queries from one address is rate limited', async () => {
  const net = await Testnet.create({ size: 20, seed: 12 });
  const victim = net.nodes[4]!;
  const before = victim.node.stats();
  net.flood(victim.address, 2000, 2000);
  net.run(3000);
  const after = victim.node.stats();
  const answered = after.queriesAnswered - before.queriesAnswered;
  const limited = after.queriesRateLimited - before.queriesRateLimited;
  assert.ok(limited > 1800, `limited ${limited}`);
  assert.ok(answered < 200, `answered ${answered}`);
  net.close();
});

test('BEP 32: an IPv6 testnet finds peers through nodes6 and 18-byte values', async () => {
  const net = await Testnet.create({ size: 60, seed: 14, family: 6 });
  const infoHash = new Uint8Array(20).fill(0x66);
  const announcer = net.nodes[9]!;
  assert.ok((await net.settle(announcer.node.announce(infoHash, 6006))) >= 4);
  const found: string[] = [];
  for await (const p of iterateOnNet(net, net.nodes[50]!.node.getPeers(infoHash)))
    found.push(`${p.host}|${p.port}`);
  assert.deepEqual(found, [`${announcer.address.host}|6006`]);
  assert.equal(net.nodes[50]!.node.tableSize(4), 0);
  assert.ok(net.nodes[50]!.node.tableSize(6) >= 10);
  net.close();
});

test('a converged testnet: tables filled without datagrams, within their rules; get_peers finds peers', async () => {
  const net = await Testnet.create({ size: 400, seed: 12, join: 'converged', loss: 0.05 });
  assert.equal(net.traffic.sent, 0, 'the fill sends nothing');
  const sizes = net.nodes.map((n) => n.node.tableSize()).sort((a, b) => a - b);
  // Extended buckets full (128 + 64 + 32 + 16) plus k per deeper level down to the node's neighbours.
  assert.ok(sizes[0]! >= 200 && sizes.at(-1)! <= 320, `table sizes ${sizes[0]}..${sizes.at(-1)}`);
  const rng = seededRandom(13);
  const infoHash = rng.bytes(20);
  const stored = await net.settle(net.nodes[7]!.node.announce(infoHash, 7100));
  assert.ok(stored >= 6, `announce stored on ${stored}`);
  let found = 0;
  for (let i = 0; i < 10; i++) {
    const searcher = net.nodes[rng.int(net.nodes.length)]!;
    const peers = await net.settle(
      new Promise<number[]>((resolve) => {
        const ports: number[] = [];
        searcher.node.lookupPeers(
          infoHash,
          (ps) => ports.push(...ps.map((p) => p.port)),
          () => resolve(ports),
        );
      }),
    );
    if (peers.includes(7100)) found++;
  }
  assert.equal(found, 10);
  net.close();
});
