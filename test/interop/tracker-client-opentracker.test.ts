import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DefaultTrackerTransport } from '../../src/tracker/client/transport.js';
import type { AnnounceRequest } from '../../src/tracker/protocol/announce.js';
import { toHex, utf8 } from '../../src/util/bytes.js';
import { startOpentracker } from '../helpers/clients/index.js';
import { skipUnless } from '../helpers/real-clients.js';

const INFO_HASH = Uint8Array.from({ length: 20 }, (_, i) => (i * 37 + 5) & 0xff);

function request(peer: string, port: number): AnnounceRequest {
  return {
    infoHash: INFO_HASH,
    peerId: utf8(`-PD0001-${peer.repeat(12)}`),
    port,
    uploaded: 0,
    downloaded: 0,
    left: 1000,
    event: 'started',
    numWant: 50,
  };
}

test('two peerdrop peers find each other through Debian opentracker over HTTP and UDP, and scrape counts them', {
  skip: skipUnless('opentracker'),
  timeout: 30_000,
}, async () => {
  const ot = await startOpentracker([toHex(INFO_HASH)]);
  const transport = new DefaultTrackerTransport({
    udp: { bindHost4: '127.0.0.1', baseTimeoutMs: 1000, maxRetries: 3 },
  });
  try {
    const a = await transport.announce(ot.announceUrl, request('a', 40001));
    assert.ok(a.intervalSeconds > 0);
    const b = await transport.announce(ot.udpAnnounceUrl, request('b', 40002));
    assert.ok(
      b.peers.some((p) => p.host === '127.0.0.1' && p.port === 40001),
      `UDP peer list ${JSON.stringify(b.peers)} should contain the HTTP peer`,
    );
    const a2 = await transport.announce(ot.announceUrl, { ...request('a', 40001), event: 'none' });
    assert.ok(
      a2.peers.some((p) => p.host === '127.0.0.1' && p.port === 40002),
      `HTTP peer list ${JSON.stringify(a2.peers)} should contain the UDP peer`,
    );
    const [httpScrape] = await transport.scrape(ot.announceUrl, [INFO_HASH]);
    assert.equal(httpScrape?.incomplete, 2);
    const [udpScrape] = await transport.scrape(ot.udpAnnounceUrl, [INFO_HASH]);
    assert.equal(udpScrape?.incomplete, 2);
    await assert.rejects(
      transport.announce(ot.announceUrl, { ...request('c', 40003), infoHash: new Uint8Array(20).fill(9) }),
      { code: 'TRACKER_FAILURE' },
    );
  } finally {
    await transport.close();
    await ot.stop();
  }
});
