import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CHOKER_SETTINGS } from '../swarm/choker.js';
import { RateMeter } from '../swarm/rate-meter.js';
import { RequestPipeline } from '../swarm/request-pipeline.js';
import { ManualClock } from '../util/clock.js';
import { seededRandom } from '../util/random.js';
import { TokenBucket } from '../util/token-bucket.js';
import { type BlockRef, pieceIndex } from '../wire/messages.js';
import type { PeerChannel } from './peer-channel.js';
import { PeerLink } from './peer-link.js';
import { ReadCache } from './read-cache.js';
import { Uploader } from './uploader.js';

const PIECE = 64 * 1024;

/** Pieces whose every byte is the piece index (with a NUL in piece 0), read on demand. */
function fakeDisk() {
  const reads: number[] = [];
  const waiting = new Map<number, () => void>();
  return {
    reads,
    readPiece: (piece: number) =>
      new Promise<Uint8Array>((resolve) => {
        reads.push(piece);
        waiting.set(piece, () => resolve(new Uint8Array(PIECE).fill(piece)));
      }),
    finish(piece: number) {
      waiting.get(piece)?.();
      waiting.delete(piece);
    },
  };
}

function fakeChannel() {
  const sent: { piece: number; offset: number; data: Uint8Array }[] = [];
  const channel = {
    remoteHost: '127.0.0.1',
    remotePort: 6881,
    isWritable: true,
    queuedBytes: 0,
    amChoking: true,
    amInterested: false,
    peerChoking: true,
    peerInterested: false,
    sendPiece: (piece: number, offset: number, data: Uint8Array) => {
      sent.push({ piece, offset, data });
      return true;
    },
    rejectRequest: () => {},
  };
  return { sent, channel };
}

function setup() {
  const clock = new ManualClock(0);
  const disk = fakeDisk();
  const cache = new ReadCache(disk.readPiece, () => PIECE, 16 * PIECE);
  const { sent, channel } = fakeChannel();
  const link = new PeerLink(
    channel as unknown as PeerChannel,
    new RequestPipeline(clock),
    new RateMeter(clock),
    new RateMeter(clock),
    0,
  );
  channel.amChoking = false;
  const uploader = new Uploader({
    clock,
    random: seededRandom(1),
    settings: DEFAULT_CHOKER_SETTINGS,
    buckets: [new TokenBucket(clock, Number.POSITIVE_INFINITY)],
    meter: new RateMeter(clock),
    pieces: cache,
    isAttached: () => true,
    isSeeding: () => true,
    hasPiece: () => true,
    pieceLength: () => PIECE,
    onUploaded: () => {},
    onStorageError: (err) => {
      throw err;
    },
  });
  return { disk, cache, sent, channel, link, uploader };
}

function block(piece: number, offset: number): BlockRef {
  return { piece: pieceIndex(piece), offset, length: 16384 };
}

const tick = () => new Promise((r) => setImmediate(r));

test('serves blocks of a piece in memory at once, and reads ahead the next pieces in the queue', async () => {
  const { disk, sent, link, uploader } = setup();
  for (const p of [0, 1, 2]) for (let o = 0; o < PIECE; o += 16384) uploader.onRequest(link, block(p, o));
  assert.deepEqual(disk.reads, [0, 1, 2], 'the head piece and the following ones are read');
  assert.equal(sent.length, 0);
  disk.finish(0);
  await tick();
  assert.equal(sent.length, 4, 'all of piece 0 went out');
  assert.ok(sent.every((s) => s.piece === 0 && s.data.length === 16384 && s.data[0] === 0));
  disk.finish(1);
  disk.finish(2);
  await tick();
  assert.equal(sent.length, 12);
  assert.deepEqual(
    sent.map((s) => `${s.piece}:${s.offset}`),
    [0, 1, 2].flatMap((p) => [0, 16384, 32768, 49152].map((o) => `${p}:${o}`)),
  );
  assert.ok(sent.slice(4).every((s) => s.data[0] === s.piece));
  assert.deepEqual(disk.reads, [0, 1, 2], 'each piece read once');
});

test('waits for backpressure and resumes on pump', async () => {
  const { disk, sent, channel, link, uploader } = setup();
  for (let o = 0; o < PIECE; o += 16384) uploader.onRequest(link, block(5, o));
  channel.isWritable = false;
  disk.finish(5);
  await tick();
  assert.equal(sent.length, 0, 'nothing is written while the socket is full');
  assert.equal(link.uploadQueue.length, 4);
  channel.isWritable = true;
  uploader.pump(link);
  assert.equal(sent.length, 4);
});

test('a peer choked while its piece is read gets nothing, and a cancelled block is not sent', async () => {
  const { disk, sent, channel, link, uploader } = setup();
  uploader.onRequest(link, block(3, 0));
  uploader.onRequest(link, block(3, 16384));
  uploader.onCancel(link, block(3, 16384));
  channel.amChoking = true;
  disk.finish(3);
  await tick();
  assert.equal(sent.length, 0);
  channel.amChoking = false;
  uploader.pump(link);
  assert.deepEqual(
    sent.map((s) => s.offset),
    [0],
  );
});

test('the read cache shares one read per piece and stays within its capacity', async () => {
  const disk = fakeDisk();
  const cache = new ReadCache(disk.readPiece, () => PIECE, 2 * PIECE);
  const a = cache.readBlock(7, 0, 16384);
  const b = cache.readBlock(7, 16384, 16384);
  assert.equal(cache.peek(7), undefined, 'not in memory before the read completes');
  disk.finish(7);
  assert.equal((await a)[0], 7);
  assert.equal((await b).length, 16384);
  assert.deepEqual(disk.reads, [7]);
  assert.equal(cache.peek(7)?.length, PIECE);
  void cache.load(8);
  void cache.load(9);
  assert.equal(cache.has(7), false, 'the least recently used piece was evicted');
  assert.ok(cache.sizeBytes <= 2 * PIECE);
  disk.finish(8);
  disk.finish(9);
});
