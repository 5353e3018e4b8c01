/**
 * Entry point: takes the token from the address bar (or trades a login link's code for it),
 * opens the tab's one connection, and shows the view the hash asks for (the session list or
 * one session).
 *
 * Views come and go with the hash; the connection stays. Each view hears every `ready` and
 * every server message, and re-drives its own state from them, so a reconnect needs no
 * global bookkeeping here. The status pill in the top bar is the one place that tells the
 * user how the connection is doing.
 */

import { loadCopyOnSelect, saveCopyOnSelect } from './clipboard';
import type { ConnectionStatus } from './connection';
import { Connection } from './connection';
import { fetchInfo, type DaemonInfo } from './daemon-info';
import { h, replaceChildren } from './dom';
import { ListView } from './list-view';
import { randomId, themeReport } from './protocol';
import { Resumer } from './resume';
import { handToFreshell, redeemLoginCode } from './login-link';
import { parseLocation, terminalHash, webSocketUrl, withoutCredentials, type PageLocation } from './route';
import { destinationOf } from './session-actions';
import { fetchSessions, type SessionRow } from './sessions';
import { TerminalView } from './terminal-view';
import { THEME } from './theme';
import { describeStatus } from './status';
import { chooseToken, forgetToken, loadTokens, storeToken, type StorageLike } from './token-store';

type View = ListView | TerminalView;

/** Why the page asks for a token: none stored, refused, or a login link that opens nothing. */
type TokenProblem = 'missing' | 'refused' | 'spent-link';

/** What the page exposes for the e2e scripts and for poking around in devtools. */
interface PtyhubDebug {
  readonly view: string;
  readonly terminal: TerminalView['terminal'] | null;
  readonly status: ConnectionStatus;
  /** What the daemon said this page's token may do (`null` until it said). */
  readonly access: string | null;
  screenText(): string;
  bufferText(): string;
  lastSeq(): number;
  /** Closes the socket as a dropped network would (the page then reconnects). */
  dropConnection(): void;
  stats(): TerminalView['stats'] | null;
}

declare global {
  interface Window {
    ptyhub?: PtyhubDebug;
  }
}

function storage(): StorageLike | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

class App {
  private readonly connection: Connection;
  private readonly resumer: Resumer;
  private token: string | null;
  /** The token came with this page's address or the token form: stored once its rights are known. */
  private tokenToStore: boolean;
  /** What the daemon said about the token and itself; `null` until it answered. */
  private info: DaemonInfo | null = null;
  private view: View | null = null;
  private location: PageLocation;
  /** Identifies this tab's attaches (the daemon keys attachments by it). */
  private readonly paneId = `web-${randomId(8)}`;
  private readonly main: HTMLElement;
  private readonly crumb: HTMLElement;
  private readonly statusPill: HTMLButtonElement;
  private readonly readonlyBadge: HTMLElement;
  private statusTicker: ReturnType<typeof setInterval> | null = null;
  private tokenProblem: TokenProblem | null = null;
  /** Titles seen in the inventory and the list, for a session opened by a hash change. */
  private readonly titles = new Map<string, string>();
  private copyOnSelect = loadCopyOnSelect(storage());

  constructor() {
    this.location = parseLocation(window.location);
    const loginCode = this.location.login;
    // With a login code, the token comes from trading it (`signIn`).
    this.token =
      loginCode === null ? chooseToken(loadTokens(storage()), this.location.token, this.location.readonly) : null;
    this.tokenToStore = this.location.token !== null;
    if (this.location.token !== null || loginCode !== null) {
      window.history.replaceState(window.history.state, '', withoutCredentials(window.location));
    }
    this.main = requireElement('main');
    this.crumb = requireElement('crumb');
    this.statusPill = requireElement('status') as HTMLButtonElement;
    this.readonlyBadge = requireElement('readonly-badge');
    this.statusPill.addEventListener('click', () => this.connection.retryNow());

    this.connection = new Connection({
      url: webSocketUrl(window.location.protocol, window.location.host),
      token: () => this.token,
    });
    this.resumer = new Resumer(this.connection);
    this.connection.onStatus((status) => this.onStatus(status));
    this.connection.onReady((info) => {
      // Once per connection: the daemon answers colour queries with what this page shows.
      this.connection.send(themeReport(THEME));
      this.resumer.onReady();
      this.view?.onReady(info);
    });
    this.connection.onMessage((message) => {
      if (message.type === 'terminal.inventory') {
        for (const t of message.terminals) this.titles.set(t.terminalId, t.title || t.mode);
      }
      this.resumer.onMessage(message);
      this.view?.onMessage(message);
    });
    window.addEventListener('hashchange', () => this.onLocationChange());
    window.addEventListener('online', () => this.connection.retryNow());
    this.exposeDebug();
    if (loginCode !== null) void this.signIn(loginCode);
    else this.begin();
  }

