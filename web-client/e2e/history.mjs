// The daemon's printed links in a real browser profile (issue 16): the full link and the
// read-only link each open with their rights, the page can type, a spent link opens with
// what the browser stored (or, with nothing stored, says how to get a new one). The profile
// is left in PTYHUB_PROFILE for tests/web_client_history.rs, which reads what chromium wrote
// into its History database once the browser has closed: no token may be there.
//
//   PTYHUB_URL=… PTYHUB_TOKEN=… PTYHUB_VIEW_TOKEN=… PTYHUB_LOGIN_LINK=… PTYHUB_READONLY_LINK=… \
//   PTYHUB_PROFILE=<empty dir> node e2e/history.mjs

import { POLL, routeTerminalId, runScript, STEP_TIMEOUT_MS, TOKEN, typeLine, VIEW_TOKEN, waitForText, waitLive } from './harness.mjs';

const LOGIN_LINK = process.env.PTYHUB_LOGIN_LINK ?? '';
const READONLY_LINK = process.env.PTYHUB_READONLY_LINK ?? '';
const PROFILE = process.env.PTYHUB_PROFILE;
if (!LOGIN_LINK || !READONLY_LINK || !PROFILE) {
  console.error('PTYHUB_LOGIN_LINK, PTYHUB_READONLY_LINK and PTYHUB_PROFILE must be set');
  process.exit(2);
}

const stored = (page) =>
  page.evaluate(() => ({ full: localStorage.getItem('ptyhub.auth-token'), view: localStorage.getItem('ptyhub.view-token') }));
const access = (page) => page.waitForFunction(() => window.ptyhub?.access ?? null, null, POLL).then((h) => h.jsonValue());
const holdsNoSecret = (url) => !url.includes('login=') && !url.includes(TOKEN) && !url.includes(VIEW_TOKEN);

await runScript(
  'history',
  async (context, { check, facts }) => {
    // 1. The full link the daemon printed: full rights, and typing reaches a shell.
    const full = await context.newPage();
    await full.goto(LOGIN_LINK);
    check('the printed link gives full access', (await access(full)) === 'full');
    check('the address bar holds neither code nor token', holdsNoSecret(full.url()), full.url());
    await full.waitForSelector('button[data-mode="shell"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
    await full.click('button[data-mode="shell"]');
    await waitLive(full);
    facts.terminalId = routeTerminalId(full);
    await typeLine(full, 'echo typed-$((40+2))');
    await waitForText(full, 'typed-42');
    check('the page types into a shell', true);
    check('the full token is stored', (await stored(full)).full === TOKEN);

    // 2. The read-only link: watching rights, kept apart from the full token.
    const ro = await context.newPage();
    await ro.goto(READONLY_LINK);
    check('the read-only link gives read-only access', (await access(ro)) === 'read-only');
    check('the read-only page keeps ?view=readonly and drops the code', holdsNoSecret(ro.url()) && ro.url().includes('view=readonly'), ro.url());
    await ro.waitForSelector('#readonly-badge:not([hidden])', { timeout: STEP_TIMEOUT_MS });
    const afterRo = await stored(ro);
    check('both tokens are stored, each under its own key', afterRo.full === TOKEN && afterRo.view === VIEW_TOKEN);

    // 3. The full link again, spent: this browser has the token, so it simply opens.
    const again = await context.newPage();
    await again.goto(LOGIN_LINK);
    check('a spent link opens with the stored token', (await access(again)) === 'full');
    check('the spent link leaves the address bar too', holdsNoSecret(again.url()), again.url());

    // 4. The same spent link where nothing is stored: the page says what to do.
    await again.evaluate(() => localStorage.clear());
    const fresh = await context.newPage();
    await fresh.goto(LOGIN_LINK);
    await fresh.waitForSelector('[data-problem="spent-link"]', { timeout: STEP_TIMEOUT_MS });
    const text = await fresh.innerText('[data-problem="spent-link"]');
    check('a spent link with nothing stored says to run ptyhub url', text.includes('ptyhub url'), text);
    facts.visited = context.pages().map((p) => p.url());
  },
  undefined,
  { profileDir: PROFILE },
);
