import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli } from '../../../test/helpers/cli.js';
import { DhtPeerDiscovery } from '../../dht/peer-discovery.js';
import { startUdpDht, type UdpDht } from '../../dht/udp-adapter.js';
import { UdpMux } from '../../net/udp-mux.js';
import { toHex } from '../../util/bytes.js';

// A three-node DHT on loopback for the CLI to join.
const muxes: UdpMux[] = [];
const nodes: UdpDht[] = [];
let bootstrap = '';
const infoHash = new Uint8Array(20).fill(0x5c);

before(async () => {
  for (let i = 0; i < 3; i++) muxes.push(await UdpMux.bind({ port: 0, families: [4], host4: '127.0.0.1' }));
  bootstrap = `127.0.0.1:${muxes[0]!.port}`;
  for (const [i, mux] of muxes.entries())
    nodes.push(
      startUdpDht(mux, {
        restrictIps: false,
        bootstrap: i === 0 ? [] : [{ host: '127.0.0.1', port: muxes[0]!.port }],
      }),
    );
  await Promise.all(nodes.map((n) => n.node.ready()));
  await new DhtPeerDiscovery(nodes[1]!.node).announce(infoHash, 4444);
});

after(async () => {
  for (const n of nodes) n.close();
  await Promise.all(muxes.map((m) => m.close()));
});

const common = () => ['--dht-bootstrap', bootstrap, '--state', 'none', '--timeout', '10', '--json'];

test('dht peers finds an announced peer and prints JSON lines', async () => {
  const r = await runCli(['dht', 'peers', toHex(infoHash), ...common()], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(
    lines.some((l) => l.peer === '127.0.0.1:4444'),
    r.stdout,
  );
  assert.deepEqual(lines.at(-1), { done: true, infoHash: toHex(infoHash), peers: lines.length - 1 });
});

test('dht put then dht get round-trips an immutable item', async () => {
  const put = await runCli(['dht', 'put', 'hello from peerdrop', ...common()], { timeoutMs: 30_000 });
  assert.equal(put.code, 0, put.stderr);
  const { target, stored } = JSON.parse(put.stdout);
  assert.ok(stored >= 1);
  const get = await runCli(['dht', 'get', target, ...common()], { timeoutMs: 30_000 });
  assert.equal(get.code, 0, get.stderr);
  assert.equal(JSON.parse(get.stdout).value, 'hello from peerdrop');
});

test('bad arguments exit 2 with a clear message', async () => {
  const cases: [string[], RegExp][] = [
    [['dht', 'peers', 'xyz', '--state', 'none'], /info-hash must be 40 hex/],
    [['dht', '--port', '70000', '--state', 'none'], /--port must be 0..65535/],
    [['dht', 'peers', toHex(infoHash), '--dht-bootstrap', 'nope', '--state', 'none'], /host:port/],
    [['dht', 'put', 'x', '--mutable', '--state', 'none'], /--mutable needs --seq/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('dht --help names the subcommands and the default bootstrap nodes', async () => {
  const r = await runCli(['dht', '--help']);
  assert.equal(r.code, 0);
  for (const word of ['peers', 'get', 'put', 'router.bittorrent.com:6881', '--json'])
    assert.ok(r.stdout.includes(word), word);
});
