import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { classifySensitive, scanSensitive } from './sensitive-scan.js';

describe('sensitive file scan', () => {
  it('finds keys, env and credential files, cloud CLI folders, password stores, browser and mail data, wallets', async () => {
    const tmp = tempDir('peerdrop-sensitive-');
    try {
      const root = join(tmp.path, 'share');
      const files = [
        'photos/cat.jpg',
        '.ssh/id_ed25519',
        'project/.env',
        'project/.env.production',
        'project/src/app.ts',
        'home/.aws/credentials',
        'home/.config/gcloud/credentials.db',
        'home/.kube/config',
        'vault/passwords.kdbx',
        'home/.mozilla/firefox/x.default/logins.json',
        'mail/inbox.mbox',
        'coins/wallet.dat',
        'keys/server.pem',
        'id_rsa',
      ];
      for (const f of files) {
        mkdirSync(join(root, f, '..'), { recursive: true });
        writeFileSync(join(root, f), 'x');
      }
      symlinkSync('/etc', join(root, 'link'));
      const { findings, isTruncated } = await scanSensitive(root);
      assert.equal(isTruncated, false);
      const byPath = new Map(findings.map((f) => [f.path, f.kind]));
      assert.equal(byPath.get('.ssh'), 'ssh-key');
      assert.equal(byPath.get('id_rsa'), 'ssh-key');
      assert.equal(byPath.get('project/.env'), 'env-file');
      assert.equal(byPath.get('project/.env.production'), 'env-file');
      assert.equal(byPath.get('home/.aws'), 'cloud-credentials');
      assert.equal(byPath.get('home/.config/gcloud'), 'cloud-credentials');
      assert.equal(byPath.get('home/.kube'), 'cloud-credentials');
      assert.equal(byPath.get('vault/passwords.kdbx'), 'password-store');
      assert.equal(byPath.get('home/.mozilla/firefox'), 'browser-profile');
      assert.equal(byPath.get('mail/inbox.mbox'), 'mail-store');
      assert.equal(byPath.get('coins/wallet.dat'), 'wallet');
      assert.equal(byPath.get('keys/server.pem'), 'private-key');
      assert.ok(!byPath.has('photos/cat.jpg') && !byPath.has('project/src/app.ts'));
      assert.equal(findings.length, 12);
    } finally {
      tmp.cleanup();
    }
  });

  it('stops at its entry limit and says so', async () => {
    const tmp = tempDir('peerdrop-sensitive-');
    try {
      for (let i = 0; i < 20; i++) writeFileSync(join(tmp.path, `f${i}`), '');
      const r = await scanSensitive(tmp.path, { maxEntries: 5 });
      assert.equal(r.isTruncated, true);
      assert.equal(classifySensitive('notes/readme.md', false), null);
    } finally {
      tmp.cleanup();
    }
  });
});
