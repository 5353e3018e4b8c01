// Three browser tabs (xterm.js in Debian's chromium) on one session whose child asks its
// terminal questions: driven by tests/web_client.rs over stdin and stdout, so that the test
// can check, from the child's side, that no tab ever answers (the daemon does, once).
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_TERMINAL=<terminalId> node e2e/queries.mjs
//
// Prints "READY" once three tabs show the session live (and PTYHUB_SHOWN_TEXT, if set); then,
// for each line on stdin: "reload TEXT" reloads the first tab and prints "RELOADED" once it
// shows TEXT again; "type" types "y" in each tab and prints "TYPED" (a tab's answer to a
// query, had it sent one, would reach the child before its keystroke); "close" ends.
// Env: PTYHUB_CHROMIUM (default /usr/bin/chromium).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const DAEMON_URL = (process.env.PTYHUB_URL ?? '').replace(/\/+$/, '');
const TOKEN = process.env.PTYHUB_TOKEN ?? '';
const TERMINAL = process.env.PTYHUB_TERMINAL ?? '';
const SHOWN_TEXT = process.env.PTYHUB_SHOWN_TEXT ?? '';
const CHROMIUM = process.env.PTYHUB_CHROMIUM ?? '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 15_000;
const log = (...args) => console.error('[queries]', ...args);

if (!DAEMON_URL || !TOKEN || !TERMINAL) {
  console.error('PTYHUB_URL, PTYHUB_TOKEN and PTYHUB_TERMINAL must be set');
  process.exit(2);
}

/** Waits until `page` shows the session live, and `text` in its terminal if given. */
async function showsSession(page, text) {
  await page.waitForSelector('.terminal-view[data-state="live"]', { timeout: STEP_TIMEOUT_MS });
  await page.waitForFunction((shown) => (window.ptyhub?.bufferText() ?? '').includes(shown), text, {
    timeout: STEP_TIMEOUT_MS,
    polling: 50,
  });
}

log('launching', CHROMIUM);
const profile = await mkdtemp(join(tmpdir(), 'ptyhub-queries-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const url = `${DAEMON_URL}/?token=${encodeURIComponent(TOKEN)}#/t/${encodeURIComponent(TERMINAL)}`;
  const pages = [];
  for (let i = 0; i < 3; i += 1) {
    const page = i === 0 ? (browser.pages()[0] ?? (await browser.newPage())) : await browser.newPage();
    await page.goto(url);
    await showsSession(page, SHOWN_TEXT);
    log(`tab ${i + 1} shows the session`);
    pages.push(page);
  }
  console.log('READY');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.startsWith('reload')) {
      await pages[0].reload();
      await showsSession(pages[0], line.slice('reload'.length).trim());
      console.log('RELOADED');
    } else if (line === 'type') {
      for (const page of pages) {
        await page.click('.xterm');
        await page.keyboard.type('y');
      }
      console.log('TYPED');
    } else if (line === 'close') {
      break;
    }
  }
} catch (error) {
  log('failed:', error?.stack ?? error);
  process.exitCode = 1;
} finally {
  await browser.close();
  await rm(profile, { recursive: true, force: true });
  // stdin, still open, would keep the process alive.
  process.exit();
}
