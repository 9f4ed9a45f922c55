/**
 * Micro-benchmark of the peer wire hot path: encoding piece messages (header + block, the way
 * PeerConnection writes them) and decoding a stream of piece messages arriving in socket-sized
 * chunks (64 KiB, frames split across chunk boundaries).
 *   node --import tsx bench/micro/wire.ts [megabytes]
 */
import { FrameDecoder } from '../../src/wire/decoder.js';
import { encodeMessage, encodePieceHeader, MsgId, pieceIndex } from '../../src/wire/messages.js';

export interface WireBenchResult {
  readonly megabytes: number;
  readonly encodeMBps: number;
  readonly decodeMBps: number;
  /** Share of piece payloads decoded as zero-copy views (not assembled). */
  readonly zeroCopyShare: number;
}

const BLOCK = 16 * 1024;
const CHUNK = 64 * 1024;

/** Runs the benchmark over `megabytes` of block data (small for the smoke test). */
export function runWireBench(megabytes = 256): WireBenchResult {
  const blocks = Math.max(1, Math.floor((megabytes * 1024 * 1024) / BLOCK));
  const data = new Uint8Array(BLOCK).fill(0x5a);

  let t = performance.now();
  const header = new Uint8Array(13);
  let sink = 0;
  for (let i = 0; i < blocks; i++) {
    encodePieceHeader(i >>> 4, (i & 15) * BLOCK, BLOCK, header);
    sink += header[4]! + data.length;
  }
  const encodeMs = performance.now() - t;

  // A realistic byte stream: frames back to back, delivered in 64 KiB chunks (not frame-aligned).
  const frame = encodeMessage({ id: MsgId.Piece, piece: pieceIndex(0), offset: 0, data });
  const framesPerChunkRun = 64;
  const run = new Uint8Array(frame.length * framesPerChunkRun);
  for (let i = 0; i < framesPerChunkRun; i++) run.set(frame, i * frame.length);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < run.length; at += CHUNK) chunks.push(run.slice(at, at + CHUNK));

  const chunkBuffers = new Set<ArrayBufferLike>(chunks.map((c) => c.buffer));
  let decoded = 0;
  let views = 0;
  const decoder = new FrameDecoder(
    {
      onMessage: (m) => {
        if (m.id !== MsgId.Piece) return;
        decoded += m.data.length;
        if (chunkBuffers.has(m.data.buffer)) views++;
      },
    },
    { expectHandshake: false },
  );
  t = performance.now();
  const rounds = Math.max(1, Math.ceil(blocks / framesPerChunkRun));
  for (let r = 0; r < rounds; r++) for (const c of chunks) decoder.push(c);
  const decodeMs = performance.now() - t;
  if (sink < 0) throw new Error('unreachable');

  const mb = (blocks * BLOCK) / (1024 * 1024);
  return {
    megabytes: mb,
    encodeMBps: mb / (encodeMs / 1000 || 1e-9),
    decodeMBps: decoded / (1024 * 1024) / (decodeMs / 1000 || 1e-9),
    zeroCopyShare: views / Math.max(1, decoded / BLOCK),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = runWireBench(Number(process.argv[2] ?? 256));
  process.stdout.write(
    `wire: ${r.megabytes.toFixed(0)} MiB  encode ${r.encodeMBps.toFixed(0)} MB/s (header only, block by reference)  ` +
      `decode ${r.decodeMBps.toFixed(0)} MB/s  zero-copy ${(r.zeroCopyShare * 100).toFixed(0)}%\n`,
  );
}
