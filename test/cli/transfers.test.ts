/**
 * What a newcomer sees (issue 13): commander's errors in peerdrop's one-line format, a file that
 * is not a torrent named, `seed` of damaged data naming the file and fetching only when asked, `--json | head -1` ending quietly, the status line fitting an
 * 80-column terminal (a real pty, made by `script`), the done line saying where the files are,
 * and full / read-only / not-a-folder disks reported in words with the path and the errno code.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { displayWidth } from '../../src/cli/text-width.js';
import { Session } from '../../src/session/session.js';
import { CLI_PATH, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-cli-terminal-');
const SIZE = 2 * 1024 * 1024;
const data = fixtureBytes(SIZE, 13);
const torrentPath = join(tmp.path, 'movie.torrent');
const seedDir = join(tmp.path, 'seed');
let seeder: Session;

before(async () => {
  mkdirSync(seedDir);
  writeFileSync(join(seedDir, 'movie.bin'), data);
  const torrent = buildTorrent([{ path: ['movie.bin'], data }], {
    name: 'movie.bin',
    pieceLength: 32 * 1024,
    single: true,
  });
  writeFileSync(torrentPath, torrent);
  // 640 KiB/s: the pty run below lasts about three seconds, long enough to redraw the line.
  seeder = new Session({
    host: '127.0.0.1',
    udp: false,
    lsd: false,
    uploadLimit: 640 * 1024,
    stateDir: join(tmp.path, 'seeder-state'),
  });
  await seeder.add(torrent, { dir: seedDir });
});

after(async () => {
  await seeder.close();
  tmp.cleanup();
});

/** Options that keep a `get` on loopback with the seeder as its only peer. */
const quiet = () => ['--host', '127.0.0.1', '--no-dht', '--no-lsd', '--peer', `127.0.0.1:${seeder.port}`];

