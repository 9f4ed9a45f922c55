/**
 * The browser side of the e2e tests: Debian's chromium driven by playwright-core (headless), a
 * daemon in this process with the built web page, a signed-in page (through the one-time login
 * link, as a person would), and every console error, page error and CSP report collected so a
 * test can assert there were none. Screenshots go to test-artifacts/ (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { UI_DIR } from '../../src/daemon/web.js';
import { type InProcess, startInProcess } from '../daemon-helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** The page must be built (npm test builds it); a test run without it fails with the reason. */
export function assertUiBuilt(): void {
  if (!existsSync(join(UI_DIR, 'app.js')))
    throw new Error(`the web UI is not built (${UI_DIR}): run node scripts/build-ui.mjs`);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface SignedInPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, uncaught page errors and failed requests, as text. */
  readonly problems: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function signedInPage(
  browser: Browser,
  d: InProcess,
  viewport = { width: 1280, height: 860 },
): Promise<SignedInPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: false });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The share and send routes refuse a folder with private files (422) until the user confirms: the
    // page expects that answer, but Chromium logs every 4xx as a failed resource.
    if (/status of 422/.test(m.text()) && /\/api\/(share|send)$/.test(m.location().url)) return;
    problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A video element drops its range request when it has enough, and a reload or navigation
    // ends the event stream: neither is a fault.
    const isAborted = r.failure()?.errorText === 'net::ERR_ABORTED';
    if (!r.url().includes('/files/') && !(isAborted && r.url().endsWith('/api/events')))
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.setDefaultTimeout(20_000);
  await page.goto(d.http.loginUrl());
  await page.waitForSelector('html[data-rendered="true"]');
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    problems,
    screenshot: async (name) => {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
    close: () => context.close(),
  };
}

export async function startDaemon(root: string): Promise<InProcess> {
  assertUiBuilt();
  return startInProcess(root, { pieceTimeoutMs: 5_000 });
}
