import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseMetainfo } from '../src/metainfo/parse.js';
import { runCli } from './helpers/cli.js';
import { hugeTorrent } from './helpers/huge-torrent.js';
import { tempDir } from './helpers/tmp.js';
import { buildTorrent, fixtureBytes } from './helpers/torrent-fixtures.js';

/**
 * Bad arguments are refused before anything starts: exit 2, one line on stderr naming the flag,
 * nothing on stdout, nothing written (issues 9 and 13).
 */
const tmp = tempDir();
after(tmp.cleanup);
const five = join(tmp.path, 'five.torrent');
writeFileSync(
  five,
  buildTorrent(
    [0, 1, 2, 3, 4].map((i) => ({ path: [`f${i}.bin`], data: fixtureBytes(1000 + i, i) })),
    { name: 'five' },
  ),
);
const data = join(tmp.path, 'data.txt');
writeFileSync(data, 'some content\0with a NUL\n');

async function refused(args: string[], pattern: RegExp, cwd = tmp.path): Promise<void> {
  const r = await runCli(args, { cwd, timeoutMs: 20_000 });
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^peerdrop: /);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
}

describe('port options take decimal digits only', () => {
  for (const bad of ['1e3', '0x50', ' 80', '80 ', '+80', '-1', '65536', '08', '', '80.0', '٨٠']) {
    test(`get --port ${JSON.stringify(bad)} is refused`, async () => {
      await refused(
        ['get', five, '--dir', join(tmp.path, 'p'), '--port', bad],
        /--port: .* is not a port number from 0 to 65535/,
      );
      assert.ok(!existsSync(join(tmp.path, 'p')), 'refused before the folder was made');
    });
  }
  test('seed, share, tracker and index use the same rule', async () => {
    await refused(['seed', five, '--dir', tmp.path, '--port', '1e3'], /--port: "1e3"/);
    await refused(['share', data, '--port', '0x50'], /--port: "0x50"/);
    await refused(['tracker', '--http-port', ' 80'], /--http-port: " 80"/);
    await refused(['tracker', '--udp-port', '1e3'], /--udp-port: "1e3"/);
    await refused(['index', '--port', '0x1f41'], /--port: "0x1f41"/);
  });
});

describe('--peer must be host:port, IPv6 in brackets', () => {
  const cases: [string, RegExp][] = [
    ['notapeer', /expected host:port/],
    ['::1:6883', /IPv6 address needs brackets: \[::1\]:6883/],
    ['2001:db8::7:6881', /needs brackets: \[2001:db8::7\]:6881/],
    ['[::1]:0', /port "0" is not a number from 1 to 65535/],
    ['127.0.0.1:1e3', /port "1e3"/],
    ['[nothex]:6881', /is not an IPv6 address/],
    ['bad host:6881', /not an IP address or a host name/],
    ['300.1.2.3:6881', /not an IP address or a host name/],
    [':6881', /host is missing/],
  ];
  for (const [peer, pattern] of cases) {
    test(`get --peer ${JSON.stringify(peer)} is refused`, async () => {
      await refused(['get', five, '--dir', join(tmp.path, 'q'), '--peer', peer], pattern);
    });
  }
  test('seed refuses a bad --peer too', async () => {
    await refused(['seed', five, '--dir', tmp.path, '--peer', '::1:6883'], /needs brackets/);
  });
});

