/**
 * The page at `/`: every session the daemon remembers, a filter, and what can be done with
 * them — open, resume, rename, kill, remove, start a new one.
 *
 * A new session is a `terminal.create` with a fresh requestId; the view then navigates to
 * the session's own URL, where the terminal view attaches (create never attaches). While a
 * create is unanswered and the socket reconnects, the same requestId is sent again, so the
 * daemon's requestId dedupe turns a retried click into one process, never two.
 *
 * Only what works is offered: start buttons for the providers the daemon can start, and no
 * button that changes anything on a read-only page (the daemon would refuse it anyway).
 */

import type { Connection, ReadyInfo } from './connection';
import { startLabel, type StartableProvider } from './daemon-info';
import { h, replaceChildren } from './dom';
import { create, newRequestId, type ServerMessage } from './protocol';
import { terminalHash } from './route';
import { clearable, filterRows, forgetSession, killMessage, renameSession, type ActionOutcome } from './session-actions';
import { age, fetchSessions, rowFromInventory, type SessionRow } from './sessions';

/** freshell's client debounces `terminals.changed` refetches by 50 ms. */
const CHANGED_DEBOUNCE_MS = 50;
/** Viewer counts change without a `terminals.changed`; refresh them this often while shown. */
const POLL_INTERVAL_MS = 5_000;
/** How long a "Kill?" button waits for the confirming second click. */
const KILL_CONFIRM_MS = 4_000;

export interface ListViewDeps {
  connection: Connection;
  token: () => string | null;
  navigate: (hash: string) => void;
  onUnauthorized: () => void;
  /** Hears every fresh set of rows (the app keeps the titles). */
  onRows: (rows: ReadonlyArray<SessionRow>) => void;
  /** Whether this page may change anything (false on a read-only link or token). */
  canChange: () => boolean;
  /** Providers the daemon can start; `null` until it has said. */
  providers: () => ReadonlyArray<StartableProvider> | null;
  /** Resumes `row`'s session and opens it; an error comes back as text. */
  resume: (row: SessionRow, onError: (message: string) => void) => void;
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
  /** The row whose title is being edited: the table is not redrawn under the editor. */
  private renaming: string | null = null;
  /** The row whose "Kill?" waits for a second click, until when. */
  private killArmed: { terminalId: string; until: number } | null = null;
  private readonly toolbar: HTMLElement;
  private readonly filter: HTMLInputElement;
  private readonly body: HTMLElement;
  private readonly notice: HTMLElement;
  private readonly readonlyNote: HTMLElement;

