import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type InProcess, json, startInProcess } from './daemon-helpers.js';
import { tempDir } from './helpers/tmp.js';

interface Refusal {
  code: string;
  message: string;
  findings: { path: string; kind: string }[];
  isTruncated: boolean;
}

// A share and a send of a folder holding a private key are refused alike, with the findings,
// and nothing is added or sent until the user confirms.
describe('daemon: share and send refuse private-looking files with one 422 shape', () => {
  const tmp = tempDir('peerdrop-daemon-sensitive-');
  let d: InProcess;

  before(async () => {
    d = await startInProcess(tmp.path);
    const folder = join(tmp.path, 'downloads', 'holiday');
    mkdirSync(join(folder, '.ssh'), { recursive: true });
    writeFileSync(join(folder, 'photo.jpg'), 'not really a photo');
    writeFileSync(join(folder, '.ssh', 'id_ed25519'), 'PRIVATE');
    writeFileSync(join(folder, '.env'), 'TOKEN=secret');
  });
  after(async () => {
    await d.close();
    tmp.cleanup();
  });

  for (const [route, body, verb] of [
    ['/api/share', { path: 'holiday' }, 'share'],
    ['/api/send', { paths: ['holiday'] }, 'send'],
  ] as const) {
    it(`${route} answers 422 ${verb.toUpperCase()}_SENSITIVE naming each finding`, async () => {
      const res = await d.fetch(route, json(body));
      assert.equal(res.status, 422);
      const refusal = (await res.json()) as Refusal;
      assert.equal(refusal.code, `${verb.toUpperCase()}_SENSITIVE`);
      assert.match(refusal.message, new RegExp(`to ${verb} anyway`));
      const paths = refusal.findings.map((f) => f.path).sort();
      assert.ok(
        paths.some((p) => p.includes('.ssh')),
        `an .ssh finding in ${paths.join(', ')}`,
      );
      assert.ok(
        paths.some((p) => p.endsWith('.env')),
        `a .env finding in ${paths.join(', ')}`,
      );
      assert.match(refusal.message, new RegExp(`^${refusal.findings.length} item`));
      assert.equal(refusal.isTruncated, false);
    });
  }

  it('nothing was added by the refused share', async () => {
    const list = (await (await d.fetch('/api/torrents')).json()) as { torrents: unknown[] };
    assert.equal(list.torrents.length, 0);
  });
});
