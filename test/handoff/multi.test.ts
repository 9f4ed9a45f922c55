import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCode } from '../../src/handoff/code.js';
import { HandoffReceiver, receive } from '../../src/handoff/receiver.js';
import { startSend } from '../../src/handoff/sender.js';
import { tempDir } from '../helpers/tmp.js';
import { content } from './content.js';

const code = parseCode('12-amber-orbit');

test('--multi: two receivers take one offer and the second gets pieces from the first', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const file = join(tmp.path, 'shared.bin');
  writeFileSync(file, content(8 * 1024 * 1024, 9));
  // A slow sender: the first receiver is still downloading when the second arrives.
  const sender = await startSend({
    path: file,
    code,
    host: '127.0.0.1',
    lan: false,
    isMulti: true,
    stateDir: join(tmp.path, 'ss'),
    uploadLimit: 2 * 1024 * 1024,
  });
  t.after(() => sender.close());
  const completed: string[] = [];
  sender.on('complete', (address) => completed.push(address));
  const start = (name: string, receiver: HandoffReceiver) =>
    receive(
      {
        code,
        dir: join(tmp.path, name),
        confirm: async () => true,
        lan: false,
        isMulti: true,
        host: '127.0.0.1',
        senderAddress: { host: '127.0.0.1', port: sender.port },
        stateDir: join(tmp.path, `${name}-state`),
      },
      receiver,
    );
  const first = new HandoffReceiver();
  let firstUploaded = 0;
  let firstVerified = 0;
  first.on('progress', (s) => {
    firstUploaded = Math.max(firstUploaded, s.uploadedBytes);
    firstVerified = s.verifiedBytes;
  });
  const firstDone = start('a', first);
  for (let i = 0; i < 200 && firstVerified < 2 * 1024 * 1024; i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.ok(firstVerified >= 2 * 1024 * 1024, 'the first receiver is under way');
  const second = new HandoffReceiver();
  await Promise.all([firstDone, start('b', second)]);
  for (const name of ['a', 'b'])
    assert.deepEqual(readFileSync(join(tmp.path, name, 'shared.bin')), readFileSync(file));
  // The first receiver only ever uploads to the second (the sender never downloads).
  process.stdout.write(`# --multi: the first receiver served ${firstUploaded} bytes to the second\n`);
  assert.ok(firstUploaded > 1024 * 1024, `the first receiver served ${firstUploaded} bytes to the second`);
  assert.equal(completed.length, 2, 'the sender heard both complete');
});