  /** Shows the route and connects, once the page has its token (or knows it has none). */
  private begin(): void {
    this.showRoute();
    this.connection.start();
    void this.loadInfo();
  }

  /**
   * Trades a login link's code for its token. A code spent already (this browser opened the
   * link before, or it expired) is no loss where a token is stored: the page opens as the
   * plain address would. Elsewhere the page says how to get a new link.
   */
  private async signIn(code: string): Promise<void> {
    replaceChildren(
      this.main,
      h('section', { class: 'message-view', 'data-problem': 'signing-in' }, h('h1', {}, 'Signing in…')),
    );
    const outcome = await redeemLoginCode(code);
    if (outcome.ok) {
      storeToken(storage(), outcome.token, outcome.access);
      if (outcome.freshellFront && outcome.access === 'full') {
        // In front of freshell, the full link is freshell's way in as well: its page at `/`.
        handToFreshell(storage(), document, outcome.token);
        window.location.replace('/');
        return;
      }
      this.token = outcome.token;
      if (outcome.access === 'read-only') {
        // A reload keeps watching with the read-only token, whatever else is stored.
        window.history.replaceState(window.history.state, '', withoutCredentials(window.location, true));
        this.location = parseLocation(window.location);
      }
      this.begin();
      return;
    }
    if (!outcome.spent) {
      this.showSignInFailure(code, outcome.message);
      return;
    }
    this.token = chooseToken(loadTokens(storage()), null, this.location.readonly);
    if (this.token === null) this.showTokenForm('spent-link');
    else this.begin();
  }

  /** The daemon could not be asked: the code may still be good, so the page offers to try again. */
  private showSignInFailure(code: string, message: string): void {
    replaceChildren(
      this.main,
      h(
        'section',
        { class: 'message-view', 'data-problem': 'sign-in-failed' },
        h('h1', {}, 'Could not sign in'),
        h('p', {}, message),
        h('button', { class: 'primary', onclick: () => void this.signIn(code) }, 'Try again'),
      ),
    );
  }

  /**
   * A page is read-only when its address says so (`?view=readonly`) or its token is the
   * read-only one; either way the badge shows on every page.
   */
  private get readonly(): boolean {
    return this.location.readonly || this.info?.access === 'read-only';
  }

  /** Asks the daemon what the token may do; stores a new token under the key that fits it. */
  private async loadInfo(): Promise<void> {
    const token = this.token;
    if (token === null) return;
    const outcome = await fetchInfo(token);
    if (token !== this.token) return; // a newer token is being checked
    if (!outcome.ok) {
      if (outcome.unauthorized) {
        forgetToken(storage(), token);
        this.showTokenForm('refused');
      }
      return;
    }
    const wasReadonly = this.readonly;
    const firstAnswer = this.info === null;
    this.info = outcome.info;
    // A new token, or a read-only one an older page kept as the full token.
    if (this.tokenToStore || outcome.info.access === 'read-only') storeToken(storage(), token, outcome.info.access);
    this.tokenToStore = false;
    this.renderBadge();
    if (this.tokenProblem !== null) return;
    if (this.readonly !== wasReadonly && this.view instanceof TerminalView) this.showRoute();
    else if (firstAnswer || this.readonly !== wasReadonly) {
      if (this.view instanceof ListView) this.view.onAccessChange();
    }
  }

  private onLocationChange(): void {
    this.location = parseLocation(window.location);
    if (this.tokenProblem === null) this.showRoute();
  }

  private renderBadge(): void {
    this.readonlyBadge.hidden = !this.readonly;
    this.readonlyBadge.title =
      this.info?.access === 'read-only'
        ? 'This browser has only the read-only token: it can watch, never type, start or end sessions. Open the daemon’s full link to get them.'
        : 'This view sends neither keystrokes nor size changes';
  }

  /** Moves to another session's page without leaving an entry for the dead one in history. */
  private replaceWith(terminalId: string): void {
    window.location.replace(terminalHash(terminalId, this.location.readonly));
  }

