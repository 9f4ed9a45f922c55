import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Connection, dial, listen, NetError } from './tcp.js';

async function pair(host: string) {
  let accepted!: (c: Connection) => void;
  const incoming = new Promise<Connection>((r) => {
    accepted = r;
  });
  const listener = await listen({ host, port: 0, onConnection: (c) => accepted(c) });
  const client = await dial({ host, port: listener.port, timeoutMs: 2000 });
  const server = await incoming;
  return { listener, client, server };
}

function collect(conn: Connection, bytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  return new Promise((resolve) => {
    conn.onData((chunk) => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= bytes) resolve(Buffer.concat(parts));
    });
  });
}

test('dial and listen exchange bytes over 127.0.0.1 with counters', async () => {
  const { listener, client, server } = await pair('127.0.0.1');
  const payload = Uint8Array.from({ length: 100_000 }, (_, i) => i & 255);
  const received = collect(server, payload.length);
  client.write([payload.subarray(0, 10), payload.subarray(10)]);
  assert.deepEqual(new Uint8Array(await received), payload);
  assert.equal(server.bytesRead, payload.length);
  assert.equal(server.remoteAddress, '127.0.0.1');
  assert.equal(client.remotePort, listener.port);
  const closed = new Promise<Error | null>((r) => server.onClose(r));
  client.destroy();
  assert.equal(await closed, null, 'an orderly end carries no error');
  await listener.close();
});

test('IPv6 loopback works when the host has it', async (t) => {
  let p: Awaited<ReturnType<typeof pair>>;
  try {
    p = await pair('::1');
  } catch {
    t.skip('no IPv6 loopback on this host');
    return;
  }
  const received = collect(p.server, 3);
  p.client.write([Uint8Array.of(1, 2, 3)]);
  assert.deepEqual(Array.from(await received), [1, 2, 3]);
  assert.equal(p.server.remoteAddress, '::1');
  p.client.destroy();
  p.server.destroy();
  await p.listener.close();
});

test('writes report backpressure past the high-water mark and drain calls back', async () => {
  let accepted!: (c: Connection) => void;
  const incoming = new Promise<Connection>((r) => {
    accepted = r;
  });
  const listener = await listen({ host: '127.0.0.1', port: 0, onConnection: (c) => accepted(c) });
  const client = await dial({ host: '127.0.0.1', port: listener.port, highWaterMarkBytes: 64 * 1024 });
  const server = await incoming;
  const block = new Uint8Array(16 * 1024);
  let writes = 0;
  while (client.write([block])) writes++;
  assert.equal(client.isWritable, false);
  assert.ok(writes < 10, `blocked after ${writes} writes`);
  const drained = new Promise<void>((r) => client.onDrain(r));
  server.onData(() => {});
  await drained;
  assert.equal(client.isWritable, true);
  client.destroy();
  server.destroy();
  await listener.close();
});

test('a producer that ignores backpressure is cut off at the hard queue cap', async () => {
  let accepted!: (c: Connection) => void;
  const incoming = new Promise<Connection>((r) => {
    accepted = r;
  });
  const listener = await listen({ host: '127.0.0.1', port: 0, onConnection: (c) => accepted(c) });
  const client = await dial({
    host: '127.0.0.1',
    port: listener.port,
    highWaterMarkBytes: 16 * 1024,
    maxQueuedBytes: 256 * 1024,
  });
  const server = await incoming;
  const closed = new Promise<Error | null>((r) => client.onClose(r));
  const block = new Uint8Array(64 * 1024);
  for (let i = 0; i < 100 && !client.isClosed; i++) client.write([block]);
  const err = await closed;
  assert.ok(err instanceof NetError && err.code === 'NET_SEND_QUEUE_FULL', String(err));
  server.destroy();
  await listener.close();
});

test('dialling a closed port fails with NET_DIAL_FAILED and an aborted dial with NET_ABORTED', async () => {
  const listener = await listen({ host: '127.0.0.1', port: 0, onConnection: (c) => c.destroy() });
  const port = listener.port;
  await listener.close();
  await assert.rejects(
    dial({ host: '127.0.0.1', port }),
    (e: unknown) => e instanceof NetError && e.code === 'NET_DIAL_FAILED',
  );
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    dial({ host: '127.0.0.1', port, signal: ac.signal }),
    (e: unknown) => e instanceof NetError && e.code === 'NET_ABORTED',
  );
});
