import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  autoPieceLength,
  isValidPieceLength,
  pieceLengthProblem,
  TARGET_MAX_PIECES,
} from './piece-length.js';

describe('piece length', () => {
  test('small content gets the 16 KiB minimum', () => {
    assert.equal(autoPieceLength(0), 16384);
    assert.equal(autoPieceLength(1000), 16384);
  });

  test('the automatic choice keeps between 1000 and 2000 pieces from ~31 MiB to ~31 GiB', () => {
    for (const total of [40e6, 700e6, 1024 ** 3, 4.7e9, 30e9]) {
      const pl = autoPieceLength(total);
      const pieces = Math.ceil(total / pl);
      assert.ok(
        pieces <= TARGET_MAX_PIECES && pieces > TARGET_MAX_PIECES / 2,
        `${total}: ${pieces} pieces of ${pl}`,
      );
      assert.equal(pieceLengthProblem(pl), null);
    }
  });

  test('the automatic choice never exceeds 16 MiB', () => {
    assert.equal(autoPieceLength(2 ** 50), 16 * 1024 * 1024);
  });

  test('refuses piece lengths that are not powers of two of at least 16 KiB', () => {
    assert.match(pieceLengthProblem(1000)!, /power of two/);
    assert.match(pieceLengthProblem(8192)!, /below/);
    assert.match(pieceLengthProblem(2 ** 29)!, /above/);
    assert.match(pieceLengthProblem(1.5)!, /integer/);
    assert.equal(isValidPieceLength(32768), true);
    assert.equal(isValidPieceLength(0), false);
  });
});
