/**
 * Every timer above the protocol cores goes through the injected `Scheduler`, so whole
 * sessions run on virtual time (test/sim). This keeps raw event-loop timers out of the engine.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('..', import.meta.url).pathname;
/** Folders whose timers must all be the scheduler's. */
const ENGINE_DIRS = [
  'src/session',
  'src/tracker/client',
  'src/dht',
  'src/discovery',
  'src/swarm',
  'src/wire',
];
const RAW_TIMER = /(?<![.\w])(setTimeout|setInterval|setImmediate)\s*\(|globalThis\.(setTimeout|setInterval)/;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [p] : [];
  });
}

test('the engine schedules through the injected Scheduler, never raw setTimeout/setInterval', () => {
  const offenders: string[] = [];
  for (const dir of ENGINE_DIRS) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      const lines = readFileSync(file, 'utf8').split('\n');
      for (const [i, line] of lines.entries()) {
        const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
        if (RAW_TIMER.test(code)) offenders.push(`${file.slice(ROOT.length)}:${i + 1}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(offenders, [], `raw timers in engine code:\n${offenders.join('\n')}`);
});

test('the check itself finds a raw timer', () => {
  assert.ok(RAW_TIMER.test('this.t = setTimeout(() => x(), 5);'));
  assert.ok(!RAW_TIMER.test('this.scheduler.setTimer(5, () => x());'));
  assert.ok(!RAW_TIMER.test('this.scheduler.setInterval(5, () => x());'));
});
