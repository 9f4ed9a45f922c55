import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StorageError, storageErrorFrom } from './errors.js';

test('errno codes of environment failures map to stable StorageError codes with path and operation', () => {
  const cases: [string, string][] = [
    ['ENOSPC', 'STORAGE_DISK_FULL'],
    ['EDQUOT', 'STORAGE_DISK_FULL'],
    ['EACCES', 'STORAGE_PERMISSION'],
    ['EPERM', 'STORAGE_PERMISSION'],
    ['EROFS', 'STORAGE_READ_ONLY'],
    ['ENOTDIR', 'STORAGE_PATH_CONFLICT'],
    ['EMFILE', 'STORAGE_TOO_MANY_OPEN_FILES'],
    ['EIO', 'STORAGE_IO'],
    ['EWHATEVER', 'STORAGE_IO'],
  ];
  for (const [errno, code] of cases) {
    const cause = Object.assign(new Error(errno), { code: errno });
    const e = storageErrorFrom(cause, '/data/t/a.bin', 'write');
    assert.equal(e.code, code, errno);
    assert.equal(e.path, '/data/t/a.bin');
    assert.equal(e.operation, 'write');
    assert.equal(e.errno, errno);
    assert.equal(e.cause, cause);
    assert.match(e.message, new RegExp(`write /data/t/a.bin: ${errno}`));
  }
});

test('a StorageError passes through unchanged', () => {
  const e = new StorageError('STORAGE_DISK_FULL', 'full');
  assert.equal(storageErrorFrom(e, '/x', 'read'), e);
});
