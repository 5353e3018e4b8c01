// End-to-end check of the browser terminal against a real daemon, in Debian's chromium.
//
// What a person would do, in order: open the daemon's link with ?token=, start a shell from
// the list, open the session URL in a second tab, type in the first and read it in the
// second, drop the second tab's connection and see it resume, reload the first and see the
// screen at once, open a read-only tab whose typing must not reach the shell (nor its size
// the PTY), let a second shell exit, open an unknown session and a wrong token. Screenshots
// of the terminal, the list and the token page are saved; a JSON summary goes to stdout and
// the exit status says whether every check held.
//
//   PTYHUB_URL=http://127.0.0.1:7373 PTYHUB_TOKEN=… node e2e/two_viewers.mjs shot.png
//
// Env: PTYHUB_URL, PTYHUB_TOKEN (required); PTYHUB_SCREENSHOT (or argv[2]; default
// ./two_viewers.png); PTYHUB_CHROMIUM (default /usr/bin/chromium); PTYHUB_E2E_AGENT=1 also
// starts an agent from the list — only where `claude` is the test suite's fake agent (it
// floods past the replay budget and draws a full-screen TUI, which a new tab must get as
// the daemon's repaint).
// The page is the one the daemon embeds and serves at `/`; the script fails if it does not.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const DAEMON_URL = (process.env.PTYHUB_URL ?? '').replace(/\/+$/, '');
const TOKEN = process.env.PTYHUB_TOKEN ?? '';
const SCREENSHOT = process.argv[2] ?? process.env.PTYHUB_SCREENSHOT ?? 'two_viewers.png';
const CHROMIUM = process.env.PTYHUB_CHROMIUM ?? '/usr/bin/chromium';
const WITH_AGENT = process.env.PTYHUB_E2E_AGENT === '1';
/** Lines the fake agent floods, enough to exceed the 131 072-byte hydrate budget. */
const FLOOD_LINES = 20_000;
const STEP_TIMEOUT_MS = 15_000;
/** waitForFunction options: timer polling, since a background tab may never run rAF. */
const POLL = { timeout: STEP_TIMEOUT_MS, polling: 50 };
/** "At once" for a reloaded page: the old screen is there this soon after the load event. */
const RELOAD_SCREEN_BUDGET_MS = 3_000;

if (!DAEMON_URL || !TOKEN) {
  console.error('PTYHUB_URL and PTYHUB_TOKEN must be set');
  process.exit(2);
}

const checks = {};
const summary = { ok: false, servedBy: null, daemonUrl: DAEMON_URL, checks, screenshots: [] };
const log = (...args) => console.error('[two_viewers]', ...args);

function check(name, condition, detail) {
  checks[name] = Boolean(condition);
  log(`${condition ? 'ok  ' : 'FAIL'} ${name}${detail === undefined ? '' : ` — ${JSON.stringify(detail)}`}`);
  return Boolean(condition);
}