  private resume(row: SessionRow, onError: (message: string) => void): void {
    const started = this.resumer.resume(
      row,
      (terminalId) => this.replaceWith(terminalId),
      onError,
    );
    if (!started) onError('this session cannot be resumed');
  }

  /** The session of a page is not live: follow it to its successor, or resume it. */
  private async onNotLive(view: TerminalView, terminalId: string, exited: boolean): Promise<void> {
    const token = this.token;
    if (token === null) return;
    const outcome = await fetchSessions(token);
    if (this.view !== view) return;
    const rows = outcome.ok ? outcome.rows : [];
    const destination = destinationOf(rows, terminalId);
    if (destination.kind === 'running') {
      this.replaceWith(destination.terminalId);
      return;
    }
    if (destination.kind === 'none') {
      if (!exited) view.showUnknown();
      return;
    }
    const row = destination.row;
    const what = row.title || row.mode;
    if (this.readonly) {
      if (!exited) {
        view.showNotResumable(
          `${what} is not running.`,
          'It can be resumed, but not from a read-only page: open it with the full token.',
        );
      }
      return;
    }
    const onError = (message: string): void => {
      if (this.view === view) view.showNotResumable(`Could not resume ${what}.`, message);
    };
    if (exited) {
      // It ran here and ended: its last screen stays until someone asks to resume.
      view.offerResume(() => {
        view.showResuming(what);
        this.resume(row, onError);
      });
      return;
    }
    // Remembered from before a restart: opening its address resumes it.
    view.showResuming(what);
    this.resume(row, onError);
  }

  private showRoute(): void {
    this.view?.dispose();
    this.view = null;
    this.resumer.cancel();
    const { route } = this.location;
    this.renderBadge();
    document.body.dataset.route = route.kind;
    if (route.kind === 'list') {
      this.setCrumb('');
      const view = new ListView({
        connection: this.connection,
        token: () => this.token,
        navigate: (hash) => {
          window.location.hash = hash;
        },
        onUnauthorized: () => this.showTokenForm('refused'),
        onRows: (rows) => {
          for (const row of rows) this.titles.set(row.terminalId, row.title || row.mode);
        },
        canChange: () => !this.readonly && this.info !== null,
        providers: () => this.info?.providers ?? null,
        resume: (row, onError) => this.resume(row, onError),
      });
      view.element.append(this.settingsFooter());
      replaceChildren(this.main, view.element);
      this.view = view;
    } else {
      const terminalId = route.terminalId;
      this.setCrumb(this.titles.get(terminalId) ?? terminalId, terminalId);
      const view: TerminalView = new TerminalView({
        connection: this.connection,
        terminalId,
        readonly: this.readonly,
        paneId: this.paneId,
        onTitle: (title) => this.setCrumb(title, terminalId),
        onNotLive: (exited) => void this.onNotLive(view, terminalId, exited),
        copyOnSelect: () => this.copyOnSelect,
        token: () => this.token,
      });
      replaceChildren(this.main, view.element);
      view.mount();
      this.view = view;
    }
  }

  /** The page's one setting, below the list. */
  private settingsFooter(): HTMLElement {
    const box = h('input', { type: 'checkbox', name: 'copy-on-select', checked: this.copyOnSelect });
    box.addEventListener('change', () => {
      this.copyOnSelect = box.checked;
      saveCopyOnSelect(storage(), box.checked);
    });
    return h(
      'footer',
      { class: 'list-footer' },
      h('label', {}, box, ' Copy text when it is selected in a terminal'),
      h(
        'p',
        { class: 'keys' },
        'In a terminal: ',
        h('kbd', {}, 'Ctrl+Shift+C'),
        ' copy, ',
        h('kbd', {}, 'Ctrl+Shift+V'),
        ' paste, ',
        h('kbd', {}, 'Ctrl+Shift+F'),
        ' find (',
        h('kbd', {}, 'Enter'),
        ' next, ',
        h('kbd', {}, 'Shift+Enter'),
        ' previous, ',
        h('kbd', {}, 'Esc'),
        ' close), ',
        h('kbd', {}, 'Shift+Enter'),
        ' a new line (Ctrl+J).',
      ),
    );
  }

  private setCrumb(title: string, terminalId?: string): void {
    replaceChildren(
      this.crumb,
      title ? h('span', { class: 'crumb-title' }, title) : null,
      terminalId && terminalId !== title ? h('code', { class: 'crumb-id' }, terminalId) : null,
    );
    document.title = title ? `${title} — ptyhub` : 'ptyhub';
  }

