import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualScheduler } from '../util/clock.js';
import { type HostOptions, type LinkOptions, MemoryNetwork } from './memory-network.js';
import { NetError } from './tcp.js';
import type { Connection } from './transport.js';

const settle = () => new Promise<void>((r) => setImmediate(r));

/** Run timers (letting promise continuations run between them) until `untilMs`. */
async function runUntil(s: VirtualScheduler, untilMs: number): Promise<void> {
  for (;;) {
    await settle();
    const next = s.nextDueMs();
    if (next === null || next > untilMs) break;
    s.runUntil(next);
  }
  s.runUntil(untilMs);
  await settle();
}

interface Received {
  bytes: number;
  chunks: Uint8Array[];
  closed: Error | null | undefined;
  atMs: number[];
}

function record(c: Connection, s: VirtualScheduler): Received {
  const r: Received = { bytes: 0, chunks: [], closed: undefined, atMs: [] };
  c.onData((chunk) => {
    r.bytes += chunk.length;
    r.chunks.push(chunk);
    r.atMs.push(s.now());
  });
  c.onClose((err) => {
    r.closed = err;
  });
  return r;
}

async function setup(
  o: {
    link?: LinkOptions;
    a?: HostOptions;
    b?: HostOptions;
    highWaterMarkBytes?: number;
    seed?: number;
  } = {},
) {
  const s = new VirtualScheduler();
  const net = new MemoryNetwork({
    scheduler: s,
    latencyMs: 10,
    ...o.link,
    ...(o.highWaterMarkBytes ? { highWaterMarkBytes: o.highWaterMarkBytes } : {}),
    ...(o.seed ? { seed: o.seed } : {}),
  });
  net.addHost('10.0.0.1', o.a);
  net.addHost('10.0.0.2', o.b);
  const accepted: Connection[] = [];
  const listener = await net.transport('10.0.0.2', { port: 6881 }).listen((c) => accepted.push(c));
  const a = net.transport('10.0.0.1');
  const connect = async () => {
    const before = accepted.length;
    const dialing = a.dial({ host: '10.0.0.2', port: listener.port });
    let client: Connection | undefined;
    dialing.then((c) => {
      client = c;
    });
    while (client === undefined || accepted.length === before) {
      await settle();
      assert.ok(s.step(), 'the dial completes');
    }
    await settle();
    return { client, server: accepted[accepted.length - 1]! };
  };
  return { s, net, a, listener, connect, accepted };
}

test('bytes arrive one latency later, in order, and never inside write()', async () => {
  const { s, net, connect } = await setup();
  const { client, server } = await connect();
  const got = record(server, s);
  const t0 = s.now();
  client.write([new Uint8Array([1, 2, 3])]);
  client.write([new Uint8Array([4, 5])]);
  assert.equal(got.bytes, 0, 'nothing delivered synchronously');
  await runUntil(s, t0 + 9);
  assert.equal(got.bytes, 0);
  await runUntil(s, t0 + 10);
  assert.deepEqual(Buffer.concat(got.chunks), Buffer.from([1, 2, 3, 4, 5]));
  assert.deepEqual(got.atMs, [t0 + 10], 'writes of one instant arrive as one delivery');
  assert.equal(client.bytesWritten, 5);
  assert.equal(net.bytesBetween('10.0.0.1', '10.0.0.2'), 5);
  assert.equal(net.bytesBetween('10.0.0.2', '10.0.0.1'), 0);
  assert.equal(server.bytesRead, 5);
});

test('a dial takes a round trip; the server accepts after the final ACK', async () => {
  const { s, a, listener, accepted } = await setup();
  let connectedAt = -1;
  a.dial({ host: '10.0.0.2', port: listener.port }).then(() => {
    connectedAt = s.now();
  });
  await runUntil(s, 100);
  assert.equal(connectedAt, 20);
  assert.equal(accepted.length, 1);
  assert.equal(accepted[0]!.remoteAddress, '10.0.0.1');
});

