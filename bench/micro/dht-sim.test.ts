import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDhtSim } from './dht-sim.js';

test('dht-sim runs in smoke mode and reports figures for ours and the baseline', async () => {
  const r = (await runDhtSim({ nodes: 40, loss: 0, churn: 0, lookups: 4, seed: 2 })) as Record<
    string,
    number
  > & {
    baseline: Record<string, number>;
  };
  assert.equal(r.successRate, 1);
  assert.ok((r.messagesPerLookup ?? 0) > 0 && (r.medianHops ?? 0) >= 1);
  assert.ok((r.baseline.messagesPerLookup ?? 0) > 0);
});
