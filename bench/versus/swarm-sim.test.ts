import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSwarmBench } from './swarm-sim.js';

test('swarm benchmark smoke mode: real sessions complete a small swarm with a finite ratio', async () => {
  const r = await runSwarmBench({ leechers: 3, pieces: 8 });
  assert.equal(r.engine, 'session');
  assert.equal(r.completed, 3);
  assert.ok(Number.isFinite(r.ratioToBound) && r.ratioToBound >= 1, `ratio ${r.ratioToBound}`);
  assert.ok(r.virtualSeconds > 0 && r.wallSeconds > 0);
});

test('`npm run bench -- swarm-sim --json` prints one JSON line with the fields the issue asks for', () => {
  const run = fileURLToPath(new URL('../run.ts', import.meta.url));
  const p = spawnSync(process.execPath, ['--import', 'tsx', run, 'swarm-sim', '2', '4', '--json'], {
    encoding: 'utf8',
  });
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const r = JSON.parse(lines[0]!);
  for (const k of ['leechers', 'completed', 'ratioToBound', 'virtualSeconds', 'wallSeconds'])
    assert.equal(typeof r[k], 'number', k);
  assert.equal(r.engine, 'session');
  assert.equal(r.leechers, 2);
  assert.equal(r.completed, 2);
});
