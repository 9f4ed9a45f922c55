import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findBenchmark, listBenchmarks } from './run.js';

const RUN = fileURLToPath(new URL('./run.ts', import.meta.url));

test('every benchmark in bench/micro and bench/versus is found by name, helpers are not', () => {
  const names = listBenchmarks().map((b) => `${b.group}/${b.name}`);
  for (const n of ['micro/wire', 'micro/piece-picker', 'versus/swarm-sim', 'versus/transfer'])
    assert.ok(names.includes(n), n);
  assert.ok(!names.includes('versus/tracker-udp-loadgen'), 'a module without a main is not listed');
  assert.equal(findBenchmark('wire')?.group, 'micro');
  assert.equal(findBenchmark('versus/swarm-sim')?.name, 'swarm-sim');
  assert.equal(findBenchmark('nope'), undefined);
});

test('an unknown name exits 2 and lists the benchmarks; a known one runs with its arguments', () => {
  const bad = spawnSync(process.execPath, ['--import', 'tsx', RUN, 'no-such-bench'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown benchmark "no-such-bench"[\s\S]*micro\/wire/);
  const ok = spawnSync(process.execPath, ['--import', 'tsx', RUN, 'wire', '1'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /wire: 1 MiB/);
});