test('dialing a port nobody listens on fails with NET_DIAL_FAILED after a round trip', async () => {
  const { s, a } = await setup();
  let failure: { code: string; atMs: number } | undefined;
  a.dial({ host: '10.0.0.2', port: 9999 }).catch((e: NetError) => {
    failure = { code: e.code, atMs: s.now() };
  });
  a.dial({ host: '10.9.9.9', port: 1 }).catch(() => {});
  await runUntil(s, 1000);
  assert.deepEqual(failure, { code: 'NET_DIAL_FAILED', atMs: 20 });
});

test('a partition makes dials time out, and holds data until it heals', async () => {
  const { s, net, a, listener, connect } = await setup();
  const { client, server } = await connect();
  const got = record(server, s);
  net.setReachable('10.0.0.1', '10.0.0.2', false);
  let code = '';
  a.dial({ host: '10.0.0.2', port: listener.port }, { timeoutMs: 500 }).catch((e: NetError) => {
    code = e.code;
  });
  client.write([new Uint8Array(100)]);
  await runUntil(s, s.now() + 1000);
  assert.equal(code, 'NET_DIAL_TIMEOUT');
  assert.equal(got.bytes, 0, 'nothing crosses the partition');
  net.setReachable('10.0.0.1', '10.0.0.2', true);
  await runUntil(s, s.now() + 11);
  assert.equal(got.bytes, 100);
});

test('an aborted dial rejects with NET_ABORTED', async () => {
  const { s, a, listener } = await setup();
  const ac = new AbortController();
  let code = '';
  a.dial({ host: '10.0.0.2', port: listener.port }, { signal: ac.signal }).catch((e: NetError) => {
    code = e.code;
  });
  ac.abort();
  await runUntil(s, 100);
  assert.equal(code, 'NET_ABORTED');
});

test("a host's upload capacity is shared fairly by its connections", async () => {
  const { s, connect } = await setup({ a: { uploadBps: 100_000 } });
  const one = await connect();
  const two = await connect();
  const r1 = record(one.server, s);
  const r2 = record(two.server, s);
  const t0 = s.now();
  one.client.write([new Uint8Array(500_000)]);
  two.client.write([new Uint8Array(500_000)]);
  await runUntil(s, t0 + 5000);
  // 5 s at 100 kB/s shared by two: ~250 kB each (± one segment in flight).
  for (const r of [r1, r2])
    assert.ok(
      Math.abs(r.bytes - 250_000) < 20_000,
      `got ${r1.bytes} ${r2.bytes} ${r1.atMs.length} ${r2.atMs.length}`,
    );
  await runUntil(s, t0 + 10_100);
  assert.equal(r1.bytes + r2.bytes, 1_000_000);
  const done = Math.max(r1.atMs.at(-1)!, r2.atMs.at(-1)!) - t0;
  assert.ok(done >= 10_000 && done <= 10_020, `finished after ${done} ms`);
});

test('a download cap limits what a host receives from all senders together', async () => {
  const { s, connect } = await setup({ b: { downloadBps: 50_000 } });
  const { client, server } = await connect();
  const got = record(server, s);
  const t0 = s.now();
  client.write([new Uint8Array(100_000)]);
  await runUntil(s, t0 + 1000);
  assert.ok(got.bytes > 30_000 && got.bytes < 60_000, `got ${got.bytes}`);
  await runUntil(s, t0 + 2100);
  assert.equal(got.bytes, 100_000);
});

