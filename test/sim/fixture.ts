/**
 * Deterministic test content and a v1 torrent for it, fast enough for hundreds of MiB.
 */
import { createHash } from 'node:crypto';
import { encode } from '../../src/bencode/index.js';
import { parseMetainfo } from '../../src/metainfo/index.js';
import type { Metainfo } from '../../src/metainfo/types.js';

export interface SimTorrent {
  readonly content: Uint8Array;
  readonly torrent: Uint8Array;
  readonly metainfo: Metainfo;
  /** Hex v1 info-hash. */
  readonly infoHash: string;
}

/** `lengthBytes` of seeded pseudo-random bytes (xorshift32 per word), with a NUL byte at 1. */
export function simContent(lengthBytes: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(lengthBytes / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  const out = new Uint8Array(words.buffer, 0, lengthBytes);
  if (lengthBytes > 1) out[1] = 0;
  return out;
}

/**
 * A v1 torrent of `pieces` pieces: one file, or `files` equal files whose long names make a
 * large info dictionary (several BEP 9 metadata pieces) without much data.
 */
export function simTorrent(o: {
  readonly pieces: number;
  readonly pieceLengthBytes: number;
  readonly seed: number;
  readonly name?: string;
  readonly files?: number;
}): SimTorrent {
  const length = o.pieces * o.pieceLengthBytes;
  const content = simContent(length, o.seed);
  const hashes = new Uint8Array(o.pieces * 20);
  for (let p = 0; p < o.pieces; p++) {
    const piece = content.subarray(p * o.pieceLengthBytes, (p + 1) * o.pieceLengthBytes);
    hashes.set(createHash('sha1').update(piece).digest(), p * 20);
  }
  const name = o.name ?? 'sim.bin';
  const fileCount = o.files ?? 1;
  const layout =
    fileCount === 1
      ? { length }
      : {
          files: Array.from({ length: fileCount }, (_, i) => ({
            length:
              i < fileCount - 1
                ? Math.floor(length / fileCount)
                : length - Math.floor(length / fileCount) * (fileCount - 1),
            path: [
              `folder-with-a-rather-long-name-${'x'.repeat(100)}`,
              `file-${String(i).padStart(5, '0')}.bin`,
            ],
          })),
        };
  const torrent = encode({ info: { ...layout, name, 'piece length': o.pieceLengthBytes, pieces: hashes } });
  const metainfo = parseMetainfo(torrent);
  return { content, torrent, metainfo, infoHash: Buffer.from(metainfo.infoHash!).toString('hex') };
}
