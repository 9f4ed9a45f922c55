import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startUdpDht, type UdpDht } from '../../src/dht/udp-adapter.js';
import { UdpMux } from '../../src/net/udp-mux.js';
import { CLI_PATH, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { content } from './content.js';

// The internet case on a private loopback DHT: no multicast, the sender found through a BEP 44 item.
const muxes: UdpMux[] = [];
const nodes: UdpDht[] = [];
let bootstrap = '';

before(async () => {
  for (let i = 0; i < 4; i++) muxes.push(await UdpMux.bind({ port: 0, families: [4], host4: '127.0.0.1' }));
  bootstrap = `127.0.0.1:${muxes[0]!.port}`;
  for (const [i, mux] of muxes.entries())
    nodes.push(
      startUdpDht(mux, {
        restrictIps: false,
        bootstrap: i === 0 ? [] : [{ host: '127.0.0.1', port: muxes[0]!.port }],
      }),
    );
  await Promise.all(nodes.map((n) => n.node.ready()));
});

after(async () => {
  for (const n of nodes) n.close();
  await Promise.all(muxes.map((m) => m.close()));
});

function startSender(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [CLI_PATH, 'send', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  exited.finally(() => clearTimeout(timer));
  const ready = async () => {
    for (let i = 0; i < 200 && !stdout.includes('"ready"'); i++) await new Promise((r) => setTimeout(r, 50));
    return stdout.split('\n')[0]!;
  };
  return { child, exited, ready, out: () => ({ stdout, stderr }) };
}

test('send and receive over a private loopback DHT (no LAN); the sender exits once all is verified', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const file = join(tmp.path, 'données.bin');
  writeFileSync(file, content(2_000_000, 9));
  const common = ['--no-lan', '--dht-bootstrap', bootstrap];
  const sender = startSender([file, ...common, '--host', '127.0.0.1', '--json'], {
    PEERDROP_STATE_DIR: join(tmp.path, 's1'),
  });
  t.after(() => sender.child.kill('SIGKILL'));
  const { code } = JSON.parse(await sender.ready());
  assert.match(code, /^\d{1,3}-[a-z]+-[a-z]+$/);
  const out = join(tmp.path, 'out');
  const r = await runCli(['receive', code, ...common, '--dir', out, '--yes', '--json'], {
    env: { PEERDROP_STATE_DIR: join(tmp.path, 's2') },
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const offer = lines.find((l) => l.event === 'offer');
  assert.equal(offer.name, 'données.bin');
  const firstPiece = lines.find((l) => l.event === 'first-piece');
  process.stdout.write(
    `# loopback DHT receive → offer ${offer.afterMs} ms, first verified piece ${firstPiece?.afterMs} ms\n`,
  );
  assert.equal(lines.at(-1).event, 'done');
  assert.deepEqual(readFileSync(join(out, 'données.bin')), readFileSync(file));
  assert.equal(await sender.exited, 0, sender.out().stderr);
  assert.match(sender.out().stdout, /"event":"complete"/);
});

test('receive without a terminal and without --yes refuses, and a bad code is a usage error', async () => {
  const r = await runCli(['receive', '7-guitar-orbit', '--no-lan', '--no-dht']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--yes/);
  const bad = await runCli(['receive', '7-guitar-nonword', '--yes']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a word of the code list/);
});

test('a wrong code fails both CLI sides with the plain message', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  writeFileSync(join(tmp.path, 'x.txt'), 'x');
  const sender = startSender(
    [
      join(tmp.path, 'x.txt'),
      '--code',
      '5-apple-zebra',
      '--no-lan',
      '--no-dht',
      '--host',
      '127.0.0.1',
      '--json',
    ],
    {
      PEERDROP_STATE_DIR: join(tmp.path, 's1'),
    },
  );
  t.after(() => sender.child.kill('SIGKILL'));
  await sender.ready();
  const port = JSON.parse(sender.out().stdout.split('\n')[1]!).port;
  const r = await runCli(
    ['receive', '5-apple-acid', '--peer', `127.0.0.1:${port}`, '--yes', '--no-lan', '--no-dht'],
    {
      env: { PEERDROP_STATE_DIR: join(tmp.path, 's2') },
    },
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the code did not match: check it and try again/);
  assert.equal(await sender.exited, 1);
  assert.match(sender.out().stderr, /the code did not match: check it and try again/);
});
