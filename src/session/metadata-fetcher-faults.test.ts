/**
 * MetadataFetcher on protocol faults and limits: malformed or unrequested messages, convicted
 * peers dialling again, oversized claims, a right hash over an invalid dict, and progress().
 * Split from metadata-fetcher.test.ts so each file covers one topic.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from '../bencode/index.js';
import type { ExtendedHandshake } from '../wire/extension.js';
import { MAX_METADATA_BYTES, METADATA_PIECE_BYTES } from '../wire/limits.js';
import { encodeMetadataMessage } from '../wire/ut-metadata.js';
import { MetadataFault } from './metadata-fetcher.js';
import { assertOutcome, FakePeer, HONEST, run, Sim, sha1 } from './metadata-fetcher-harness.js';

describe('MetadataFetcher faults and limits', () => {
  test('protocol faults are dropped at once, with their own code', () => {
    const cases = [
      ['wrong-total', MetadataFault.SizeMismatch],
      ['unrequested', MetadataFault.Unrequested],
      ['wrong-length', MetadataFault.BadMessage],
    ] as const;
    for (const [kind, code] of cases) {
      const sim = run([{ kind }, { kind: 'honest', arriveMs: 2_000 }]);
      assert.equal(sim.bad.get(sim.peers[0]!), code, kind);
      assert.equal(sim.warnings.length, 0, `${kind}: no assembly failed`);
    }
  });

  test('malformed bencode and a data message from a peer that offered nothing are dropped', () => {
    const sim = new Sim([{ kind: 'honest' }]);
    const stranger = new FakePeer(sim, { kind: 'honest' }, 99);
    sim.fetcher.onMessage(stranger, Uint8Array.from([0x64, 0x31])); // "d1" (truncated)
    assert.equal(sim.bad.get(stranger), MetadataFault.BadMessage);
    const other = new FakePeer(sim, { kind: 'honest' }, 98);
    const data = HONEST.subarray(0, METADATA_PIECE_BYTES);
    sim.fetcher.onMessage(
      other,
      encodeMetadataMessage({ type: 'data', piece: 0, totalSize: HONEST.length, data }),
    );
    assert.equal(sim.bad.get(other), MetadataFault.Unrequested);
    sim.run();
    assertOutcome(sim);
  });

  test('a convicted peer that is dialled again is refused', () => {
    const sim = new Sim([
      { kind: 'garbage', port: 30_000 },
      { kind: 'honest', arriveMs: 3_000 },
    ]);
    const again = sim.addPeer({ kind: 'garbage', port: 30_000, arriveMs: 2_000 });
    sim.run();
    assertOutcome(sim);
    assert.equal(again.requests, 0);
    assert.ok(again.isClosed);
  });

  test('a size over the limit is never used', () => {
    const sim = new Sim([{ kind: 'honest' }]);
    const huge = sim.addPeer({ kind: 'silent' });
    (huge as { peerExtended: ExtendedHandshake }).peerExtended = {
      m: new Map([['ut_metadata', 3]]),
      metadataSize: MAX_METADATA_BYTES + 1,
    };
    sim.run();
    assert.equal(huge.requests, 0);
    assert.ok(sim.metadata);
  });

  test('an info dict that hashes right but is invalid fails the torrent once', () => {
    const invalid = encode({ name: 'x', 'piece length': 1000, length: 5, pieces: new Uint8Array(20) });
    const sim = new Sim([{ kind: 'honest' }], {
      honest: invalid,
      target: { infoHash: sha1(invalid), infoHashV2: null },
    });
    sim.run();
    assert.equal(sim.metadata, null);
    assert.ok(sim.failed);
  });

  test('progress() reports the size being assembled and the pieces so far', () => {
    const sim = new Sim([{ kind: 'honest' }]);
    assert.deepEqual(sim.fetcher.progress(), { sizeBytes: null, piecesHave: 0, piecesTotal: 0, peers: 0 });
    sim.run(0); // only the arrival
    const p = sim.fetcher.progress();
    assert.equal(p.sizeBytes, HONEST.length);
    assert.equal(p.piecesTotal, 4);
    assert.equal(p.peers, 1);
    sim.run();
    assert.equal(sim.fetcher.progress().piecesHave, 4);
  });
});
