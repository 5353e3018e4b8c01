// Managing sessions from the list (issue 15): only the providers the daemon can start are
// offered; the filter narrows the rows; a session is renamed, killed (after a confirming
// second click), exited ones are cleared — except the one that can still be resumed — and
// that one is removed on its own. At 390 px wide the list still fits the window.
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_KEEP=… PTYHUB_VICTIM=… PTYHUB_EXITED=…
//   PTYHUB_RESUMABLE=… node e2e/manage.mjs

import { apiSessions, DAEMON_URL, runScript, sessionRecord, STEP_TIMEOUT_MS, TOKEN, until } from './harness.mjs';

const KEEP = process.env.PTYHUB_KEEP ?? '';
const VICTIM = process.env.PTYHUB_VICTIM ?? '';
const EXITED = process.env.PTYHUB_EXITED ?? '';
const RESUMABLE = process.env.PTYHUB_RESUMABLE ?? '';

const row = (id) => `tr[data-terminal-id="${id}"]`;
const shownRows = (page) => page.$$eval('tr.session-row', (rows) => rows.map((r) => r.getAttribute('data-terminal-id')).sort());

await runScript('manage', async (context, { check, screenshot, facts }) => {
  const page = await context.newPage();
  await page.goto(`${DAEMON_URL}/?token=${encodeURIComponent(TOKEN)}`);
  await page.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
  for (const id of [KEEP, VICTIM, EXITED, RESUMABLE]) await page.waitForSelector(row(id), { timeout: STEP_TIMEOUT_MS });

  const modes = await page.$$eval('button[data-mode]', (buttons) => buttons.map((b) => `${b.dataset.mode}:${b.textContent}`).sort());
  facts.startButtons = modes;
  check('only the providers the daemon can start are offered', JSON.stringify(modes) === JSON.stringify(['claude:New Claude CLI', 'shell:New shell']), modes);
  check('the resumable session says so and offers Resume',
    (await page.getAttribute(row(RESUMABLE), 'data-status')) === 'resumable' && (await page.isVisible(`${row(RESUMABLE)} button[data-action="resume"]`)));
  check('an exited session shows its code', (await page.textContent(`${row(EXITED)} .state`)) === 'exited (3)');

  // Filter.
  await page.fill('input.filter', 'victim');
  await page.waitForFunction((id) => document.querySelectorAll('tr.session-row').length === 1 && document.querySelector(`tr[data-terminal-id="${id}"]`) !== null, VICTIM, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  check('the filter keeps the matching row alone', JSON.stringify(await shownRows(page)) === JSON.stringify([VICTIM]));
  await page.fill('input.filter', 'resumable');
  await page.waitForFunction(() => document.querySelectorAll('tr.session-row').length === 1, null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  check('the filter reads the status', JSON.stringify(await shownRows(page)) === JSON.stringify([RESUMABLE]));
  await page.fill('input.filter', '');
  await page.waitForFunction(() => document.querySelectorAll('tr.session-row').length === 4, null, { timeout: STEP_TIMEOUT_MS, polling: 50 });

  // Rename.
  await page.click(`${row(KEEP)} button[data-action="rename"]`);
  await page.fill(`${row(KEEP)} input.rename`, 'renamed-build');
  await page.press(`${row(KEEP)} input.rename`, 'Enter');
  const renamed = await until('the daemon has the new title', async () => ((await sessionRecord(KEEP))?.title === 'renamed-build' ? true : null));
  await page.waitForFunction((id) => document.querySelector(`tr[data-terminal-id="${id}"] a.open`)?.textContent === 'renamed-build', KEEP, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  check('rename: the daemon and the list have the new title', renamed);

  // Kill, with a confirming second click.
  await page.click(`${row(VICTIM)} button[data-action="kill"]`);
  const armed = await page.textContent(`${row(VICTIM)} button[data-action="kill"]`);
  check('kill asks for a second click', armed === 'Really kill?', armed);
  check('one click kills nothing', (await sessionRecord(VICTIM))?.status === 'running');
  await page.click(`${row(VICTIM)} button[data-action="kill"]`);
  await until('the victim has exited', async () => ((await sessionRecord(VICTIM))?.status === 'exited' ? true : null));
  await page.waitForFunction((id) => document.querySelector(`tr[data-terminal-id="${id}"]`)?.getAttribute('data-status') === 'exited', VICTIM, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  check('kill: the session has exited and the list shows it', true);
  check('kill ends only its target', (await sessionRecord(KEEP))?.status === 'running');

  // Clear exited: the resumable one stays.
  await page.waitForFunction(() => document.querySelector('button[data-action="clear-exited"]')?.textContent === 'Clear exited (2)', null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  await page.click('button[data-action="clear-exited"]');
  await page.waitForFunction(() => document.querySelectorAll('tr.session-row').length === 2, null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  const afterClear = (await apiSessions()).map((s) => s.terminalId).sort();
  facts.afterClear = afterClear;
  check('clear exited forgets the exited sessions and keeps the resumable one',
    JSON.stringify(afterClear) === JSON.stringify([KEEP, RESUMABLE].sort()) && JSON.stringify(await shownRows(page)) === JSON.stringify([KEEP, RESUMABLE].sort()),
    afterClear);
  check('nothing is left to clear', !(await page.isVisible('button[data-action="clear-exited"]')));

  // Remove the resumable one on purpose.
  await page.click(`${row(RESUMABLE)} button[data-action="remove"]`);
  await page.waitForFunction(() => document.querySelectorAll('tr.session-row').length === 1, null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  check('remove forgets a resumable session', (await apiSessions()).every((s) => s.terminalId !== RESUMABLE));
  await screenshot(page, 'list');

  // A phone's width.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.waitForFunction(() => window.innerWidth === 390, null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  const narrow = await page.evaluate(() => {
    const list = document.querySelector('.list-view');
    const rights = [...document.querySelectorAll('tr.session-row button, tr.session-row a, button[data-mode], input.filter')].map(
      (e) => e.getBoundingClientRect().right,
    );
    return {
      innerWidth: window.innerWidth,
      documentWidth: document.scrollingElement.scrollWidth,
      listScroll: list.scrollWidth,
      listWidth: list.clientWidth,
      rightmost: Math.max(...rights),
    };
  });
  check('at 390 px the list fits the window: nothing cut, no sideways scroll',
    narrow.documentWidth <= narrow.innerWidth && narrow.listScroll <= narrow.listWidth && narrow.rightmost <= narrow.innerWidth, narrow);
  await screenshot(page, '390px');
});
