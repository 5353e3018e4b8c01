// Find in the scrollback, copy and paste (issue 15): a line printed before 2 000 others is
// found with Ctrl+Shift+F (its match counted, selected and scrolled into view) without a key
// reaching the shell; Ctrl+Shift+C copies the terminal's selection to the clipboard and
// Ctrl+Shift+V pastes into the session; Shift+Enter types a newline (Ctrl+J), as freshell's
// page does.
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_TERMINAL=<a running shell> node e2e/search.mjs

import { DAEMON_URL, POLL, runScript, STEP_TIMEOUT_MS, TOKEN, typeLine, waitForText, waitLive } from './harness.mjs';

const TERMINAL = process.env.PTYHUB_TERMINAL ?? '';
const SCROLLED_LINES = 2000;

await runScript('search', async (context, { check, screenshot, facts }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: DAEMON_URL });
  const page = await context.newPage();
  await page.goto(`${DAEMON_URL}/?token=${encodeURIComponent(TOKEN)}#/t/${encodeURIComponent(TERMINAL)}`);
  await waitLive(page);
  await typeLine(page, `echo needle-early-$((6*7)); seq 1 ${SCROLLED_LINES}; echo done-$((1+1))`);
  await waitForText(page, 'done-2');
  const before = await page.evaluate(() => {
    const buffer = window.ptyhub.terminal.buffer.active;
    return { viewportY: buffer.viewportY, baseY: buffer.baseY };
  });
  check('the early line has scrolled out of view', before.viewportY === before.baseY && before.baseY > SCROLLED_LINES / 2, before);

  await page.click('.term-host');
  await page.keyboard.press('Control+Shift+F');
  await page.waitForSelector('.search-bar:not([hidden]) .search-input:focus', { timeout: STEP_TIMEOUT_MS });
  await page.keyboard.type('needle-early-42');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.search-bar')?.dataset.results !== undefined, null, POLL);
  const found = await page.evaluate(() => {
    const terminal = window.ptyhub.terminal;
    const buffer = terminal.buffer.active;
    let line = -1;
    for (let y = 0; y < buffer.length; y++) {
      if (buffer.getLine(y)?.translateToString(true) === 'needle-early-42') line = y;
    }
    return {
      count: document.querySelector('.search-count')?.textContent,
      results: document.querySelector('.search-bar')?.dataset.results,
      selection: terminal.getSelection(),
      line,
      viewportY: buffer.viewportY,
      rows: terminal.rows,
    };
  });
  facts.found = found;
  check('the search counts one match', found.results === '1' && found.count === '1 of 1', found);
  check('the match is selected', found.selection === 'needle-early-42', found);
  check('the view scrolled to the match', found.line >= found.viewportY && found.line < found.viewportY + found.rows, found);
  await screenshot(page, 'found');
  await page.keyboard.press('Escape');
  await page.waitForSelector('.search-bar[hidden]', { state: 'attached', timeout: STEP_TIMEOUT_MS });
  await typeLine(page, 'echo after-$((2+2))');
  await waitForText(page, 'after-4');
  const commandLine = (await page.evaluate(() => window.ptyhub.bufferText()))
    .split('\n')
    .find((line) => line.includes('echo after-$((2+2))'));
  check('no key typed into the search bar reached the shell', commandLine !== undefined && !commandLine.includes('needle'), commandLine);

  // Copy: select the early line, Ctrl+Shift+C.
  await page.evaluate(() => {
    const terminal = window.ptyhub.terminal;
    const buffer = terminal.buffer.active;
    for (let y = 0; y < buffer.length; y++) {
      if (buffer.getLine(y)?.translateToString(true) === 'needle-early-42') {
        terminal.select(0, y, 'needle-early-42'.length);
        break;
      }
    }
  });
  await page.evaluate(() => window.ptyhub.terminal.focus());
  await page.keyboard.press('Control+Shift+C');
  const copied = await page.waitForFunction(() => navigator.clipboard.readText().then((t) => (t === 'needle-early-42' ? t : null)), null, POLL)
    .then((handle) => handle.jsonValue())
    .catch(() => null);
  check('Ctrl+Shift+C copies the selection', copied === 'needle-early-42', copied);

  // Paste: Ctrl+Shift+V types the clipboard into the session.
  await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((2+3))'));
  await page.evaluate(() => window.ptyhub.terminal.focus());
  await page.keyboard.press('Control+Shift+V');
  await page.keyboard.press('Enter');
  await waitForText(page, 'pasted-5');
  check('Ctrl+Shift+V pastes into the session', (await page.evaluate(() => window.ptyhub.bufferText())).includes('pasted-5'));

  // Shift+Enter: a newline (Ctrl+J), as freshell's page types it; the shell shows the bytes.
  // The marker is computed, so the echo of the command line itself never matches it.
  await typeLine(page, 'stty raw -echo; od -An -tx1 -N3; stty sane; echo od-$((6*7))-done');
  await page.keyboard.type('ab');
  await page.keyboard.press('Shift+Enter');
  await waitForText(page, 'od-42-done');
  const typed = await page.evaluate(() => window.ptyhub.bufferText());
  check('Shift+Enter types a newline (0a), not a carriage return (0d)', typed.includes('61 62 0a'), typed.split('\n').filter((l) => l.includes('61 62')));
});
