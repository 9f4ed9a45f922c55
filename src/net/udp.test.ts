import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindUdp, type UdpRemote } from './udp.js';

test('delivers datagrams between two sockets on 127.0.0.1 and reports the sender', async () => {
  const a = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  const b = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  try {
    const got = new Promise<[Uint8Array, UdpRemote]>((resolve) =>
      b.onMessage((bytes, from) => resolve([bytes, from])),
    );
    a.send(Uint8Array.of(1, 2, 3), '127.0.0.1', b.address().port);
    const [bytes, from] = await got;
    assert.deepEqual([...bytes], [1, 2, 3]);
    assert.equal(from.host, '127.0.0.1');
    assert.equal(from.port, a.address().port);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a throwing message handler becomes an error event and the socket keeps working', async () => {
  const a = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  const b = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  try {
    const errors: Error[] = [];
    b.onError((e) => errors.push(e));
    let n = 0;
    const second = new Promise<void>((resolve) =>
      b.onMessage(() => {
        n++;
        if (n === 1) throw new Error('boom');
        resolve();
      }),
    );
    a.send(Uint8Array.of(1), '127.0.0.1', b.address().port);
    await new Promise((r) => setTimeout(r, 50));
    a.send(Uint8Array.of(2), '127.0.0.1', b.address().port);
    await second;
    assert.equal(errors[0]?.message, 'boom');
  } finally {
    await a.close();
    await b.close();
  }
});

test('drops datagrams over maxDatagramBytes before the handler runs', async () => {
  const a = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  const b = await bindUdp({ host: '127.0.0.1', type: 'udp4', maxDatagramBytes: 4 });
  try {
    const sizes: number[] = [];
    const done = new Promise<void>((resolve) =>
      b.onMessage((bytes) => {
        sizes.push(bytes.length);
        if (bytes.length === 2) resolve();
      }),
    );
    a.send(new Uint8Array(100), '127.0.0.1', b.address().port);
    await new Promise((r) => setTimeout(r, 30));
    a.send(new Uint8Array(2), '127.0.0.1', b.address().port);
    await done;
    assert.deepEqual(sizes, [2]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('rejects binding a port that is already in use', async () => {
  const a = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  try {
    await assert.rejects(bindUdp({ host: '127.0.0.1', port: a.address().port, type: 'udp4' }));
  } finally {
    await a.close();
  }
});
