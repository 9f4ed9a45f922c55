import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../bencode/index.js';
import { utf8 } from '../util/bytes.js';
import { VirtualScheduler } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import { seededRandom } from '../util/random.js';
import { DhtError } from './errors.js';
import { generateItemKeyPair, mutableTarget, textValue } from './items.js';
import { decodeKrpc, encodeKrpc, type KrpcMessage } from './krpc.js';
import { AMPLIFICATION_FACTOR, DhtNode } from './node.js';
import { isCompliantId } from './node-id.js';
import { decodeState } from './state.js';
import { Testnet } from './testnet.js';

/** One node and a probe that records what the node sends back. */
function probe(options: Partial<ConstructorParameters<typeof DhtNode>[0]> = {}) {
  const scheduler = new VirtualScheduler();
  const rng = seededRandom(4);
  const sent: { bytes: Uint8Array; to: PeerAddress }[] = [];
  const node = new DhtNode({
    scheduler,
    send: (bytes, to) => sent.push({ bytes, to }),
    randomBytes: rng.bytes,
    ...options,
  });
  const from = { host: '50.1.2.3', port: 5000 };
  const ask = (m: KrpcMessage | Uint8Array, at: PeerAddress = from): KrpcMessage | null => {
    const before = sent.length;
    node.handleMessage(m instanceof Uint8Array ? m : encodeKrpc(m), at);
    const reply = sent.slice(before).find((s) => s.to.host === at.host);
    return reply ? decodeKrpc(reply.bytes) : null;
  };
  return { scheduler, node, sent, ask, from, rng };
}

const ID = new Uint8Array(20).fill(0x42);
const q = (query: Extract<KrpcMessage, { y: 'q' }>['query'], readOnly = false): KrpcMessage => ({
  t: utf8('tt'),
  y: 'q',
  id: ID,
  readOnly,
  query,
});

test('answers ping with its id and our address (BEP 42 ip), 204 for unknown methods, 203 for malformed queries', () => {
  const { node, ask, from } = probe();
  const pong = ask(q({ method: 'ping' }));
  assert.ok(pong?.y === 'r');
  assert.deepEqual(pong.response.id, node.id);
  assert.deepEqual(pong.ip, from);
  const unknown = ask(q({ method: 'unknown', name: 'vote' }));
  assert.ok(unknown?.y === 'e' && unknown.error.code === 204);
  const bad = ask(encode({ t: 'xy', y: 'q', q: 'find_node', a: { id: ID, target: 'short' } }));
  assert.ok(bad?.y === 'e' && bad.error.code === 203);
  assert.deepEqual(bad.t, utf8('xy'));
});

test('announce_peer needs our token; implied_port uses the UDP source port', () => {
  const { ask, from } = probe();
  const infoHash = new Uint8Array(20).fill(9);
  const first = ask(q({ method: 'get_peers', infoHash }));
  assert.ok(first?.y === 'r' && first.response.token);
  const token = first.response.token;
  const bad = ask(q({ method: 'announce_peer', infoHash, port: 1, token: utf8('nope'), impliedPort: false }));
  assert.ok(bad?.y === 'e' && bad.error.code === 203);
  const elsewhere = ask(q({ method: 'announce_peer', infoHash, port: 1, token, impliedPort: false }), {
    host: '60.0.0.1',
    port: 1,
  });
  assert.ok(elsewhere?.y === 'e', 'a token is bound to the IP it was given to');
  const ok = ask(q({ method: 'announce_peer', infoHash, port: 1234, token, impliedPort: true }));
  assert.ok(ok?.y === 'r');
  const again = ask(q({ method: 'get_peers', infoHash }));
  assert.ok(again?.y === 'r');
  assert.deepEqual(again.response.values, [{ host: from.host, port: from.port }]);
});

test('tokens stay valid for one rotation, not two', () => {
  const { node, ask, scheduler } = probe();
  node.start();
  const infoHash = new Uint8Array(20).fill(1);
  const r = ask(q({ method: 'get_peers', infoHash }));
  assert.ok(r?.y === 'r' && r.response.token);
  scheduler.advance(6 * 60_000);
  assert.equal(
    ask(q({ method: 'announce_peer', infoHash, port: 1, token: r.response.token, impliedPort: false }))?.y,
    'r',
  );
  scheduler.advance(6 * 60_000);
  assert.equal(
    ask(q({ method: 'announce_peer', infoHash, port: 1, token: r.response.token, impliedPort: false }))?.y,
    'e',
  );
  node.stop();
});

