import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCode } from '../../src/handoff/code.js';
import { receive } from '../../src/handoff/receiver.js';
import { startSend } from '../../src/handoff/sender.js';
import { tempDir } from '../helpers/tmp.js';

function content(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

test('a folder with unicode names and an empty file arrives byte-identical', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const src = join(tmp.path, 'src', 'Ferien fotos');
  mkdirSync(join(src, 'été', 'noch tiefer'), { recursive: true });
  writeFileSync(join(src, 'été', 'Grüße 😀.txt'), content(300_000, 1));
  writeFileSync(join(src, 'été', 'noch tiefer', 'leer'), '');
  writeFileSync(join(src, '日本語.bin'), content(70_000, 2));
  const code = parseCode('7-guitar-orbit');
  const sender = await startSend({
    path: src,
    code,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'ss'),
  });
  t.after(() => sender.close());
  const out = join(tmp.path, 'out');
  const result = await receive({
    code,
    dir: out,
    confirm: async (offer) => offer.fileCount === 3,
    lan: false,
    senderAddress: { host: '127.0.0.1', port: sender.port },
    stateDir: join(tmp.path, 'rs'),
  });
  assert.equal(result.offer.name, 'Ferien fotos');
  await sender.done;
  for (const rel of ['été/Grüße 😀.txt', 'été/noch tiefer/leer', '日本語.bin'])
    assert.deepEqual(readFileSync(join(out, 'Ferien fotos', rel)), readFileSync(join(src, rel)), rel);
});
