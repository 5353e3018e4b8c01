// The read-only link never costs a browser its rights (issue 15): open the daemon's full link,
// then its read-only link, then the plain address. The read-only pages show their badge (on the
// list too), offer no button that changes anything and cannot type; the plain address
// afterwards has every right back and no badge — the read-only token never took the full
// one's place in storage, nor does an old `/?token=<view token>` bookmark.
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_VIEW_TOKEN=… node e2e/read_only.mjs

import { apiSessions, DAEMON_URL, POLL, routeTerminalId, runScript, STEP_TIMEOUT_MS, TOKEN, typeLine, VIEW_TOKEN, waitForText, waitLive } from './harness.mjs';

const stored = (page) =>
  page.evaluate(() => ({ full: localStorage.getItem('ptyhub.auth-token'), view: localStorage.getItem('ptyhub.view-token') }));
const badgeShown = (page) => page.isVisible('#readonly-badge');
const changeButtons = (page) => page.locator('button[data-mode], button[data-action]').count();

async function screenOf(terminalId) {
  const response = await fetch(`${DAEMON_URL}/ptyhub/api/sessions/${terminalId}/screen`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return response.text();
}

await runScript('read_only', async (context, { check, screenshot, facts }) => {
  // 1. The full link: a shell started from the list, typed into.
  const full = await context.newPage();
  await full.goto(`${DAEMON_URL}/?token=${encodeURIComponent(TOKEN)}`);
  await full.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  check('full link: no badge', !(await badgeShown(full)));
  await full.click('button[data-mode="shell"]');
  await waitLive(full);
  const terminalId = routeTerminalId(full);
  facts.terminalId = terminalId;
  await typeLine(full, 'echo full-$((1+1))');
  await waitForText(full, 'full-2');

  // 2. The read-only link, in the same browser.
  const ro = await context.newPage();
  await ro.goto(`${DAEMON_URL}/?token=${encodeURIComponent(VIEW_TOKEN)}&view=readonly`);
  await ro.waitForFunction(() => window.ptyhub?.access === 'read-only', null, POLL);
  await ro.waitForSelector(`tr[data-terminal-id="${terminalId}"]`, { timeout: STEP_TIMEOUT_MS });
  check('read-only list: badge shown', await badgeShown(ro));
  check('read-only list: no create, kill, rename or clear buttons', (await changeButtons(ro)) === 0, await changeButtons(ro));
  check('read-only list: says it is read-only', await ro.isVisible('.readonly-note'));
  const afterRo = await stored(ro);
  check('the full token is still stored', afterRo.full === TOKEN, afterRo);
  check('the read-only token is stored apart', afterRo.view === VIEW_TOKEN, afterRo);
  await screenshot(ro, 'list');

  await ro.click(`tr[data-terminal-id="${terminalId}"] a.open`);
  await waitLive(ro);
  check('read-only terminal: badge shown', await badgeShown(ro));
  await waitForText(ro, 'full-2');
  await typeLine(ro, 'echo typed-read-only-$((3+4))');
  // A probe typed in the full tab: once the read-only tab shows it, its own keys would have
  // reached the shell before it.
  await typeLine(full, 'echo probe-$((5+5))');
  await waitForText(ro, 'probe-10');
  const screen = await screenOf(terminalId);
  check('read-only typing does not reach the shell', !screen.includes('typed-read-only') && screen.includes('probe-10'), screen);

  // 3. The plain address afterwards: full rights, no badge.
  const plain = await context.newPage();
  await plain.goto(`${DAEMON_URL}/`);
  await plain.waitForFunction(() => window.ptyhub?.access !== null, null, POLL);
  check('plain address: the full token is used', (await plain.evaluate(() => window.ptyhub?.access)) === 'full');
  await plain.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  check('plain address: no badge on the list', !(await badgeShown(plain)));
  check('plain address: create buttons are back', (await plain.locator('button[data-mode]').count()) > 0);
  await plain.goto(`${DAEMON_URL}/#/t/${encodeURIComponent(terminalId)}`);
  await waitLive(plain);
  check('plain address: no badge on the terminal', !(await badgeShown(plain)));
  await typeLine(plain, 'echo typed-again-$((6+6))');
  await waitForText(plain, 'typed-again-12');
  check('plain address: typing reaches the shell', (await screenOf(terminalId)).includes('typed-again-12'));

  // 4. An old bookmark with the view token and no `view=readonly`: read-only, and harmless.
  const bookmark = await context.newPage();
  await bookmark.goto(`${DAEMON_URL}/?token=${encodeURIComponent(VIEW_TOKEN)}`);
  await bookmark.waitForFunction(() => window.ptyhub?.access === 'read-only', null, POLL);
  await bookmark.waitForSelector(`tr[data-terminal-id="${terminalId}"]`, { timeout: STEP_TIMEOUT_MS });
  check('an old view-token bookmark: badge shown', await badgeShown(bookmark));
  check('an old view-token bookmark: no buttons that change anything', (await changeButtons(bookmark)) === 0);
  const afterBookmark = await stored(bookmark);
  check('an old view-token bookmark does not replace the full token', afterBookmark.full === TOKEN, afterBookmark);
  const again = await context.newPage();
  await again.goto(`${DAEMON_URL}/`);
  await again.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  check('the plain address still has full rights', !(await badgeShown(again)) && (await again.evaluate(() => window.ptyhub?.access)) === 'full');
  facts.sessions = (await apiSessions()).length;
});