test('no amplification: an unverified address gets at most 4x its query', () => {
  const infoHash = new Uint8Array(20).fill(5);
  const query = encodeKrpc(q({ method: 'get_peers', infoHash }));
  const victim = { host: '80.8.8.8', port: 80 };
  const p2 = probe();
  for (let i = 0; i < 150; i++) {
    const at = { host: `70.0.${i >> 8}.${i & 255}`, port: 1000 + i };
    const r = p2.ask(q({ method: 'get_peers', infoHash }), at);
    assert.ok(r?.y === 'r' && r.response.token);
    p2.ask(q({ method: 'announce_peer', infoHash, port: 0, token: r.response.token, impliedPort: true }), at);
  }
  const before = p2.sent.length;
  p2.node.handleMessage(query, victim);
  const replies = p2.sent.slice(before).filter((s) => s.to.host === victim.host);
  assert.equal(replies.length, 1);
  const reply = replies[0]!;
  assert.ok(
    reply.bytes.length <= query.length * AMPLIFICATION_FACTOR,
    `${reply.bytes.length} vs ${query.length}`,
  );
  const decoded = decodeKrpc(reply.bytes);
  assert.ok(decoded.y === 'r' && (decoded.response.values?.length ?? 0) > 10, 'still some peers');
});

test('BEP 43: a read-only node answers nothing and marks its queries ro', () => {
  const { ask, node, sent } = probe({ readOnly: true, bootstrap: [{ host: '90.0.0.1', port: 1 }] });
  assert.equal(ask(q({ method: 'ping' })), null);
  node.start();
  const out = decodeKrpc(sent.at(-1)!.bytes);
  assert.ok(out.y === 'q' && out.readOnly);
  node.stop();
});

test('BEP 43: nodes that send ro are answered but never put in the table', () => {
  const { ask, node } = probe();
  assert.equal(ask(q({ method: 'ping' }, true))?.y, 'r');
  assert.equal(node.stats().rpc.sent, 0, 'no ping back to a read-only node');
});

test('BEP 51: sample_infohashes lists stored info-hashes', () => {
  const { ask } = probe();
  for (let i = 0; i < 3; i++) {
    const infoHash = new Uint8Array(20).fill(i + 1);
    const r = ask(q({ method: 'get_peers', infoHash }));
    assert.ok(r?.y === 'r' && r.response.token);
    ask(q({ method: 'announce_peer', infoHash, port: 9, token: r.response.token, impliedPort: false }));
  }
  const r = ask(q({ method: 'sample_infohashes', target: ID }));
  assert.ok(r?.y === 'r');
  assert.equal(r.response.num, 3);
  assert.equal(r.response.samples?.length, 3);
  assert.ok((r.response.interval ?? 0) > 0);
});

test('BEP 42: the node takes a compliant id once responses agree on its external address', () => {
  const net = new Testnet({ seed: 3 });
  for (let i = 0; i < 6; i++) net.addNode();
  net.run(5000);
  // A node with a random (non-compliant) id joins.
  const ids: Uint8Array[] = [];
  const joiner = net.addNode({ randomId: true, onIdChange: (id: Uint8Array) => ids.push(id) });
  const before = joiner.node.id;
  assert.ok(!isCompliantId(before, joiner.address.host));
  net.run(20_000);
  assert.equal(ids.length, 1);
  assert.equal(joiner.node.externalAddress(), joiner.address.host);
  assert.ok(isCompliantId(joiner.node.id, joiner.address.host));
  net.close();
});

test('saveState round trips; a damaged state is refused with DHT_BAD_STATE', async () => {
  const net = await Testnet.create({ size: 20, seed: 2 });
  const state = decodeState(net.nodes[3]!.node.saveState());
  assert.deepEqual(state.id, net.nodes[3]!.node.id);
  assert.equal(state.nodes.length, net.nodes[3]!.node.tableSize());
  assert.throws(
    () => decodeState(encode({ id: 'short' })),
    (e: unknown) => e instanceof DhtError && e.code === 'DHT_BAD_STATE',
  );
  assert.throws(
    () => decodeState(utf8('garbage')),
    (e: unknown) => e instanceof DhtError && e.code === 'DHT_BAD_STATE',
  );
  net.close();
});

test('BEP 44 on a testnet: immutable and mutable items put by one node are read by another', async () => {
  const net = await Testnet.create({ size: 60, seed: 21 });
  const writer = net.nodes[7]!.node;
  const reader = net.nodes[40]!.node;
  const value = textValue('Hello World!');
  const put = await net.settle(writer.putImmutable(value));
  assert.ok(put.stored >= 4, `stored on ${put.stored}`);
  const got = await net.settle(reader.getItem(put.target));
  assert.deepEqual(got?.v, value);

  const keyPair = generateItemKeyPair();
  const salt = utf8('foobar');
  const m1 = await net.settle(writer.putMutable({ keyPair, v: textValue('one'), seq: 1, salt }));
  assert.deepEqual(m1.target, mutableTarget(keyPair.publicKey, salt));
  await net.settle(writer.putMutable({ keyPair, v: textValue('two'), seq: 2, salt, cas: 1 }));
  const item = await net.settle(reader.getItem(m1.target, { salt }));
  assert.equal(item?.seq, 2);
  assert.deepEqual(item?.v, textValue('two'));
  assert.equal(await net.settle(reader.getItem(new Uint8Array(20).fill(0xee))), null);
  net.close();
});
