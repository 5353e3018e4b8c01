/**
 * Entry point: takes the token from the address bar, opens the tab's one connection, and
 * shows the view the hash asks for (the session list or one session).
 *
 * Views come and go with the hash; the connection stays. Each view hears every `ready` and
 * every server message, and re-drives its own state from them, so a reconnect needs no
 * global bookkeeping here. The status pill in the top bar is the one place that tells the
 * user how the connection is doing.
 */

import type { ConnectionStatus } from './connection';
import { Connection } from './connection';
import { h, replaceChildren } from './dom';
import { ListView } from './list-view';
import { randomId } from './protocol';
import { parseLocation, webSocketUrl, withoutToken, type PageLocation } from './route';
import { TerminalView } from './terminal-view';
import { describeStatus } from './status';
import { loadToken, saveToken, type StorageLike } from './token-store';

type View = ListView | TerminalView;

/** What the page exposes for the e2e script and for poking around in devtools. */
interface PtyhubDebug {
  readonly view: string;
  readonly terminal: TerminalView['terminal'] | null;
  readonly status: ConnectionStatus;
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
  private token: string | null;
  private view: View | null = null;
  private location: PageLocation;
  /** Identifies this tab's attaches (the daemon keys attachments by it). */
  private readonly paneId = `web-${randomId(8)}`;
  private readonly main: HTMLElement;
  private readonly crumb: HTMLElement;
  private readonly statusPill: HTMLButtonElement;
  private readonly readonlyBadge: HTMLElement;
  private statusTicker: ReturnType<typeof setInterval> | null = null;
  private tokenProblem: 'missing' | 'refused' | null = null;
  /** Titles seen in the inventory and the list, for a session opened by a hash change. */
  private readonly titles = new Map<string, string>();

  constructor() {
    this.location = parseLocation(window.location);
    if (this.location.token !== null) {
      saveToken(storage(), this.location.token);
      window.history.replaceState(window.history.state, '', withoutToken(window.location));
    }
    this.token = this.location.token ?? loadToken(storage());
    this.main = requireElement('main');
    this.crumb = requireElement('crumb');
    this.statusPill = requireElement('status') as HTMLButtonElement;
    this.readonlyBadge = requireElement('readonly-badge');
    this.statusPill.addEventListener('click', () => this.connection.retryNow());

    this.connection = new Connection({
      url: webSocketUrl(window.location.protocol, window.location.host),
      token: () => this.token,
    });
    this.connection.onStatus((status) => this.onStatus(status));
    this.connection.onReady((info) => this.view?.onReady(info));
    this.connection.onMessage((message) => {
      if (message.type === 'terminal.inventory') {
        for (const t of message.terminals) this.titles.set(t.terminalId, t.title || t.mode);
      }
      this.view?.onMessage(message);
    });
    window.addEventListener('hashchange', () => this.onLocationChange());
    window.addEventListener('online', () => this.connection.retryNow());
    this.exposeDebug();
    this.showRoute();
    this.connection.start();
  }

  private onLocationChange(): void {
    this.location = parseLocation(window.location);
    if (this.tokenProblem === null) this.showRoute();
  }

  private showRoute(): void {
    this.view?.dispose();
    this.view = null;
    const { route, readonly } = this.location;
    this.readonlyBadge.hidden = !(readonly && route.kind === 'terminal');
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
      });
      replaceChildren(this.main, view.element);
      this.view = view;
    } else {
      this.setCrumb(this.titles.get(route.terminalId) ?? route.terminalId, route.terminalId);
      const view = new TerminalView({
        connection: this.connection,
        terminalId: route.terminalId,
        readonly,
        paneId: this.paneId,
        onTitle: (title) => this.setCrumb(title, route.terminalId),
      });
      replaceChildren(this.main, view.element);
      view.mount();
      this.view = view;
    }
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

  private showTokenForm(problem: 'missing' | 'refused'): void {
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
          saveToken(storage(), token);
          this.token = token;
          this.tokenProblem = null;
          this.showRoute();
          this.connection.start();
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
        h('h1', {}, problem === 'refused' ? 'The daemon refused this token' : 'This page needs the daemon’s token'),
        h(
          'p',
          {},
          problem === 'refused'
            ? 'The token this browser remembers is not the one the daemon was started with (it may have been restarted with a new one).'
            : 'No token is stored in this browser yet.',
        ),
        h(
          'p',
          {},
          'Open the link that ',
          h('code', {}, 'ptyhub serve'),
          ' printed (',
          h('code', {}, 'http://…/?token=…'),
          '), or paste the token here:',
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

function requireElement(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html lacks #${id}`);
  return element;
}

new App();
