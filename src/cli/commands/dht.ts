import { lookup as dnsLookup } from 'node:dns/promises';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { decode, encode } from '../../bencode/index.js';
import { generateItemKeyPair, type ItemKeyPair, itemKeyPairFromSeed } from '../../dht/items.js';
import type { DhtNode } from '../../dht/node.js';
import { startUdpDht, type UdpDht } from '../../dht/udp-adapter.js';
import { UdpMux } from '../../net/udp-mux.js';
import { defaultStateDir } from '../../storage/fs-storage-factory.js';
import { decodeUtf8Lenient, fromBase32, fromHex, toHex, utf8 } from '../../util/bytes.js';
import { errorMessage } from '../../util/errors.js';
import { ipFamily, type PeerAddress, parseHostPort } from '../../util/ip.js';
import { CliError, formatBytes, printJson, printJsonLine, usageError } from '../output.js';

/**
 * `peerdrop dht`: a Mainline DHT node on a UDP port (BEP 5), and one-shot queries through it:
 *   peerdrop dht [--port P]                       run a node, print table size and traffic
 *   peerdrop dht peers <info-hash>                peers for an info-hash (get_peers lookup)
 *   peerdrop dht get <target> [--salt S]          a BEP 44 item
 *   peerdrop dht put <value>                      store an immutable BEP 44 item
 *   peerdrop dht put --mutable --seq N <value>    store a signed mutable item (key in the state dir)
 * The routing table is kept in the state folder (dht-state), so later runs start from it.
 */

/** Well-known public bootstrap nodes (as libtorrent and Transmission ship them). */
export const DEFAULT_DHT_BOOTSTRAP = [
  'router.bittorrent.com:6881',
  'dht.transmissionbt.com:6881',
  'router.utorrent.com:6881',
  'dht.libtorrent.org:25401',
];

interface CommonOptions {
  port: string;
  dhtBootstrap?: string;
  json?: boolean;
  state?: string;
  timeout: string;
}

interface PutOptions extends CommonOptions {
  mutable?: boolean;
  seq?: string;
  salt?: string;
  cas?: string;
  keyFile?: string;
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('--port <port>', 'UDP port for the node (0 = any free port)', '0')
    .option(
      '--dht-bootstrap <host:port,...>',
      `nodes to join through when the saved table is empty (default: ${DEFAULT_DHT_BOOTSTRAP.join(', ')})`,
    )
    .option('--state <file>', 'routing table file (default: <state dir>/dht-state; "none" = do not keep)')
    .option('--timeout <seconds>', 'give up after this long', '30')
    .option('--json', 'machine-readable output');
}

export function register(program: Command): void {
  // `dht` and its subcommands share option names; Commander gives each command its own only
  // when every level parses options positionally (the root has just --help/--version).
  program.enablePositionalOptions();
  const dht = addCommon(
    program
      .command('dht')
      .description(
        'run a Mainline DHT node (BEP 5) and show its routing table and traffic; subcommands query the DHT',
      ),
  )
    .enablePositionalOptions()
    .action(async (o: CommonOptions) => {
      await runNode(o);
    });
  addCommon(dht.command('peers').description('find peers for an info-hash (40 hex or 32 base32)'))
    .argument('<info-hash>')
    .action(async (infoHash: string, o: CommonOptions) => {
      await runPeers(infoHash, o);
    });
  addCommon(dht.command('get').description('get a BEP 44 item by its 40-hex target'))
    .argument('<target>')
    .option('--salt <text>', 'salt of a mutable item (part of its target)')
    .action(async (target: string, o: PutOptions) => {
      await runGet(target, o);
    });
  addCommon(
    dht
      .command('put')
      .description(
        'store a BEP 44 item: an immutable string, or with --mutable one signed with your DHT key',
      ),
  )
    .argument('<value>', 'the value, stored as a bencoded string (at most ~990 bytes)')
    .option('--mutable', 'a mutable item under your key (kept in the state dir, or --key-file)')
    .option('--seq <n>', 'sequence number of a mutable item (must grow with each put)')
    .option('--salt <text>', 'salt: several mutable items under one key')
    .option('--cas <n>', 'only replace the item if its current seq is this')
    .option('--key-file <file>', 'the 32-byte ed25519 seed, hex (created if missing)')
    .action(async (value: string, o: PutOptions) => {
      await runPut(value, o);
    });
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > 65535) throw usageError(`--port must be 0..65535, got ${text}`);
  return n;
}

function parseSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw usageError(`--timeout must be a positive number of seconds, got ${text}`);
  return n;
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n))
    throw usageError(`${flag} must be a non-negative integer, got ${text}`);
  return n;
}

function parseBootstrapList(text: string | undefined): string[] {
  const items = (text === undefined ? DEFAULT_DHT_BOOTSTRAP : text.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!parseHostPort(item))
      throw usageError(`--dht-bootstrap entries are host:port or [v6]:port, got ${item}`);
  }
  return items;
}

