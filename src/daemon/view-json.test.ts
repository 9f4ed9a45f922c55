import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TorrentView } from './daemon-types.js';
import { ViewJson } from './view-json.js';

const limits = { downloadBps: null, uploadBps: null };
const seedGoals = { ratio: null, seedSeconds: null };
const labels: string[] = [];
const warnings: TorrentView['warnings'] = [];

function view(overrides: Partial<TorrentView> = {}): TorrentView {
  return {
    infoHash: 'ab'.repeat(20),
    name: 'n\u0000ame',
    state: 'seeding',
    progress: 1,
    wantedBytes: 10,
    verifiedBytes: 10,
    downloadedBytes: 0,
    uploadedBytes: 5,
    downloadRate: 0,
    uploadRate: 0,
    peers: 0,
    seeds: 0,
    etaSeconds: null,
    error: null,
    id: 1,
    queuePosition: 0,
    seededSeconds: 3,
    warnings,
    downloadDir: '/d',
    addedAtMs: 1,
    labels,
    limits,
    seedGoals,
    magnet: null,
    totalBytes: 10,
    fileCount: 1,
    ...overrides,
  };
}

describe('view JSON cache', () => {
  it('serializes a view again only when a field changed', (t) => {
    const cache = new ViewJson();
    const stringify = t.mock.method(JSON, 'stringify');
    const first = cache.of(view());
    assert.equal(cache.of(view()), first);
    assert.equal(stringify.mock.callCount(), 1, 'the unchanged view reused its text');
    stringify.mock.restore();
    assert.deepEqual(JSON.parse(first), JSON.parse(JSON.stringify(view())));
    const changed = cache.of(view({ uploadedBytes: 6 }));
    assert.notEqual(changed, first);
    assert.equal(JSON.parse(changed).uploadedBytes, 6);
    // A record write replaces its labels array: identity, not content, tells the change.
    assert.notEqual(cache.of(view({ uploadedBytes: 6, labels: ['x'] })), changed);
  });

  it('builds the list body once per change', () => {
    const cache = new ViewJson();
    const a = cache.of(view());
    const body = cache.body([a]);
    assert.deepEqual(JSON.parse(body), { torrents: [JSON.parse(a)] });
    assert.equal(cache.body([a]), body);
    assert.deepEqual(JSON.parse(cache.body([])), { torrents: [] });
  });
});