describe('get --files must name files of the torrent', () => {
  test('an index past the last file is refused with the valid range', async () => {
    await refused(
      ['get', five, '--dir', join(tmp.path, 'r'), '--files', '7'],
      /--files: 7 out of range; five has 5 files \(files are numbered 0 to 4/,
    );
    await refused(
      ['get', five, '--dir', join(tmp.path, 'r'), '--files', '0,3-9'],
      /--files: 5,6,7,8,9 out of range/,
    );
    assert.ok(!existsSync(join(tmp.path, 'r', 'five')), 'nothing was downloaded');
  });
});

describe('get --dir that cannot hold a download ends at once, naming the folder', () => {
  test('/proc/self', { skip: existsSync('/proc/self') ? false : 'no procfs' }, async () => {
    await refused(
      ['get', five, '--dir', '/proc/self'],
      /--dir: .*\/proc\/self.*(does not accept|cannot create)/,
    );
    await refused(
      ['get', five, '--dir', '/proc/self/sub/dir'],
      /--dir: cannot create folder \/proc\/self\/sub/,
    );
  });
  test('a symlink loop', async () => {
    const loop = join(tmp.path, 'loop');
    mkdirSync(loop);
    symlinkSync(join(loop, 'b'), join(loop, 'a'));
    symlinkSync(join(loop, 'a'), join(loop, 'b'));
    await refused(
      ['get', five, '--dir', join(loop, 'a')],
      /--dir: cannot create folder .*loop\/a: .*symlink loop/,
    );
    await refused(['get', five, '--dir', join(loop, 'a', 'deeper')], /symlink loop/);
  });
  test('a file in the way', async () => {
    await refused(
      ['get', five, '--dir', data],
      /--dir: cannot create folder .*data\.txt: a file, not a folder/,
    );
  });
});

describe('create refuses what would make a bad torrent', () => {
  for (const url of [
    'notaurl',
    'ftp://host/announce',
    'http://',
    'udp://host/announce',
    'http://a b/announce',
  ]) {
    test(`--tracker ${JSON.stringify(url)} is refused`, async () => {
      const out = join(tmp.path, 'never.torrent');
      await refused(
        ['create', data, '-o', out, '--tracker', url],
        /--tracker: .*(not a tracker URL|needs a port)/,
      );
      assert.ok(!existsSync(out));
    });
  }
  test('good tracker URLs are written into the torrent', async () => {
    const out = join(tmp.path, 'ok.torrent');
    const r = await runCli([
      'create',
      data,
      '-o',
      out,
      '--tracker',
      'udp://t.example:6969/announce',
      '--tracker',
      'https://t.example/a',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const { readFileSync } = await import('node:fs');
    assert.deepEqual(parseMetainfo(readFileSync(out)).announceTiers, [
      ['udp://t.example:6969/announce'],
      ['https://t.example/a'],
    ]);
  });
  test('--web-seed must be an http(s) URL', async () => {
    await refused(
      ['create', data, '-o', join(tmp.path, 'ws.torrent'), '--web-seed', 'notaurl'],
      /--web-seed: "notaurl"/,
    );
  });
  test('a single empty file, or a folder of empty files, is refused with the reason', async () => {
    const empty = join(tmp.path, 'empty.bin');
    writeFileSync(empty, '');
    const out = join(tmp.path, 'empty.torrent');
    await refused(
      ['create', empty, '-o', out],
      /empty\.bin: nothing to share \(0 bytes of data\).*libtorrent and Transmission/,
    );
    const folder = join(tmp.path, 'empties');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    writeFileSync(join(folder, 'sub', 'a'), '');
    writeFileSync(join(folder, 'b'), '');
    await refused(['create', folder, '-o', out], /nothing to share/);
    await refused(['share', empty], /nothing to share/);
    assert.ok(!existsSync(out));
  });
});

describe('info on a very large torrent', () => {
  test('summarises on the terminal, --all-files lists every file, --json stays complete', {
    timeout: 120_000,
  }, async () => {
    const big = join(tmp.path, 'big.torrent');
    writeFileSync(big, hugeTorrent(20_000));
    const summary = await runCli(['info', big]);
    assert.equal(summary.code, 0, summary.stderr);
    const lines = summary.stdout.trimEnd().split('\n');
    assert.ok(lines.length < 150, `${lines.length} lines`);
    assert.match(summary.stdout, /… and 19900 more \(--all-files lists them all/);
    const all = await runCli(['info', big, '--all-files']);
    assert.ok(all.stdout.includes('huge/dir19/f19999.bin'));
    assert.equal(all.stdout.trimEnd().split('\n').length, lines.length - 1 + 19_900);
    const json = await runCli(['info', big, '--json']);
    const parsed = JSON.parse(json.stdout) as { files: { path: string; length: number }[] };
    assert.equal(parsed.files.length, 20_000);
    assert.deepEqual(parsed.files[19_999], { path: 'huge/dir19/f19999.bin', length: 1 });
  });
});
