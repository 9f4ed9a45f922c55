/**
 * Runs any benchmark by name: `npm run bench -- <name> [args]`, e.g.
 *   npm run bench -- swarm-sim --json
 *   npm run bench -- wire 64
 * A benchmark is a file in bench/micro or bench/versus that runs when executed directly (it
 * checks `process.argv[1]`); its name is the file name without `.ts` (`micro/wire` also works).
 * Without a name, or with an unknown one, the benchmarks are listed with their descriptions.
 * Each runs in its own process (`node --import tsx <file> [args]`), so it sees its arguments
 * exactly as when started by hand and one benchmark's state never leaks into another's.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const GROUPS = ['micro', 'versus', 'index'] as const;

interface Bench {
  readonly name: string;
  readonly group: string;
  readonly file: string;
  readonly summary: string;
}

/** Benchmarks found on disk, by group then name. */
export function listBenchmarks(): Bench[] {
  const out: Bench[] = [];
  for (const group of GROUPS) {
    let names: string[];
    try {
      names = readdirSync(join(BENCH_DIR, group));
    } catch {
      continue;
    }
    for (const f of names.sort()) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      const file = join(BENCH_DIR, group, f);
      const text = readFileSync(file, 'utf8');
      if (!text.includes('process.argv[1]')) continue; // a helper module, not a benchmark
      out.push({ name: f.slice(0, -3), group, file, summary: summaryOf(text) });
    }
  }
  return out;
}

/** The first sentence of the file's leading doc comment. */
function summaryOf(text: string): string {
  const m = /^\s*\/\*\*([\s\S]*?)\*\//.exec(text);
  if (!m) return '';
  const prose = m[1]!
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .filter((l) => l.length > 0 && !l.startsWith('node ') && !l.startsWith('npm '))
    .join(' ');
  const end = prose.search(/[.:](\s|$)/);
  return (end >= 0 ? prose.slice(0, end) : prose).slice(0, 110);
}

export function findBenchmark(name: string, benches = listBenchmarks()): Bench | undefined {
  const bare = name.replace(/\.ts$/, '');
  return benches.find((b) => b.name === bare || `${b.group}/${b.name}` === bare);
}

function printList(benches: readonly Bench[], out: NodeJS.WriteStream): void {
  out.write('usage: npm run bench -- <name> [args]\n\nbenchmarks:\n');
  const width = Math.max(...benches.map((b) => `${b.group}/${b.name}`.length));
  for (const b of benches) out.write(`  ${`${b.group}/${b.name}`.padEnd(width)}  ${b.summary}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [name, ...args] = process.argv.slice(2);
  const benches = listBenchmarks();
  if (name === undefined || name === '--help' || name === '-h' || name === 'list') {
    printList(benches, process.stdout);
    process.exit(0);
  }
  const bench = findBenchmark(name, benches);
  if (!bench) {
    process.stderr.write(`unknown benchmark ${JSON.stringify(name)}\n\n`);
    printList(benches, process.stderr);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', bench.file, ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
