/**
 * peerdrop's DHT ↔ libtorrent's (python3-libtorrent 2.0) on 127.0.0.1. Two libtorrent
 * sessions bootstrap only from a peerdrop node (so this is a private loopback DHT: the
 * recipe's settings turn off libtorrent's one-node-per-IP rules, and ours are off too since
 * every node is 127.0.0.1). libtorrent session 1 announces an info-hash (a bare magnet it
 * joins, so libtorrent itself runs get_peers + announce_peer through us); peerdrop's lookup must
 * find it. peerdrop announces another; libtorrent session 2's get_peers must find it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DhtPeerDiscovery } from '../../src/dht/peer-discovery.js';
import { startUdpDht } from '../../src/dht/udp-adapter.js';
import { UdpMux } from '../../src/net/udp-mux.js';
import { toHex } from '../../src/util/bytes.js';
import { freePort } from '../helpers/ports.js';
import { startProcess } from '../helpers/process.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('libtorrent');
const tmp = tempDir('peerdrop-dht-lt-');
const LT_DHT = fileURLToPath(new URL('../helpers/clients/lt_dht.py', import.meta.url));

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('peerdrop and libtorrent DHT nodes find each other’s announced peers', {
  skip,
  timeout: 90_000,
}, async () => {
  const mux = await UdpMux.bind({ port: 0, families: [4], host4: '127.0.0.1' });
  const dht = startUdpDht(mux, { restrictIps: false });
  const ltAnnounced = new Uint8Array(20).fill(0x1a);
  const ours = new Uint8Array(20).fill(0x2b);
  const [p1, p2] = [await freePort(), await freePort()];
  const lt = startProcess('/usr/bin/python3', [
    LT_DHT,
    '--bootstrap',
    `127.0.0.1:${mux.port}`,
    '--ports',
    `${p1},${p2}`,
    '--announce',
    toHex(ltAnnounced),
    '--dir',
    tmp.path,
    '--find',
    toHex(ours),
    '--max-seconds',
    '80',
  ]);
  try {
    await lt.waitFor(/LISTENING \d+ \d+/, 15_000);
    // libtorrent queries us; we ping back and both sessions enter our table.
    await until('libtorrent nodes in our table', 30_000, async () =>
      dht.node.tableSize() >= 2 ? true : null,
    );

    const stored = await until('our announce stored by libtorrent', 30_000, async () => {
      const n = await new DhtPeerDiscovery(dht.node).announce(ours, 6666);
      return n >= 1 ? n : null;
    });
    assert.ok(stored >= 1);
    const found = await lt.waitFor(new RegExp(`FOUND ${toHex(ours)} 127\\.0\\.0\\.1:6666`), 30_000);
    assert.ok(found);

    const peers = await until('libtorrent’s peer found by our lookup', 30_000, async () => {
      const got: string[] = [];
      for await (const p of new DhtPeerDiscovery(dht.node).lookup(ltAnnounced, {
        signal: AbortSignal.timeout(10_000),
      }))
        got.push(`${p.host}:${p.port}`);
      return got.includes(`127.0.0.1:${p1}`) ? got : null;
    });
    assert.ok(peers.includes(`127.0.0.1:${p1}`));
    const stats = dht.node.stats();
    assert.equal(stats.garbage, 0, 'libtorrent sent nothing our codec refused');
    process.stderr.write(
      `dht interop: table ${dht.node.tableSize()}, rpc ${JSON.stringify(stats.rpc)}, queries received ${stats.queriesReceived}, torrents announced to us ${stats.torrents}\n`,
    );
  } finally {
    lt.child.stdin?.end();
    await lt.stop();
    dht.close();
    await mux.close();
  }
});
