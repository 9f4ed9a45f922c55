import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decode, isBytes, isDict } from '../../src/bencode/index.js';
import { CLI_PATH, runCli } from '../helpers/cli.js';
import { startProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';

/** `peerdrop tracker` as a process: URLs printed, SIGHUP reload, JSON logs, exit within 2 s. */

const HASH_A = 'aa'.repeat(20);
const HASH_B = 'bb'.repeat(20);

function announce(base: string, hashHex: string, passkey = ''): Promise<Map<string, unknown>> {
  const ih = hashHex.replace(/../g, '%$&');
  const url = `${base}${passkey}?info_hash=${ih}&peer_id=-XX0001-abcdefghijkl&port=5000&left=0`;
  return fetch(url)
    .then((r) => r.arrayBuffer())
    .then((b) => {
      const d = decode(new Uint8Array(b));
      if (!isDict(d)) throw new Error('not a dict');
      return d;
    });
}

function failure(d: Map<string, unknown>): string | null {
  const f = d.get('failure reason');
  return f !== undefined && isBytes(f as never) ? Buffer.from(f as Uint8Array).toString() : null;
}

test('peerdrop tracker prints its URLs, reloads the allow-list on SIGHUP, logs JSON and exits on SIGTERM within 2 s', {
  timeout: 20_000,
}, async () => {
  const tmp = tempDir();
  const allow = join(tmp.path, 'allow.txt');
  const keys = join(tmp.path, 'keys.txt');
  writeFileSync(allow, `${HASH_A}\n`);
  writeFileSync(keys, 'k1\n# comment\nk2\n');
  const proc = startProcess(process.execPath, [
    CLI_PATH,
    'tracker',
    '--http-port',
    '0',
    '--udp-port',
    '0',
    '--allow-list',
    allow,
    '--private',
    '--passkeys',
    keys,
    '--json-logs',
  ]);
  try {
    const [, base] = await proc.waitFor(/announce (http:\/\/127\.0\.0\.1:\d+\/announce)\/<passkey>/, 10_000);
    await proc.waitFor(/announce udp:\/\/127\.0\.0\.1:\d+\/announce/, 5000);
    assert.equal(failure(await announce(base!, HASH_A, '/k2')), null);
    assert.equal(failure(await announce(base!, HASH_B, '/k2')), 'torrent is not on this tracker');
    assert.equal(failure(await announce(base!, HASH_A, '/nope')), 'unknown passkey');
    writeFileSync(allow, `${HASH_B}\n`);
    proc.child.kill('SIGHUP');
    await proc.waitFor(/"event":"reload"/, 5000);
    assert.equal(failure(await announce(base!, HASH_B, '/k1')), null);
    assert.equal(failure(await announce(base!, HASH_A, '/k1')), 'torrent is not on this tracker');
    const started = Date.now();
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited(5000), 0);
    assert.ok(Date.now() - started < 2500, 'exits within 2 s');
    const lines = proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const events = lines.map((l) => (JSON.parse(l) as { event: string }).event);
    assert.ok(events.includes('start') && events.includes('stop'), events.join(','));
  } finally {
    await proc.stop();
    tmp.cleanup();
  }
});

test('peerdrop tracker refuses bad flags and bad allow-list files with one line', async () => {
  const tmp = tempDir();
  try {
    const bad = join(tmp.path, 'bad.txt');
    writeFileSync(bad, `${HASH_A}\nnot-a-hash\n`);
    const r1 = await runCli(['tracker', '--allow-list', bad, '--http-port', '0', '--udp-port', '0']);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /entry 2 is not a 40-hex info-hash/);
    const r2 = await runCli(['tracker', '--private']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--private needs --passkeys/);
    const r3 = await runCli(['tracker', '--http-port', '70000']);
    assert.equal(r3.code, 2);
    assert.equal(r3.stderr.trim().split('\n').length, 1);
  } finally {
    tmp.cleanup();
  }
});
