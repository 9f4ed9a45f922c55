import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder } from './decoder.js';
import { WireError } from './errors.js';
import { encodeHandshake, NO_FEATURES } from './handshake.js';
import { MAX_EXTENDED_MESSAGE_BYTES } from './limits.js';
import { encodeMessage, type Message, MsgId, pieceIndex } from './messages.js';
import { sampleMessages } from './test-messages.js';

function collector(options: { pieceCount?: number; expectHandshake?: boolean } = {}) {
  const messages: Message[] = [];
  const decoder = new FrameDecoder(
    { onMessage: (m) => messages.push(m) },
    { expectHandshake: options.expectHandshake ?? false, pieceCount: options.pieceCount ?? null },
  );
  return { messages, decoder };
}

function frame(length: number, id: number, payload: number[] = []): Uint8Array {
  return Uint8Array.of(
    length >>> 24,
    (length >>> 16) & 255,
    (length >>> 8) & 255,
    length & 255,
    id,
    ...payload,
  );
}

function throwsCode(fn: () => void, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof WireError && err.code === code);
}

test('a stream split at every byte decodes to the same messages', () => {
  const samples = sampleMessages();
  const bytes = Uint8Array.from(samples.flatMap((m) => Array.from(encodeMessage(m))));
  const { messages, decoder } = collector();
  for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1));
  assert.deepEqual(
    messages.map((m) => m.id),
    samples.map((m) => m.id),
  );
  assert.equal(decoder.bufferedBytes, 0);
});

test('message length 2^31 is refused as too large before any allocation', () => {
  const { decoder } = collector();
  throwsCode(() => decoder.push(frame(2 ** 31, MsgId.Piece)), 'WIRE_MESSAGE_TOO_LARGE');
  assert.equal(decoder.bufferedBytes, 0, 'nothing was buffered');
});

test('a length prefix alone over the limit fails before the id byte arrives', () => {
  const { decoder } = collector();
  throwsCode(() => decoder.push(Uint8Array.of(0x80, 0, 0, 0, 7).subarray(0, 5)), 'WIRE_MESSAGE_TOO_LARGE');
});

test('a piece frame over 16 KiB + 13 is too large', () => {
  const { decoder } = collector();
  throwsCode(() => decoder.push(frame(16384 + 10, MsgId.Piece)), 'WIRE_MESSAGE_TOO_LARGE');
});

test('an extended message over its 1 MiB bound is too large', () => {
  const { decoder } = collector();
  throwsCode(
    () => decoder.push(frame(MAX_EXTENDED_MESSAGE_BYTES + 1, MsgId.Extended)),
    'WIRE_MESSAGE_TOO_LARGE',
  );
});

test('an unknown message id is an error unless the handler chooses to skip it', () => {
  throwsCode(() => collector().decoder.push(frame(3, 99, [1, 2])), 'WIRE_UNKNOWN_MESSAGE');

  const seen: number[] = [];
  const messages: Message[] = [];
  const decoder = new FrameDecoder(
    { onMessage: (m) => messages.push(m), onUnknownMessage: (_e, id) => seen.push(id) },
    { expectHandshake: false },
  );
  const unknown = frame(1001, 99, new Array(1000).fill(5));
  decoder.push(unknown.subarray(0, 10));
  assert.equal(decoder.bufferedBytes, 0, 'skipped bytes are not buffered');
  decoder.push(unknown.subarray(10));
  decoder.push(encodeMessage({ id: MsgId.Unchoke }));
  assert.deepEqual(seen, [99]);
  assert.deepEqual(
    messages.map((m) => m.id),
    [MsgId.Unchoke],
  );
});

test('a bitfield with spare bits set is rejected', () => {
  const { decoder } = collector({ pieceCount: 10 });
  throwsCode(() => decoder.push(frame(3, MsgId.Bitfield, [0xff, 0xc1])), 'WIRE_BAD_BITFIELD');
});

test('a bitfield of the wrong size for the piece count is rejected before it is buffered', () => {
  const { decoder } = collector({ pieceCount: 10 });
  throwsCode(() => decoder.push(frame(4, MsgId.Bitfield)), 'WIRE_BAD_BITFIELD');
});

test('a correct bitfield is accepted', () => {
  const { decoder, messages } = collector({ pieceCount: 10 });
  decoder.push(frame(3, MsgId.Bitfield, [0xff, 0xc0]));
  assert.equal(messages[0]?.id, MsgId.Bitfield);
});

