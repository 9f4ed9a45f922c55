/**
 * MetadataFetcher finding the truth among peers: honest peers, liars of every kind from issue 9
 * (garbage, a different info dict, wrong sizes, partial answers), slow and refusing peers, and
 * random mixes of them (fast-check). Faults and limits are in metadata-fetcher-faults.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ExtendedHandshake } from '../wire/extension.js';
import { MetadataFault } from './metadata-fetcher.js';
import {
  assertOutcome,
  BIGGER,
  type Kind,
  LIAR_KINDS,
  type PeerSpec,
  Rng,
  run,
  Sim,
  sha256,
  TRUTHFUL,
  V2,
  V2_OTHER,
} from './metadata-fetcher-harness.js';

describe('MetadataFetcher', () => {
  test('an honest peer alone: one request per piece, no warning', () => {
    const sim = run([{ kind: 'honest' }]);
    assert.equal(sim.requests, 4);
    assert.equal(sim.warnings.length, 0);
    assert.equal(sim.bad.size, 0);
  });

  test('two honest peers share the pieces', () => {
    const sim = run([{ kind: 'honest' }, { kind: 'honest' }]);
    assert.ok(
      sim.peers.every((p) => p.requests > 0),
      'both asked',
    );
    assert.equal(sim.requests, 4);
    assert.equal(sim.warnings.length, 0);
  });

  test('an honest peer and a liar sending random bytes of the right size', () => {
    const sim = run([{ kind: 'garbage' }, { kind: 'honest' }]);
    // Asked again for a piece, it sends other random bytes: caught as inconsistent, or by the hash.
    const code = sim.bad.get(sim.peers[0]!);
    assert.ok(code === MetadataFault.HashMismatch || code === MetadataFault.Inconsistent, code);
    assert.equal(sim.warnings.length, 1, 'one failed assembly');
  });

  test('an honest peer and a liar sending a valid but different info dict of the same size', () => {
    const sim = run([{ kind: 'honest' }, { kind: 'other-dict' }]);
    assert.equal(sim.bad.get(sim.peers[1]!), MetadataFault.HashMismatch);
  });

  test('a liar claiming a bigger size, and one claiming a smaller size', () => {
    for (const kind of ['bigger', 'smaller'] as const) {
      for (const liarFirst of [true, false]) {
        const specs: PeerSpec[] = [{ kind: 'honest', arriveMs: liarFirst ? 50 : 0 }, { kind }];
        const sim = run(specs);
        assert.ok(sim.bad.has(sim.peers[1]!), `${kind} liar reported (first: ${liarFirst})`);
      }
    }
  });

  test('a liar that connects first and answers fast, honest peer seconds later', () => {
    for (const kind of ['garbage', 'other-dict', 'one-bad-piece', 'bigger'] as const) {
      const sim = run([{ kind }, { kind: 'honest', arriveMs: 5_000 }]);
      assert.ok(sim.bad.has(sim.peers[0]!), kind);
      assert.ok(sim.doneAtMs! < 7_000, `${kind}: done at ${sim.doneAtMs} ms`);
    }
  });

  test('several liars of every kind and one honest peer, which arrives last', () => {
    const specs: PeerSpec[] = LIAR_KINDS.map((kind, i) => ({ kind, arriveMs: i * 10 }));
    specs.push({ kind: 'honest', arriveMs: 1_000 });
    const sim = run(specs);
    // assertOutcome checked that every liar that sent bad metadata was reported; nearly all did.
    assert.ok(sim.bad.size >= LIAR_KINDS.length - 2, `${sim.bad.size} reported`);
    assert.ok(sim.doneAtMs! < 5_000, `done at ${sim.doneAtMs} ms`);
  });

  test('many liars claiming the true size: failures stay bounded by the number of peers', () => {
    const specs: PeerSpec[] = [];
    for (let i = 0; i < 20; i++) specs.push({ kind: i % 2 === 0 ? 'garbage' : 'other-dict' });
    specs.push({ kind: 'honest', arriveMs: 500 });
    const sim = run(specs);
    assert.equal(sim.bad.size, 20);
    assert.ok(sim.fetcher.failedAssemblies <= 21, `${sim.fetcher.failedAssemblies} failed assemblies`);
  });

  test('a slow honest peer (every answer after 12 s, past the timeout) still completes', () => {
    const sim = run([
      { kind: 'honest', latencyMs: 12_000 },
      { kind: 'garbage', arriveMs: 100 },
    ]);
    assert.ok(sim.doneAtMs! < 120_000, `done at ${sim.doneAtMs} ms`);
  });

  test('liars claiming the largest size do not starve an honest peer of assembly memory', () => {
    const specs: PeerSpec[] = [{ kind: 'huge' }, { kind: 'huge' }, { kind: 'huge' }];
    specs.push({ kind: 'silent', arriveMs: 10 }, { kind: 'honest', arriveMs: 20 });
    const sim = run(specs);
    assert.ok(sim.doneAtMs! < 60_000, `done at ${sim.doneAtMs} ms`);
  });

  test('a liar that answers some pieces with garbage, then rejects', () => {
    const sim = run([{ kind: 'partial-reject' }, { kind: 'honest' }]);
    assert.equal(sim.bad.get(sim.peers[0]!), MetadataFault.HashMismatch);
  });

  test('silent and refusing peers are not blamed and do not stop the download', () => {
    const sim = run([{ kind: 'silent' }, { kind: 'rejecter' }, { kind: 'honest', arriveMs: 100 }]);
    // The pieces the silent peer sits on are asked of the honest one after 2 s (endgame), not 10 s.
    assert.ok(sim.doneAtMs! < 4_000, `done at ${sim.doneAtMs} ms`);
    assert.equal(sim.bad.size, 0);
    assert.equal(sim.warnings.length, 0);
  });

  test('a silent peer claiming a wrong size first does not hold up the honest peer', () => {
    const sim = new Sim([{ kind: 'honest', arriveMs: 100 }]);
    sim.addPeer({ kind: 'silent', port: 20_000 });
    // The silent peer claims a bigger size: patch its handshake before it arrives.
    const silent = sim.peers[1]!;
    (silent as { peerExtended: ExtendedHandshake }).peerExtended = {
      m: new Map([['ut_metadata', 3]]),
      metadataSize: BIGGER.length,
    };
    sim.run();
    assert.ok(sim.metadata);
    assert.ok(sim.doneAtMs! < 2_000, `done at ${sim.doneAtMs} ms`);
    assert.equal(sim.bad.get(silent), MetadataFault.SizeMismatch, 'its claim was false');
  });

  test('an honest peer arriving after every liar claiming the true size was convicted', () => {
    const sim = run([{ kind: 'garbage' }, { kind: 'other-dict' }, { kind: 'honest', arriveMs: 20_000 }]);
    assert.equal(sim.bad.size, 2);
  });

  test('a liar that leaves after sending garbage is still reported once the metadata is known', () => {
    const sim = run([{ kind: 'garbage', leaveMs: 400 }, { kind: 'honest' }]);
    assert.ok(sim.peers[0]!.deliveredBad && sim.bad.has(sim.peers[0]!));
  });

  test('a v2-only magnet (SHA-256 info-hash)', () => {
    const target = { infoHash: null, infoHashV2: sha256(V2) };
    const sim = run([{ kind: 'garbage' }, { kind: 'other-dict' }, { kind: 'honest' }], {
      honest: V2,
      other: V2_OTHER,
      target,
    });
    assert.equal(sim.metadata?.version, 'v2');
    assert.equal(sim.bad.size, 2);
  });

  test('property: with an honest peer present (fast or slow), metadata completes and no honest peer is blamed', () => {
    const spec = fc.record({
      honest: fc.array(fc.record({ arriveMs: fc.integer({ min: 0, max: 8_000 }), isSlow: fc.boolean() }), {
        minLength: 1,
        maxLength: 3,
      }),
      others: fc.array(
        fc.record({
          kind: fc.constantFrom<Kind>(...LIAR_KINDS, 'silent', 'rejecter'),
          arriveMs: fc.integer({ min: 0, max: 8_000 }),
          leaveMs: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        }),
        { maxLength: 7 },
      ),
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(spec, ({ honest, others, seed }) => {
        const specs: PeerSpec[] = [
          // A slow honest peer answers after the request timeout.
          ...honest.map((h) => ({
            kind: 'honest' as const,
            arriveMs: h.arriveMs,
            ...(h.isSlow ? { latencyMs: 12_000 } : {}),
          })),
          ...others.map((o) => ({ ...o, ...(TRUTHFUL.has(o.kind) ? { leaveMs: undefined } : {}) })),
        ];
        // Random arrival order: shuffle with the seed (arrival times are random too).
        const rng = new Rng(seed);
        for (let i = specs.length - 1; i > 0; i--) {
          const j = rng.int(0, i);
          [specs[i], specs[j]] = [specs[j]!, specs[i]!];
        }
        const sim = new Sim(specs, { seed }).run();
        assertOutcome(sim);
      }),
      { numRuns: 150, seed: 9 },
    );
  });
});