test('backpressure: not writable above the high-water mark, onDrain once below', async () => {
  const { s, connect } = await setup({ a: { uploadBps: 64 * 1024 }, highWaterMarkBytes: 64 * 1024 });
  const { client, server } = await connect();
  record(server, s);
  let drains = 0;
  client.onDrain(() => {
    drains++;
  });
  assert.equal(client.write([new Uint8Array(32 * 1024)]), true);
  assert.equal(client.write([new Uint8Array(64 * 1024)]), false);
  assert.equal(client.isWritable, false);
  assert.equal(client.queuedBytes, 96 * 1024);
  await runUntil(s, s.now() + 400);
  assert.equal(drains, 0, 'still above the mark');
  await runUntil(s, s.now() + 1200);
  assert.equal(drains, 1);
  assert.equal(client.isWritable, true);
});

test('a producer that ignores backpressure is cut off with NET_SEND_QUEUE_FULL', async () => {
  const { s, connect } = await setup({ a: { uploadBps: 1000 }, highWaterMarkBytes: 1000 });
  const { client } = await connect();
  const got = record(client, s);
  for (let i = 0; i < 9; i++) client.write([new Uint8Array(1000)]);
  await runUntil(s, s.now() + 1);
  assert.ok(got.closed instanceof NetError && got.closed.code === 'NET_SEND_QUEUE_FULL');
});

test('destroy: data already sent arrives, then the peer sees an orderly end', async () => {
  const { s, connect } = await setup();
  const { client, server } = await connect();
  const got = record(server, s);
  const local = record(client, s);
  client.write([new Uint8Array(10)]);
  client.destroy();
  assert.equal(client.isClosed, true);
  assert.equal(local.closed, undefined, 'onClose is not called inside destroy()');
  await runUntil(s, s.now() + 50);
  assert.equal(local.closed, null);
  assert.equal(got.bytes, 10);
  assert.equal(got.closed, null);
  assert.equal(server.write([new Uint8Array(1)]), false, 'a closed connection takes no writes');
});

test('reset closes both ends with NET_SOCKET_ERROR', async () => {
  const { s, net, connect } = await setup();
  const { client, server } = await connect();
  const a = record(client, s);
  const b = record(server, s);
  net.reset('10.0.0.2', '10.0.0.1');
  await runUntil(s, s.now() + 1);
  for (const r of [a, b]) assert.ok(r.closed instanceof NetError && r.closed.code === 'NET_SOCKET_ERROR');
  assert.equal(net.stats().resets, 1);
});

test('a reset probability resets connections that carry data', async () => {
  const { s, connect } = await setup({ link: { resetProbability: 0.5 }, seed: 3 });
  const { client, server } = await connect();
  const b = record(server, s);
  for (let i = 0; i < 20; i++) {
    client.write([new Uint8Array(100)]);
    await runUntil(s, s.now() + 5);
  }
  await runUntil(s, s.now() + 100);
  assert.ok(b.closed instanceof NetError && b.closed.code === 'NET_SOCKET_ERROR');
});

test('loss delays segments but keeps them in order and intact, deterministically', async () => {
  const run = async () => {
    const { s, net, connect } = await setup({
      a: { uploadBps: 1_000_000 },
      link: { lossRate: 0.2 },
      seed: 7,
    });
    const { client, server } = await connect();
    const got = record(server, s);
    const data = new Uint8Array(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    client.write([data]);
    await runUntil(s, s.now() + 5000);
    assert.deepEqual(Buffer.concat(got.chunks), Buffer.from(data));
    return { lost: net.stats().lostSegments, last: got.atMs.at(-1) };
  };
  const first = await run();
  assert.ok(first.lost > 0, 'some segments were lost');
  assert.deepEqual(await run(), first);
});

test('many connections and 16 KiB blocks: one delivery event per flow per instant', async () => {
  const { s, net, connect } = await setup();
  const { client, server } = await connect();
  record(server, s);
  const before = net.stats().deliveries;
  for (let i = 0; i < 64; i++) client.write([new Uint8Array(13), new Uint8Array(16384)]);
  await runUntil(s, s.now() + 20);
  assert.equal(net.stats().deliveries - before, 1);
  assert.equal(net.stats().deliveredBytes, 64 * (16384 + 13));
});