test('a request for more than 16 KiB or for zero bytes is a bad request', () => {
  const req = (length: number) =>
    encodeMessage({ id: MsgId.Request, piece: pieceIndex(0), offset: 0, length });
  throwsCode(() => collector().decoder.push(req(16385)), 'WIRE_BAD_REQUEST');
  throwsCode(() => collector().decoder.push(req(0)), 'WIRE_BAD_REQUEST');
});

test('a have beyond the piece count is rejected', () => {
  const { decoder } = collector({ pieceCount: 4 });
  throwsCode(() => decoder.push(encodeMessage({ id: MsgId.Have, piece: pieceIndex(4) })), 'WIRE_BAD_HAVE');
});

test('a fixed-size message with the wrong length is rejected', () => {
  throwsCode(() => collector().decoder.push(frame(2, MsgId.Choke, [0])), 'WIRE_BAD_MESSAGE_LENGTH');
  throwsCode(() => collector().decoder.push(frame(4, MsgId.Have, [0, 0, 0])), 'WIRE_BAD_MESSAGE_LENGTH');
});

test('after an error the decoder keeps failing with the same error', () => {
  const { decoder } = collector();
  throwsCode(() => decoder.push(frame(2 ** 31, 7)), 'WIRE_MESSAGE_TOO_LARGE');
  throwsCode(() => decoder.push(encodeMessage({ id: MsgId.Choke })), 'WIRE_MESSAGE_TOO_LARGE');
});

test('the handshake is decoded first, then messages in the same chunk', () => {
  const infoHash = new Uint8Array(20).fill(1);
  const peerId = new Uint8Array(20).fill(2);
  const hs = encodeHandshake({ features: { ...NO_FEATURES, fast: true }, infoHash, peerId });
  const got: string[] = [];
  const decoder = new FrameDecoder({
    onHandshake: (h) => got.push(`hs fast=${h.features.fast}`),
    onMessage: (m) => got.push(`msg ${m.id}`),
  });
  const bytes = new Uint8Array([...hs, ...encodeMessage({ id: MsgId.HaveAll })]);
  decoder.push(bytes.subarray(0, 30));
  decoder.push(bytes.subarray(30));
  assert.deepEqual(got, ['hs fast=true', `msg ${MsgId.HaveAll}`]);
});

test('a non-BitTorrent first byte fails the handshake at once', () => {
  const decoder = new FrameDecoder({ onMessage: () => {} });
  throwsCode(() => decoder.push(new TextEncoder().encode('GET / HTTP/1.1\r\n')), 'WIRE_BAD_HANDSHAKE');
});

test('a split large piece is assembled into one buffer of exactly its size', () => {
  const data = Uint8Array.from({ length: 16384 }, (_, i) => i & 255);
  const bytes = encodeMessage({ id: MsgId.Piece, piece: pieceIndex(3), offset: 16384, data });
  const { decoder, messages } = collector();
  decoder.push(bytes.subarray(0, 7000));
  assert.ok(decoder.bufferedBytes <= bytes.length);
  decoder.push(bytes.subarray(7000));
  const m = messages[0];
  assert.ok(m?.id === MsgId.Piece);
  assert.deepEqual(m.data, data);
  assert.equal(decoder.bufferedBytes, 0);
});

test('reusePieceBody: split piece frames share one buffer, each correct during onMessage', () => {
  const seen: string[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const decoder = new FrameDecoder(
    {
      onMessage: (m) => {
        if (m.id !== MsgId.Piece) return;
        seen.push(`${m.offset}:${m.data[0]}:${m.data[m.data.length - 1]}`);
        buffers.add(m.data.buffer);
      },
    },
    { expectHandshake: false, reusePieceBody: true },
  );
  const block = (fill: number, length = 16384) =>
    encodeMessage({
      id: MsgId.Piece,
      piece: pieceIndex(0),
      offset: fill * 16384,
      data: new Uint8Array(length).fill(fill),
    });
  const stream = Buffer.concat([block(1), block(2), block(3, 100)]);
  for (let at = 0; at < stream.length; at += 5000) decoder.push(stream.subarray(at, at + 5000));
  assert.deepEqual(seen, ['16384:1:1', '32768:2:2', '49152:3:3']);
  assert.equal(buffers.size, 2, 'both split 16 KiB blocks used one buffer; the short one sat in a chunk');
});
