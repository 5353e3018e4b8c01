/**
 * The page at `/`: every session the daemon remembers, and buttons that start a new one.
 *
 * A new session is a `terminal.create` with a fresh requestId; the view then navigates to
 * the session's own URL, where the terminal view attaches (create never attaches). While a
 * create is unanswered and the socket reconnects, the same requestId is sent again, so the
 * daemon's requestId dedupe turns a retried click into one process, never two.
 */

import type { Connection, ReadyInfo } from './connection';
import { h, replaceChildren } from './dom';
import { create, newRequestId, type ServerMessage } from './protocol';
import { terminalHash } from './route';
import { age, fetchSessions, rowFromInventory, type SessionRow } from './sessions';

/** freshell's client debounces `terminals.changed` refetches by 50 ms. */
const CHANGED_DEBOUNCE_MS = 50;
/** Viewer counts change without a `terminals.changed`; refresh them this often while shown. */
const POLL_INTERVAL_MS = 5_000;

/** The modes offered as buttons, with their labels. */
const START_BUTTONS: ReadonlyArray<{ mode: string; label: string }> = [
  { mode: 'shell', label: 'New shell' },
  { mode: 'claude', label: 'New agent (claude)' },
];

export interface ListViewDeps {
  connection: Connection;
  token: () => string | null;
  navigate: (hash: string) => void;
  onUnauthorized: () => void;
  /** Hears every fresh set of rows (the app keeps the titles). */
  onRows: (rows: ReadonlyArray<SessionRow>) => void;
}

export class ListView {
  readonly element: HTMLElement;
  private rows: SessionRow[] = [];
  private loaded = false;
  private pendingCreate: { requestId: string; mode: string } | null = null;
  private error: string | null = null;
  private changedTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval>;
  private disposed = false;
  private readonly toolbar: HTMLElement;
  private readonly body: HTMLElement;
  private readonly notice: HTMLElement;

  constructor(private readonly deps: ListViewDeps) {
    this.toolbar = h('div', { class: 'toolbar' });
    this.notice = h('p', { class: 'notice', role: 'alert', hidden: true });
    this.body = h('div', { class: 'session-table-wrap' });
    this.element = h(
      'section',
      { class: 'list-view' },
      h('div', { class: 'list-head' }, h('h1', {}, 'Sessions'), this.toolbar),
      this.notice,
      this.body,
    );
    this.pollTimer = setInterval(() => {
      if (this.deps.connection.connected) void this.refresh();
    }, POLL_INTERVAL_MS);
    this.render();
    if (this.deps.connection.connected) void this.refresh();
  }

  onReady(_info: ReadyInfo): void {
    if (this.pendingCreate !== null) {
      this.deps.connection.send(create(this.pendingCreate.requestId, this.pendingCreate.mode));
    }
    this.render();
  }

  onStatusChange(): void {
    this.renderToolbar();
  }

  onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'terminal.inventory':
        if (!this.loaded) {
          this.rows = message.terminals.map(rowFromInventory);
          this.renderTable();
        }
        void this.refresh();
        break;
      case 'terminals.changed':
        if (this.changedTimer !== null) clearTimeout(this.changedTimer);
        this.changedTimer = setTimeout(() => void this.refresh(), CHANGED_DEBOUNCE_MS);
        break;
      case 'terminal.created':
        if (this.pendingCreate?.requestId === message.requestId) {
          this.pendingCreate = null;
          this.deps.navigate(terminalHash(message.terminalId));
        }
        break;
      case 'error':
        if (message.requestId !== undefined && this.pendingCreate?.requestId === message.requestId) {
          this.error = `Could not start ${this.pendingCreate.mode}: ${message.message} (${message.code})`;
          this.pendingCreate = null;
          this.render();
        }
        break;
      default:
        break;
    }
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.pollTimer);
    if (this.changedTimer !== null) clearTimeout(this.changedTimer);
  }

  private start(mode: string): void {
    if (this.pendingCreate !== null) return;
    this.pendingCreate = { requestId: newRequestId(), mode };
    this.error = null;
    if (!this.deps.connection.send(create(this.pendingCreate.requestId, mode))) {
      // Sent again on the next `ready`, with the same requestId.
      this.error = 'Not connected: the session will start once the connection is back.';
    }
    this.render();
  }

  private async refresh(): Promise<void> {
    const token = this.deps.token();
    if (token === null) return;
    const outcome = await fetchSessions(token);
    if (this.disposed) return;
    if (outcome.ok) {
      this.rows = outcome.rows;
      this.loaded = true;
      this.deps.onRows(outcome.rows);
      if (this.error?.startsWith('Session list:')) this.error = null;
    } else if (outcome.unauthorized) {
      this.deps.onUnauthorized();
      return;
    } else {
      this.error = `Session list: ${outcome.message}`;
    }
    this.render();
  }

  private render(): void {
    this.renderToolbar();
    this.notice.hidden = this.error === null;
    this.notice.textContent = this.error ?? '';
    this.renderTable();
  }

  private renderToolbar(): void {
    const connected = this.deps.connection.connected;
    replaceChildren(
      this.toolbar,
      ...START_BUTTONS.map(({ mode, label }) => {
        const pending = this.pendingCreate?.mode === mode;
        return h(
          'button',
          {
            class: mode === 'shell' ? 'primary' : '',
            'data-mode': mode,
            disabled: !connected || this.pendingCreate !== null,
            onclick: () => this.start(mode),
          },
          pending ? 'Starting…' : label,
        );
      }),
    );
  }

  private renderTable(): void {
    if (this.rows.length === 0) {
      replaceChildren(
        this.body,
        h(
          'p',
          { class: 'empty' },
          this.loaded || this.deps.connection.connected ? 'No sessions yet. Start a shell or an agent.' : 'Loading…',
        ),
      );
      return;
    }
    const now = Date.now();
    const head = h(
      'tr',
      {},
      ...['Title', 'Mode', 'Status', 'Viewers', 'Directory', 'Session', 'Started', ''].map((label) =>
        h('th', { scope: 'col' }, label),
      ),
    );
    const rows = this.rows.map((row) => {
      const open = terminalHash(row.terminalId);
      const ref = row.sessionRef;
      return h(
        'tr',
        { class: `session-row status-${row.status}`, 'data-terminal-id': row.terminalId },
        h('td', { class: 'title' }, h('a', { href: open }, row.title || row.mode), h('code', { class: 'id' }, row.terminalId)),
        h('td', {}, h('span', { class: `mode mode-${row.mode}` }, row.mode)),
        h(
          'td',
          {},
          h(
            'span',
            { class: `state state-${row.status}` },
            row.status === 'running' ? 'running' : row.exitCode === null ? 'exited' : `exited (${row.exitCode})`,
          ),
        ),
        h('td', { class: 'num' }, row.viewers === null ? '–' : String(row.viewers)),
        h('td', { class: 'cwd', title: row.cwd ?? '' }, row.cwd ?? '–'),
        h(
          'td',
          { class: 'ref', title: ref ? `${ref.provider}:${ref.sessionId}` : '' },
          ref ? `${ref.provider}:${ref.sessionId.slice(0, 8)}` : '–',
        ),
        h('td', { title: new Date(row.createdAt).toISOString() }, age(row.createdAt, now)),
        h(
          'td',
          { class: 'actions' },
          row.status === 'running' ? h('a', { href: terminalHash(row.terminalId, true), class: 'quiet' }, 'read-only') : null,
        ),
      );
    });
    replaceChildren(
      this.body,
      h('table', { class: 'sessions' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    );
  }
}