function parseId(text: string, what: string): Uint8Array {
  const bytes =
    text.length === 40 ? fromHex(text) : text.length === 32 ? fromBase32(text.toUpperCase()) : null;
  if (bytes?.length !== 20) throw usageError(`${what} must be 40 hex digits (or 32 base32), got ${text}`);
  return bytes;
}

/** Resolve names to addresses; names that do not resolve are reported and skipped. */
async function resolveBootstrap(items: readonly string[], json: boolean): Promise<PeerAddress[]> {
  const out: PeerAddress[] = [];
  await Promise.all(
    items.map(async (item) => {
      const hp = parseHostPort(item)!;
      if (ipFamily(hp.host)) {
        out.push(hp);
        return;
      }
      try {
        for (const a of await dnsLookup(hp.host, { all: true })) out.push({ host: a.address, port: hp.port });
      } catch (err) {
        if (!json) process.stderr.write(`peerdrop dht: cannot resolve ${hp.host}: ${errorMessage(err)}\n`);
      }
    }),
  );
  return out;
}

function statePath(o: CommonOptions): string | null {
  if (o.state === 'none') return null;
  return o.state ?? join(defaultStateDir(), 'dht-state');
}

function readState(file: string | null): Uint8Array | undefined {
  if (!file) return undefined;
  try {
    return new Uint8Array(readFileSync(file));
  } catch {
    return undefined;
  }
}

function writeState(file: string | null, state: Uint8Array): void {
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, state);
  } catch (err) {
    process.stderr.write(`peerdrop dht: cannot save the routing table to ${file}: ${errorMessage(err)}\n`);
  }
}

interface Running {
  readonly dht: UdpDht;
  readonly mux: UdpMux;
  close(): Promise<void>;
}

async function startNode(o: CommonOptions): Promise<Running> {
  const port = parsePort(o.port);
  const bootstrapItems = parseBootstrapList(o.dhtBootstrap);
  const file = statePath(o);
  const bootstrap = await resolveBootstrap(bootstrapItems, o.json ?? false);
  const isLoopbackOnly =
    bootstrap.length > 0 && bootstrap.every((b) => b.host.startsWith('127.') || b.host === '::1');
  const mux = await UdpMux.bind({ port });
  const saved = readState(file);
  let dht: UdpDht;
  try {
    dht = startUdpDht(mux, {
      bootstrap,
      // Every node of a loopback DHT shares 127.0.0.1: the one-per-IP rule would keep one.
      restrictIps: !isLoopbackOnly,
      ...(saved ? { savedState: saved } : {}),
      persist: (state) => writeState(file, state),
      version: utf8('PD01'),
    });
  } catch (err) {
    // A damaged state file: start without it rather than refuse to run.
    process.stderr.write(`peerdrop dht: ignoring the saved routing table: ${errorMessage(err)}\n`);
    dht = startUdpDht(mux, { bootstrap, restrictIps: !isLoopbackOnly, persist: (s) => writeState(file, s) });
  }
  return {
    dht,
    mux,
    async close() {
      dht.close();
      await mux.close();
    },
  };
}

function summary(node: DhtNode, port: number): Record<string, unknown> {
  const s = node.stats();
  return {
    id: toHex(node.id),
    port,
    nodes: s.nodes4 + s.nodes6,
    nodes4: s.nodes4,
    nodes6: s.nodes6,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    queriesReceived: s.queriesReceived,
    queriesRateLimited: s.queriesRateLimited,
    queriesSent: s.rpc.sent,
    responses: s.rpc.responses,
    timeouts: s.rpc.timeouts,
    torrents: s.torrents,
    items: s.items,
    externalAddress: node.externalAddress(),
  };
}

