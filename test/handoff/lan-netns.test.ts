import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { content } from './content.js';

// The LAN case: two network namespaces joined by a veth link made here (and deleted), the sender
// found by multicast only (no DHT), and a packet capture of the link checked for plaintext.
const MARKER = 'PEERDROP-PLAINTEXT-MARKER-7f3a';

function missing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  if (spawnSync('tcpdump', ['--version']).status !== 0) return 'tcpdump is not installed';
  return null;
}

const sh = (args: string[]) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};

function run(ns: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn('ip', ['netns', 'exec', ns, ...args], {
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
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  exited.finally(() => clearTimeout(timer));
  return { child, exited, out: () => ({ stdout, stderr }) };
}

test('send and receive between two network namespaces over multicast; the capture holds no plaintext', async (t) => {
  const why = missing();
  if (why) {
    if (process.env.CI === 'true') assert.fail(why);
    t.skip(why);
    return;
  }
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const id = `${process.pid % 100000}`;
  const [nsA, nsB, vA, vB] = [`pdhA${id}`, `pdhB${id}`, `pdha${id}`, `pdhb${id}`];
  t.after(() => {
    spawnSync('ip', ['netns', 'del', nsA]);
    spawnSync('ip', ['netns', 'del', nsB]);
  });
  sh(['netns', 'add', nsA]);
  sh(['netns', 'add', nsB]);
  sh(['link', 'add', vA, 'type', 'veth', 'peer', 'name', vB]);
  sh(['link', 'set', vA, 'netns', nsA]);
  sh(['link', 'set', vB, 'netns', nsB]);
  for (const [ns, dev, addr] of [
    [nsA, vA, '10.77.0.1/24'],
    [nsB, vB, '10.77.0.2/24'],
  ] as const) {
    sh(['-n', ns, 'addr', 'add', addr, 'dev', dev]);
    sh(['-n', ns, 'link', 'set', dev, 'up', 'multicast', 'on']);
    sh(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const src = join(tmp.path, 'notes.txt');
  const body = Buffer.concat([
    Buffer.from(`${MARKER}\n`.repeat(2000)),
    content(500_000, 5),
    Buffer.from(MARKER),
  ]);
  writeFileSync(src, body);
  const pcap = join(tmp.path, 'link.pcap');
  const capture = run(nsA, ['tcpdump', '-i', vA, '-U', '-s', '0', '-w', pcap], {});
  await new Promise((r) => setTimeout(r, 500));
  const sender = run(
    nsA,
    [process.execPath, CLI_PATH, 'send', src, '--no-dht', '--code', '9-apple-zebra', '--json'],
    {
      PEERDROP_STATE_DIR: join(tmp.path, 's1'),
    },
  );
  t.after(() => sender.child.kill('SIGKILL'));
  for (let i = 0; i < 200 && !sender.out().stdout.includes('"ready"'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const out = join(tmp.path, 'out');
  const receiver = run(
    nsB,
    [process.execPath, CLI_PATH, 'receive', '9-apple-zebra', '--no-dht', '--yes', '--json', '--dir', out],
    {
      PEERDROP_STATE_DIR: join(tmp.path, 's2'),
    },
  );
  assert.equal(await receiver.exited, 0, receiver.out().stderr);
  assert.equal(await sender.exited, 0, sender.out().stderr);
  await new Promise((r) => setTimeout(r, 1000));
  capture.child.kill('SIGINT');
  await capture.exited;
  assert.deepEqual(readFileSync(join(out, 'notes.txt')), body);
  const lines = receiver
    .out()
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const offer = lines.find((l) => l.event === 'offer');
  const firstPiece = lines.find((l) => l.event === 'first-piece');
  process.stdout.write(
    `# LAN (netns) receive → offer ${offer?.afterMs} ms, first verified piece ${firstPiece?.afterMs} ms\n`,
  );
  const captured = readFileSync(pcap);
  // Most of the transfer is in the capture (tcpdump may drop some packets under load).
  assert.ok(captured.length > body.length / 2, `the capture saw the transfer (${captured.length} bytes)`);
  assert.equal(captured.includes(MARKER), false, 'the marker appears in the capture');
  assert.equal(
    captured.includes('PEERDROP-HANDOFF/1 ANNOUNCE'),
    true,
    'the capture saw the multicast announce',
  );
});
