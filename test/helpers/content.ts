import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { seededRandom } from '../../src/util/random.js';

/** One file of a generated tree: a path relative to the root and its size. */
export interface FileSpec {
  readonly path: string;
  readonly size: number;
}

/**
 * Write deterministic content (seeded PRNG; every file starts with a NUL byte to catch
 * text-versus-bytes bugs, as anacrolix's tests do) under `root`. Returns the specs written.
 */
export function writeTree(root: string, files: readonly FileSpec[], seed = 1): FileSpec[] {
  const rnd = seededRandom(seed);
  for (const f of files) {
    const p = join(root, f.path);
    mkdirSync(dirname(p), { recursive: true });
    const data = rnd.bytes(f.size);
    if (f.size > 0) data[0] = 0;
    writeFileSync(p, data);
  }
  return [...files];
}

/** A multi-file tree with nested folders, unicode names, a zero-length file and sizes around `pieceLength`. */
export function standardTree(pieceLength: number): FileSpec[] {
  return [
    { path: 'a.bin', size: pieceLength - 1 },
    { path: 'empty.txt', size: 0 },
    { path: 'nested/deeper/b.bin', size: pieceLength + 1 },
    { path: 'nested/ünïcødé 名前.dat', size: pieceLength },
    { path: 'z-last.bin', size: 3 * pieceLength + 17 },
  ];
}

/** All regular files under `root` with their bytes, keyed by relative path (for comparing downloads). */
export function readTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

/** Assert-friendly comparison: returns a list of differences (empty when identical). */
export function diffTrees(expectedRoot: string, actualRoot: string, only?: readonly string[]): string[] {
  const expected = readTree(expectedRoot);
  const actual = readTree(actualRoot);
  const diffs: string[] = [];
  for (const [path, data] of expected) {
    if (only && !only.includes(path)) continue;
    const got = actual.get(path);
    if (!got) diffs.push(`missing ${path}`);
    else if (!got.equals(data))
      diffs.push(`content differs: ${path} (${got.length} vs ${data.length} bytes)`);
  }
  return diffs;
}
