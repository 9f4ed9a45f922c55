import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UdpRemote } from './udp.js';
import { bindUdp } from './udp.js';
import { classifyDatagram, type DatagramSocket, MUX_MAX_DATAGRAM_BYTES, UdpMux } from './udp-mux.js';

/** An in-memory datagram socket: `deliver` plays a datagram arriving; sends are recorded. */
class FakeSocket implements DatagramSocket {
  sent: { bytes: Uint8Array; host: string; port: number }[] = [];
  isClosed = false;
  private cb: (bytes: Uint8Array, from: UdpRemote) => void = () => {};
  private errorCb: (err: Error) => void = () => {};
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}
  send(bytes: Uint8Array, host: string, port: number): void {
    this.sent.push({ bytes, host, port });
  }
  onMessage(cb: (bytes: Uint8Array, from: UdpRemote) => void): void {
    this.cb = cb;
  }
  onError(cb: (err: Error) => void): void {
    this.errorCb = cb;
  }
  address() {
    return { host: this.host, port: this.port, family: this.host.includes(':') ? 'IPv6' : 'IPv4' } as const;
  }
  async close(): Promise<void> {
    this.isClosed = true;
  }
  deliver(bytes: Uint8Array, from: UdpRemote): void {
    this.cb(bytes, from);
  }
  fail(err: Error): void {
    this.errorCb(err);
  }
}

const PEER: UdpRemote = { host: '10.0.0.9', port: 4000, family: 'IPv4' };
const ascii = (s: string) => new TextEncoder().encode(s);
/** A BEP 15 response header: action, transaction id, then padding. */
function trackerReply(action: number, tid: number, length = 16): Uint8Array {
  const b = new Uint8Array(length);
  new DataView(b.buffer).setUint32(0, action);
  new DataView(b.buffer).setUint32(4, tid);
  return b;
}
/** A BEP 29 header: type in the high nibble, version 1. */
function utpPacket(type: number): Uint8Array {
  const b = new Uint8Array(20);
  b[0] = (type << 4) | 1;
  return b;
}

test('classifies KRPC, BEP 15 replies and uTP headers by their first bytes, and nothing else', () => {
  assert.equal(classifyDatagram(ascii('d1:y1:qe')), 'krpc');
  for (const action of [0, 1, 2, 3]) assert.equal(classifyDatagram(trackerReply(action, 7, 8)), 'tracker');
  assert.equal(classifyDatagram(trackerReply(4, 7)), null);
  assert.equal(classifyDatagram(trackerReply(1, 7, 8).subarray(0, 7)), null, 'shorter than a BEP 15 header');
  for (const type of [0, 1, 2, 3, 4]) assert.equal(classifyDatagram(utpPacket(type)), 'utp');
  assert.equal(classifyDatagram(utpPacket(5)), null, 'no uTP type 5');
  assert.equal(classifyDatagram(utpPacket(1).subarray(0, 19)), null, 'shorter than a uTP header');
  const v2 = utpPacket(1);
  v2[0] = 0x12;
  assert.equal(classifyDatagram(v2), null, 'uTP version 2');
  assert.equal(classifyDatagram(new Uint8Array(0)), null);
  assert.equal(classifyDatagram(ascii('GET / HTTP/1.1\r\n')), null);
  assert.equal(classifyDatagram(ascii('l1:ae')), null, 'a bencoded list is not KRPC');
});

test('routes each kind to its handler, tracker replies by transaction id, and counts the rest', () => {
  const socket = new FakeSocket('0.0.0.0', 6881);
  const mux = new UdpMux([socket]);
  const got: string[] = [];
  mux.register('krpc', (bytes, from) => got.push(`krpc ${bytes.length} ${from.host}:${from.port}`));
  const ours = new Set([0xdeadbeef]);
  mux.register('tracker', (bytes) => got.push(`tracker ${bytes[3]}`), {
    ownsTransaction: (tid) => ours.has(tid),
  });

  socket.deliver(ascii('d1:y1:re'), PEER);
  socket.deliver(trackerReply(1, 0xdeadbeef), PEER);
  socket.deliver(trackerReply(1, 0xdeadbeee), PEER); // not a transaction of ours: dropped
  socket.deliver(utpPacket(4), PEER); // uTP, nobody registered yet
  socket.deliver(ascii('garbage!'), PEER);
  socket.deliver(new Uint8Array(MUX_MAX_DATAGRAM_BYTES + 1).fill(0x64), PEER);
  socket.deliver(new Uint8Array(0), PEER);

  assert.deepEqual(got, ['krpc 8 10.0.0.9:4000', 'tracker 1']);
  assert.deepEqual(mux.stats().delivered, { krpc: 1, tracker: 1, utp: 0 });
  assert.deepEqual(mux.stats().dropped, { krpc: 0, tracker: 1, utp: 1, unknown: 2, oversized: 1 });

  const utp: number[] = [];
  mux.register('utp', (bytes) => utp.push(bytes[0]! >> 4));
  socket.deliver(utpPacket(4), PEER);
  assert.deepEqual(utp, [4]);
  assert.equal(mux.stats().delivered.utp, 1);
});

