import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { MetainfoError } from '../metainfo/errors.js';
import { StorageError } from './errors.js';
import { makeDirs, safeJoin, safeJoinSync } from './safe-join.js';

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

describe('makeDirs', () => {
  const base = join(tmp.path, 'mk');
  mkdirSync(base);
  const refused = (pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof StorageError, String(err));
    assert.equal(err.operation, 'mkdir');
    assert.match(err.message, pattern);
    return true;
  };

  test('makes every missing folder, and is a no-op when they exist', { timeout: 5000 }, async () => {
    const deep = join(base, 'a', 'b', 'c');
    await makeDirs(deep);
    assert.ok(statSync(deep).isDirectory());
    await makeDirs(deep);
    await makeDirs(base);
  });

  test('ends with an error naming the folder under /proc/self (Node mkdir -p spins forever there)', {
    timeout: 5000,
    skip: existsSync('/proc/self') ? false : 'no procfs on this system',
  }, async () => {
    await assert.rejects(
      makeDirs('/proc/self/peerdrop-x'),
      refused(/\/proc\/self\/peerdrop-x.*does not accept new folders/),
    );
    await assert.rejects(makeDirs('/proc/self/a/b/c'), refused(/cannot create folder \/proc\/self\/a\b/));
  });

  test('ends with an error naming a symlink loop', { timeout: 5000 }, async () => {
    symlinkSync(join(base, 'loop-b'), join(base, 'loop-a'));
    symlinkSync(join(base, 'loop-a'), join(base, 'loop-b'));
    await assert.rejects(makeDirs(join(base, 'loop-a')), refused(/loop-a.*symlink loop/));
    await assert.rejects(makeDirs(join(base, 'loop-a', 'x', 'y')), refused(/symlink loop/));
  });

  test('refuses a file or a dangling symlink in the way', { timeout: 5000 }, async () => {
    writeFileSync(join(base, 'file'), 'x');
    await assert.rejects(makeDirs(join(base, 'file')), refused(/file.*not a folder/));
    await assert.rejects(makeDirs(join(base, 'file', 'sub')), refused(/not a folder/));
    symlinkSync(join(base, 'nowhere'), join(base, 'dangling'));
    await assert.rejects(makeDirs(join(base, 'dangling', 'sub')), refused(/dangling/));
  });
});
