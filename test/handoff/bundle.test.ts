import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCode } from '../../src/handoff/code.js';
import { receive } from '../../src/handoff/receiver.js';
import { startSend } from '../../src/handoff/sender.js';
import { tempDir } from '../helpers/tmp.js';
import { content } from './content.js';

const code = parseCode('31-amber-guitar');

test('several paths from different folders arrive in one folder, each under its name, byte-identical', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const one = join(tmp.path, 'one');
  const two = join(tmp.path, 'two', 'deeper');
  mkdirSync(join(one, 'Mappe', 'ünter'), { recursive: true });
  mkdirSync(two, { recursive: true });
  writeFileSync(join(one, 'a.txt'), 'first file');
  writeFileSync(join(one, 'Mappe', 'ünter', 'x.bin'), content(200_000, 5));
  writeFileSync(join(one, 'Mappe', 'leer'), '');
  writeFileSync(join(two, 'b.bin'), content(90_000, 6));
  const paths = [join(one, 'a.txt'), join(one, 'Mappe'), join(two, 'b.bin')];
  const sender = await startSend({
    paths,
    code,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'ss'),
  });
  t.after(() => sender.close());
  assert.equal(sender.offer.name, 'a.txt and 2 more');
  assert.equal(sender.offer.fileCount, 4);
  const out = join(tmp.path, 'out');
  const result = await receive({
    code,
    dir: out,
    confirm: async (offer) =>
      offer.files
        .map((f) => f.path.join('/'))
        .sort()
        .join(',') === 'Mappe/leer,Mappe/ünter/x.bin,a.txt,b.bin',
    lan: false,
    senderAddress: { host: '127.0.0.1', port: sender.port },
    stateDir: join(tmp.path, 'rs'),
    findTimeoutMs: 5000,
  });
  await sender.done;
  const got = join(out, result.offer.name);
  assert.deepEqual(readFileSync(join(got, 'a.txt')), readFileSync(paths[0]!));
  assert.deepEqual(
    readFileSync(join(got, 'Mappe', 'ünter', 'x.bin')),
    readFileSync(join(one, 'Mappe', 'ünter', 'x.bin')),
  );
  assert.equal(readFileSync(join(got, 'Mappe', 'leer')).length, 0);
  assert.deepEqual(readFileSync(join(got, 'b.bin')), readFileSync(paths[2]!));
});

test('two paths with the same name are refused before anything is offered', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  mkdirSync(join(tmp.path, 'x'));
  mkdirSync(join(tmp.path, 'y'));
  writeFileSync(join(tmp.path, 'x', 'same.txt'), '1');
  writeFileSync(join(tmp.path, 'y', 'same.txt'), '2');
  await assert.rejects(
    startSend({
      paths: [join(tmp.path, 'x', 'same.txt'), join(tmp.path, 'y', 'same.txt')],
      code,
      host: '127.0.0.1',
      lan: false,
      stateDir: join(tmp.path, 'ss'),
    }),
    { code: 'HANDOFF_BAD_PATHS', message: /two of the paths are named "same.txt"/ },
  );
});