function assertOneLine(stderr: string, pattern: RegExp, what: string): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: ${stderr}`);
  assert.match(lines[0]!, /^peerdrop: /, what);
  assert.match(lines[0]!, pattern, what);
}

describe("commander's own errors look like peerdrop's", () => {
  const cases: [string[], RegExp][] = [
    [['get', '--bogus', 'x'], /^peerdrop: unknown option '--bogus' \(see peerdrop get --help\)$/],
    [['frobnicate'], /^peerdrop: unknown command 'frobnicate' \(see peerdrop --help\)$/],
    [['help', 'nope'], /^peerdrop: unknown command 'nope' \(see peerdrop --help\)$/],
    [['get'], /^peerdrop: missing required argument 'source' \(see peerdrop get --help\)$/],
    [['get', 'a', 'b'], /^peerdrop: too many arguments for 'get'.* \(see peerdrop get --help\)$/],
    [['seed', 'x.torrent'], /required option '-d, --dir <dir>' not specified \(see peerdrop seed --help\)$/],
    [['info', '--jsn', 'x'], /unknown option '--jsn' \(Did you mean --json\?; see peerdrop info --help\)$/],
    // `search` lets `-word` through as an exclusion; a misspelt long option is still refused.
    [
      ['search', 'x', '--categroy', 'video', '--index', 'http://127.0.0.1:1/'],
      /unknown option '--categroy' \(see peerdrop search --help\)$/,
    ],
  ];
  test('one line, peerdrop: prefix, where to look, exit 2, nothing on stdout', async () => {
    const results = await Promise.all(cases.map(([args]) => runCli(args, { cwd: tmp.path })));
    results.forEach((r, i) => {
      const [args, pattern] = cases[i]!;
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
      assertOneLine(r.stderr, pattern, args.join(' '));
      assert.doesNotMatch(r.stderr, /error:/);
      assert.equal(r.stdout, '');
    });
  });
});

test('a file that is not a torrent is named, with the parser code kept', async () => {
  const notTorrent = join(tmp.path, 'holiday.torrent');
  writeFileSync(notTorrent, 'hello, this is a text file\n');
  const runs = await Promise.all([
    runCli(['get', notTorrent, '--dir', join(tmp.path, 'nt')]),
    runCli(['info', notTorrent]),
    runCli(['seed', notTorrent, '--dir', tmp.path]),
  ]);
  for (const r of runs) {
    assert.equal(r.code, 1, r.stderr);
    assertOneLine(
      r.stderr,
      /holiday\.torrent is not a \.torrent file \(.*\); give a \.torrent file or a magnet: link \(BENCODE_UNEXPECTED_BYTE\)$/,
      'not a torrent',
    );
  }
});

test('`get x.torrent --json | head -1` prints one event and ends quietly', async () => {
  const dir = join(tmp.path, 'epipe');
  const errFile = join(tmp.path, 'epipe.err');
  // No peer: the events go on for ever, so only the closed pipe can end the program (the
  // 20 s timeout below fails the test otherwise; no wall-clock assertion: machines are noisy).
  const statuses = execFileSync(
    'bash',
    [
      '-c',
      `"$NODE" "$CLI" get "$T" --dir "$D" --host 127.0.0.1 --no-dht --no-lsd --json 2>"$E" | head -1 >"$D.out"; echo "\${PIPESTATUS[*]}"`,
    ],
    {
      env: { ...process.env, NODE: process.execPath, CLI: CLI_PATH, T: torrentPath, D: dir, E: errFile },
      encoding: 'utf8',
      timeout: 20_000,
    },
  ).trim();
  assert.equal(statuses, '0 0', 'peerdrop and head both exit 0');
  assert.equal(readFileSync(errFile, 'utf8'), '', 'nothing on stderr: no EPIPE, no stack trace');
  assert.equal(JSON.parse(readFileSync(`${dir}.out`, 'utf8')).event, 'started');
});

/** Runs `args` on a pseudo-terminal of `columns` columns; returns everything written to it. */
function onTerminal(
  args: string[],
  columns: number,
  timeoutMs: number,
  options: { env?: NodeJS.ProcessEnv; until?: RegExp } = {},
) {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols ${columns} rows 24; exec ${[process.execPath, CLI_PATH, ...args].map(quote).join(' ')}`;
  return new Promise<string>((resolve) => {
    // util-linux `script` gives the program a real tty (so isTTY and columns are true to life).
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (options.until?.test(out)) child.kill('SIGKILL');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** What a terminal shows, one entry per redraw or line: split at \r and \n, escapes removed. */
function screenSegments(out: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal output is what is checked
  const plain = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return plain.split(/\r\n|\r|\n/).filter((s) => s.trim() !== '');
}

describe('on an 80-column terminal', () => {
  test('the redrawn status line never wraps; done says where the files are', async () => {
    const dir = join(tmp.path, 'tty');
    const out = await onTerminal(['get', torrentPath, '--dir', dir, ...quiet()], 80, 30_000);
    const segments = screenSegments(out);
    const status = segments.filter((s) => /^(downloading|checking|metadata)\s/.test(s));
    assert.ok(status.length >= 2, `status redrawn: ${JSON.stringify(segments.slice(0, 10))}`);
    assert.ok(
      status.some((s) => /down \d+(\.\d+)? [KM]iB\/s/.test(s)),
      'a line with a transfer rate (the widest form) was drawn',
    );
    for (const s of status)
      assert.ok(displayWidth(s) <= 79, `${displayWidth(s)} columns: ${JSON.stringify(s)}`);
    assert.match(out, /listening on port \d+; peer sources: .*1 peer\(s\) given/);
    const done = segments.find((s) => s.startsWith('done: '));
    assert.equal(done, `done: movie.bin (2.00 MiB) at ${join(dir, 'movie.bin')}`);
    assert.deepEqual(readFileSync(join(dir, 'movie.bin')), Buffer.from(data));
  });

  test('a magnet with no peer source shows its state at once, then why nothing arrives', async () => {
    const magnet = `magnet:?xt=urn:btih:${'cd'.repeat(20)}`;
    const out = await onTerminal(
      ['get', magnet, '--dir', join(tmp.path, 'lonely'), '--host', '127.0.0.1', '--no-dht', '--no-lsd'],
      80,
      15_000,
      { env: { PEERDROP_STALL_HINT_MS: '2000' }, until: /nothing is arriving:[^\n]*\n/ },
    );
    const segments = screenSegments(out);
    assert.ok(
      segments.some((l) => /^listening on port \d+; peer sources: none$/.test(l)),
      JSON.stringify(segments),
    );
    const status = segments.filter((s) => s.startsWith('metadata '));
    assert.ok(status.length >= 1, `a status line while the metadata is awaited: ${JSON.stringify(segments)}`);
    assert.match(status[0]!, /peers 0\/0/, JSON.stringify(segments));
    for (const s of status) assert.ok(displayWidth(s) <= 79, s);
    assert.ok(
      segments.some((s) =>
        /^nothing is arriving: no peer found yet \(peer sources running: none\); .*--peer host:port.*turn the DHT on/.test(
          s,
        ),
      ),
      JSON.stringify(segments),
    );
  });
});

/** A small tmpfs of the test's own, unmounted after; null (with the reason) where mounting is not allowed. */
function mountTmpfs(path: string, sizeKiB: number): string | null {
  mkdirSync(path, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', path], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a tmpfs here (${String((err as { stderr?: unknown }).stderr ?? err).trim()})`;
  }
}

describe('disk errors say what went wrong, with the path', () => {
  const mnt = join(tmp.path, 'small-disk');
  let reason: string | null = null;
  before(() => {
    reason = mountTmpfs(mnt, 512);
    if (reason && process.env.CI === 'true') throw new Error(reason);
    if (reason) process.stdout.write(`# skipping disk-error tests: ${reason}\n`);
  });
  after(() => {
    if (!reason) execFileSync('umount', [mnt]);
  });

  test('a full disk: ENOSPC naming the file, as a line and as a --json event', async (t) => {
    if (reason) return t.skip(reason);
    const text = await runCli(['get', torrentPath, '--dir', join(mnt, 'a'), ...quiet()], {
      timeoutMs: 30_000,
    });
    assert.equal(text.code, 1, text.stderr);
    const last = text.stderr.trimEnd().split('\n').at(-1) ?? '';
    assert.equal(
      last,
      `peerdrop: cannot write ${join(mnt, 'a', 'movie.bin')}: no space left on the device (ENOSPC)`,
    );
    assert.doesNotMatch(text.stderr, /\n\s+at /, 'no stack trace');
    execFileSync('rm', ['-rf', join(mnt, 'a')]);
    const json = await runCli(['get', torrentPath, '--dir', join(mnt, 'b'), ...quiet(), '--json'], {
      timeoutMs: 30_000,
    });
    assert.equal(json.code, 1, json.stderr);
    const events = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; code?: string; message?: string });
    const error = events.find((e) => e.event === 'error');
    assert.equal(error?.code, 'ENOSPC');
    assert.match(error?.message ?? '', /movie\.bin: no space left on the device/);
  });

  test('a read-only disk: EROFS naming the folder (download folder and state folder)', async (t) => {
    if (reason) return t.skip(reason);
    execFileSync('rm', ['-rf', join(mnt, 'a'), join(mnt, 'b')]);
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      const [sub, top, state] = await Promise.all([
        runCli(['get', torrentPath, '--dir', join(mnt, 'sub'), ...quiet()]),
        runCli(['get', torrentPath, '--dir', mnt, ...quiet()]),
        runCli(['get', torrentPath, '--dir', join(tmp.path, 'rw'), ...quiet()], {
          env: { PEERDROP_STATE_DIR: join(mnt, 'state') },
        }),
      ]);
      assert.equal(sub.code, 2);
      assertOneLine(
        sub.stderr,
        new RegExp(`--dir: cannot create folder ${join(mnt, 'sub')}: read-only file system \\(EROFS\\)$`),
        'ro sub',
      );
      assert.equal(top.code, 2);
      assertOneLine(
        top.stderr,
        /--dir: cannot create files in .*small-disk: read-only file system \(EROFS\)$/,
        'ro',
      );
      assert.equal(state.code, 1);
      assertOneLine(
        state.stderr,
        new RegExp(`cannot create folder ${join(mnt, 'state')}: read-only file system \\(EROFS\\)$`),
        'ro state',
      );
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
  });
});