  constructor(private readonly deps: ListViewDeps) {
    this.toolbar = h('div', { class: 'toolbar' });
    this.filter = h('input', {
      type: 'search',
      class: 'filter',
      placeholder: 'Filter sessions',
      'aria-label': 'Filter sessions',
      spellcheck: 'false',
      autocomplete: 'off',
    });
    this.filter.addEventListener('input', () => this.renderTable());
    this.notice = h('p', { class: 'notice', role: 'alert', hidden: true });
    this.readonlyNote = h(
      'p',
      { class: 'notice readonly-note', hidden: true },
      'Read-only: this page can watch sessions, but not type, start, rename or end them.',
    );
    this.body = h('div', { class: 'session-table-wrap' });
    this.element = h(
      'section',
      { class: 'list-view' },
      h('div', { class: 'list-head' }, h('h1', {}, 'Sessions'), this.filter, this.toolbar),
      this.readonlyNote,
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

  /** The page learned (again) what it may do and which providers exist. */
  onAccessChange(): void {
    this.render();
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

  /** Runs an HTTP action, then shows its error (if any) and the fresh list. */
  private async act(what: string, action: (token: string) => Promise<ActionOutcome>): Promise<void> {
    const token = this.deps.token();
    if (token === null) return;
    const outcome = await action(token);
    if (this.disposed) return;
    if (!outcome.ok) {
      if (outcome.unauthorized) {
        this.deps.onUnauthorized();
        return;
      }
      this.error = `Could not ${what}: ${outcome.message}`;
    } else if (this.error?.startsWith('Could not')) {
      this.error = null;
    }
    await this.refresh();
  }

  private kill(row: SessionRow): void {
    const armed = this.killArmed;
    if (armed === null || armed.terminalId !== row.terminalId || Date.now() > armed.until) {
      this.killArmed = { terminalId: row.terminalId, until: Date.now() + KILL_CONFIRM_MS };
      this.renderTable();
      setTimeout(() => {
        if (this.killArmed?.terminalId === row.terminalId && Date.now() > this.killArmed.until) {
          this.killArmed = null;
          if (!this.disposed) this.renderTable();
        }
      }, KILL_CONFIRM_MS + 50);
      return;
    }
    this.killArmed = null;
    if (!this.deps.connection.send(killMessage(row))) {
      this.error = 'Not connected: nothing was killed.';
    }
    this.render();
  }

  private clearExited(): void {
    const rows = clearable(this.rows);
    void this.act('clear exited sessions', async (token) => {
      for (const row of rows) {
        const outcome = await forgetSession(token, row.terminalId);
        if (!outcome.ok) return outcome;
      }
      return { ok: true };
    });
  }

  private startRename(row: SessionRow, cell: HTMLElement): void {
    this.renaming = row.terminalId;
    const field = h('input', {
      type: 'text',
      class: 'rename',
      value: row.title,
      'aria-label': 'New name',
      spellcheck: 'false',
    });
    let done = false;
    const finish = (save: boolean): void => {
      if (done) return;
      done = true;
      this.renaming = null;
      const title = field.value.trim();
      if (save && title !== row.title) {
        row.title = title === '' ? row.mode : title;
        void this.act('rename the session', (token) => renameSession(token, row.terminalId, title));
      }
      this.renderTable();
    };
    field.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') finish(true);
      else if (event.key === 'Escape') finish(false);
    });
    field.addEventListener('blur', () => finish(true));
    replaceChildren(cell, field);
    field.focus();
    field.select();
  }

  private render(): void {
    this.renderToolbar();
    this.readonlyNote.hidden = this.deps.canChange() || this.deps.providers() === null;
    this.notice.hidden = this.error === null;
    this.notice.textContent = this.error ?? '';
    this.renderTable();
  }

  private renderToolbar(): void {
    const connected = this.deps.connection.connected;
    const providers = this.deps.providers();
    if (!this.deps.canChange() || providers === null) {
      replaceChildren(this.toolbar);
      return;
    }
    const exited = clearable(this.rows).length;
    replaceChildren(
      this.toolbar,
      exited > 0
        ? h(
            'button',
            { type: 'button', 'data-action': 'clear-exited', title: 'Forget exited sessions that cannot be resumed', onclick: () => this.clearExited() },
            `Clear exited (${exited})`,
          )
        : null,
      ...providers.map((provider) => {
        const pending = this.pendingCreate?.mode === provider.mode;
        return h(
          'button',
          {
            type: 'button',
            class: provider.mode === 'shell' ? 'primary' : '',
            'data-mode': provider.mode,
            disabled: !connected || this.pendingCreate !== null,
            onclick: () => this.start(provider.mode),
          },
          pending ? 'Starting…' : startLabel(provider),
        );
      }),
    );
  }

  private renderTable(): void {
    if (this.renaming !== null) return;
    if (this.rows.length === 0) {
      replaceChildren(
        this.body,
        h(
          'p',
          { class: 'empty' },
          this.loaded || this.deps.connection.connected
            ? this.deps.canChange()
              ? 'No sessions yet. Start a shell or an agent.'
              : 'No sessions yet.'
            : 'Loading…',
        ),
      );
      // The clear button counts rows.
      this.renderToolbar();
      return;
    }
    const shown = filterRows(this.rows, this.filter.value);
    const now = Date.now();
    const head = h(
      'tr',
      {},
      ...['Title', 'Mode', 'Status', 'Viewers', 'Directory', 'Session', 'Started', ''].map((label) =>
        h('th', { scope: 'col' }, label),
      ),
    );
    const rows = shown.map((row) => this.renderRow(row, now));
    replaceChildren(
      this.body,
      shown.length === 0
        ? h('p', { class: 'empty' }, `No session matches “${this.filter.value}”.`)
        : h('table', { class: 'sessions' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    );
    this.renderToolbar();
  }

  private renderRow(row: SessionRow, now: number): HTMLElement {
    const ref = row.sessionRef;
    const canChange = this.deps.canChange();
    const titleCell = h(
      'td',
      { class: 'title', 'data-label': 'Title' },
      h('a', { href: terminalHash(row.terminalId), class: 'open' }, row.title || row.mode),
      h('code', { class: 'id' }, row.terminalId),
    );
    const status =
      row.status === 'running' ? 'running' : row.resumable ? 'resumable' : row.exitCode === null ? 'exited' : `exited (${row.exitCode})`;
    const actions: Array<HTMLElement | null> = [];
    if (row.status === 'running') {
      actions.push(h('a', { href: terminalHash(row.terminalId, true), class: 'quiet' }, 'read-only'));
    }
    if (canChange) {
      if (row.resumable) {
        actions.push(
          h(
            'button',
            {
              type: 'button',
              class: 'primary small',
              'data-action': 'resume',
              onclick: (event: Event) => {
                (event.currentTarget as HTMLButtonElement).disabled = true;
                this.deps.resume(row, (message) => {
                  this.error = `Could not resume: ${message}`;
                  this.render();
                });
              },
            },
            'Resume',
          ),
        );
      }
      actions.push(
        h('button', { type: 'button', class: 'small', 'data-action': 'rename', onclick: () => this.startRename(row, titleCell) }, 'Rename'),
      );
      if (row.status === 'running') {
        const armed = this.killArmed?.terminalId === row.terminalId;
        actions.push(
          h(
            'button',
            { type: 'button', class: `small danger${armed ? ' armed' : ''}`, 'data-action': 'kill', onclick: () => this.kill(row) },
            armed ? 'Really kill?' : 'Kill',
          ),
        );
      } else {
        actions.push(
          h(
            'button',
            {
              type: 'button',
              class: 'small',
              'data-action': 'remove',
              title: row.resumable ? 'Forget this session: it can then no longer be resumed' : 'Remove from the list',
              onclick: () => void this.act('remove the session', (token) => forgetSession(token, row.terminalId)),
            },
            'Remove',
          ),
        );
      }
    }
    return h(
      'tr',
      {
        class: `session-row status-${row.status}${row.resumable ? ' resumable' : ''}`,
        'data-terminal-id': row.terminalId,
        'data-status': row.resumable ? 'resumable' : row.status,
      },
      titleCell,
      h('td', { 'data-label': 'Mode' }, h('span', { class: `mode mode-${row.mode}` }, row.mode)),
      h('td', { 'data-label': 'Status' }, h('span', { class: `state state-${row.resumable ? 'resumable' : row.status}` }, status)),
      h('td', { class: 'num', 'data-label': 'Viewers' }, row.viewers === null ? '–' : String(row.viewers)),
      h('td', { class: 'cwd', title: row.cwd ?? '', 'data-label': 'Directory' }, row.cwd ?? '–'),
      h(
        'td',
        { class: 'ref', title: ref ? `${ref.provider}:${ref.sessionId}` : '', 'data-label': 'Session' },
        ref ? `${ref.provider}:${ref.sessionId.slice(0, 8)}` : '–',
      ),
      h('td', { title: new Date(row.createdAt).toISOString(), 'data-label': 'Started' }, age(row.createdAt, now)),
      h('td', { class: 'actions' }, ...actions),
    );
  }
}
