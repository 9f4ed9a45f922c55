import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TorrentHandle, TorrentReader } from '../src/session/torrent-handle.js';
import type { PieceRange } from '../src/swarm/types.js';
import { content, type InProcess, json, makeTorrent, startInProcess, waitFor } from './daemon-helpers.js';
import { tempDir } from './helpers/tmp.js';

const PIECE = 16_384;

/** Record every reader the daemon opens on `handle` (the route goes through createReader). */
function spyReaders(handle: TorrentHandle): { reader: TorrentReader; opened: PieceRange }[] {
  const readers: { reader: TorrentReader; opened: PieceRange }[] = [];
  const create = handle.createReader.bind(handle);
  handle.createReader = (index, options) => {
    const reader = create(index, options);
    readers.push({ reader, opened: reader.window });
    return reader;
  };
  return readers;
}

async function addTorrent(d: InProcess, bytes: Uint8Array): Promise<void> {
  const res = await d.fetch('/api/torrents', json({ torrent: Buffer.from(bytes).toString('base64') }));
  assert.equal(res.status, 201);
}

describe('daemon range streams hold an engine stream window', () => {
  const tmp = tempDir('peerdrop-stream-window-');
  let d: InProcess;

  before(async () => {
    d = await startInProcess(tmp.path, { pieceTimeoutMs: 800 });
  });
  after(async () => {
    await d.close();
    tmp.cleanup();
  });

  it('a range request opens a window at its offset, a seek opens one at the new offset, leaving releases it', async () => {
    // 40 pieces of data nobody has: every range waits for its piece.
    const t = await makeTorrent(
      join(tmp.path, 'elsewhere'),
      'film',
      { 'film.mp4': content(40 * PIECE, 9) },
      PIECE,
    );
    await addTorrent(d, t.bytes);
    const handle = await waitFor(
      'metadata',
      async () => d.daemon.handle(t.infoHash).metainfo && d.daemon.handle(t.infoHash),
    );
    const readers = spyReaders(handle);
    const first = new AbortController();
    const firstResponse = d
      .fetch(`/api/torrents/${t.infoHash}/files/0`, {
        headers: { range: `bytes=${20 * PIECE + 5}-` },
        signal: first.signal,
      })
      .catch((err: unknown) => err);
    await waitFor('a reader', async () => readers.length === 1);
    assert.deepEqual(readers[0]!.opened, { firstPiece: 20, endPiece: 40 });
    assert.equal(readers[0]!.reader.isClosed, false);
    // The player seeks: its old request goes away, a new one starts further on.
    first.abort();
    await firstResponse;
    await waitFor('the first window released', async () => readers[0]!.reader.isClosed);
    const second = await d.fetch(`/api/torrents/${t.infoHash}/files/0`, {
      headers: { range: `bytes=${30 * PIECE}-${31 * PIECE - 1}` },
    });
    assert.equal(readers.length, 2);
    assert.deepEqual(readers[1]!.opened, { firstPiece: 30, endPiece: 31 });
    // Nobody sends the piece: 503 after the wait, and the window is released with the answer.
    assert.equal(second.status, 503);
    await second.body?.cancel();
    assert.equal(readers[1]!.reader.isClosed, true);
  });

  it('a response served in full releases its window at the end', async () => {
    const t = await makeTorrent(
      join(tmp.path, 'downloads'),
      'clip',
      { 'clip.mp4': content(6 * PIECE, 4) },
      PIECE,
    );
    await addTorrent(d, t.bytes);
    const handle = await waitFor('seeding', async () => {
      const h = d.daemon.handle(t.infoHash);
      return h.status().state === 'seeding' && h;
    });
    const readers = spyReaders(handle);
    const res = await d.fetch(`/api/torrents/${t.infoHash}/files/0`, {
      headers: { range: `bytes=${PIECE}-` },
    });
    assert.equal(res.status, 206);
    assert.equal((await res.arrayBuffer()).byteLength, 5 * PIECE);
    assert.equal(readers.length, 1);
    await waitFor('released', async () => readers[0]!.reader.isClosed);
  });
});
