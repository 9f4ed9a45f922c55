/**
 * The streaming scenario on real sessions: several slow seeders, one leecher that starts
 * downloading rarest first, and at `seekAtMs` a player seeks to `seekFraction` of the file.
 * With a reader (`TorrentHandle.createReader`) the pieces from the seek point on are deadline
 * pieces; without one, the leecher keeps its rarest-first order. The figure is how many
 * pieces (and how much virtual time) it takes until the piece holding the seek point is
 * verified: the player's first byte.
 */
import type { Session } from '../../src/session/session.js';
import type { PiecePicker } from '../../src/swarm/piece-picker.js';
import { simTorrent } from './fixture.js';
import { SimSwarm } from './sim-swarm.js';

export interface StreamSeekOptions {
  readonly withReader: boolean;
  readonly pieces: number;
  readonly pieceLengthBytes: number;
  readonly seeders: number;
  readonly seederUploadBps: number;
  readonly latencyMs: number;
  readonly seed: number;
  /** Where the player seeks, as a fraction of the file (0.5: the middle). */
  readonly seekFraction: number;
  /** Virtual time of the seek (the leecher has been downloading since 0). */
  readonly seekAtMs: number;
  readonly readaheadPieces: number;
  /** Stop once this many pieces arrived after the seek without the target (default: never). */
  readonly stopAfterPieces?: number;
}

export interface StreamSeekResult {
  /** The piece holding the seek point. */
  readonly targetPiece: number;
  /** The reader's window when it was opened (pieces [first, end)). */
  readonly window: { readonly firstPiece: number; readonly endPiece: number };
  /** Pieces verified after the seek, up to and including the target piece (in order). */
  readonly piecesToFirstByte: readonly number[];
  /** Of those, how many lie in the window. */
  readonly inWindow: number;
  /** Virtual ms from the seek to the target piece verified (Infinity: never, within the limit). */
  readonly firstByteMs: number;
  /** Pieces the leecher had when the seek happened. */
  readonly piecesAtSeek: number;
  /** Pieces with blocks requested from some peer at the seek (already on their way). */
  readonly inFlightAtSeek: readonly number[];
  /** Pieces before the first byte that are neither in the window nor were in flight at the seek. */
  readonly strays: readonly number[];
}

/**
 * The leecher's picker and peers, reached through the session's private slot (a test's view
 * of the engine; nothing public exposes requests in flight).
 */
function engineOf(session: Session, infoHash: string): { picker: PiecePicker; peers: Map<string, unknown> } {
  const slots = (session as unknown as { slots: Map<string, { torrent: unknown }> }).slots;
  const torrent = slots.get(infoHash)?.torrent as { picker: PiecePicker; peers: Map<string, unknown> } | null;
  if (!torrent) throw new Error('the leecher has no running torrent');
  return torrent;
}

export async function runStreamSeek(o: StreamSeekOptions): Promise<StreamSeekResult> {
  const torrent = simTorrent({ pieces: o.pieces, pieceLengthBytes: o.pieceLengthBytes, seed: o.seed });
  const sim = new SimSwarm({ torrent, seed: o.seed, latencyMs: o.latencyMs });
  const size = o.pieces * o.pieceLengthBytes;
  const offset = Math.floor(size * o.seekFraction);
  const targetPiece = Math.floor(offset / o.pieceLengthBytes);
  try {
    const seeders = [];
    for (let i = 0; i < o.seeders; i++)
      seeders.push(await sim.addPeer({ role: 'seeder', uploadBps: o.seederUploadBps }));
    const leecher = await sim.addPeer({ role: 'leecher' });
    await sim.until(Promise.all(seeders.map((s) => sim.start(s))));
    const handle = await sim.until(sim.start(leecher));
    const order: number[] = [];
    let seekedAtMs = -1;
    let piecesAtSeek = 0;
    let window = { firstPiece: 0, endPiece: 0 };
    let inFlightAtSeek: number[] = [];
    handle.on('piece', (piece) => {
      if (seekedAtMs >= 0) order.push(piece);
    });
    sim.at(sim.scheduler.now() + o.seekAtMs, () => {
      seekedAtMs = sim.scheduler.now();
      piecesAtSeek = leecher.pieces.size;
      const engine = engineOf(leecher.session!, torrent.infoHash);
      const inFlight = new Set<number>();
      for (const id of engine.peers.keys())
        for (const b of engine.picker.requestsOf(id)) inFlight.add(b.piece);
      inFlightAtSeek = [...inFlight].sort((a, b) => a - b);
      if (!o.withReader) return;
      const reader = handle.createReader(0, {
        offsetBytes: offset,
        readaheadBytes: o.readaheadPieces * o.pieceLengthBytes,
      });
      window = reader.window;
    });
    const limitMs = sim.scheduler.now() + 3_600_000;
    const stopAfter = o.stopAfterPieces ?? Number.POSITIVE_INFINITY;
    await sim.drive(
      () => seekedAtMs >= 0 && (leecher.pieces.has(targetPiece) || order.length >= stopAfter),
      limitMs,
    );
    const at = order.indexOf(targetPiece);
    const piecesToFirstByte = at === -1 ? order : order.slice(0, at + 1);
    const isInWindow = (p: number) => p >= window.firstPiece && p < window.endPiece;
    const inWindow = piecesToFirstByte.filter(isInWindow).length;
    const strays = piecesToFirstByte.filter((p) => !isInWindow(p) && !inFlightAtSeek.includes(p));
    return {
      targetPiece,
      window,
      piecesToFirstByte,
      inWindow,
      firstByteMs:
        at === -1 && !leecher.pieces.has(targetPiece)
          ? Number.POSITIVE_INFINITY
          : sim.scheduler.now() - seekedAtMs,
      piecesAtSeek,
      inFlightAtSeek,
      strays,
    };
  } finally {
    await sim.close();
  }
}
