import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCode } from '../../src/handoff/code.js';
import type { Offer } from '../../src/handoff/control.js';
import { HandoffTransport } from '../../src/handoff/handoff-transport.js';
import { HandoffReceiver, type ReceiveOptions, receive } from '../../src/handoff/receiver.js';
import { startSend } from '../../src/handoff/sender.js';
import { TcpTransport } from '../../src/net/tcp.js';
import { tempDir } from '../helpers/tmp.js';
import { content } from './content.js';

const code = parseCode('7-guitar-orbit');
const wrong = parseCode('7-guitar-otter');

function receiveFrom(port: number, dir: string, stateDir: string, extra: Partial<ReceiveOptions> = {}) {
  return receive({
    code,
    dir,
    confirm: async () => true,
    lan: false,
    senderAddress: { host: '127.0.0.1', port },
    stateDir,
    findTimeoutMs: 5000,
    ...extra,
  });
}

test('a folder with unicode names and an empty file arrives byte-identical', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const src = join(tmp.path, 'src', 'Ferien fotos');
  mkdirSync(join(src, 'été', 'noch tiefer'), { recursive: true });
  writeFileSync(join(src, 'été', 'Grüße 😀.txt'), content(300_000, 1));
  writeFileSync(join(src, 'été', 'noch tiefer', 'leer'), '');
  writeFileSync(join(src, '日本語.bin'), content(70_000, 2));
  const sender = await startSend({
    path: src,
    code,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'ss'),
  });
  t.after(() => sender.close());
  const out = join(tmp.path, 'out');
  const result = await receiveFrom(sender.port, out, join(tmp.path, 'rs'), {
    confirm: async (offer) => offer.fileCount === 3 && offer.name === 'Ferien fotos',
  });
  assert.equal(result.offer.name, 'Ferien fotos');
  await sender.done;
  for (const rel of ['été/Grüße 😀.txt', 'été/noch tiefer/leer', '日本語.bin'])
    assert.deepEqual(readFileSync(join(out, 'Ferien fotos', rel)), readFileSync(join(src, rel)), rel);
});

test('a receiver that accepts after the sender stopped waiting is served on its redial, and the sender hears complete', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const src = join(tmp.path, 'slow-reader.bin');
  writeFileSync(src, content(200_000, 5));
  const sender = await startSend({
    path: src,
    code,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'ss'),
    answerTimeoutMs: 300,
  });
  t.after(() => sender.close());
  const out = join(tmp.path, 'out');
  await receiveFrom(sender.port, out, join(tmp.path, 'rs'), {
    // The person reads the offer for longer than the sender waits on that connection.
    confirm: () => new Promise((r) => setTimeout(() => r(true), 900)),
  });
  // Without `complete` on the redialled connection the sender would wait forever.
  const outcome = await Promise.race([
    sender.done.then(() => 'done'),
    new Promise((r) => setTimeout(() => r('still waiting'), 5000)),
  ]);
  assert.equal(outcome, 'done');
  assert.deepEqual(readFileSync(join(out, 'slow-reader.bin')), readFileSync(src));
});

test('a wrong code fails both sides with the plain message and writes nothing', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  writeFileSync(join(tmp.path, 'secret.txt'), 'MARKER-SECRET');
  const sender = await startSend({
    path: join(tmp.path, 'secret.txt'),
    code,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'ss'),
  });
  t.after(() => sender.close());
  const out = join(tmp.path, 'out');
  let asked = false;
  await assert.rejects(
    receiveFrom(sender.port, out, join(tmp.path, 'rs'), {
      code: wrong,
      confirm: async () => {
        asked = true;
        return true;
      },
    }),
    { code: 'HANDOFF_CODE_MISMATCH', message: 'the code did not match: check it and try again' },
  );
  await assert.rejects(sender.done, { code: 'HANDOFF_CODE_MISMATCH' });
  assert.equal(asked, false, 'no offer is seen with a wrong code');
  assert.equal(existsSync(out), false);
});

