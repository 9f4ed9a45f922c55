/**
 * The web page's Send & receive screen (issue 14) and the add and settings paths not covered by
 * web-ui.test.ts, in Debian's chromium against one daemon in this process: send a folder from
 * the page and receive it with the real CLI (`peerdrop receive <code> --yes`); receive in the
 * page from a library sender, with nothing written before Accept; a wrong code shows a clear
 * error; a `.torrent` added through the file input and by drag-and-drop; global limits changed
 * from the settings page reach the engine at once. Rendezvous is LAN multicast on loopback
 * (`PEERDROP_LSD_INTERFACES=lo`), so nothing leaves this host. Screenshots land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type HandoffCode, makeCode, parseCode, startSend, WORDS } from '../../src/handoff/index.js';
import { content, type InProcess, makeTorrent, waitFor } from '../daemon-helpers.js';
import { runCli } from '../helpers/cli.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';
import { launchBrowser, type SignedInPage, signedInPage, startDaemon } from './browser.js';

const LAN = { interfaces: ['lo'], loopback: true } as const;
const freshCode = (): HandoffCode => makeCode((n) => new Uint8Array(randomBytes(n)));

describe('web UI: send & receive, uploads, settings (chromium)', {
  skip: skipUnless('chromium'),
  timeout: 90_000,
}, () => {
  const tmp = tempDir('peerdrop-e2e-handoff-');
  const downloads = join(tmp.path, 'downloads');
  const env = { lan: process.env.PEERDROP_LSD_INTERFACES, dht: process.env.PEERDROP_DHT_BOOTSTRAP };
  let browser: Browser;
  let d: InProcess;
  let ui: SignedInPage;

  before(async () => {
    // Read when the routes are registered: the daemon's handoff multicasts on loopback only.
    process.env.PEERDROP_LSD_INTERFACES = 'lo';
    process.env.PEERDROP_DHT_BOOTSTRAP = '';
    [browser, d] = await Promise.all([launchBrowser(), startDaemon(tmp.path)]);
    ui = await signedInPage(browser, d);
  });
  after(async () => {
    await ui?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await d?.close();
    for (const [key, value] of [
      ['PEERDROP_LSD_INTERFACES', env.lan],
      ['PEERDROP_DHT_BOOTSTRAP', env.dht],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    tmp.cleanup();
  });

  it('the routes refuse paths outside the download folder (symlinks too), bad codes and answers without an offer', async () => {
    const { symlinkSync } = await import('node:fs');
    mkdirSync(join(downloads, 'box'), { recursive: true });
    writeFileSync(join(tmp.path, 'private.txt'), 'outside');
    symlinkSync(join(tmp.path, 'private.txt'), join(downloads, 'box', 'link.txt'));
    const post = (path: string, body: unknown) =>
      d.fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = async (res: Response, status: number, code: string) => {
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { code: string }).code, code);
    };
    await refused(await post('/api/send', { paths: ['box/link.txt'] }), 400, 'DAEMON_PATH_OUTSIDE');
    await refused(await post('/api/send', { paths: ['../private.txt'] }), 400, 'DAEMON_PATH_OUTSIDE');
    await refused(
      await post('/api/send', { paths: [join(tmp.path, 'private.txt')] }),
      400,
      'DAEMON_PATH_OUTSIDE',
    );
    await refused(await post('/api/send', { paths: ['box', 'box'] }), 400, 'SEND_ONE_PATH');
    await refused(await post('/api/send', { paths: [] }), 400, 'BAD_REQUEST');
    await refused(await post('/api/receive', { code: '7-guitar-notaword' }), 400, 'HANDOFF_BAD_CODE');
    await refused(await post('/api/receive/0123456789abcdef/accept', {}), 404, 'HANDOFF_NO_JOB');
    await refused(await d.fetch('/api/send/0123456789abcdef'), 404, 'HANDOFF_NO_JOB');
  });

  it('sends a folder from the page (private file confirmed) and the real CLI receives it byte-identical', async () => {
    const folder = join(downloads, 'trip');
    mkdirSync(join(folder, 'day 1'), { recursive: true });
    const files: Record<string, Uint8Array> = {
      'photo.bin': content(400_000, 7),
      'day 1/notes.txt': new TextEncoder().encode('hello\n'),
      '.env': new TextEncoder().encode('TOKEN=not-really\n'),
    };
    for (const [rel, data] of Object.entries(files)) writeFileSync(join(folder, rel), data);
    const { page } = ui;
    await page.getByRole('link', { name: 'Send & receive' }).click();
    await page.locator('button[data-pick="trip"]').click();
    // The scan found .env: listed, and nothing is sent until confirmed.
    const caution = page.locator('#send-findings');
    await caution.waitFor();
    assert.match((await caution.textContent()) ?? '', /\.env/);
    await caution.getByRole('checkbox').check();
    await caution.getByRole('button', { name: 'Send anyway' }).click();
    const codeText = (await page.locator('#send-code').textContent())?.trim() ?? '';
    assert.doesNotThrow(() => parseCode(codeText), `a code: ${codeText}`);
    const qr = page.locator('#send-result img#qr');
    await qr.waitFor();
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
    await ui.screenshot('11-send-code');

    const out = join(tmp.path, 'cli-out');
    const r = await runCli(
      ['receive', codeText, '--yes', '--dir', out, '--lan-interface', 'lo', '--no-dht', '--timeout', '20'],
      { timeoutMs: 40_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    for (const [rel, data] of Object.entries(files))
      assert.deepEqual(new Uint8Array(readFileSync(join(out, 'trip', rel))), data, rel);
    await page.locator('#send-result[data-state="done"]').waitFor({ timeout: 10_000 });
    await page.locator('#send-state', { hasText: 'Done' }).waitFor();
    const sent = (await (await d.fetch('/api/send')).json()) as {
      sends: { state: string; uploadedBytes: number }[];
    };
    assert.equal(sent.sends[0]?.state, 'done');
    assert.ok((sent.sends[0]?.uploadedBytes ?? 0) >= 400_000, 'the send counts what went out');
    await ui.screenshot('12-send-done');
  });

  it('receives in the page from a library sender: the offer first, nothing written when declined or before Accept', async () => {
    const src = join(tmp.path, 'outside', 'Mixtape');
    mkdirSync(src, { recursive: true });
    const data = { 'a.bin': content(300_000, 9), 'clip.mp4.exe': content(2_000, 10) };
    for (const [rel, bytes] of Object.entries(data)) writeFileSync(join(src, rel), bytes);
    const code = freshCode();
    const sender = await startSend({
      path: src,
      code,
      host: '127.0.0.1',
      lan: LAN,
      stateDir: join(tmp.path, 'send-state'),
    });
    try {
      const { page } = ui;
      // Declined first: nothing written, and the sender keeps waiting for the real answer.
      await page.locator('#receive-code').fill(code.text);
      await page.locator('#receive-code').press('Enter');
      await page.locator('#receive-decline').click();
      await page.locator('#receive-result[data-state="declined"]').waitFor();
      assert.equal(existsSync(join(downloads, 'Mixtape')), false, 'nothing written when declined');
      // Typed as people do: any case, spaces for dashes.
      await page.locator('#receive-code').fill(code.text.toUpperCase().replaceAll('-', ' '));
      await page.locator('#receive-code').press('Enter');
      const offer = page.locator('#receive-offer');
      await offer.waitFor();
      const text = (await offer.textContent()) ?? '';
      assert.match(text, /Mixtape/);
      assert.match(text, /2 files/);
      // A program named like a video is flagged before anything arrives.
      assert.match((await page.locator('#offer-warnings').textContent()) ?? '', /clip\.mp4\.exe/);
      assert.equal(existsSync(join(downloads, 'Mixtape')), false, 'nothing written before Accept');
      await ui.screenshot('13-receive-offer');
      await page.locator('#receive-accept').click();
      const done = page.locator('#receive-done');
      await done.waitFor({ timeout: 20_000 });
      assert.match((await done.textContent()) ?? '', /Mixtape/);
      for (const [rel, bytes] of Object.entries(data))
        assert.deepEqual(new Uint8Array(readFileSync(join(downloads, 'Mixtape', rel))), bytes, rel);
      await sender.done;
      await ui.screenshot('14-receive-done');
    } finally {
      await sender.close();
    }
  });

  it('a wrong code shows a clear error and writes nothing', async () => {
    writeFileSync(join(tmp.path, 'outside', 'secret.txt'), 'MARKER');
    const code = freshCode();
    const sender = await startSend({
      path: join(tmp.path, 'outside', 'secret.txt'),
      code,
      host: '127.0.0.1',
      lan: LAN,
      stateDir: join(tmp.path, 'send-state'),
    });
    try {
      const otherWord = WORDS.find((w) => w !== code.words[1])!;
      const { page } = ui;
      await page.locator('#receive-code').fill(`${code.nameplate}-${code.words[0]}-${otherWord}`);
      await page.getByRole('button', { name: 'Receive', exact: true }).click();
      const error = page.locator('#receive-error');
      await error.waitFor({ timeout: 15_000 });
      assert.match((await error.textContent()) ?? '', /code did not match/);
      await assert.rejects(sender.done, { code: 'HANDOFF_CODE_MISMATCH' });
      assert.equal(existsSync(join(downloads, 'secret.txt')), false);
      await ui.screenshot('15-receive-wrong-code');
    } finally {
      await sender.close();
    }
  });

  it('adds a .torrent through the file input and another by drag-and-drop', async () => {
    const seed = join(tmp.path, 'seed');
    const picked = await makeTorrent(seed, 'picked', { 'p.bin': content(40_000, 11) });
    const dropped = await makeTorrent(seed, 'dropped', { 'q.bin': content(40_000, 12) });
    const pickedPath = join(tmp.path, 'picked.torrent');
    writeFileSync(pickedPath, picked.bytes);
    const { page } = ui;
    await page.getByRole('link', { name: 'Add', exact: true }).click();
    await page.locator('#torrent-file').setInputFiles(pickedPath);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.waitForURL(new RegExp(`#/t/${picked.infoHash}`));
    const view = (await (await d.fetch(`/api/torrents/${picked.infoHash}`)).json()) as { name: string };
    assert.equal(view.name, 'picked');

    // Drop a file on the page, as a file manager would: the overlay shows while dragging.
    // (Scripts as text: the tests are typechecked without the DOM library.)
    const b64 = Buffer.from(dropped.bytes).toString('base64');
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob('${b64}'), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.torrent', { type: 'application/x-bittorrent' }));
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
      window.dropped = dt;
    })()`);
    await page.locator('.drop-overlay').waitFor();
    await page.evaluate(
      `document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: window.dropped, bubbles: true, cancelable: true }))`,
    );
    await page.locator('.toast', { hasText: 'Added dropped' }).waitFor();
    assert.equal(await page.locator('.drop-overlay').count(), 0);
    await waitFor('the dropped torrent', async () => (await d.fetch(`/api/torrents/${dropped.infoHash}`)).ok);
  });

  it('changes the global limits from the settings page and the engine applies them at once', async () => {
    const applied: { downloadBps: number; uploadBps: number }[] = [];
    const session = d.daemon.session;
    const original = session.setGlobalLimits.bind(session);
    session.setGlobalLimits = (limits) => {
      applied.push({ ...limits });
      original(limits);
    };
    try {
      const { page } = ui;
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.locator('#limit-down').fill('512');
      await page.locator('#limit-up').fill('64');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('.toast', { hasText: 'Settings saved' }).waitFor();
      const settings = (await (await d.fetch('/api/settings')).json()) as Record<string, unknown>;
      assert.equal(settings.globalDownloadBps, 512 * 1024);
      assert.equal(settings.globalUploadBps, 64 * 1024);
      const last = applied.at(-1);
      assert.deepEqual([last?.downloadBps, last?.uploadBps], [512 * 1024, 64 * 1024]);
      // A reload shows what is stored.
      await page.reload();
      await page.locator('#limit-down').waitFor();
      await page.waitForFunction(`document.querySelector('#limit-down').value === '512'`);
    } finally {
      session.setGlobalLimits = original;
    }
  });

  it('fits a phone in the dark theme and logged no console error', async () => {
    const phone = await signedInPage(browser, d, { width: 390, height: 800 });
    try {
      await phone.page.goto(`${d.base}/#/send`);
      await phone.page.locator('#receive-code').waitFor();
      await phone.page.locator('#theme-toggle').click();
      const overflow = (await phone.page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      )) as number;
      assert.ok(overflow <= 1, `no sideways scrolling at 390 px (overflow ${overflow} px)`);
      // Keyboard: "/" goes to the code box.
      await phone.page.locator('body').press('/');
      assert.equal(
        await phone.page.evaluate('document.activeElement && document.activeElement.id'),
        'receive-code',
      );
      await phone.screenshot('16-send-receive-phone');
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.close();
    }
    assert.deepEqual(ui.problems, []);
  });
});
