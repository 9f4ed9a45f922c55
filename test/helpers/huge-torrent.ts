import { createHash } from 'node:crypto';

/**
 * A v1 torrent with `fileCount` files, written straight as bencode text (building it through
 * `encode` would itself take longer than the parse under test). Files are `dir<k>/f<i>.bin` in
 * folders of 1,000, each `lengthBytes` long, pieces of 16 KiB; piece hashes are not real (the
 * parser checks their count, never their value). Deterministic: same arguments, same bytes.
 */
export function hugeTorrent(fileCount: number, options: { lengthBytes?: number } = {}): Uint8Array {
  const length = options.lengthBytes ?? 1;
  const pieceLength = 16 * 1024;
  const chunks: Buffer[] = [];
  let batch = '';
  for (let i = 0; i < fileCount; i++) {
    const dir = `dir${Math.floor(i / 1000)}`;
    const file = `f${i}.bin`;
    batch += `d6:lengthi${length}e4:pathl${dir.length}:${dir}${file.length}:${file}ee`;
    if (batch.length > 1 << 20) {
      chunks.push(Buffer.from(batch, 'latin1'));
      batch = '';
    }
  }
  chunks.push(Buffer.from(batch, 'latin1'));
  const pieces = Math.ceil((fileCount * length) / pieceLength);
  const hashes = Buffer.alloc(pieces * 20);
  for (let p = 0; p < pieces; p++)
    createHash('sha1')
      .update(String(p))
      .digest()
      .copy(hashes, p * 20);
  const head = `d8:announce31:http://tracker.example/announce4:infod5:filesl`;
  const tail = `e4:name4:huge12:piece lengthi${pieceLength}e6:pieces${hashes.length}:`;
  return new Uint8Array(
    Buffer.concat([
      Buffer.from(head, 'latin1'),
      ...chunks,
      Buffer.from(tail, 'latin1'),
      hashes,
      Buffer.from('ee'),
    ]),
  );
}
