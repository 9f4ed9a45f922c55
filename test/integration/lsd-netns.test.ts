/**
 * Issue 10, LAN: two peerdrop processes on two "hosts" — a pair of network namespaces joined by a
 * veth link, made here and deleted in `finally` — find each other by BEP 14 local service
 * discovery alone (no tracker answers, `--no-dht`, no `--peer`) and move a file by a bare magnet
 * link. Once over IPv4 and IPv6 together, once over IPv6 alone (the IPv4 socket has no interface).
 * Needs root and iproute2: with CI=true a missing one fails; locally the test is skipped, saying why.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { magnetFromMetainfo, parseMetainfo } from '../../src/metainfo/index.js';
import { CLI_PATH } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-lsd-netns-');
after(() => tmp.cleanup());

function canUseNetns(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (ip) is not installed';
  }
  return null;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Two namespaces joined by a veth pair; `cleanup` deletes both (which deletes the link too). */
function makeLan(
  tag: string,
  v4: boolean,
): { a: string; b: string; va: string; vb: string; cleanup: () => void } {
  const id = `${process.pid % 10_000}${tag}`;
  const a = `pd-lsd-a${id}`;
  const b = `pd-lsd-b${id}`;
  const va = `pdla${id}`;
  const vb = `pdlb${id}`;
  const cleanup = (): void => {
    for (const ns of [a, b]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Not made (setup failed before it) or already gone.
      }
    }
  };
  cleanup();
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb);
    ip('link', 'set', va, 'netns', a);
    ip('link', 'set', vb, 'netns', b);
    for (const [ns, dev, n] of [
      [a, va, 1],
      [b, vb, 2],
    ] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
      // nodad: the address is usable at once, not after duplicate address detection (~1 s).
      ip('-n', ns, '-6', 'addr', 'add', `fd00:10:213::${n}/64`, 'dev', dev, 'nodad');
      if (v4) {
        ip('-n', ns, 'addr', 'add', `10.213.7.${n}/24`, 'dev', dev);
        // No default route in a fresh namespace: IPv4 multicast needs one of its own.
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
      }
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  return { a, b, va, vb, cleanup };
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

function cliIn(ns: string, dev: string, args: string[]): Run {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI_PATH, ...args], {
    // LSD on the link only (the suite turns it off elsewhere); no DHT router, no tracker.
    env: { ...process.env, NO_COLOR: '1', PEERDROP_LSD_INTERFACES: dev, PEERDROP_DHT_BOOTSTRAP: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => out, exited };
}

async function transferOverLan(tag: string, v4: boolean): Promise<void> {
  const lan = makeLan(tag, v4);
  const runs: Run[] = [];
  try {
    const data = fixtureBytes(1024 * 1024, 31 + tag.length);
    const seedDir = join(tmp.path, `seed-${tag}`);
    mkdirSync(seedDir);
    writeFileSync(join(seedDir, 'lan.bin'), data);
    // The fixture's tracker (127.0.0.1:1) answers nobody.
    const torrent = buildTorrent([{ path: ['lan.bin'], data }], { name: 'lan.bin', single: true });
    const torrentPath = join(tmp.path, `lan-${tag}.torrent`);
    writeFileSync(torrentPath, torrent);
    const seeder = cliIn(lan.a, lan.va, ['seed', torrentPath, '--dir', seedDir, '--no-dht', '--json']);
    runs.push(seeder);
    const deadline = Date.now() + 15_000;
    while (!seeder.stdout().includes('"event":"started"') && Date.now() < deadline) {
      if (seeder.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(seeder.stdout(), /"event":"started"/, seeder.stdout());

    const magnet = magnetFromMetainfo(parseMetainfo(torrent)).split('&')[0]!;
    const dir = join(tmp.path, `leech-${tag}`);
    mkdirSync(dir);
    const leecher = cliIn(lan.b, lan.vb, ['get', magnet, '--dir', dir, '--no-dht', '--json']);
    runs.push(leecher);
    const timer = setTimeout(() => leecher.child.kill('SIGKILL'), 30_000);
    const code = await leecher.exited;
    clearTimeout(timer);
    assert.equal(code, 0, leecher.stdout());
    assert.ok(readFileSync(join(dir, 'lan.bin')).equals(Buffer.from(data)), 'the file arrived intact');
    const started = leecher
      .stdout()
      .split('\n')
      .find((l) => l.includes('"event":"started"'));
    assert.ok(started?.includes('"lsd"') && !started.includes('"dht"'), `sources: ${started}`);
    const peerLines = leecher
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"event":"peer"'));
    const wanted = v4 ? /10\.213\.7\.1|fd00:10:213::1/ : /fd00:10:213::1/;
    if (peerLines.length > 0)
      assert.ok(
        peerLines.some((l) => wanted.test(l)),
        peerLines.join('\n'),
      );
  } finally {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(runs.map((r) => r.exited));
    lan.cleanup();
  }
}

const reason = canUseNetns();

test('two hosts on a veth link find each other by LSD alone (IPv4 and IPv6) and transfer a file', async (t) => {
  if (reason !== null) {
    if (process.env.CI === 'true') assert.fail(reason);
    t.skip(reason);
    return;
  }
  await transferOverLan('d', true);
});

test('the same over IPv6 alone (ff15::efc0:988f)', async (t) => {
  if (reason !== null) {
    if (process.env.CI === 'true') assert.fail(reason);
    t.skip(reason);
    return;
  }
  await transferOverLan('s', false);
});
