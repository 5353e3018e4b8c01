// The terminal fits the window exactly at every height (issue 15): at 20 window heights —
// among them 600 and 616 px, where the grid used to be 6 px taller than the window — the
// document never scrolls, the last row lies wholly inside the window, and no whole free row is
// left under the grid. Then at 390 px wide (a phone) the same holds.
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_TERMINAL=<a running shell> node e2e/sizing.mjs

import { DAEMON_URL, POLL, runScript, STEP_TIMEOUT_MS, TOKEN, waitLive } from './harness.mjs';

const TERMINAL = process.env.PTYHUB_TERMINAL ?? '';
const HEIGHTS = [300, 333, 371, 400, 419, 450, 487, 512, 540, 577, 600, 601, 616, 633, 666, 700, 733, 768, 811, 900];
const WIDE = 1000;
const NARROW = 390;

/** The page's geometry, as the checks need it. */
function measure() {
  const terminal = window.ptyhub.terminal;
  const host = document.querySelector('.term-host').getBoundingClientRect();
  const screen = document.querySelector('.xterm-screen').getBoundingClientRect();
  return {
    innerHeight: window.innerHeight,
    innerWidth: window.innerWidth,
    documentHeight: document.scrollingElement.scrollHeight,
    documentWidth: document.scrollingElement.scrollWidth,
    rows: terminal.rows,
    cols: terminal.cols,
    hostBottom: host.bottom,
    hostHeight: host.height,
    screenBottom: screen.bottom,
    screenRight: screen.right,
    cellHeight: screen.height / terminal.rows,
    fits: window.ptyhub.stats().fits,
  };
}

/** Resizes the window and waits until the terminal has been fitted to it. */
async function resizeTo(page, width, height) {
  const before = await page.evaluate(() => window.ptyhub.stats().fits);
  await page.setViewportSize({ width, height });
  await page.waitForFunction(
    ([w, h, fits]) => window.innerWidth === w && window.innerHeight === h && window.ptyhub.stats().fits > fits,
    [width, height, before],
    POLL,
  );
  // Two frames: whatever the fit changed has been laid out.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return page.evaluate(measure);
}

function fitsExactly(m) {
  const slack = 0.5; // sub-pixel rounding
  return (
    m.documentHeight <= m.innerHeight &&
    m.screenBottom <= m.innerHeight + slack &&
    m.screenBottom <= m.hostBottom + slack &&
    m.hostBottom - m.screenBottom < m.cellHeight
  );
}

await runScript('sizing', async (context, { check, screenshot, facts }) => {
  const page = await context.newPage();
  await page.goto(`${DAEMON_URL}/?token=${encodeURIComponent(TOKEN)}#/t/${encodeURIComponent(TERMINAL)}`);
  await waitLive(page);
  await page.waitForFunction(() => (window.ptyhub?.bufferText() ?? '').trim() !== '', null, { timeout: STEP_TIMEOUT_MS, polling: 50 });
  const wrong = [];
  const rows = new Set();
  for (const height of HEIGHTS) {
    const m = await resizeTo(page, WIDE, height);
    rows.add(m.rows);
    if (!fitsExactly(m)) wrong.push({ height, ...m });
  }
  facts.rowCounts = [...rows];
  check(`the terminal fits exactly at ${HEIGHTS.length} heights`, wrong.length === 0, wrong);
  check('every height gave its own grid, not one stuck size', rows.size >= HEIGHTS.length / 2, [...rows]);
  await resizeTo(page, WIDE, 616);
  await screenshot(page, '616px');

  const narrow = await resizeTo(page, NARROW, 700);
  check('at 390 px wide the terminal fits and the page does not scroll sideways',
    fitsExactly(narrow) && narrow.documentWidth <= narrow.innerWidth && narrow.screenRight <= narrow.innerWidth + 0.5,
    narrow);
  await screenshot(page, '390px');
});
