// What every e2e script of issue 15 shares: the daemon's address and tokens from the
// environment, one headless Debian chromium with a fresh profile, named checks, and a JSON
// summary on stdout (the check log goes to stderr). The Rust test that runs a script holds it
// to its checks by name, so a check silently dropped from a script fails there.
//
// Env: PTYHUB_URL, PTYHUB_TOKEN (required); PTYHUB_VIEW_TOKEN (the read-only token);
// PTYHUB_CHROMIUM (default /usr/bin/chromium); PTYHUB_ARTIFACTS (where screenshots go).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const DAEMON_URL = (process.env.PTYHUB_URL ?? '').replace(/\/+$/, '');
export const TOKEN = process.env.PTYHUB_TOKEN ?? '';
export const VIEW_TOKEN = process.env.PTYHUB_VIEW_TOKEN ?? '';
export const ARTIFACTS = process.env.PTYHUB_ARTIFACTS ?? tmpdir();
const CHROMIUM = process.env.PTYHUB_CHROMIUM ?? '/usr/bin/chromium';
export const STEP_TIMEOUT_MS = 15_000;
/** waitForFunction options: timer polling, since a background tab may never run rAF. */
export const POLL = { timeout: STEP_TIMEOUT_MS, polling: 50 };

/**
 * Runs `body(context, tools)` in a fresh browser profile and prints the summary. The profile
 * is a new temp dir, removed afterwards, unless `profileDir` names one the caller keeps (to
 * read what the browser wrote there once it has closed).
 */
export async function runScript(name, body, viewport = { width: 1100, height: 640 }, { profileDir } = {}) {
  if (!DAEMON_URL || !TOKEN) {
    console.error('PTYHUB_URL and PTYHUB_TOKEN must be set');
    process.exit(2);
  }
  const checks = {};
  const summary = { ok: false, script: name, checks, screenshots: [], facts: {} };
  const log = (...args) => console.error(`[${name}]`, ...args);
  const check = (label, condition, detail) => {
    checks[label] = Boolean(condition);
    log(`${condition ? 'ok  ' : 'FAIL'} ${label}${detail === undefined ? '' : ` — ${JSON.stringify(detail)}`}`);
    return Boolean(condition);
  };
  const userDataDir = profileDir ?? (await mkdtemp(join(tmpdir(), `ptyhub-e2e-${name}-`)));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
    viewport,
  });
  const pageErrors = [];
  context.on('weberror', (e) => pageErrors.push(String(e.error())));
  const screenshot = async (page, label) => {
    const path = join(ARTIFACTS, `web-client-${name}-${label}.png`);
    await page.screenshot({ path });
    summary.screenshots.push(path);
  };
  try {
    await body(context, { check, log, screenshot, facts: summary.facts });
  } catch (err) {
    check(`the script ran to its end (${String(err).split('\n')[0]})`, false);
    log(`stopped at: ${String(err?.stack ?? '').split('\n').filter((l) => l.includes('/e2e/')).join(' <- ')}`);
    // What each page showed when it stopped, for whoever reads the failure.
    for (const [i, page] of context.pages().entries()) {
      const text = await page
        .evaluate(() => `${document.body.innerText.slice(0, 600)} [view ${document.querySelector('.terminal-view')?.dataset.state ?? '-'}]`)
        .catch(() => '?');
      log(`page ${i} at ${page.url()}: ${JSON.stringify(text)}`);
      await screenshot(page, `failure-${i}`).catch(() => {});
    }
  } finally {
    check('no uncaught page errors', pageErrors.length === 0, pageErrors);
    await context.close().catch(() => {});
    if (profileDir === undefined) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
  summary.ok = Object.values(checks).every(Boolean);
  console.log(JSON.stringify(summary));
  process.exit(summary.ok ? 0 : 1);
}

export async function apiSessions(token = TOKEN) {
  const response = await fetch(`${DAEMON_URL}/ptyhub/api/sessions`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /ptyhub/api/sessions answered ${response.status}`);
  return response.json();
}

export async function sessionRecord(terminalId) {
  return (await apiSessions()).find((s) => s.terminalId === terminalId) ?? null;
}

/** Polls `probe` (async, returns a value or null) until it gives a value. */
export async function until(what, probe, timeout = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    last = await probe();
    if (last !== null && last !== undefined && last !== false) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function waitForText(page, needle, timeout = STEP_TIMEOUT_MS) {
  await page.waitForFunction((n) => (window.ptyhub?.bufferText() ?? '').includes(n), needle, { timeout, polling: 50 });
}

export async function waitLive(page) {
  await page.waitForSelector('.terminal-view[data-state="live"]', { timeout: STEP_TIMEOUT_MS });
}

/** The terminal id of the page's route (`#/t/<id>`), or null on the list. */
export function routeTerminalId(page) {
  const match = /#\/t\/([^?]+)/.exec(page.url());
  return match ? decodeURIComponent(match[1]) : null;
}

/** Focuses the xterm of `page` and types `line` followed by Enter. */
export async function typeLine(page, line) {
  await page.click('.term-host');
  await page.keyboard.type(line, { delay: 5 });
  await page.keyboard.press('Enter');
}
