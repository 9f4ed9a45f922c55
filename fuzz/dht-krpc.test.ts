import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encode } from '../src/bencode/index.js';
import { decodeKrpc, encodeKrpc, KrpcError, type KrpcMessage, type NodeContact } from '../src/dht/krpc.js';
import { DhtNode } from '../src/dht/node.js';
import { VirtualScheduler } from '../src/util/clock.js';
import type { PeerAddress } from '../src/util/ip.js';
import { seededRandom } from '../src/util/random.js';
import { fuzzParams } from './fuzz-config.js';

/** Plain JSON with bytes as hex, so objects of any prototype compare by content. */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)),
  );
}

/** Only KrpcError may escape the decoder. */
function onlyOurErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (err instanceof KrpcError) return;
    throw err;
  }
}

const id = fc.uint8Array({ minLength: 20, maxLength: 20 });
const t = fc.uint8Array({ minLength: 0, maxLength: 16 });
const port = fc.integer({ min: 1, max: 65535 });
const v4 = fc.ipV4().map((h) => h.split('.').map(Number).join('.'));
const node4: fc.Arbitrary<NodeContact> = fc.record({ id, host: v4, port });
const node6: fc.Arbitrary<NodeContact> = fc.record({
  id,
  host: fc.constantFrom('2001:db8::1', '::1', 'fe80::2:3'),
  port,
});
const want = fc.subarray(['n4', 'n6'] as const);

const query = fc.oneof(
  fc.constant({ method: 'ping' as const }),
  fc.record({ method: fc.constant('find_node' as const), target: id, want }),
  fc.record({ method: fc.constant('get_peers' as const), infoHash: id }),
  fc.record({
    method: fc.constant('announce_peer' as const),
    infoHash: id,
    port,
    token: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    impliedPort: fc.boolean(),
  }),
  fc.record({ method: fc.constant('get' as const), target: id, seq: fc.nat() }),
  fc.record({ method: fc.constant('sample_infohashes' as const), target: id }),
  fc.record({
    method: fc.constant('put' as const),
    token: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    v: fc.uint8Array({ maxLength: 100 }).map((b) => encode(b)),
  }),
);

const message: fc.Arbitrary<KrpcMessage> = fc.oneof(
  fc.record({ t, y: fc.constant('q' as const), id, readOnly: fc.boolean(), query }),
  fc.record(
    {
      t,
      y: fc.constant('r' as const),
      response: fc.record(
        {
          id,
          nodes: fc.array(node4, { maxLength: 16 }),
          nodes6: fc.array(node6, { maxLength: 16 }),
          values: fc.array(fc.record({ host: v4, port }), { maxLength: 50 }),
          token: fc.uint8Array({ minLength: 1, maxLength: 64 }),
          seq: fc.nat(),
        },
        { requiredKeys: ['id'] },
      ),
    },
    { requiredKeys: ['t', 'y', 'response'] },
  ),
  fc.record({
    t,
    y: fc.constant('e' as const),
    error: fc.record({ code: fc.integer({ min: 0, max: 999 }), message: fc.string({ maxLength: 40 }) }),
  }),
);

test('KRPC: encode → decode gives the message, and its bytes re-encode exactly', () => {
  fc.assert(
    fc.property(message, (m) => {
      const bytes = encodeKrpc(m);
      const back = decodeKrpc(bytes);
      assert.deepEqual(plain(back), plain(m));
      assert.deepEqual(encodeKrpc(back), bytes);
    }),
    fuzzParams(),
  );
});

test('KRPC: arbitrary bytes throw only KrpcError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => onlyOurErrors(() => decodeKrpc(bytes))),
    fuzzParams(),
  );
});

test('KRPC: mutated valid messages throw only KrpcError', () => {
  fc.assert(
    fc.property(message, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 6 }), (m, edits) => {
      const bytes = encodeKrpc(m).slice();
      for (const [at, b] of edits) if (bytes.length > 0) bytes[at % bytes.length] = b;
      onlyOurErrors(() => decodeKrpc(bytes));
    }),
    fuzzParams(),
  );
});

test('DhtNode: any datagram is handled without throwing, and no answer to an unverified sender exceeds 4x its size', () => {
  const scheduler = new VirtualScheduler();
  const rng = seededRandom(77);
  let out: { bytes: Uint8Array; to: PeerAddress }[] = [];
  const node = new DhtNode({
    scheduler,
    send: (bytes, to) => out.push({ bytes, to }),
    randomBytes: rng.bytes,
  });
  // Give it something to answer with: peers for one info-hash.
  const infoHash = new Uint8Array(20).fill(1);
  for (let i = 0; i < 60; i++) {
    const at = { host: `70.0.0.${i + 1}`, port: 1000 + i };
    out = [];
    node.handleMessage(
      encode({ t: 'a', y: 'q', q: 'get_peers', a: { id: new Uint8Array(20), info_hash: infoHash } }),
      at,
    );
    const token = decodeKrpc(out[0]!.bytes);
    if (token.y !== 'r' || !token.response.token) throw new Error('no token');
    node.handleMessage(
      encode({
        t: 'b',
        y: 'q',
        q: 'announce_peer',
        a: {
          id: new Uint8Array(20),
          info_hash: infoHash,
          port: 1,
          implied_port: 1,
          token: token.response.token,
        },
      }),
      at,
    );
  }
  const queryish = fc.oneof(
    message.map((m) => encodeKrpc(m)),
    fc.uint8Array({ maxLength: 300 }),
    fc.constant(
      encode({ t: 'zz', y: 'q', q: 'get_peers', a: { id: new Uint8Array(20), info_hash: infoHash } }),
    ),
  );
  let n = 0;
  fc.assert(
    fc.property(queryish, (bytes) => {
      const from = { host: `90.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port: 5 };
      n++;
      out = [];
      node.handleMessage(bytes, from);
      for (const o of out)
        if (o.to.host === from.host)
          assert.ok(o.bytes.length <= 4 * Math.max(bytes.length, 1), `${o.bytes.length} for ${bytes.length}`);
    }),
    fuzzParams(),
  );
});
