import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type BEncodable, decode, encode } from '../src/bencode/index.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { buildTorrent, fixtureBytes } from './helpers/torrent-fixtures.js';

const tmp = tempDir();
after(tmp.cleanup);
const PL = 16384;
const files = [
  { path: ['a.bin'], data: fixtureBytes(PL - 1) },
  { path: ['dir', 'é.bin'], data: fixtureBytes(PL + 1, 2) },
];

function write(name: string, bytes: Uint8Array): string {
  const p = join(tmp.path, name);
  writeFileSync(p, bytes);
  return p;
}

const hybridPath = write(
  'hybrid.torrent',
  buildTorrent(files, {
    version: 'hybrid',
    name: 'tree',
    info: { private: 1 },
    outer: {
      'announce-list': [['http://a/1'], ['udp://b:2', 'http://c/3']],
      comment: 'hi',
      'url-list': 'http://ws/',
    },
  }),
);
const evil = decode(buildTorrent(files, { name: 'tree' })) as Map<string, BEncodable>;
((evil.get('info') as Map<string, BEncodable>).get('files') as Map<string, BEncodable>[])[1]!.set('path', [
  '..',
  '..',
  'etc',
  'passwd',
]);
const evilPath = write('evil.torrent', encode(evil));

/** Asserts a failure: non-zero exit, nothing on stdout, exactly one line on stderr. */
function assertOneLineError(
  r: { code: number | null; stdout: string; stderr: string },
  pattern: RegExp,
): void {
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/);
}

describe('peerdrop info', () => {
  test('--json prints one object with the documented fields', async () => {
    const r = await runCli(['info', hybridPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.match(j.infoHash, /^[0-9a-f]{40}$/);
    assert.match(j.infoHashV2, /^[0-9a-f]{64}$/);
    assert.equal(j.name, 'tree');
    assert.equal(j.version, 'hybrid');
    assert.equal(j.pieceLength, PL);
    assert.equal(j.totalLength, 2 * PL);
    assert.equal(j.private, true);
    assert.deepEqual(j.files, [
      { path: 'tree/a.bin', length: PL - 1 },
      { path: 'tree/dir/é.bin', length: PL + 1 },
    ]);
    assert.deepEqual(j.announce, ['http://a/1', 'udp://b:2', 'http://c/3']);
    assert.deepEqual(j.webSeeds, ['http://ws/']);
    assert.equal(j.comment, 'hi');
    assert.equal(j.pieceCount, 3);
    assert.match(
      j.magnet,
      new RegExp(`^magnet:\\?xt=urn:btih:${j.infoHash}&xt=urn:btmh:1220${j.infoHashV2}&dn=tree`),
    );
  });

  test('prints a readable summary by default', async () => {
    const r = await runCli(['info', hybridPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Name: +tree$/m);
    assert.match(r.stdout, /Private: +yes/);
    assert.match(r.stdout, /tree\/dir\/é\.bin/);
    assert.match(r.stdout, /Trackers: +1: http:\/\/a\/1/);
  });

  test('reads a magnet link and reports what it carries', async () => {
    const hash = '0123456789abcdef0123456789abcdef01234567';
    const r = await runCli([
      'info',
      `magnet:?xt=urn:btih:${hash}&dn=x+y&tr=http%3A%2F%2Ft%2Fa&so=1-2`,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.infoHash, hash);
    assert.equal(j.infoHashV2, null);
    assert.equal(j.name, 'x y');
    assert.deepEqual(j.announce, ['http://t/a']);
    assert.deepEqual(j.files, []);
    assert.equal(j.pieceLength, null);
    assert.deepEqual(j.selectOnly, [1, 2]);
  });

  test('refuses a torrent with a path escaping the download folder, naming the field', async () => {
    assertOneLineError(
      await runCli(['info', evilPath, '--json']),
      /^peerdrop: .*evil\.torrent: info\.files\[1\]\.path\[0\]: "\.\." is not allowed \(METAINFO_UNSAFE_PATH\)$/,
    );
  });

  test('--sanitize shows the unsafe path made safe', async () => {
    const r = await runCli(['info', evilPath, '--json', '--sanitize']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).files[1].path, 'tree/_/_/etc/passwd');
  });

  test('bad input exits non-zero with one line on stderr', async () => {
    assertOneLineError(await runCli(['info', join(tmp.path, 'missing.torrent')]), /no such file/);
    assertOneLineError(
      await runCli(['info', write('trunc.torrent', new Uint8Array([0x64, 0x34]))]),
      /BENCODE_/,
    );
    assertOneLineError(await runCli(['info', write('list.torrent', encode([1]))]), /METAINFO_NOT_A_DICT/);
    assertOneLineError(await runCli(['info', 'magnet:?xt=urn:btih:abc']), /MAGNET_BAD_HASH_LENGTH/);
    assertOneLineError(await runCli(['info', tmp.path]), /is not a file/);
  });
});
