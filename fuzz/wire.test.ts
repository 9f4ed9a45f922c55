import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Bitfield } from '../src/util/bitfield.js';
import { concatBytes } from '../src/util/bytes.js';
import { ManualClock } from '../src/util/clock.js';
import { FrameDecoder } from '../src/wire/decoder.js';
import { WireError } from '../src/wire/errors.js';
import { decodeExtendedHandshake } from '../src/wire/extension.js';
import { encodeHandshake, NO_FEATURES } from '../src/wire/handshake.js';
import { encodeMessage, type Message, MsgId, pieceIndex } from '../src/wire/messages.js';
import { PeerProtocol } from '../src/wire/peer-protocol.js';
import { sampleMessages } from '../src/wire/test-messages.js';
import { decodeMetadataMessage } from '../src/wire/ut-metadata.js';
import { decodePexMessage } from '../src/wire/ut-pex.js';
import { fuzzParams } from './fuzz-config.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
const block = fc.record({
  piece: u32.map(pieceIndex),
  offset: u32,
  length: fc.integer({ min: 1, max: 16384 }),
});
const hashFields = fc.record({
  piecesRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  baseLayer: u32,
  index: u32,
  length: u32,
  proofLayers: u32,
});

/** Every message kind with arbitrary valid field values. */
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.constantFrom<Message>(
    { id: MsgId.KeepAlive },
    { id: MsgId.Choke },
    { id: MsgId.Unchoke },
    { id: MsgId.Interested },
    { id: MsgId.NotInterested },
    { id: MsgId.HaveAll },
    { id: MsgId.HaveNone },
  ),
  u32.map((p) => ({ id: MsgId.Have, piece: pieceIndex(p) })),
  u32.map((p) => ({ id: MsgId.Suggest, piece: pieceIndex(p) })),
  u32.map((p) => ({ id: MsgId.AllowedFast, piece: pieceIndex(p) })),
  bytes(64).map((bits) => ({ id: MsgId.Bitfield, bits })),
  block.map((b) => ({ id: MsgId.Request, ...b })),
  block.map((b) => ({ id: MsgId.Cancel, ...b })),
  block.map((b) => ({ id: MsgId.Reject, ...b })),
  fc
    .record({ piece: u32.map(pieceIndex), offset: u32, data: bytes(300) })
    .map((r) => ({ id: MsgId.Piece, ...r })),
  fc.integer({ min: 0, max: 65535 }).map((port) => ({ id: MsgId.Port, port })),
  fc
    .record({ extId: fc.integer({ min: 0, max: 255 }), payload: bytes(100) })
    .map((r) => ({ id: MsgId.Extended, ...r })),
  hashFields.map((h) => ({ id: MsgId.HashRequest, ...h })),
  hashFields.map((h) => ({ id: MsgId.HashReject, ...h })),
  fc
    .tuple(hashFields, fc.integer({ min: 0, max: 8 }))
    .map(([h, n]) => ({ id: MsgId.Hashes, ...h, hashes: new Uint8Array(n * 32).fill(n) })),
);

/** Feed `input` split at the given cut points; returns messages, asserting the buffer bound throughout. */
function decodeSplit(input: Uint8Array, cuts: number[], expectHandshake = false): Message[] {
  const out: Message[] = [];
  const decoder = new FrameDecoder(
    { onMessage: (m) => out.push(m), onUnknownMessage: () => {} },
    { expectHandshake, pieceCount: null },
  );
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, input.length]) {
    decoder.push(input.slice(prev, p));
    assert.ok(decoder.bufferedBytes <= decoder.maxFrameBytes + 5, `buffered ${decoder.bufferedBytes}`);
    prev = p;
  }
  return out;
}

function onlyWireErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
  }
}

/** Hostile seeds: forged lengths, unknown ids, spare bits, oversized requests. */
const SEEDS: Uint8Array[] = [
  Uint8Array.of(0x80, 0, 0, 0, 7),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0, 0x10, 0, 0, 20, 0),
  Uint8Array.of(0, 0, 0, 3, 99, 1, 2),
  Uint8Array.of(0, 0, 0, 13, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0),
  Uint8Array.of(0, 0, 0, 1),
];

describe('wire fuzz', () => {
  test('encode then decode gives every message back, however the stream is split', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (msgs, cuts) => {
        const stream = concatBytes(msgs.map(encodeMessage));
        const back = decodeSplit(stream, cuts);
        assert.equal(back.length, msgs.length);
        assert.deepEqual(concatBytes(back.map(encodeMessage)), stream, 're-encoding gives the exact bytes');
      }),
      fuzzParams(300),
    );
  });

  test('random bytes into the decoder: only WireError escapes and the buffer stays bounded', () => {
    fc.assert(
      fc.property(
        fc.oneof(bytes(200), fc.constantFrom(...SEEDS)),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.boolean(),
        (input, cuts, hs) => {
          onlyWireErrors(() => decodeSplit(input, cuts, hs));
        },
      ),
      fuzzParams(1000),
    );
  });

  test('mutated valid streams: only WireError escapes and the buffer stays bounded', () => {
    const valid = concatBytes(sampleMessages().map(encodeMessage));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (mutations, cuts) => {
          const input = valid.slice();
          for (const [at, value] of mutations) input[at % input.length] = value;
          onlyWireErrors(() => decodeSplit(input, cuts));
        },
      ),
      fuzzParams(1000),
    );
  });

  test('random frames into a PeerProtocol after a valid handshake never throw; a close always has a WireError reason', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(message.map(encodeMessage), bytes(40)), { maxLength: 10 }), (chunks) => {
        const reasons: WireError[] = [];
        const have = Bitfield.fromString('** *****');
        const p = new PeerProtocol({
          clock: new ManualClock(0),
          isOutgoing: false,
          localPeerId: new Uint8Array(20).fill(1),
          features: { extensions: true, fast: true, dht: false, v2: false },
          torrent: {
            infoHash: new Uint8Array(20),
            pieceCount: 8,
            pieceLength: () => 65536,
            hasPiece: (i) => have.get(i),
            bitfield: () => have,
          },
          maxPeerRequests: 4,
          send: () => {},
          handler: { onMessage: () => {}, onClose: (r) => reasons.push(r) },
        });
        p.receive(
          encodeHandshake({
            features: NO_FEATURES,
            infoHash: new Uint8Array(20),
            peerId: new Uint8Array(20).fill(2),
          }),
        );
        p.unchoke();
        for (const c of chunks) p.receive(c);
        assert.ok(p.bufferedBytes <= 1024 * 1024 + 5);
        assert.ok(reasons.length <= 1, 'onClose at most once');
        if (p.isClosed) assert.ok(reasons[0] instanceof WireError);
      }),
      fuzzParams(500),
    );
  });

  test('extension payload parsers: only WireError escapes', () => {
    fc.assert(
      fc.property(bytes(300), (input) => {
        onlyWireErrors(() => decodeExtendedHandshake(input));
        onlyWireErrors(() => decodeMetadataMessage(input));
        onlyWireErrors(() => decodePexMessage(input));
      }),
      fuzzParams(1000),
    );
  });
});
