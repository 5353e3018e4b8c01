// One PTY, several pages of different sizes (issues 12 and 15): the page that typed last sets
// the size; a page that only watches — opening, reloading — never resizes the PTY, draws the
// terminal at the PTY's size (no wrong wrapping) and says so, with a button that takes the size
// for its own window; a read-only page follows the size and offers nothing.
//
// The session runs the winch-counter fixture, which prints "WINCH:<n>:<cols>x<rows>" for every
// size change it is given: the count is read from the typist's page.
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_VIEW_TOKEN=… PTYHUB_TERMINAL=<winch-counter> node e2e/size_driver.mjs

import { DAEMON_URL, POLL, runScript, TOKEN, VIEW_TOKEN, waitLive } from './harness.mjs';

const TERMINAL = process.env.PTYHUB_TERMINAL ?? '';
const RELOADS = 5;

const pageUrl = (token, readonly = false) =>
  `${DAEMON_URL}/?token=${encodeURIComponent(token)}${readonly ? '&view=readonly' : ''}#/t/${encodeURIComponent(TERMINAL)}`;

/** What a page shows and knows about the size. */
function sizeState() {
  const stats = window.ptyhub.stats();
  const note = document.querySelector('.size-note');
  return {
    cols: window.ptyhub.terminal.cols,
    rows: window.ptyhub.terminal.rows,
    ptySize: stats.ptySize,
    drivesSize: stats.drivesSize,
    noteShown: note !== null && !note.hidden,
    noteText: note?.innerText ?? '',
    takeButton: document.querySelector('.size-note [data-action="take-size"]') !== null,
  };
}

const winches = (page) => page.evaluate(() => (window.ptyhub.bufferText().match(/WINCH:\d+:\d+x\d+/g) ?? []));

async function open(context, url, viewport) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  await page.goto(url);
  await waitLive(page);
  return page;
}

/** Waits until `page` knows the PTY is `cols`×`rows` and draws it so. */
async function shownAt(page, cols, rows) {
  await page.waitForFunction(
    ([c, r]) => {
      const stats = window.ptyhub.stats();
      return stats.ptySize?.cols === c && stats.ptySize?.rows === r && window.ptyhub.terminal.cols === c && window.ptyhub.terminal.rows === r;
    },
    [cols, rows],
    POLL,
  );
  return page.evaluate(sizeState);
}

await runScript('size_driver', async (context, { check, screenshot, facts }) => {
  const typist = await open(context, pageUrl(TOKEN), { width: 1100, height: 640 });
  await typist.click('.term-host');
  await typist.keyboard.type('a');
  const big = await typist.evaluate(() => ({ cols: window.ptyhub.terminal.cols, rows: window.ptyhub.terminal.rows }));
  await typist.waitForFunction(([c, r]) => window.ptyhub.bufferText().includes(`${c}x${r}`), [big.cols, big.rows], POLL);
  const typistState = await shownAt(typist, big.cols, big.rows);
  check('the page that typed drives the size and shows no note', typistState.drivesSize && !typistState.noteShown, typistState);
  const before = await winches(typist);

  const watcher = await open(context, pageUrl(TOKEN), { width: 640, height: 380 });
  let watching = await shownAt(watcher, big.cols, big.rows);
  facts.watcher = watching;
  check('a smaller page that only watches draws the terminal at the PTY’s size', watching.cols === big.cols && watching.rows === big.rows, watching);
  check('it says the size is set elsewhere and offers to take it', watching.noteShown && watching.takeButton && !watching.drivesSize, watching);
  await screenshot(watcher, 'watching');
  for (let i = 0; i < RELOADS; i++) {
    await watcher.reload();
    await waitLive(watcher);
    watching = await shownAt(watcher, big.cols, big.rows);
  }
  // A request the daemon answers after everything the reloads sent.
  await fetch(`${DAEMON_URL}/ptyhub/api/sessions`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const afterReloads = await winches(typist);
  check(`${RELOADS} reloads of the watching page resize the PTY 0 times`, afterReloads.length === before.length, { before, afterReloads });

  const viewer = await open(context, pageUrl(VIEW_TOKEN, true), { width: 700, height: 420 });
  const reading = await shownAt(viewer, big.cols, big.rows);
  check('a read-only page follows the PTY’s size and offers no button', reading.noteShown && !reading.takeButton, reading);

  await watcher.click('.size-note [data-action="take-size"]');
  const small = await watcher.evaluate(() => ({ cols: window.ptyhub.terminal.cols, rows: window.ptyhub.terminal.rows }));
  await typist.waitForFunction(
    ([n, c, r]) => (window.ptyhub.bufferText().match(/WINCH:\d+:\d+x\d+/g) ?? []).length > n && window.ptyhub.terminal.cols === c && window.ptyhub.terminal.rows === r,
    [before.length, small.cols, small.rows],
    POLL,
  );
  const taken = await watcher.evaluate(sizeState);
  check('“Use this window’s size” gives the PTY the watcher’s window, and its note goes', taken.drivesSize && !taken.noteShown && small.cols < big.cols, { taken, small, big });
  const typistNow = await typist.evaluate(sizeState);
  check('the former typist now draws at the new size and is offered to take it back', typistNow.noteShown && typistNow.takeButton && typistNow.cols === small.cols, typistNow);
  await shownAt(viewer, small.cols, small.rows);
  await screenshot(typist, 'taken-over');
  const afterTake = await winches(typist);
  check('taking the size resized the PTY exactly once', afterTake.length === before.length + 1 && afterTake.at(-1).endsWith(`${small.cols}x${small.rows}`), afterTake);

  await typist.click('.term-host');
  await typist.keyboard.type('b');
  const back = await shownAt(typist, big.cols, big.rows);
  check('typing in the first page takes its size back', back.drivesSize && !back.noteShown, back);
  await shownAt(watcher, big.cols, big.rows);
  const final = await winches(typist);
  check('and that is one more resize', final.length === before.length + 2, final);
  facts.winches = final;
});
