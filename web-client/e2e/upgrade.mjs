// The web client across an in-place upgrade of the daemon (issue 14): the page stays where it
// is (no reload), its socket is closed with 4009 and comes back by itself, the terminal goes
// on from the last seq it had — nothing shown twice — and typing reaches the same process,
// keys typed while the socket was down included.
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_TERMINAL=<id> node e2e/upgrade.mjs
// The session has printed ECHO:before-upgrade; the daemon runs a binary the test replaced.

import { DAEMON_URL, runScript, sessionRecord, STEP_TIMEOUT_MS, TOKEN, typeLine, until, waitForText, waitLive } from './harness.mjs';

const TERMINAL = process.env.PTYHUB_TERMINAL ?? '';

async function daemonStatus() {
  const response = await fetch(`${DAEMON_URL}/ptyhub/api/daemon`, { headers: { Authorization: `Bearer ${TOKEN}` } }).catch(() => null);
  return response?.ok ? response.json() : null;
}

const count = (text, needle) => text.split(needle).length - 1;

await runScript('upgrade', async (context, { check, facts }) => {
  const page = await context.newPage();
  await page.goto(`${DAEMON_URL}/?token=${encodeURIComponent(TOKEN)}#/t/${encodeURIComponent(TERMINAL)}`);
  await waitLive(page);
  await waitForText(page, 'ECHO:before-upgrade');
  // Set on this page only: still there afterwards means the page never reloaded.
  await page.evaluate(() => { window.beforeUpgrade = true; });
  const before = await daemonStatus();

  const upgrade = await fetch(`${DAEMON_URL}/ptyhub/api/upgrade`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
  check('the daemon accepts the upgrade', upgrade.status === 202, upgrade.status);
  // Typed while the page's socket is down: the keys wait and go once it is attached again.
  await page.waitForFunction(() => document.querySelector('[data-status="reconnecting"]') !== null, null, { timeout: STEP_TIMEOUT_MS, polling: 20 });
  await typeLine(page, 'echo typed-while-reconnecting');
  const after = await until('the daemon serves again after the upgrade', async () => {
    const status = await daemonStatus();
    return status && status.handovers > before.handovers ? status : null;
  });
  facts.lastHandoverMs = after.lastHandoverMs;
  check('the same daemon process and bootId', after.pid === before.pid && after.bootId === before.bootId, { before, after });

  // The new image starts with no viewer: the page is back once it is one again.
  await until('the page attached again', async () => ((await sessionRecord(TERMINAL))?.viewers ?? 0) >= 1);
  await page.waitForFunction(() => document.querySelector('.terminal-view')?.dataset.state === 'live', null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  await waitForText(page, 'ECHO:typed-while-reconnecting');
  check('keys typed while the socket was down reach the session once it is back', true);
  await typeLine(page, 'echo after-upgrade');
  await waitForText(page, 'ECHO:after-upgrade');
  check('typing after the upgrade reaches the session', true);
  const text = await page.evaluate(() => window.ptyhub.bufferText());
  check('nothing from before the upgrade is shown twice', count(text, 'ECHO:before-upgrade') === 1, count(text, 'ECHO:before-upgrade'));
  check('the page did not reload', await page.evaluate(() => window.beforeUpgrade === true));
});
