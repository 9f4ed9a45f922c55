import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PARSE = fileURLToPath(new URL('./parse.ts', import.meta.url));

/**
 * The crafted torrent of issue 15: 34 MB holding 17,000,000 empty strings in `info.files`
 * (within the byte and value limits) used to reach ~2.1 GB of heap before it was refused.
 * It runs in a child with a 256 MB heap: a decoder that builds the values dies of OOM there;
 * the decoder's pre-scan refuses it before building any, with a stable code.
 */
const CHILD = `
import { parseMetainfo } from ${JSON.stringify(PARSE)};
const n = 17_000_000;
const head = Buffer.from('d4:infod5:filesl');
const tail = Buffer.from('e4:name1:a12:piece lengthi16384e6:pieces20:' + 'x'.repeat(20) + 'ee');
const input = Buffer.allocUnsafe(head.length + 2 * n + tail.length);
head.copy(input, 0);
for (let i = 0, at = head.length; i < n; i++, at += 2) { input[at] = 0x30; input[at + 1] = 0x3a; }
tail.copy(input, head.length + 2 * n);
const rssBefore = process.memoryUsage().rss;
let code = 'accepted';
try { parseMetainfo(new Uint8Array(input.buffer, input.byteOffset, input.length)); } catch (err) { code = err.code ?? String(err); }
const grew = process.memoryUsage().rss - rssBefore;
process.stdout.write(JSON.stringify({ bytes: input.length, code, grewMiB: Math.round(grew / 2 ** 20) }) + '\\n');
`;

test('a 34 MB torrent of 17,000,000 empty strings is refused before its values are built (256 MB heap)', {
  timeout: 60_000,
}, () => {
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=256', '--import', 'tsx', '--input-type=module', '-e', CHILD],
    { encoding: 'utf8', timeout: 55_000 },
  );
  assert.equal(r.status, 0, `child failed (OOM?): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    bytes: number;
    code: string;
    grewMiB: number;
  };
  assert.ok(out.bytes > 34_000_000);
  assert.match(out.code, /TOO_MANY_ITEMS|TOO_MANY_VALUES|BENCODE/);
  assert.ok(out.grewMiB < 64, `refusal grew RSS by ${out.grewMiB} MiB`);
});
