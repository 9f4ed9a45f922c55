import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MulticastGroup, openMulticast, resolveMulticastInterfaces } from './multicast.js';
import type { UdpRemote } from './udp.js';

// A private group and port so a real LSD client on the host does not interfere.
const V4: MulticastGroup = { address: '239.192.152.143', port: 36771, family: 'IPv4' };

test('IPv4: two sockets on the loopback interface receive each other and our own (loopback on)', async () => {
  const a = await openMulticast({ group: V4, interfaces: ['lo'], loopback: true });
  const b = await openMulticast({ group: V4, interfaces: ['lo'], loopback: true });
  try {
    assert.deepEqual(a.interfaces, ['127.0.0.1']);
    const gotB = new Promise<[Uint8Array, UdpRemote]>((resolve) => b.onMessage((x, f) => resolve([x, f])));
    const gotA = new Promise<Uint8Array>((resolve) => a.onMessage((x) => resolve(x)));
    await a.send(Uint8Array.of(7, 8, 9));
    const [bytes, from] = await gotB;
    assert.deepEqual([...bytes], [7, 8, 9]);
    assert.equal(from.family, 'IPv4');
    assert.equal(from.host, '127.0.0.1');
    assert.equal(a.port(), V4.port);
    assert.deepEqual([...(await gotA)], [7, 8, 9]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('IPv4: oversized datagrams are dropped and a throwing handler becomes an error', async () => {
  const a = await openMulticast({ group: V4, interfaces: ['lo'], loopback: true, maxDatagramBytes: 10 });
  const errors: Error[] = [];
  a.onError((e) => errors.push(e));
  const seen: number[] = [];
  const done = new Promise<void>((resolve) =>
    a.onMessage((x) => {
      seen.push(x.length);
      if (x.length === 2) resolve();
      else throw new Error('boom');
    }),
  );
  try {
    await a.send(new Uint8Array(50));
    await a.send(new Uint8Array(3));
    await a.send(new Uint8Array(2));
    await done;
    assert.deepEqual(seen, [3, 2]);
    assert.equal(errors.length, 1);
  } finally {
    await a.close();
  }
});

test('interfaces by name or address; unknown ones are left out', () => {
  assert.deepEqual(resolveMulticastInterfaces('IPv4', ['lo', '127.0.0.1', 'no-such-if']), ['127.0.0.1']);
  for (const sel of resolveMulticastInterfaces('IPv4')) assert.notEqual(sel, '127.0.0.1');
});
