/**
 * The web UI in a real browser (Debian's chromium, headless, through playwright-core), against a
 * daemon in this process: sign in with the one-time login link, add a torrent that libtorrent
 * seeds on loopback and watch the list reach 100%, share a folder and get its magnet link and
 * QR code, play a file through the range-stream route, and check the CSP header and that the
 * page logged no error. Screenshots land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { content, type InProcess, makeTorrent } from '../daemon-helpers.js';
import { type RunningClient, startLibtorrent } from '../helpers/clients/index.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';
import { launchBrowser, type SignedInPage, signedInPage, startDaemon } from './browser.js';

/** A 1-second 8 kHz mono 16-bit WAV (a tone): small, and every browser decodes it. */
function wav(seconds: number, rate = 8000): Uint8Array {
  const samples = seconds * rate;
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++)
    out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return new Uint8Array(out);
}

describe('web UI in chromium', { skip: skipUnless('chromium', 'libtorrent'), timeout: 80_000 }, () => {
  const tmp = tempDir('peerdrop-e2e-');
  let browser: Browser;
  let d: InProcess;
  let ui: SignedInPage;
  const seeders: RunningClient[] = [];

  before(async () => {
    [browser, d] = await Promise.all([launchBrowser(), startDaemon(tmp.path)]);
    ui = await signedInPage(browser, d);
  });
  after(async () => {
    await ui?.close().catch(() => {});
    await browser?.close().catch(() => {});
    for (const s of seeders) await s.stop();
    await d?.close();
    tmp.cleanup();
  });

  it('serves the page with the strict CSP and signs in through the login link', async () => {
    const res = await d.fetch('/');
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /<style|style=/, 'no inline style');
    // Signed in: the empty list says what to do next.
    await ui.page.getByText('Nothing here yet').waitFor();
    await ui.screenshot('01-empty-list');
    const cookies = await ui.context.cookies();
    const session = cookies.find((c) => c.name === 'peerdrop_session');
    assert.ok(session?.httpOnly, 'the login cookie is HttpOnly');
    assert.equal(session?.sameSite, 'Strict');
  });

  it('adds a magnet link that libtorrent seeds on loopback and shows it reach 100%', async () => {
    const seedDir = join(tmp.path, 'seed');
    const album = { 'one.bin': content(1_500_000, 3), 'two.bin': content(700_000, 4) };
    const t = await makeTorrent(seedDir, 'album', album, 32_768);
    const torrentPath = join(tmp.path, 'album.torrent');
    writeFileSync(torrentPath, t.bytes);
    const seeder = await startLibtorrent({ mode: 'seed', torrentPath, dir: seedDir, maxSeconds: 80 });
    seeders.push(seeder);
    await seeder.waitFor(/SEEDING/, 20_000);

    const { page } = ui;
    await page.getByRole('link', { name: 'Add', exact: true }).click();
    await page.locator('#magnet').fill(`${t.magnet}&x.pe=127.0.0.1:${seeder.port}`);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    // The page goes to the new torrent; back to the list to watch it there.
    await page.waitForURL(new RegExp(`#/t/${t.infoHash}`));
    await page.locator('.back').click();
    const row = page.locator(`li.row[data-infohash="${t.infoHash}"]`);
    await row.waitFor();
    await row.locator('[data-testid="progress"]').filter({ hasText: '100%' }).waitFor({ timeout: 40_000 });
    await row.and(page.locator('[data-state="seeding"]')).waitFor({ timeout: 10_000 });
    assert.equal(await row.locator('.row-name').textContent(), 'album');
    await ui.screenshot('02-downloaded');
    const dl = join(tmp.path, 'downloads', 'album');
    assert.deepEqual(new Uint8Array(readFileSync(join(dl, 'one.bin'))), album['one.bin']);
    assert.deepEqual(new Uint8Array(readFileSync(join(dl, 'two.bin'))), album['two.bin']);

    // Its detail page: files with priorities, and the diagnosis says it is complete.
    await row.locator('.row-name').click();
    await page.locator('.files li').nth(1).waitFor();
    assert.equal(await page.locator('.files li').count(), 2);
    await page.getByRole('link', { name: 'Why not downloading?' }).click();
    await page.locator('#diagnosis .reason[data-code="COMPLETE"]').waitFor();
  });

  it('shares a folder from the page: sensitive files are flagged, then a magnet link and a QR code', async () => {
    const folder = join(tmp.path, 'downloads', 'holiday');
    mkdirSync(folder, { recursive: true });
    const tone = wav(1);
    writeFileSync(join(folder, 'tone.wav'), tone);
    writeFileSync(join(folder, 'notes.txt'), 'see you\n');
    writeFileSync(join(folder, '.env'), 'API_KEY=secret\n');
    const { page } = ui;
    await page.getByRole('link', { name: 'Share', exact: true }).click();
    await page.locator('button[data-pick="holiday"]').click();
    // The scan found .env: the page lists it and asks before sharing.
    const caution = page.locator('#share-findings');
    await caution.waitFor();
    assert.match((await caution.textContent()) ?? '', /\.env/);
    await ui.screenshot('03-share-sensitive');
    // Without the .env the share goes through, with a magnet link and a QR code.
    await page.getByRole('button', { name: 'Cancel' }).click();
    const { rmSync } = await import('node:fs');
    rmSync(join(folder, '.env'));
    await page.locator('button[data-pick="holiday"]').click();
    const result = page.locator('#share-result');
    await result.waitFor();
    const magnet = await page.locator('#share-magnet').inputValue();
    assert.match(magnet, /^magnet:\?xt=urn:btih:[0-9a-f]{40}/);
    const qr = page.locator('img#qr');
    await qr.waitFor();
    const src = (await qr.getAttribute('src')) ?? '';
    assert.match(src, /^data:image\/svg\+xml/);
    assert.ok(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0));
    await ui.screenshot('04-shared');
    const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!;
    const view = await (await d.fetch(`/api/torrents/${infoHash}`)).json();
    assert.equal((view as { name: string }).name, 'holiday');

    // Stream: the page fetches a range of the shared file and plays it in an <audio> element.
    await page.locator('a', { hasText: 'Open the torrent' }).click();
    await page.locator('.badge-seeding').first().waitFor({ timeout: 15_000 });
    const files = (await (await d.fetch(`/api/torrents/${infoHash}/files`)).json()) as {
      files: { index: number; path: string }[];
    };
    const index = files.files.find((f) => f.path.endsWith('tone.wav'))!.index;
    const ranged = (await page.evaluate(`(async () => {
      const r = await fetch('/api/torrents/${infoHash}/files/${index}', { headers: { Range: 'bytes=40-8039' } });
      return { status: r.status, range: r.headers.get('content-range'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) };
    })()`)) as { status: number; range: string; bytes: number[] };
    assert.equal(ranged.status, 206);
    assert.equal(ranged.range, `bytes 40-8039/${tone.length}`);
    assert.deepEqual(ranged.bytes, Array.from(tone.subarray(40, 8040)));
    await page.locator('.files li', { hasText: 'tone.wav' }).getByRole('button', { name: 'Play' }).click();
    const audio = page.locator('audio#player');
    await audio.waitFor();
    await page.waitForFunction(
      `(() => { const a = document.querySelector('audio#player'); return a && a.readyState >= 1 && Math.abs(a.duration - 1) < 0.05; })()`,
    );
    await ui.screenshot('05-playing');
  });

  it('works at phone width and in the dark theme, and logged no console error', async () => {
    const phone = await signedInPage(browser, d, { width: 390, height: 800 });
    try {
      await phone.page.locator('li.row').first().waitFor();
      const overflow = (await phone.page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      )) as number;
      assert.ok(overflow <= 1, `no sideways scrolling at 390 px (overflow ${overflow} px)`);
      await phone.page.locator('#theme-toggle').click();
      const theme = await phone.page.evaluate('document.documentElement.dataset.theme');
      assert.ok(theme === 'dark' || theme === 'light');
      await phone.screenshot('06-phone-toggled-theme');
      // Keyboard: "/" focuses the filter box.
      await phone.page.locator('body').press('/');
      assert.equal(
        await phone.page.evaluate('document.activeElement && document.activeElement.id'),
        'filter-text',
      );
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.close();
    }
    assert.deepEqual(ui.problems, []);
  });
});