  private onStatus(status: ConnectionStatus): void {
    if (this.statusTicker !== null) clearInterval(this.statusTicker);
    this.statusTicker = null;
    this.renderStatus(status);
    if (status.kind === 'reconnecting') {
      this.statusTicker = setInterval(() => this.renderStatus(status), 250);
    }
    if (status.kind === 'no_token') this.showTokenForm('missing');
    else if (status.kind === 'failed') {
      if (status.reason === 'auth') this.showTokenForm('refused');
      else this.showFatal(status.reason);
    }
    if (this.view instanceof ListView) this.view.onStatusChange();
  }

  private renderStatus(status: ConnectionStatus): void {
    const [kind, text, hint] = describeStatus(status);
    this.statusPill.className = `status status-${kind}`;
    this.statusPill.textContent = text;
    this.statusPill.title = hint;
    this.statusPill.dataset.status = status.kind;
  }

  private showTokenForm(problem: TokenProblem): void {
    this.tokenProblem = problem;
    this.view?.dispose();
    this.view = null;
    const field = h('input', {
      type: 'password',
      name: 'token',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'paste the token',
      'aria-label': 'token',
      required: true,
    });
    const form = h(
      'form',
      {
        class: 'token-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const token = field.value.trim();
          if (token === '') return;
          this.token = token;
          this.tokenToStore = true;
          this.info = null;
          this.tokenProblem = null;
          this.showRoute();
          this.connection.start();
          void this.loadInfo();
        },
      },
      field,
      h('button', { type: 'submit', class: 'primary' }, 'Connect'),
    );
    replaceChildren(
      this.main,
      h(
        'section',
        { class: 'message-view token-view', 'data-problem': problem },
        h('h1', {}, TOKEN_PROBLEM_TITLES[problem]),
        h('p', {}, TOKEN_PROBLEM_TEXTS[problem]),
        h(
          'p',
          {},
          'Run ',
          h('code', {}, 'ptyhub url'),
          ' on the daemon’s machine and open the link it prints (',
          h('code', {}, 'ptyhub url --read-only'),
          ' for one that can only watch), or paste the token here:',
        ),
        form,
      ),
    );
    field.focus();
  }

  private showFatal(reason: 'busy' | 'protocol'): void {
    this.view?.dispose();
    this.view = null;
    replaceChildren(
      this.main,
      h(
        'section',
        { class: 'message-view' },
        h('h1', {}, reason === 'busy' ? 'The daemon is busy' : 'This page is out of date'),
        h(
          'p',
          {},
          reason === 'busy'
            ? 'It has reached its limit of connections. Close some ptyhub tabs, then reload.'
            : 'The daemon speaks another protocol version than this page. Reload to get the current page.',
        ),
        h('button', { class: 'primary', onclick: () => window.location.reload() }, 'Reload'),
      ),
    );
  }

  private exposeDebug(): void {
    const app = this;
    window.ptyhub = {
      get view() {
        return app.view instanceof TerminalView ? 'terminal' : app.view instanceof ListView ? 'list' : 'none';
      },
      get terminal() {
        return app.view instanceof TerminalView ? app.view.terminal : null;
      },
      get status() {
        return app.connection.current;
      },
      get access() {
        return app.info?.access ?? null;
      },
      screenText() {
        return app.view instanceof TerminalView ? app.view.screenLines().join('\n') : '';
      },
      bufferText() {
        return app.view instanceof TerminalView ? app.view.bufferLines().join('\n') : '';
      },
      dropConnection() {
        app.connection.drop();
      },
      lastSeq() {
        return app.view instanceof TerminalView ? app.view.lastSeq : 0;
      },
      stats() {
        return app.view instanceof TerminalView ? { ...app.view.stats } : null;
      },
    };
  }
}

const TOKEN_PROBLEM_TITLES: Record<TokenProblem, string> = {
  missing: 'This page needs the daemon’s token',
  refused: 'The daemon refused this token',
  'spent-link': 'This login link was used already or has expired',
};

const TOKEN_PROBLEM_TEXTS: Record<TokenProblem, string> = {
  missing: 'No token is stored in this browser yet.',
  refused:
    'The token this browser remembers is not the one the daemon was started with (it may have been restarted with a new one).',
  'spent-link':
    'A link ptyhub prints opens a browser once, within minutes, so that the browser’s history never holds a way in.',
};

function requireElement(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html lacks #${id}`);
  return element;
}

new App();
