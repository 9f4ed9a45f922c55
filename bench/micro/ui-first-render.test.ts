import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnless } from '../../test/helpers/real-clients.js';
import { benchUiFirstRender } from './ui-first-render.js';

test('ui-first-render benchmark smoke mode reports every figure', {
  skip: skipUnless('chromium'),
}, async () => {
  const r = await benchUiFirstRender({ torrents: 3, runs: 1 });
  for (const t of [r.empty.median, r.loaded.median]) {
    assert.ok(t.shellMs > 0 && Number.isFinite(t.shellMs));
    assert.ok(t.listMs >= t.shellMs);
    assert.ok(Number.isFinite(t.firstPaintMs));
  }
});
