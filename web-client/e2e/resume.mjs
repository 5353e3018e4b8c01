// Resume after a daemon restart, from the page (issue 15): two claude sessions ran before the
// restart. One is resumed with the list's Resume button, the other by opening its old address;
// each page lands on the new terminal, which names the one it continues. Opening an old
// address again leads to the running terminal without a second resume (the Rust test counts
// the processes).
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_FIRST=<old id> PTYHUB_SECOND=<old id> node e2e/resume.mjs

import { DAEMON_URL, routeTerminalId, runScript, sessionRecord, STEP_TIMEOUT_MS, TOKEN, typeLine, waitForText, waitLive } from './harness.mjs';

const FIRST = process.env.PTYHUB_FIRST ?? '';
const SECOND = process.env.PTYHUB_SECOND ?? '';

/** Waits until the page shows a live terminal other than `oldId`; returns its id. */
async function landsOnNewTerminal(page, oldId) {
  await page.waitForFunction((old) => !location.hash.includes(old) && document.querySelector('.terminal-view[data-state="live"]') !== null, oldId, {
    timeout: STEP_TIMEOUT_MS,
    polling: 50,
  });
  await waitLive(page);
  return routeTerminalId(page);
}

await runScript('resume', async (context, { check, screenshot, facts }) => {
  const list = await context.newPage();
  await list.goto(`${DAEMON_URL}/?token=${encodeURIComponent(TOKEN)}`);
  for (const id of [FIRST, SECOND]) {
    await list.waitForSelector(`tr[data-terminal-id="${id}"][data-status="resumable"] button[data-action="resume"]`, { timeout: STEP_TIMEOUT_MS });
  }
  check('the list shows both remembered sessions as resumable', true);
  await screenshot(list, 'before');

  // From the list.
  await list.click(`tr[data-terminal-id="${FIRST}"] button[data-action="resume"]`);
  const firstNew = await landsOnNewTerminal(list, FIRST);
  await waitForText(list, 'fake>');
  await typeLine(list, 'echo resumed-21');
  await waitForText(list, 'ECHO:resumed-21');
  const firstRecord = await sessionRecord(firstNew);
  facts.first = { old: FIRST, new: firstNew };
  check('Resume in the list opens the resumed session, which continues the old one',
    firstNew !== FIRST && firstRecord?.status === 'running' && firstRecord?.resumedFrom === FIRST, firstRecord);

  // From the old address.
  const byUrl = await context.newPage();
  await byUrl.goto(`${DAEMON_URL}/#/t/${encodeURIComponent(SECOND)}`);
  const secondNew = await landsOnNewTerminal(byUrl, SECOND);
  await waitForText(byUrl, 'fake>');
  const secondRecord = await sessionRecord(secondNew);
  facts.second = { old: SECOND, new: secondNew };
  check('opening an old session address resumes it and moves to the new terminal',
    secondNew !== SECOND && secondRecord?.status === 'running' && secondRecord?.resumedFrom === SECOND, secondRecord);
  check('the old address does not stay in the history', (await byUrl.evaluate(() => history.length)) <= 2);

  // The old addresses again: the running terminals, nothing resumed twice.
  const again = await context.newPage();
  await again.goto(`${DAEMON_URL}/#/t/${encodeURIComponent(FIRST)}`);
  const firstAgain = await landsOnNewTerminal(again, FIRST);
  await waitForText(again, 'ECHO:resumed-21');
  check('an old address again leads to the running terminal', firstAgain === firstNew, { firstAgain, firstNew });

  await list.goto(`${DAEMON_URL}/#/`);
  await list.waitForSelector(`tr[data-terminal-id="${firstNew}"][data-status="running"]`, { timeout: STEP_TIMEOUT_MS });
  await list.waitForSelector(`tr[data-terminal-id="${secondNew}"][data-status="running"]`, { timeout: STEP_TIMEOUT_MS });
  const resumable = await list.locator('tr[data-status="resumable"]').count();
  check('the list then shows both running and nothing left to resume', resumable === 0, resumable);
  await screenshot(list, 'after');
});