async function runNode(o: CommonOptions): Promise<void> {
  const running = await startNode(o);
  const { node } = running.dht;
  const print = () => {
    const s = summary(node, running.mux.port);
    if (o.json) printJsonLine(s);
    else
      process.stdout.write(
        `peerdrop dht: ${s.nodes} nodes (IPv4 ${s.nodes4}, IPv6 ${s.nodes6}), in ${formatBytes(s.bytesIn as number)}, out ${formatBytes(
          s.bytesOut as number,
        )}, queries received ${s.queriesReceived}, sent ${s.queriesSent}\n`,
      );
  };
  if (!o.json) process.stdout.write(`peerdrop dht: node ${toHex(node.id)} on UDP port ${running.mux.port}\n`);
  node.ready().then(print, () => {});
  const timer = setInterval(print, 5000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
  setTimeout(() => process.exit(0), 2000).unref();
  await running.close();
}

async function runPeers(infoHashText: string, o: CommonOptions): Promise<void> {
  const infoHash = parseId(infoHashText, 'the info-hash');
  const seconds = parseSeconds(o.timeout);
  const running = await startNode(o);
  const peers: string[] = [];
  try {
    const signal = AbortSignal.timeout(seconds * 1000);
    await running.dht.node.ready();
    try {
      for await (const p of running.dht.node.getPeers(infoHash, { signal })) {
        const text = p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`;
        peers.push(text);
        if (o.json) printJsonLine({ peer: text });
        else process.stdout.write(`${text}\n`);
      }
    } catch (err) {
      if ((err as { code?: string }).code !== 'DHT_ABORTED') throw err;
    }
  } finally {
    await running.close();
  }
  if (o.json) printJsonLine({ done: true, infoHash: toHex(infoHash), peers: peers.length });
  else process.stderr.write(`peerdrop dht: ${peers.length} peers\n`);
}

function itemJson(
  target: Uint8Array,
  item: { v: Uint8Array; seq?: number; k?: Uint8Array } | null,
): Record<string, unknown> {
  if (!item) return { target: toHex(target), found: false };
  let text: string | null = null;
  try {
    const v = decode(item.v);
    if (v instanceof Uint8Array) text = decodeUtf8Lenient(v);
  } catch {
    text = null;
  }
  return {
    target: toHex(target),
    found: true,
    value: text,
    valueBencoded: toHex(item.v),
    ...(item.seq === undefined ? {} : { seq: item.seq }),
    ...(item.k ? { publicKey: toHex(item.k) } : {}),
  };
}

async function runGet(targetText: string, o: PutOptions): Promise<void> {
  const target = parseId(targetText, 'the target');
  const seconds = parseSeconds(o.timeout);
  const running = await startNode(o);
  let item: Awaited<ReturnType<DhtNode['getItem']>> = null;
  try {
    await running.dht.node.ready();
    item = await Promise.race([
      running.dht.node.getItem(target, o.salt ? { salt: utf8(o.salt) } : {}),
      new Promise<null>((r) => setTimeout(() => r(null), seconds * 1000).unref()),
    ]);
  } finally {
    await running.close();
  }
  const out = itemJson(target, item);
  if (o.json) printJson(out);
  else if (!item) throw new CliError(`no node holds an item with target ${toHex(target)}`);
  else
    process.stdout.write(
      `${out.value ?? out.valueBencoded}${out.seq === undefined ? '' : `  (seq ${out.seq})`}\n`,
    );
  if (!item) process.exitCode = 1;
}

function loadKey(file: string): ItemKeyPair {
  try {
    const seed = fromHex(readFileSync(file, 'utf8').trim());
    if (seed?.length !== 32) throw new CliError(`${file} does not hold a 64-hex ed25519 seed`);
    return itemKeyPairFromSeed(seed);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  const kp = generateItemKeyPair();
  const jwk = kp.privateKey.export({ format: 'jwk' });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${Buffer.from(jwk.d ?? '', 'base64url').toString('hex')}\n`, { mode: 0o600 });
  return kp;
}

async function runPut(valueText: string, o: PutOptions): Promise<void> {
  const v = encode(utf8(valueText));
  if (v.length > 1000) throw usageError(`the value is ${v.length} bytes bencoded; BEP 44 allows 1000`);
  if (!o.mutable && (o.seq || o.salt || o.cas || o.keyFile))
    throw usageError('--seq, --salt, --cas and --key-file need --mutable');
  if (o.mutable && o.seq === undefined) throw usageError('--mutable needs --seq N');
  if (o.salt && utf8(o.salt).length > 64) throw usageError('--salt is at most 64 bytes');
  const seconds = parseSeconds(o.timeout);
  const seq = o.seq === undefined ? 0 : parseCount(o.seq, '--seq');
  const cas = o.cas === undefined ? undefined : parseCount(o.cas, '--cas');
  const keyPair = o.mutable ? loadKey(o.keyFile ?? join(defaultStateDir(), 'dht-key')) : null;
  const running = await startNode(o);
  let result: { target: Uint8Array; stored: number } | null = null;
  try {
    await running.dht.node.ready();
    const put = keyPair
      ? running.dht.node.putMutable({
          keyPair,
          v,
          seq,
          ...(o.salt ? { salt: utf8(o.salt) } : {}),
          ...(cas === undefined ? {} : { cas }),
        })
      : running.dht.node.putImmutable(v);
    result = await Promise.race([
      put,
      new Promise<null>((r) => setTimeout(() => r(null), seconds * 1000).unref()),
    ]);
  } finally {
    await running.close();
  }
  if (!result) throw new CliError(`the put did not finish within ${seconds} s`);
  const out = {
    target: toHex(result.target),
    stored: result.stored,
    ...(keyPair ? { publicKey: toHex(keyPair.publicKey), seq } : {}),
  };
  if (o.json) printJson(out);
  else process.stdout.write(`${out.target}  (stored on ${out.stored} nodes)\n`);
  if (result.stored === 0) process.exitCode = 1;
}
