// ptyhub in front of freshell, in Debian's chromium: one browser profile opens the full login
// link ptyhub prints, which must land on freshell's page logged in (freshell's page takes the
// same token), then the read-only link ptyhub prints and an old read-only bookmark, and must
// still hold the full token afterwards; then a navigation during a freshell outage gets
// ptyhub's "restarting" page, which turns into the app by itself when freshell is back.
// Driven by tests/freshell_front_browser.rs over stdin and stdout:
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_VIEW_TOKEN=… PTYHUB_LOGIN_LINK=… PTYHUB_READONLY_LINK=… \
//   node e2e/front.mjs
//
// Prints "OUTAGE?" when ready for freshell to go down and waits for "down" on stdin; prints
// "SAW-RESTARTING" and waits for "up"; prints "APP-BACK", then a JSON summary line.
// Env: PTYHUB_CHROMIUM (default /usr/bin/chromium).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const DAEMON_URL = (process.env.PTYHUB_URL ?? '').replace(/\/+$/, '');
const TOKEN = process.env.PTYHUB_TOKEN ?? '';
const VIEW_TOKEN = process.env.PTYHUB_VIEW_TOKEN ?? '';
const LOGIN_LINK = process.env.PTYHUB_LOGIN_LINK ?? '';
const READONLY_LINK = process.env.PTYHUB_READONLY_LINK ?? '';
const CHROMIUM = process.env.PTYHUB_CHROMIUM ?? '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15_000;
// freshell's page keeps its token here (and in the freshell-auth cookie).
const FRESHELL_TOKEN_KEY = 'freshell.auth-token';
const log = (...args) => console.error('[front]', ...args);

if (!DAEMON_URL || !TOKEN || !VIEW_TOKEN || !LOGIN_LINK || !READONLY_LINK) {
  console.error('PTYHUB_URL, PTYHUB_TOKEN, PTYHUB_VIEW_TOKEN, PTYHUB_LOGIN_LINK and PTYHUB_READONLY_LINK must be set');
  process.exit(2);
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function expectLine(word) {
  const { value, done } = await lines.next();
  if (done || value.trim() !== word) throw new Error(`expected "${word}" on stdin, got ${done ? 'EOF' : value}`);
}

async function showsFreshell(page) {
  await page.waitForFunction(() => document.body?.dataset.app === 'fake-freshell', null, {
    timeout: STEP_TIMEOUT_MS,
    polling: 100,
  });
}

async function showsPtyhubsClient(page) {
  await page.waitForFunction(() => window.ptyhub !== undefined, null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
}

async function freshellsToken(browser, page) {
  const stored = await page.evaluate((key) => localStorage.getItem(key), FRESHELL_TOKEN_KEY);
  const cookie = (await browser.cookies(DAEMON_URL)).find((c) => c.name === 'freshell-auth');
  return { stored, cookie: cookie ? decodeURIComponent(cookie.value) : null };
}

log('launching', CHROMIUM);
const profile = await mkdtemp(join(tmpdir(), 'ptyhub-front-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
});
const summary = {};
try {
  const freshell = browser.pages()[0] ?? (await browser.newPage());
  await freshell.goto(LOGIN_LINK);
  await showsFreshell(freshell);
  summary.loginLinkLandedOn = `${new URL(freshell.url()).pathname}${new URL(freshell.url()).search}${new URL(freshell.url()).hash}`;
  summary.before = await freshellsToken(browser, freshell);
  log('freshell page holds', summary.before.stored === TOKEN ? 'the full token' : summary.before);

  const readOnly = await browser.newPage();
  await readOnly.goto(READONLY_LINK);
  await showsPtyhubsClient(readOnly);
  await readOnly.waitForFunction(() => window.ptyhub?.access === 'read-only', null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  summary.readOnlyLinkPath = new URL(readOnly.url()).pathname;

  const bookmark = await browser.newPage();
  await bookmark.goto(`${DAEMON_URL}/?token=${encodeURIComponent(VIEW_TOKEN)}`);
  await showsPtyhubsClient(bookmark);
  summary.oldBookmarkPath = new URL(bookmark.url()).pathname;

  await freshell.goto(`${DAEMON_URL}/`);
  await showsFreshell(freshell);
  summary.after = await freshellsToken(browser, freshell);

  console.log('OUTAGE?');
  await expectLine('down');
  const response = await freshell.goto(`${DAEMON_URL}/`);
  summary.outageStatus = response?.status() ?? null;
  summary.outageTitle = await freshell.title();
  console.log('SAW-RESTARTING');
  await expectLine('up');
  // Nobody touches the page: it must reload itself into the app.
  await showsFreshell(freshell);
  summary.appBack = true;
  console.log('APP-BACK');
} catch (error) {
  summary.error = String(error?.stack ?? error);
} finally {
  console.log(JSON.stringify(summary));
  await browser.close();
  await rm(profile, { recursive: true, force: true });
  // stdin stays open while the test waits; the run is over.
  process.exit(summary.error ? 1 : 0);
}