test('a third party racing for the code fails; the real receiver gets a clear error, never its data', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  writeFileSync(join(tmp.path, 'real.txt'), 'the real file');
  const sender = await startSend({
    path: join(tmp.path, 'real.txt'),
    code,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'ss'),
  });
  t.after(() => sender.close());
  // The attacker guesses first (a wrong word): its guess fails and the sender gives up at once.
  await assert.rejects(
    receiveFrom(sender.port, join(tmp.path, 'attacker'), join(tmp.path, 'as'), { code: wrong }),
    {
      code: 'HANDOFF_CODE_MISMATCH',
    },
  );
  await assert.rejects(sender.done, { code: 'HANDOFF_CODE_MISMATCH' });
  await sender.close();
  const out = join(tmp.path, 'out');
  await assert.rejects(
    receiveFrom(sender.port, out, join(tmp.path, 'rs')),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HANDOFF_NOT_FOUND');
      assert.match(err.message, /could not reach the sender/);
      return true;
    },
  );
  assert.equal(existsSync(out), false);

  // An attacker posing as the sender (it does not know the words) gets nowhere either.
  writeFileSync(join(tmp.path, 'real.txt'), 'ATTACKER DATA');
  const fake = await startSend({
    path: join(tmp.path, 'real.txt'),
    code: wrong,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'fs'),
  });
  t.after(() => fake.close());
  await assert.rejects(receiveFrom(fake.port, out, join(tmp.path, 'rs')), { code: 'HANDOFF_CODE_MISMATCH' });
  assert.equal(existsSync(out), false);
});

test('a receiver that stops halfway resumes with the same command and gets identical bytes', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const file = join(tmp.path, 'big.bin');
  writeFileSync(file, content(8 * 1024 * 1024, 3));
  const sender = await startSend({
    path: file,
    code,
    host: '127.0.0.1',
    lan: false,
    stateDir: join(tmp.path, 'ss'),
    uploadLimit: 6 * 1024 * 1024,
  });
  t.after(() => sender.close());
  const out = join(tmp.path, 'out');
  const first = new HandoffReceiver();
  first.on('progress', (s) => {
    if (s.verifiedBytes > 2 * 1024 * 1024) void first.close();
  });
  await assert.rejects(
    receive(
      {
        code,
        dir: out,
        confirm: async () => true,
        lan: false,
        senderAddress: { host: '127.0.0.1', port: sender.port },
        stateDir: join(tmp.path, 'rs'),
      },
      first,
    ),
    { code: 'HANDOFF_ABORTED' },
  );
  const second = new HandoffReceiver();
  let downloaded = 0;
  second.on('progress', (s) => {
    downloaded = s.downloadedBytes;
  });
  await receive(
    {
      code,
      dir: out,
      confirm: async () => true,
      lan: false,
      senderAddress: { host: '127.0.0.1', port: sender.port },
      stateDir: join(tmp.path, 'rs'),
    },
    second,
  );
  await sender.done;
  assert.deepEqual(readFileSync(join(out, 'big.bin')), readFileSync(file));
  assert.ok(downloaded < 7 * 1024 * 1024, `the second run fetched ${downloaded} bytes: it resumed`);
});

test('a sender offering a path-traversal name is refused before anything is written', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const evil = {
    name: '..',
    isSingleFile: false,
    fileCount: 1,
    totalBytes: 4,
    infoHash: 'ab'.repeat(20),
    files: [{ path: ['..', '..', 'etc', 'x'], lengthBytes: 4 }],
  } as Offer;
  for (const offer of [evil, { ...evil, name: 'ok', files: [{ path: ['..', 'x'], lengthBytes: 4 }] }]) {
    const transport = new HandoffTransport({
      inner: new TcpTransport({ host: '127.0.0.1', port: 0 }),
      code: code.text,
      offer: () => offer,
      answerOffer: async () => null,
    });
    const listener = await transport.listen(() => {});
    const out = join(tmp.path, 'out');
    await assert.rejects(
      receiveFrom(listener.port, out, join(tmp.path, 'rs')),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'HANDOFF_BAD_CONTROL');
        assert.match(err.message, /unsafe/);
        return true;
      },
    );
    assert.equal(existsSync(out), false);
    await transport.close();
  }
});
