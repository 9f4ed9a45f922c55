import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder } from './decoder.js';
import {
  encodeMessage,
  encodeMessageChunks,
  encodePieceHeader,
  frameSize,
  type Message,
  MsgId,
  pieceIndex,
  writeMessage,
} from './messages.js';
import { sampleMessages } from './test-messages.js';

function decodeAll(bytes: Uint8Array): Message[] {
  const out: Message[] = [];
  new FrameDecoder({ onMessage: (m) => out.push(m) }, { expectHandshake: false }).push(bytes);
  return out;
}

/** Normalise views to plain arrays so deepEqual compares contents. */
function plain(m: Message): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));
}

test('every message kind survives an encode/decode round trip', () => {
  const samples = sampleMessages();
  assert.equal(new Set(samples.map((m) => m.id)).size, Object.keys(MsgId).length, 'one sample per id');
  for (const msg of samples) {
    const decoded = decodeAll(encodeMessage(msg));
    assert.equal(decoded.length, 1, `one message for id ${msg.id}`);
    assert.deepEqual(plain(decoded[0]!), plain(msg));
  }
});

test('frameSize matches the encoded length and writeMessage packs frames back to back', () => {
  const samples = sampleMessages();
  const total = samples.reduce((n, m) => n + frameSize(m), 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const m of samples) {
    assert.equal(encodeMessage(m).length, frameSize(m));
    at = writeMessage(m, out, at);
  }
  assert.equal(at, total);
  assert.deepEqual(decodeAll(out).map(plain), samples.map(plain));
});

test('a keep-alive is four zero bytes', () => {
  assert.deepEqual(Array.from(encodeMessage({ id: MsgId.KeepAlive })), [0, 0, 0, 0]);
});

test('a have message has the BEP 3 layout', () => {
  assert.deepEqual(
    Array.from(encodeMessage({ id: MsgId.Have, piece: pieceIndex(258) })),
    [0, 0, 0, 5, 4, 0, 0, 1, 2],
  );
});

test('piece messages encode as header plus the caller block without copying it', () => {
  const data = new Uint8Array(16384).fill(9);
  const chunks = encodeMessageChunks({ id: MsgId.Piece, piece: pieceIndex(1), offset: 0, data });
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1], data, 'the block itself, not a copy');
  assert.deepEqual(chunks[0], encodePieceHeader(1, 0, data.length));
  assert.deepEqual(Array.from(chunks[0]!.subarray(0, 5)), [0, 0, 0x40, 9, 7]);
});

test('a piece decoded from one whole chunk is a view into that chunk (zero-copy)', () => {
  const frame = encodeMessage({
    id: MsgId.Piece,
    piece: pieceIndex(2),
    offset: 0,
    data: new Uint8Array(100),
  });
  const [m] = decodeAll(frame);
  assert.ok(m?.id === MsgId.Piece);
  assert.equal(m.data.buffer, frame.buffer);
});
