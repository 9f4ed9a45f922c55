import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runStreamSeek, type StreamSeekOptions } from './stream-seek.js';

const scenario: Omit<StreamSeekOptions, 'withReader'> = {
  pieces: 256,
  pieceLengthBytes: 64 * 1024,
  seeders: 4,
  seederUploadBps: 250_000,
  latencyMs: 20,
  seed: 5,
  seekFraction: 0.5,
  seekAtMs: 1_500,
  readaheadPieces: 4,
};

test('a seek to the middle of a downloading file gets its first byte after the pieces already in flight and the window, far sooner than rarest first', async () => {
  const streamed = await runStreamSeek({ ...scenario, withReader: true });
  const enough = 4 * streamed.piecesToFirstByte.length;
  // Without a reader, stopped once the point is made (the benchmark runs it to the first byte).
  const rarest = await runStreamSeek({ ...scenario, withReader: false, stopAfterPieces: enough });
  assert.ok(streamed.piecesAtSeek < scenario.pieces / 4, `the leecher had ${streamed.piecesAtSeek} pieces`);
  assert.ok(!streamed.inFlightAtSeek.includes(streamed.targetPiece), 'the target was not on its way already');
  assert.deepEqual(streamed.window, { firstPiece: 128, endPiece: 132 });
  // Before the first byte: only the window and what the peers were already sending.
  assert.deepEqual(streamed.strays, [], `pieces started after the seek: ${streamed.strays}`);
  assert.ok(
    streamed.piecesToFirstByte.length <= streamed.inFlightAtSeek.length + 1,
    `${streamed.piecesToFirstByte.length} pieces before the first byte (${streamed.inFlightAtSeek.length} in flight)`,
  );
  assert.ok(streamed.firstByteMs < 2_000, `first byte ${streamed.firstByteMs} ms after the seek`);
  // Rarest first reaches the middle only by chance: after a good part of the torrent.
  assert.ok(
    rarest.piecesToFirstByte.length >= enough && !rarest.piecesToFirstByte.includes(rarest.targetPiece),
    `rarest first: the target among the first ${rarest.piecesToFirstByte.length} pieces after the seek`,
  );
});
