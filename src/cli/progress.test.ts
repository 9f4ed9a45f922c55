import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createProgress, formatProgress } from './progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; out: string[] } {
  const out: string[] = [];
  const stream = { isTTY, write: (s: string) => out.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, out };
}

describe('progress', () => {
  test('a line shows percent, bytes, rate and ETA', () => {
    const line = formatProgress('hashing', 512 * 1024, 1024 * 1024, 1000);
    assert.match(line, /^hashing \[#{12}-{12}\] {2}50\.0% 512 KiB\/1\.00 MiB 512 KiB\/s ETA 1s$/);
  });

  test('on a TTY it redraws one line, throttled, and ends it on finish', () => {
    let t = 0;
    const { stream, out } = fakeStream(true);
    const p = createProgress({ stream, now: () => t, intervalMs: 100 });
    p.update(1, 10);
    t = 50;
    p.update(2, 10);
    t = 150;
    p.update(3, 10);
    p.finish();
    assert.equal(out.filter((s) => s.startsWith('\r')).length, 3);
    assert.equal(out.at(-1), '\n');
  });

  test('when not a TTY it prints nothing by default', () => {
    const { stream, out } = fakeStream(false);
    const p = createProgress({ stream, now: () => 0 });
    p.update(5, 10);
    p.finish();
    assert.deepEqual(out, []);
  });

  test('when not a TTY with plainIntervalMs it prints plain lines', () => {
    let t = 0;
    const { stream, out } = fakeStream(false);
    const p = createProgress({ stream, now: () => t, plainIntervalMs: 1000 });
    p.update(5, 10);
    t = 2000;
    p.update(10, 10);
    assert.equal(out.length, 2);
    assert.ok(out.every((s) => s.endsWith('\n') && !s.includes('\r')));
  });
});
