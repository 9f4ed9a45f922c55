import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../bencode/index.js';
import { utf8 } from '../util/bytes.js';
import { decodeKrpc, encodeKrpc, KrpcError, type KrpcMessage } from './krpc.js';

const ID = new Uint8Array(20).fill(0xab);
const T = utf8('aa');

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof KrpcError, String(err));
    return err.code;
  }
  return 'none';
}

test('decodes the BEP 5 ping example', () => {
  const m = decodeKrpc(utf8('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe'));
  assert.equal(m.y, 'q');
  assert.ok(m.y === 'q' && m.query.method === 'ping' && !m.readOnly);
});

test('round trips every query and response shape byte for byte', () => {
  const messages: KrpcMessage[] = [
    { t: T, y: 'q', id: ID, readOnly: true, query: { method: 'find_node', target: ID, want: ['n4', 'n6'] } },
    { t: T, y: 'q', id: ID, readOnly: false, query: { method: 'get_peers', infoHash: ID, noSeed: true } },
    {
      t: T,
      y: 'q',
      id: ID,
      readOnly: false,
      query: {
        method: 'announce_peer',
        infoHash: ID,
        port: 6881,
        token: utf8('tok'),
        impliedPort: true,
        seed: false,
      },
    },
    {
      t: T,
      y: 'q',
      id: ID,
      readOnly: false,
      query: {
        method: 'put',
        token: utf8('x'),
        v: utf8('l1:ai3ee'),
        k: new Uint8Array(32),
        sig: new Uint8Array(64),
        seq: 3,
        cas: 2,
        salt: utf8('s'),
      },
    },
    { t: T, y: 'q', id: ID, readOnly: false, query: { method: 'get', target: ID, seq: 9 } },
    { t: T, y: 'q', id: ID, readOnly: false, query: { method: 'sample_infohashes', target: ID } },
    {
      t: T,
      y: 'r',
      ip: { host: '1.2.3.4', port: 80 },
      version: utf8('PD01'),
      response: {
        id: ID,
        nodes: [{ id: ID, host: '10.0.0.1', port: 1 }],
        nodes6: [{ id: ID, host: '2001:db8::1', port: 2 }],
        values: [
          { host: '1.1.1.1', port: 5 },
          { host: '::1', port: 6 },
        ],
        token: utf8('t'),
        samples: [ID, ID],
        num: 4,
        interval: 21600,
      },
    },
    { t: T, y: 'e', error: { code: 203, message: 'Protocol Error' } },
  ];
  for (const m of messages) {
    const bytes = encodeKrpc(m);
    const back = decodeKrpc(bytes);
    assert.deepEqual(back, m);
    assert.deepEqual(encodeKrpc(back), bytes);
  }
});

test('refuses wrong sizes with stable codes, keeping the transaction id of a query', () => {
  const q = (a: Record<string, Uint8Array>) => encode({ t: 'zz', y: 'q', q: 'find_node', a });
  assert.equal(
    code(() => decodeKrpc(q({ id: new Uint8Array(19), target: ID }))),
    'KRPC_BAD_FIELD',
  );
  assert.equal(
    code(() => decodeKrpc(q({ id: ID }))),
    'KRPC_MISSING_FIELD',
  );
  try {
    decodeKrpc(q({ id: ID, target: new Uint8Array(21) }));
  } catch (err) {
    assert.ok(err instanceof KrpcError && err.isQuery);
    assert.deepEqual(err.transactionId, utf8('zz'));
  }
  const r = (body: Record<string, Uint8Array | Uint8Array[]>) =>
    encode({ t: 'zz', y: 'r', r: { id: ID, ...body } });
  assert.equal(
    code(() => decodeKrpc(r({ nodes: new Uint8Array(27) }))),
    'KRPC_BAD_FIELD',
  );
  assert.equal(
    code(() => decodeKrpc(r({ nodes: new Uint8Array(26 * 17) }))),
    'KRPC_BAD_FIELD',
  );
  assert.equal(
    code(() => decodeKrpc(r({ nodes6: new Uint8Array(26) }))),
    'KRPC_BAD_FIELD',
  );
  assert.equal(
    code(() => decodeKrpc(r({ token: new Uint8Array(65) }))),
    'KRPC_BAD_FIELD',
  );
  assert.equal(
    code(() => decodeKrpc(r({ values: Array(201).fill(new Uint8Array(6)) }))),
    'KRPC_BAD_FIELD',
  );
  assert.equal(
    code(() => decodeKrpc(r({ values: [new Uint8Array(7)] }))),
    'KRPC_BAD_FIELD',
  );
  assert.equal(
    code(() => decodeKrpc(encode({ t: new Uint8Array(17), y: 'r', r: { id: ID } }))),
    'KRPC_MALFORMED',
  );
  assert.equal(
    code(() => decodeKrpc(encode({ t: 'a', y: 'x' }))),
    'KRPC_MALFORMED',
  );
  assert.equal(
    code(() => decodeKrpc(utf8('d1:t'))),
    'KRPC_BENCODE',
  );
  assert.equal(
    code(() => decodeKrpc(new Uint8Array(5000).fill(0x64))),
    'KRPC_BENCODE',
  );
});

test('ignores unknown keys and answers unknown methods as unknown', () => {
  const m = decodeKrpc(encode({ t: 'a', y: 'q', q: 'vote', a: { id: ID, zzz: [1, 2] }, extra: 'x' }));
  assert.ok(m.y === 'q' && m.query.method === 'unknown' && m.query.name === 'vote');
});

test('announce_peer needs a port unless implied_port is set', () => {
  const a = (extra: Record<string, number>) =>
    encode({ t: 'a', y: 'q', q: 'announce_peer', a: { id: ID, info_hash: ID, token: 'x', ...extra } });
  assert.equal(
    code(() => decodeKrpc(a({}))),
    'KRPC_MISSING_FIELD',
  );
  const m = decodeKrpc(a({ implied_port: 1 }));
  assert.ok(m.y === 'q' && m.query.method === 'announce_peer' && m.query.impliedPort);
  assert.equal(
    code(() => decodeKrpc(a({ port: 70000 }))),
    'KRPC_BAD_FIELD',
  );
});
