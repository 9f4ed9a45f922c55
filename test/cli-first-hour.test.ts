/**
 * A newcomer's first hour (issue 13): a download always says what it is doing, a peer that
 * cannot be reached is named, `share` prints a link that works on stdout, and `seed` of the
 * wrong folder names the missing file instead of downloading.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI_PATH } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';
import { buildTorrent, fixtureBytes } from './helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-first-hour-');
after(() => tmp.cleanup());

interface Event {
  event: string;
  code?: string;
  message?: string;
  port?: number;
  sources?: string[];
}

/** Run the CLI with `--json` until `until` matches an event (or the time runs out), then stop it. */
async function eventsUntil(
  args: string[],
  until: (e: Event) => boolean,
  timeoutMs = 15_000,
): Promise<Event[]> {
  const child = spawn(process.execPath, [CLI_PATH, ...args, '--json'], {
    env: { ...process.env, PEERDROP_STALL_HINT_MS: '1500' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  let buffer = '';
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(events);
    };
    const timer = setTimeout(stop, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line) as Event;
        events.push(e);
        if (until(e)) stop();
      }
    });
    child.on('exit', () => stop());
  });
}

describe('the CLI says what is happening', () => {
  test('a magnet with no peer source says it is listening, then why nothing arrives', async () => {
    const dir = join(tmp.path, 'lonely');
    const events = await eventsUntil(
      ['get', `magnet:?xt=urn:btih:${'ab'.repeat(20)}`, '--dir', dir, '--host', '127.0.0.1'],
      (e) => e.event === 'stalled',
    );
    const started = events.find((e) => e.event === 'started');
    assert.ok(started, `no started event: ${JSON.stringify(events.slice(0, 3))}`);
    assert.ok((started.port ?? 0) > 0, 'the listen port is reported');
    const stalled = events.find((e) => e.event === 'stalled');
    assert.equal(stalled?.code, 'NO_PEERS_FOUND');
    assert.match(stalled?.message ?? '', /--peer/);
  });

  test('an unreachable --peer is named, and the hint says no peer could be reached', async () => {
    const data = fixtureBytes(64 * 1024, 3);
    const torrent = join(tmp.path, 'u.torrent');
    writeFileSync(torrent, buildTorrent([{ path: ['u.bin'], data }], { name: 'u.bin', single: true }));
    const events = await eventsUntil(
      ['get', torrent, '--dir', join(tmp.path, 'u'), '--host', '127.0.0.1', '--peer', '127.0.0.1:1'],
      (e) => e.event === 'stalled',
    );
    const warning = events.find((e) => e.event === 'warning' && e.code === 'PEER_UNREACHABLE');
    assert.ok(
      warning,
      `no unreachable-peer warning: ${JSON.stringify(events.filter((e) => e.event !== 'progress'))}`,
    );
    assert.match(warning.message ?? '', /127\.0\.0\.1:1/);
    assert.equal(events.find((e) => e.event === 'stalled')?.code, 'NO_PEER_REACHABLE');
  });

  test('seed of the wrong folder names the missing file and never downloads', async () => {
    const data = fixtureBytes(64 * 1024, 4);
    const torrent = join(tmp.path, 's.torrent');
    writeFileSync(torrent, buildTorrent([{ path: ['s.bin'], data }], { name: 's.bin', single: true }));
    const wrong = join(tmp.path, 'wrong-place');
    mkdirSync(wrong);
    const events = await eventsUntil(
      ['seed', torrent, '--dir', wrong, '--host', '127.0.0.1'],
      (e) => e.event === 'warning' && e.code === 'SEED_DATA_INCOMPLETE',
      10_000,
    );
    const w = events.find((e) => e.code === 'SEED_DATA_INCOMPLETE');
    assert.ok(w, JSON.stringify(events.filter((e) => e.event !== 'progress')));
    assert.match(w.message ?? '', /s\.bin \(missing or unreadable\)/);
    assert.deepEqual(readdirSync(wrong), [], 'nothing was written to the wrong folder');
  });
});

test('a hostile tracker’s failure reason reaches the terminal without control sequences', async () => {
  const { createServer } = await import('node:http');
  // A bencoded failure whose text would retitle the window, clear the screen and flip the text.
  const reason = 'ok\x1b]0;pwned\x07\x1b[2J\u202egnp.exe\x9b31m';
  const body = Buffer.concat([
    Buffer.from(`d14:failure reason${Buffer.byteLength(reason)}:`),
    Buffer.from(reason),
    Buffer.from('e'),
  ]);
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const data = fixtureBytes(32 * 1024, 5);
    const torrent = join(tmp.path, 'hostile-tracker.torrent');
    writeFileSync(
      torrent,
      buildTorrent([{ path: ['h.bin'], data }], {
        name: 'h.bin',
        single: true,
        outer: { announce: `http://127.0.0.1:${port}/announce` },
      }),
    );
    const child = spawn(
      process.execPath,
      [CLI_PATH, 'get', torrent, '--dir', join(tmp.path, 'h'), '--host', '127.0.0.1', '--no-dht'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const deadline = Date.now() + 10_000;
    while (!err.includes('warning:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    assert.match(err, /tracker .*ok/, err);
    const controls = ['\x07', '\x1b', '\x9b', '\u202e'].filter((c) => err.includes(c));
    assert.deepEqual(controls, [], 'no control or bidi character from the tracker was printed');
    assert.doesNotMatch(err, /pwned/, 'an OSC sequence is removed whole, payload included');
  } finally {
    server.close();
  }
});

test('share prints on stdout a magnet link with our address as a peer hint', async () => {
  const file = join(tmp.path, 'shared.txt');
  writeFileSync(file, 'hello from peerdrop\n');
  const child = spawn(process.execPath, [CLI_PATH, 'share', file, '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = await new Promise<string>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(out), 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0]!);
      }
    });
  });
  child.kill('SIGKILL');
  assert.match(line, /^magnet:\?xt=urn:btih:[0-9a-f]{40}.*&x\.pe=127\.0\.0\.1:\d+$/);
});