test('an unregistered kind is counted and dropped; a kind takes one handler, tracker several', () => {
  const socket = new FakeSocket('0.0.0.0', 6881);
  const mux = new UdpMux([socket]);
  const got: string[] = [];
  const dht = mux.register('krpc', () => got.push('dht'));
  assert.throws(() => mux.register('krpc', () => {}), /already registered/);
  dht.unregister();
  dht.unregister();
  socket.deliver(ascii('d1:y1:qe'), PEER);
  assert.equal(got.length, 0);
  assert.equal(mux.stats().dropped.krpc, 1);

  // Two tracker clients on one port: each gets only the replies to its own requests.
  mux.register('tracker', () => got.push('a'), { ownsTransaction: (tid) => tid === 1 });
  const b = mux.register('tracker', () => got.push('b'), { ownsTransaction: (tid) => tid === 2 });
  socket.deliver(trackerReply(0, 2), PEER);
  socket.deliver(trackerReply(0, 1), PEER);
  b.unregister();
  socket.deliver(trackerReply(0, 2), PEER);
  assert.deepEqual(got, ['b', 'a']);
  assert.equal(mux.stats().dropped.tracker, 1);
});

test('sends from the socket of the destination family, and refuses a family it has no socket for', () => {
  const v4 = new FakeSocket('0.0.0.0', 6881);
  const v6 = new FakeSocket('::', 6881);
  const mux = new UdpMux([v4, v6]);
  const reg = mux.register('krpc', (_bytes, from, send) => send(ascii('d1:y1:re'), from.host, from.port));
  assert.equal(mux.port, 6881);
  assert.equal(reg.send(Uint8Array.of(1), '2001:db8::1', 6881), true);
  assert.equal(mux.send(Uint8Array.of(2), '192.0.2.1', 6881), true);
  v6.deliver(ascii('d1:y1:qe'), { host: '2001:db8::2', port: 9, family: 'IPv6' });
  assert.deepEqual(
    v6.sent.map((s) => `${s.host} ${s.port} ${s.bytes.length}`),
    ['2001:db8::1 6881 1', '2001:db8::2 9 8'],
  );
  assert.deepEqual(
    v4.sent.map((s) => s.host),
    ['192.0.2.1'],
  );

  const only4 = new UdpMux([new FakeSocket('0.0.0.0', 1)]);
  assert.equal(only4.hasFamily(4), true);
  assert.equal(only4.hasFamily(6), false);
  assert.equal(only4.send(Uint8Array.of(1), '::1', 1), false);
  assert.equal(only4.stats().unsendable, 1);
  assert.throws(() => new UdpMux([new FakeSocket('0.0.0.0', 1), new FakeSocket('127.0.0.1', 2)]), /two IPv4/);
});

test('a throwing handler and socket errors are reported; the mux keeps serving and closes its sockets', async () => {
  const socket = new FakeSocket('0.0.0.0', 6881);
  const errors: string[] = [];
  const mux = new UdpMux([socket], { onError: (e) => errors.push(e.message) });
  let n = 0;
  mux.register('krpc', () => {
    if (++n === 1) throw new Error('boom');
  });
  socket.deliver(ascii('d1:y1:qe'), PEER);
  socket.deliver(ascii('d1:y1:qe'), PEER);
  socket.fail(new Error('unreachable'));
  assert.equal(n, 2);
  assert.deepEqual(errors, ['boom', 'unreachable']);
  assert.equal(mux.stats().handlerErrors, 1);
  await mux.close();
  assert.equal(socket.isClosed, true);
  socket.deliver(ascii('d1:y1:qe'), PEER);
  assert.equal(n, 2, 'nothing is delivered after close');
  assert.equal(mux.send(Uint8Array.of(1), '10.0.0.1', 1), false);
  assert.equal(mux.hasFamily(4), false);
});

test('binds both families on one port and round-trips KRPC over real loopback sockets', async () => {
  const errors: Error[] = [];
  const mux = await UdpMux.bind({
    port: 0,
    host4: '127.0.0.1',
    host6: '::1',
    onError: (e) => errors.push(e),
  });
  const peers = [await bindUdp({ host: '127.0.0.1', type: 'udp4' })];
  try {
    mux.register('krpc', (bytes, from, send) => {
      assert.equal(new TextDecoder().decode(bytes), 'd1:y1:qe');
      send(ascii('d1:y1:re'), from.host, from.port);
    });
    if (mux.hasFamily(6)) {
      assert.equal(errors.length, 0);
      peers.push(await bindUdp({ host: '::1', type: 'udp6' }));
    } else {
      // A host without IPv6: the mux runs on IPv4 alone and says why.
      assert.deepEqual(
        errors.map((e) => (e as { code?: string }).code),
        ['NET_LISTEN_FAILED'],
      );
    }
    for (const peer of peers) {
      const host = peer.type === 'udp6' ? '::1' : '127.0.0.1';
      const reply = new Promise<string>((resolve) =>
        peer.onMessage((bytes, from) => resolve(`${new TextDecoder().decode(bytes)} ${from.port}`)),
      );
      peer.send(ascii('junk'), host, mux.port);
      peer.send(ascii('d1:y1:qe'), host, mux.port);
      assert.equal(await reply, `d1:y1:re ${mux.port}`, `reply over ${peer.type}`);
    }
    assert.equal(mux.stats().dropped.unknown, peers.length);
    assert.equal(mux.stats().delivered.krpc, peers.length);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
    await mux.close();
  }
});

test('binds the port it is given, and fails with NET_LISTEN_FAILED when no family can have it', async () => {
  const holder = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  try {
    await assert.rejects(UdpMux.bind({ port: holder.address().port, host4: '127.0.0.1', families: [4] }), {
      code: 'NET_LISTEN_FAILED',
    });
  } finally {
    await holder.close();
  }
  const free = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  const port = free.address().port;
  await free.close();
  const mux = await UdpMux.bind({ port, host4: '127.0.0.1', families: [4] });
  assert.equal(mux.port, port);
  await mux.close();
});
