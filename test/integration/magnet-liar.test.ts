/**
 * Issue 9: one lying peer must not stop a magnet download. A real peerdrop seeder and a BEP 9
 * liar (it claims the metadata and sends garbage, or another valid info dictionary of the same
 * size) are both given in the magnet's `x.pe`, the liar first; over loopback TCP the download
 * must finish within a time bound, with the liar's connections closed and few warnings.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { magnetFromMetainfo, parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import { Session } from '../../src/session/session.js';
import { diffTrees, writeTree } from '../helpers/content.js';
import { bytesServer, garbageServer, MetadataLiar } from '../helpers/metadata-liar.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent } from '../helpers/torrent-fixtures.js';

/** The metadata phase takes tens of milliseconds once the liar is dropped; 20 s is the bound. */
const DONE_TIMEOUT_MS = 20_000;
/** Before the fix: tens of thousands of "did not match" warnings. */
const MAX_WARNINGS = 10;

const tmp = tempDir('peerdrop-magnet-liar-');
/** One honest seeder for every case (each case has its own leecher and liar). */
let swarm: ReturnType<typeof swarmData>;
let seeder: Session;

before(async () => {
  swarm = swarmData('liar');
  seeder = new Session({ host: '127.0.0.1' });
  await seeder.add(swarm.torrent, { dir: swarm.seedDir });
});

after(async () => {
  await seeder?.close();
  tmp.cleanup();
});

/** 400 small files: an info dictionary of two 16 KiB metadata pieces, so pieces can be spread. */
function swarmData(name: string) {
  const seedDir = join(tmp.path, 'seed');
  mkdirSync(seedDir, { recursive: true });
  const tree = Array.from({ length: 400 }, (_, i) => ({
    path: `d${i % 8}/file-${String(i).padStart(3, '0')}.bin`,
    size: 50 + i,
  }));
  const specs = writeTree(join(seedDir, name), tree, 23);
  const torrent = buildTorrent(
    specs.map((s) => ({ path: s.path.split('/'), data: readFileSync(join(seedDir, name, s.path)) })),
    { name, pieceLength: 16 * 1024 },
  );
  return { seedDir, torrent, metainfo: parseMetainfo(torrent) };
}

/** The same info dictionary with one byte of its last piece hash changed: valid, same size, wrong hash. */
function otherInfo(info: Uint8Array): Uint8Array {
  const out = info.slice();
  out[out.length - 2]! ^= 0xff; // inside `pieces`, the last key of a v1 info dict
  return out;
}

async function magnetWithLiar(
  t: { after: (fn: () => Promise<void> | void) => void; diagnostic: (m: string) => void },
  name: string,
  serve: (info: Uint8Array) => (piece: number) => Uint8Array,
): Promise<void> {
  const { seedDir, metainfo } = swarm;
  const info = metainfo.infoBytes;
  assert.ok(info.length > 16 * 1024, `info dict of ${info.length} bytes spans two metadata pieces`);
  const leecher = new Session({ host: '127.0.0.1' });
  const liar = await MetadataLiar.start({
    infoHash: wireInfoHash(metainfo),
    metadataSize: info.length,
    serve: serve(info),
  });
  t.after(async () => {
    await Promise.all([leecher.close(), liar.close()]);
  });

  const magnet = `${magnetFromMetainfo(metainfo)}&x.pe=${liar.address}&x.pe=127.0.0.1:${seeder.port}`;
  const leechDir = join(tmp.path, `${name}-leech`);
  const started = Date.now();
  const handle = await leecher.add(magnet, { dir: leechDir });
  const warnings: unknown[] = [];
  handle.on('warning', (w) => warnings.push(w));
  let isDone = false;
  try {
    await handle.done({ signal: AbortSignal.timeout(DONE_TIMEOUT_MS) });
    isDone = true;
  } finally {
    const tookMs = Date.now() - started;
    t.diagnostic(
      `${name}: ${isDone ? `completed in ${tookMs} ms` : `not completed after ${tookMs} ms`}, ` +
        `${warnings.length} warnings, liar got ${liar.requests} metadata requests`,
    );
  }
  assert.deepEqual(diffTrees(seedDir, leechDir), []);
  assert.ok(liar.connections.length > 0, 'the liar was dialled');
  for (const c of liar.connections) assert.ok(await c.waitClosed(5_000), 'the liar is disconnected');
  assert.ok(warnings.length <= MAX_WARNINGS, `${warnings.length} warnings`);
}

describe('a magnet download with a lying peer (issue 9)', () => {
  test('the liar claims the right metadata size and sends random bytes', async (t) => {
    await magnetWithLiar(t, 'garbage', (info) => garbageServer(info.length));
  });

  test('the liar sends a valid info dictionary of the same size that hashes to something else', async (t) => {
    await magnetWithLiar(t, 'other', (info) => bytesServer(otherInfo(info)));
  });
});