test('--dir below a file: ENOTDIR in words, naming the file in the way', async () => {
  const file = join(tmp.path, 'notes.txt');
  writeFileSync(file, 'a file\n');
  const r = await runCli(['get', torrentPath, '--dir', join(file, 'sub'), ...quiet()]);
  assert.equal(r.code, 2);
  assertOneLine(
    r.stderr,
    /--dir: cannot create folder .*notes\.txt.*a file, not a folder.* \(ENOTDIR\)$/,
    'enotdir',
  );
});

describe('seed serves what is there', () => {
  test('damaged data: the file is named, nothing is fetched; --download-missing repairs it', async () => {
    const dir = join(tmp.path, 'damaged');
    mkdirSync(dir);
    const damaged = Buffer.from(data);
    damaged.fill(0x55, 100_000, 100_100); // inside the fourth 32 KiB piece
    writeFileSync(join(dir, 'movie.bin'), damaged);
    const events = async (args: string[], until: RegExp, lingerMs = 0) => {
      const child = spawn(
        process.execPath,
        [CLI_PATH, 'seed', torrentPath, '--dir', dir, ...quiet(), '--json', ...args],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (until.test(out)) {
            clearTimeout(timer);
            setTimeout(resolve, lingerMs);
          }
        });
      });
      child.kill('SIGKILL');
      return out;
    };
    // Connected to the seeder, which has the piece, and given a second to (wrongly) fetch it.
    const plain = await events(
      [],
      /SEED_DATA_INCOMPLETE[\s\S]*"kind":"connected"|"kind":"connected"[\s\S]*SEED_DATA_INCOMPLETE/,
      1000,
    );
    assert.match(
      plain,
      /"code":"SEED_DATA_INCOMPLETE","message":"1 file\(s\) cannot be served in full: movie\.bin \(damaged: \d+ of 2097152 bytes verified\).*--download-missing/,
    );
    assert.deepEqual(readFileSync(join(dir, 'movie.bin')), damaged, 'nothing fetched though a peer had it');
    const repaired = await events(['--download-missing'], /"event":"done"/);
    assert.match(repaired, /"event":"done"/);
    assert.deepEqual(readFileSync(join(dir, 'movie.bin')), Buffer.from(data));
  });
});
