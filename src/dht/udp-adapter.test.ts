import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UdpMux } from '../net/udp-mux.js';
import { DhtPeerDiscovery } from './peer-discovery.js';
import { startUdpDht } from './udp-adapter.js';

test('three nodes on loopback UDP ports find each other and an announced peer', async () => {
  const muxes = await Promise.all(
    [0, 1, 2].map(() => UdpMux.bind({ port: 0, families: [4], host4: '127.0.0.1' })),
  );
  const [a, b, c] = muxes.map((mux, i) =>
    startUdpDht(mux, {
      restrictIps: false,
      bootstrap: i === 0 ? [] : [{ host: '127.0.0.1', port: muxes[0]!.port }],
    }),
  );
  try {
    await Promise.all([b!.node.ready(), c!.node.ready()]);
    const infoHash = new Uint8Array(20).fill(0x33);
    const stored = await new DhtPeerDiscovery(b!.node).announce(infoHash, 4321);
    assert.ok(stored >= 1, `stored on ${stored}`);
    const ports: number[] = [];
    const signal = AbortSignal.timeout(10_000);
    for await (const p of new DhtPeerDiscovery(c!.node).lookup(infoHash, { signal })) ports.push(p.port);
    assert.deepEqual(ports, [4321]);
    assert.ok(a!.node.tableSize() >= 1);
  } finally {
    for (const d of [a, b, c]) d!.close();
    await Promise.all(muxes.map((m) => m.close()));
  }
});