async function apiSessions() {
  const response = await fetch(`${DAEMON_URL}/ptyhub/api/sessions`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (!response.ok) throw new Error(`GET /ptyhub/api/sessions answered ${response.status}`);
  return response.json();
}

async function sessionRecord(terminalId) {
  return (await apiSessions()).find((s) => s.terminalId === terminalId) ?? null;
}

/** Whether the daemon serves this web client at `/` (else the dev server stands in). */
async function daemonServesClient() {
  try {
    const body = await (await fetch(`${DAEMON_URL}/`)).text();
    return body.includes('app.js') && body.includes('id="main"');
  } catch {
    return false;
  }
}

const bufferText = (page) => page.evaluate(() => window.ptyhub?.bufferText() ?? '');
const viewState = (page) => page.evaluate(() => document.querySelector('.terminal-view')?.getAttribute('data-state'));

async function waitForText(page, needle, timeout = STEP_TIMEOUT_MS) {
  await page.waitForFunction((n) => (window.ptyhub?.bufferText() ?? '').includes(n), needle, { timeout, polling: 50 });
}

async function waitForPattern(page, pattern, timeout = STEP_TIMEOUT_MS) {
  await page.waitForFunction((p) => new RegExp(p).test(window.ptyhub?.bufferText() ?? ''), pattern, { timeout, polling: 50 });
}

async function waitLive(page) {
  await page.waitForSelector('.terminal-view[data-state="live"]', { timeout: STEP_TIMEOUT_MS });
}

/** Focuses the xterm of `page` and types `line` followed by Enter. */
async function typeLine(page, line) {
  await page.click('.term-host');
  await page.keyboard.type(line, { delay: 5 });
  await page.keyboard.press('Enter');
}

function occurrences(haystack, needle) {
  return haystack.split(needle).length - 1;
}

async function main() {
  const origin = DAEMON_URL;
  if (!(await daemonServesClient())) {
    throw new Error(`the daemon at ${DAEMON_URL} does not serve the web client at /`);
  }
  summary.servedBy = 'daemon';
  summary.origin = origin;
  log(`page served by ${summary.servedBy} at ${origin}`);

  const userDataDir = await mkdtemp(join(tmpdir(), 'ptyhub-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
    viewport: { width: 1100, height: 640 },
  });
  const pageErrors = [];
  context.on('weberror', (e) => pageErrors.push(String(e.error())));
  try {
    await run(context, origin);
  } finally {
    summary.pageErrors = pageErrors;
    check('no uncaught page errors', pageErrors.length === 0, pageErrors);
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
}

async function run(context, origin) {
  const sessionsBefore = new Set((await apiSessions()).map((s) => s.terminalId));
  // 1. The daemon's link: the token is stored and leaves the address bar.
  const pageA = await context.newPage();
  await pageA.goto(`${origin}/?token=${encodeURIComponent(TOKEN)}`);
  await pageA.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  check('token removed from the address bar', !pageA.url().includes('token='), pageA.url());
  check(
    'token stored under ptyhub.auth-token',
    (await pageA.evaluate(() => localStorage.getItem('ptyhub.auth-token'))) === TOKEN,
  );

  // 2. Start a shell from the list: the page navigates to the session's own URL.
  await pageA.click('button[data-mode="shell"]');
  await pageA.waitForURL(/#\/t\/[^/?]+$/, { timeout: STEP_TIMEOUT_MS });
  const terminalId = decodeURIComponent(new URL(pageA.url()).hash.replace(/^#\/t\//, ''));
  summary.terminalId = terminalId;
  await waitLive(pageA);
  await waitForPattern(pageA, '[$#]');
  const first = await sessionRecord(terminalId);
  check('the shell is running', first?.status === 'running' && typeof first.pid === 'number', first);
  const pids = [first?.pid];
  const viewers = [first?.viewers];

  // 3. The same URL in a second tab is a second viewer of the same process.
  const pageB = await context.newPage();
  await pageB.goto(`${origin}/#/t/${encodeURIComponent(terminalId)}`);
  await waitLive(pageB);
  const typedAt = Date.now();
  await typeLine(pageA, 'echo AB$((6*7))XY');
  await waitForText(pageB, 'AB42XY');
  summary.echoLatencyMs = Date.now() - typedAt;
  check('typing in tab A shows in tab B', true, { latencyMs: summary.echoLatencyMs });
  let record = await sessionRecord(terminalId);
  pids.push(record?.pid);
  viewers.push(record?.viewers);
  check('two tabs are two viewers of one process', record?.viewers === 2 && record?.pid === first?.pid, record);

  // 4. A dropped connection resumes from the last seq, keeping the screen, without doubling.
  const before = await bufferText(pageB);
  const attachesBefore = (await pageB.evaluate(() => window.ptyhub.stats())).attaches;
  await pageB.evaluate(() => window.ptyhub.dropConnection());
  const reconnectLabel = await pageB
    .waitForFunction(() => /reconnecting/.test(document.getElementById('status')?.textContent ?? '') && document.getElementById('status').textContent, null, POLL)
    .then((handle) => handle.jsonValue());
  await pageB.waitForFunction(
    (n) => window.ptyhub.status.kind === 'connected' && window.ptyhub.stats().attaches > n && document.querySelector('.terminal-view')?.getAttribute('data-state') === 'live',
    attachesBefore,
    POLL,
  );
  const stats = await pageB.evaluate(() => window.ptyhub.stats());
  summary.reconnect = { statusShown: reconnectLabel, lastAttach: stats.lastAttach };
  check('status shows the reconnect countdown', /reconnecting in \d+s/.test(reconnectLabel), reconnectLabel);
  check(
    'reconnect resumes with transport_reconnect from the last seq',
    stats.lastAttach?.intent === 'transport_reconnect' && stats.lastAttach.sinceSeq > 0,
    stats.lastAttach,
  );
  await typeLine(pageA, 'echo CD$((7*8))EF');
  await waitForText(pageB, 'CD56EF');
  const after = await bufferText(pageB);
  check(
    'the resumed screen is neither lost nor doubled',
    occurrences(after, 'AB42XY') === occurrences(before, 'AB42XY') && occurrences(after, 'AB42XY') === 1,
    { before: occurrences(before, 'AB42XY'), after: occurrences(after, 'AB42XY') },
  );

  // 5. A reload gets the screen at once. (In front: a background tab's timers are throttled
  // to 1 Hz, which would measure chromium, not ptyhub.)
  await pageA.bringToFront();
  const reloadStart = Date.now();
  await pageA.reload({ waitUntil: 'load' });
  const loadedAt = Date.now();
  await waitForText(pageA, 'CD56EF', RELOAD_SCREEN_BUDGET_MS + 5_000);
  summary.reloadScreenMs = Date.now() - loadedAt;
  summary.reloadTotalMs = Date.now() - reloadStart;
  summary.reloadTimings = await pageA.evaluate(() => window.ptyhub.stats().timings);
  check('a reloaded tab shows the previous screen at once', summary.reloadScreenMs <= RELOAD_SCREEN_BUDGET_MS, {
    afterLoadMs: summary.reloadScreenMs,
  });
  await waitLive(pageA);

  // 6. A read-only tab (smaller window) sees output but sends neither input nor size.
  const pageC = await context.newPage();
  await pageC.setViewportSize({ width: 700, height: 420 });
  await pageC.goto(`${origin}/#/t/${encodeURIComponent(terminalId)}?view=readonly`);
  await waitLive(pageC);
  await waitForText(pageC, 'CD56EF');
  check('the read-only badge shows', await pageC.isVisible('#readonly-badge'));
  await typeLine(pageC, 'echo RO$((1+1))NOPE');
  await pageC.waitForTimeout(1_500);
  const sizeA = await pageA.evaluate(() => ({ rows: window.ptyhub.terminal.rows, cols: window.ptyhub.terminal.cols }));
  await typeLine(pageA, 'echo SZ$(stty size | tr " " x)END');
  const expectedSize = `SZ${sizeA.rows}x${sizeA.cols}END`;
  await waitForPattern(pageB, 'SZ\\d+x\\d+END').catch(() => {});
  await waitForPattern(pageC, 'SZ\\d+x\\d+END').catch(() => {});
  const textB = await bufferText(pageB);
  const textC = await bufferText(pageC);
  summary.readonly = {
    inputReached: textB.includes('RO2NOPE') || textB.includes('RO$((1+1))'),
    ptySize: /SZ(\d+x\d+)END/.exec(textB)?.[1] ?? null,
    writerSize: `${sizeA.rows}x${sizeA.cols}`,
  };
  check('read-only typing does not reach the session', !summary.readonly.inputReached);
  check('read-only tab does not resize the PTY', textB.includes(expectedSize), summary.readonly);
  check('read-only tab still sees output', /SZ\d+x\d+END/.test(textC));
  record = await sessionRecord(terminalId);
  pids.push(record?.pid);
  viewers.push(record?.viewers);
  check('three tabs, still one process', record?.viewers === 3 && record?.pid === first?.pid, record);

  // 7. Screenshot of a viewer tab with the shared screen.
  await pageB.bringToFront();
  await pageB.waitForTimeout(200);
  await pageB.screenshot({ path: SCREENSHOT });
  summary.screenshots.push(SCREENSHOT);

  // 8. A session that exits says so, with its code.
  const pageD = await context.newPage();
  await pageD.goto(`${origin}/`);
  await pageD.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  await pageD.click('button[data-mode="shell"]');
  await pageD.waitForURL(/#\/t\//, { timeout: STEP_TIMEOUT_MS });
  summary.exitingTerminalId = decodeURIComponent(new URL(pageD.url()).hash.replace(/^#\/t\//, ''));
  await waitLive(pageD);
  await waitForPattern(pageD, '[$#]');
  await typeLine(pageD, 'exit 3');
  await pageD.waitForSelector('.terminal-view[data-state="exited"]', { timeout: STEP_TIMEOUT_MS });
  summary.exitBanner = await pageD.textContent('.banner');
  check('an exited session says so with its code', /exited with code 3/.test(summary.exitBanner ?? ''), summary.exitBanner);

  if (WITH_AGENT) summary.agent = await agentStep(context, origin);

  // 9. The list: both sessions, running and exited, with viewer counts.
  await pageD.goto(`${origin}/#/`);
  await pageD.waitForFunction(
    (ids) => ids.every((id) => document.querySelector(`tr[data-terminal-id="${id}"]`)),
    [terminalId, summary.exitingTerminalId],
    POLL,
  );
  await pageD.waitForFunction(
    (id) => document.querySelector(`tr[data-terminal-id="${id}"] td.num`)?.textContent === '3',
    terminalId,
    POLL,
  ).catch(() => {});
  const rowText = await pageD.textContent(`tr[data-terminal-id="${terminalId}"]`);
  const viewersCell = await pageD.textContent(`tr[data-terminal-id="${terminalId}"] td.num`);
  const exitedRowText = await pageD.textContent(`tr[data-terminal-id="${summary.exitingTerminalId}"]`);
  summary.listRows = { running: rowText, exited: exitedRowText };
  check('the list shows the shared session running with 3 viewers', /running/.test(rowText) && viewersCell === '3', {
    rowText,
    viewersCell,
  });
  check('the list shows the other session exited (3)', /exited \(3\)/.test(exitedRowText), exitedRowText);
  const listShot = SCREENSHOT.replace(/(\.png)?$/, '-list.png');
  await pageD.screenshot({ path: listShot });
  summary.screenshots.push(listShot);

  // 10. An unknown session id says so.
  const pageE = await context.newPage();
  await pageE.goto(`${origin}/#/t/no-such-terminal`);
  await pageE.waitForSelector('.terminal-view[data-state="unknown"]', { timeout: STEP_TIMEOUT_MS });
  summary.unknownBanner = await pageE.textContent('.banner');
  check('an unknown session says so', /no session no-such-terminal/.test(summary.unknownBanner ?? ''), summary.unknownBanner);

  // The shared session was never duplicated while all of this happened.
  record = await sessionRecord(terminalId);
  pids.push(record?.pid);
  viewers.push(record?.viewers);
  summary.sessionPids = pids;
  summary.viewersSeen = viewers;
  const created = (await apiSessions()).filter((s) => !sessionsBefore.has(s.terminalId));
  summary.sessionsCreated = created.map((s) => s.terminalId);
  check('one pid for the shared session throughout', pids.every((p) => typeof p === 'number' && p === pids[0]), pids);
  check(
    'one session per click: the shared shell, the exiting shell (and the agent)',
    created.filter((s) => s.mode === 'shell').length === 2 &&
      created.filter((s) => s.mode === 'claude').length === (WITH_AGENT ? 1 : 0) &&
      created.length === (WITH_AGENT ? 3 : 2),
    created.map((s) => `${s.mode}:${s.terminalId}`),
  );

  // 11. A wrong token: a clear message and a place to paste the right one. Last, since it
  // overwrites the stored token.
  const pageF = await context.newPage();
  await pageF.goto(`${origin}/?token=wrong-token-0123456789`);
  await pageF.waitForSelector('.token-view[data-problem="refused"] input[name="token"]', { timeout: STEP_TIMEOUT_MS });
  summary.wrongTokenMessage = await pageF.textContent('.token-view h1');
  check('a wrong token is refused with a clear message', /refused/.test(summary.wrongTokenMessage ?? ''));
  const tokenShot = SCREENSHOT.replace(/(\.png)?$/, '-token.png');
  await pageF.screenshot({ path: tokenShot });
  summary.screenshots.push(tokenShot);
  await pageF.fill('input[name="token"]', TOKEN);
  await pageF.click('.token-form button[type="submit"]');
  await pageF.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  check('pasting the right token connects', true);
}

/**
 * An agent started from the list, flooded past the replay budget, then drawing a full-screen
 * TUI: a second tab must show the same screen at once (the daemon's repaint, not history).
 */
async function agentStep(context, origin) {
  const result = {};
  const pageG = await context.newPage();
  await pageG.goto(`${origin}/`);
  await pageG.waitForSelector('button[data-mode="claude"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  await pageG.click('button[data-mode="claude"]');
  await pageG.waitForURL(/#\/t\//, { timeout: STEP_TIMEOUT_MS });
  result.terminalId = decodeURIComponent(new URL(pageG.url()).hash.replace(/^#\/t\//, ''));
  await waitLive(pageG);
  await waitForPattern(pageG, '\\S');
  await typeLine(pageG, `flood ${FLOOD_LINES}`);
  await waitForText(pageG, `line ${FLOOD_LINES}\n`);
  await typeLine(pageG, 'screen');
  await waitForText(pageG, 'SCREEN-READY');
  const record = await sessionRecord(result.terminalId);
  result.sessionRef = record?.sessionRef ?? null;
  check('an agent started from the list is bound to a session', record?.mode === 'claude' && record.sessionRef?.provider === 'claude', record);

  const pageH = await context.newPage();
  const openedAt = Date.now();
  await pageH.goto(`${origin}/#/t/${encodeURIComponent(result.terminalId)}`);
  await waitForText(pageH, 'SCREEN-READY');
  result.screenShownMs = Date.now() - openedAt;
  const screenG = await pageG.evaluate(() => window.ptyhub.screenText());
  const screenH = await pageH.evaluate(() => window.ptyhub.screenText());
  const statsH = await pageH.evaluate(() => window.ptyhub.stats());
  result.newTab = { framesApplied: statsH.framesApplied, gaps: statsH.gaps };
  check('a new tab on a busy TUI gets its screen at once', screenH === screenG, {
    ms: result.screenShownMs,
    ...result.newTab,
  });
  check('…as one repaint instead of the flooded history', statsH.gaps >= 1 && statsH.framesApplied < 50, result.newTab);
  const agentShot = SCREENSHOT.replace(/(\.png)?$/, '-agent.png');
  await pageH.bringToFront();
  await pageH.screenshot({ path: agentShot });
  summary.screenshots.push(agentShot);
  return result;
}

let failure = null;
try {
  await main();
} catch (err) {
  failure = err;
  summary.error = String(err?.stack ?? err);
  log('error:', summary.error);
}
summary.ok = failure === null && Object.values(checks).every(Boolean) && Object.keys(checks).length > 0;
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);
