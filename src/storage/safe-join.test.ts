import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { MetainfoError } from '../metainfo/errors.js';
import { safeJoin, safeJoinSync } from './safe-join.js';

const tmp = tempDir();
after(tmp.cleanup);
const root = join(tmp.path, 'downloads');
const outside = join(tmp.path, 'outside');
mkdirSync(join(root, 'real', 'sub'), { recursive: true });
mkdirSync(outside);
writeFileSync(join(outside, 'secret'), 'x');
symlinkSync(outside, join(root, 'escape'));
symlinkSync(join(root, 'real'), join(root, 'inside-link'));
symlinkSync(join(outside, 'secret'), join(root, 'file-link'));
symlinkSync(join(tmp.path, 'nowhere'), join(root, 'dangling'));

const isUnsafe = (err: unknown) => err instanceof MetainfoError && err.code === 'METAINFO_UNSAFE_PATH';

describe('safeJoin', () => {
  for (const [label, join_] of [
    ['async', safeJoin],
    ['sync', async (r: string, c: readonly string[]) => safeJoinSync(r, c)],
  ] as const) {
    test(`${label}: joins a safe path that does not exist yet`, async () => {
      const p = await join_(root, ['new', 'dir', 'file.bin']);
      assert.ok(p.endsWith(join('downloads', 'new', 'dir', 'file.bin')));
    });

    test(`${label}: follows a symlink that stays inside the folder`, async () => {
      const p = await join_(root, ['inside-link', 'sub', 'f']);
      assert.ok(p.includes('inside-link'));
    });

    test(`${label}: refuses a path whose folder is a symlink escaping the root`, async () => {
      await assert.rejects(async () => join_(root, ['escape', 'secret']), isUnsafe);
      await assert.rejects(async () => join_(root, ['escape', 'new', 'file']), isUnsafe);
    });

    test(`${label}: refuses a final component that is a symlink to a file outside`, async () => {
      await assert.rejects(async () => join_(root, ['file-link']), isUnsafe);
    });

    test(`${label}: refuses a dangling symlink`, async () => {
      await assert.rejects(async () => join_(root, ['dangling', 'x']), isUnsafe);
    });

    test(`${label}: refuses traversal before touching the disk`, async () => {
      await assert.rejects(async () => join_(root, ['..', 'outside', 'secret']), isUnsafe);
      await assert.rejects(async () => join_(root, ['/etc/passwd']), isUnsafe);
      await assert.rejects(async () => join_(root, []), isUnsafe);
    });
  }

  test('works when the root itself is reached through a symlink', async () => {
    const linkedRoot = join(tmp.path, 'root-link');
    symlinkSync(root, linkedRoot);
    const p = await safeJoin(linkedRoot, ['real', 'x']);
    assert.ok(p.endsWith(join('downloads', 'real', 'x')));
  });
});
