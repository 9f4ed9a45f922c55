/**
 * Web UI time to first render in Chromium: from the start of navigation (the login link, with
 * its redirect to the page) to the shell on screen, to the first contentful paint, and to the
 * torrent list drawn from the first Server-Sent Event, with 0 and with N torrents loaded.
 *   npm run bench -- ui-first-render [count=1000] [--runs 5] [--json]
 * Target (issue 12): first render < 1 s. Each run is a fresh browser context (no cache).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { encode } from '../../src/bencode/index.js';
import { type InProcess, startInProcess } from '../../test/daemon-helpers.js';
import { assertUiBuilt, launchBrowser } from '../../test/e2e/browser.js';
import { tempDir } from '../../test/helpers/tmp.js';

export interface RenderTimes {
  readonly shellMs: number;
  readonly firstPaintMs: number;
  readonly listMs: number;
}

export interface UiRenderResult {
  readonly torrents: number;
  readonly runs: number;
  /** Medians and worst over the runs, with no torrents and with `torrents` loaded. */
  readonly empty: { readonly median: RenderTimes; readonly max: RenderTimes };
  readonly loaded: { readonly median: RenderTimes; readonly max: RenderTimes };
}

/** N paused single-file torrents (4 KiB of data each, present), added over the API. */
async function addTorrents(d: InProcess, root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const dir = join(root, 'downloads', `t${i}`);
    mkdirSync(dir, { recursive: true });
    const data = Buffer.alloc(4096, i & 0xff);
    data.writeUInt32BE(i, 0);
    writeFileSync(join(dir, `file-${i}.bin`), data);
    const bytes = encode({
      info: {
        length: data.length,
        name: `file-${i}.bin`,
        'piece length': 16384,
        pieces: new Uint8Array(createHash('sha1').update(data).digest()),
      },
    });
    const res = await d.fetch('/api/torrents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        torrent: Buffer.from(bytes).toString('base64'),
        downloadDir: `t${i}`,
        paused: true,
      }),
    });
    if (res.status !== 201) throw new Error(`add failed: ${res.status} ${await res.text()}`);
  }
}

async function oneRun(browser: Browser, d: InProcess): Promise<RenderTimes> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    const page = await context.newPage();
    await page.goto(d.http.loginUrl());
    await page.waitForFunction(`performance.getEntriesByName('peerdrop-list-rendered').length > 0`, null, {
      timeout: 30_000,
    });
    return (await page.evaluate(`(() => {
      const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
      return { shellMs: at('peerdrop-first-render'), firstPaintMs: at('first-contentful-paint'), listMs: at('peerdrop-list-rendered') };
    })()`)) as RenderTimes;
  } finally {
    await context.close();
  }
}

function summarize(runs: readonly RenderTimes[]): { median: RenderTimes; max: RenderTimes } {
  const pick = (key: keyof RenderTimes, f: (xs: number[]) => number) => f(runs.map((r) => r[key]));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const max = (xs: number[]) => Math.max(...xs);
  const of = (f: (xs: number[]) => number): RenderTimes => ({
    shellMs: pick('shellMs', f),
    firstPaintMs: pick('firstPaintMs', f),
    listMs: pick('listMs', f),
  });
  return { median: of(median), max: of(max) };
}

export async function benchUiFirstRender(options: {
  torrents: number;
  runs: number;
}): Promise<UiRenderResult> {
  assertUiBuilt();
  const tmp = tempDir('peerdrop-bench-ui-');
  const [browser, d] = await Promise.all([launchBrowser(), startInProcess(tmp.path)]);
  try {
    // One warm-up load: the first Chromium page pays for its own start-up, not the UI's.
    await oneRun(browser, d);
    const empty: RenderTimes[] = [];
    for (let i = 0; i < options.runs; i++) empty.push(await oneRun(browser, d));
    await addTorrents(d, tmp.path, options.torrents);
    const loaded: RenderTimes[] = [];
    for (let i = 0; i < options.runs; i++) loaded.push(await oneRun(browser, d));
    return {
      torrents: options.torrents,
      runs: options.runs,
      empty: summarize(empty),
      loaded: summarize(loaded),
    };
  } finally {
    await browser.close();
    await d.close();
    tmp.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  const count = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--runs') ?? 1000);
  const r = await benchUiFirstRender({ torrents: count, runs });
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const row = (label: string, t: RenderTimes, m: RenderTimes) =>
      `  ${label.padEnd(22)} shell ${t.shellMs.toFixed(0).padStart(5)} ms (max ${m.shellMs.toFixed(0)})   ` +
      `first paint ${t.firstPaintMs.toFixed(0).padStart(5)} ms (max ${m.firstPaintMs.toFixed(0)})   ` +
      `list ${t.listMs.toFixed(0).padStart(5)} ms (max ${m.listMs.toFixed(0)})\n`;
    process.stdout.write(
      `web UI first render in Chromium, median of ${r.runs} fresh contexts (target < 1 s)\n` +
        row('no torrents', r.empty.median, r.empty.max) +
        row(`${r.torrents} torrents`, r.loaded.median, r.loaded.max),
    );
  }
}
