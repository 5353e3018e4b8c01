/**
 * The page at `/#/t/<terminalId>`: one xterm showing one of the daemon's sessions.
 *
 * Every tab that opens the URL is one more viewer of the same process. The view attaches
 * on each `ready`:
 * - first time (or after a daemon restart): `viewport_hydrate` from seq 0 with freshell's
 *   131 072-byte replay budget — the daemon sends recent history, or one frame that repaints
 *   the whole screen when the history is larger, so a fresh page shows the screen at once;
 * - after a dropped socket: `transport_reconnect` from the last applied seq, keeping the
 *   xterm, so only what was missed is sent;
 * - read-only (`?view=readonly`): `keepalive_delta`, which never resizes the PTY; such a view
 *   sends neither input nor resize.
 * Which frames reach the screen is decided by `attach-stream.ts`.
 *
 * Size: the page sends its window's size as its wish; the daemon's size policy decides whether
 * the one PTY takes it (`latest`: the viewer that typed last). While another viewer drives, or
 * the page is read-only, the terminal is drawn at the PTY's size (learned by `pty-size.ts`), so
 * nothing wraps wrong, and a note offers to take the size.
 */

import { FitAddon } from '@xterm/addon-fit';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
import { Terminal } from '@xterm/xterm';

import { beginAttach, checkTag, EMPTY_CURSOR, onAttachReady, onGap, onOutput, type AttachCursor } from './attach-stream';
import { copyText, shortcutOf } from './clipboard';
import type { Connection, ReadyInfo } from './connection';
import { h, replaceChildren } from './dom';
import { isShiftEnter, SHIFT_ENTER_INPUT } from './newline-key';
import { THEME } from './theme';
import {
  attach,
  attachRequestId,
  detach,
  HYDRATE_MAX_REPLAY_BYTES,
  input,
  resize,
  type AttachIntent,
  type ServerMessage,
} from './protocol';
import { policyLetsAViewerTakeTheSize, PtySizeFollower, sameSize, type PtySize, type Size } from './pty-size';
import { SearchBar } from './search-bar';

/** Window resizes are sent to the PTY once they settle (each one makes the app repaint). */
const RESIZE_DEBOUNCE_MS = 150;

const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/** Where the view stands with its session. */
export type ViewState =
  | 'waiting' // not attached yet (connecting, or attach sent)
  | 'live' // attach.ready received; output flows
  | 'exited' // the process ended
  | 'resuming' // not running: its session is being resumed in a new terminal
  | 'unknown'; // the daemon does not know this terminal

export interface TerminalViewDeps {
  connection: Connection;
  terminalId: string;
  readonly: boolean;
  /** This tab's pane id, the prefix of every attachRequestId it sends. */
  paneId: string;
  /** Called with the session's title once known. */
  onTitle: (title: string) => void;
  /**
   * The daemon has no live terminal by this id: the app may find the terminal that continues
   * it, or resume it, and otherwise calls [`TerminalView.showUnknown`].
   */
  onNotLive: (exited: boolean) => void;
  /** Whether selecting text copies it (a setting of the page). */
  copyOnSelect: () => boolean;
  /** The page's token, to ask the daemon for the PTY's size. */
  token: () => string | null;
}

/** Keys kept while the socket is down; more are dropped (a paste into a dead socket). */
const TYPE_AHEAD_MAX_CHARS = 4096;

export class TerminalView {
  readonly element: HTMLElement;
  readonly terminal: Terminal;
  private readonly fit = new FitAddon();
  private readonly host: HTMLElement;
  private readonly banner: HTMLElement;
  readonly search: SearchBar;
  private cursor: AttachCursor = EMPTY_CURSOR;
  private attachCount = 0;
  private state: ViewState = 'waiting';
  /** Keys typed while the socket was down, not sent yet (at most `TYPE_AHEAD_MAX_CHARS`). */
  private typedAhead = '';
  /** True once anything was attached: later `ready`s resume instead of hydrating. */
  private hasScreen = false;
  private lastSentSize: Size | null = null;
  /** The grid that fits the window: this page's wish for the PTY's size. */
  private windowSize: Size | null = null;
  /** The PTY's size as the daemon last said (`null` until it said). */
  private ptySize: PtySize | null = null;
  /** Whether the PTY takes this page's size (as far as the page knows): it then draws at its window's. */
  private drivesSize: boolean;
  private readonly sizeFollower: PtySizeFollower;
  private readonly sizeNote: HTMLElement;
  private resizeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly observer: ResizeObserver;
  /** Counts for tests and diagnostics (exposed on `window.ptyhub`). */
  readonly stats = {
    framesApplied: 0,
    framesDropped: 0,
    /** Times the grid was fitted to the window (every container resize). */
    fits: 0,
    gaps: 0,
    attaches: 0,
    lastAttach: null as { intent: AttachIntent; sinceSeq: number } | null,
    /** The PTY's size as the daemon last said, and whether this page sets it. */
    ptySize: null as Size | null,
    drivesSize: true,
    /** `performance.now()` when the socket was ready, the attach answered, the first frame written. */
    timings: { attachSentAt: 0, readyAt: 0, firstFrameAt: 0 },
  };

  constructor(private readonly deps: TerminalViewDeps) {
    // The host has no padding of its own: the fit addon sizes the grid to the host's box, so
    // padding there would count as rows and cut the last one (the frame holds the margin).
    this.host = h('div', { class: 'term-host' });
    this.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    // Over the terminal, not beside it: a note that took room would change the window's grid,
    // and with it this page's wish for the size.
    this.sizeNote = h('div', { class: 'size-note', role: 'status', hidden: true });
    this.drivesSize = !deps.readonly;
    this.sizeFollower = new PtySizeFollower(deps.terminalId, deps.token, (size) => this.onPtySize(size));
    this.terminal = new Terminal({
      allowProposedApi: true, // unicode11's activeVersion is a proposed API
      cursorBlink: !deps.readonly,
      disableStdin: deps.readonly,
      fontFamily: "'DejaVu Sans Mono', ui-monospace, 'Cascadia Mono', Menlo, Consolas, monospace",
      fontSize: 14,
      scrollback: 5000,
      theme: THEME,
    });
    this.search = new SearchBar(this.terminal);
    this.element = h(
      'section',
      { class: 'terminal-view' },
      this.banner,
      h('div', { class: 'term-frame' }, this.host, this.search.element, this.sizeNote),
    );
    this.observer = new ResizeObserver(() => this.onContainerResize());
  }

  /** Call once the element is in the document: xterm measures its container. */
  mount(): void {
    this.terminal.loadAddon(this.fit);
    const unicode = new Unicode11Addon();
    this.terminal.loadAddon(unicode);
    this.terminal.unicode.activeVersion = '11';
    this.terminal.loadAddon(new WebLinksAddon());
    this.terminal.open(this.host);
    loadWebgl(this.terminal);
    this.search.mount();
    this.terminal.attachCustomKeyEventHandler((event) => this.onShortcut(event));
    this.terminal.onSelectionChange(() => {
      if (this.deps.copyOnSelect()) void copyText(this.terminal.getSelection());
    });
    this.fitNow();
    this.observer.observe(this.host);
    this.terminal.onData((data) => this.sendInput(data));
    this.terminal.onBinary((data) => this.sendInput(data));
    this.terminal.onTitleChange((title) => {
      if (title.trim() !== '') this.deps.onTitle(title);
    });
    if (!this.deps.readonly) this.terminal.focus();
    if (this.deps.connection.connected) this.attachNow(false);
  }

  get viewState(): ViewState {
    return this.state;
  }

  get lastSeq(): number {
    return this.cursor.lastSeq;
  }

  onReady(info: ReadyInfo): void {
    if (this.state === 'exited' || this.state === 'unknown' || this.state === 'resuming') return;
    this.attachNow(info.bootChanged);
  }

  onMessage(message: ServerMessage): void {
    if (!('terminalId' in message) || message.terminalId !== this.deps.terminalId) {
      if (message.type === 'terminal.inventory') this.onInventory(message.terminals);
      return;
    }
    switch (message.type) {
      case 'terminal.attach.ready': {
        const outcome = onAttachReady(this.cursor, message);
        if (!outcome.accepted) return;
        if (outcome.clearScreen) this.terminal.reset();
        this.cursor = outcome.cursor;
        this.stats.timings.readyAt = performance.now();
        this.setState('live');
        this.sizeFollower.start();
        this.flushTypedAhead();
        break;
      }
      case 'terminal.output': {
        const outcome = onOutput(this.cursor, message);
        if (!outcome.accepted) {
          this.stats.framesDropped += 1;
          return;
        }
        this.cursor = outcome.cursor;
        this.stats.framesApplied += 1;
        if (this.stats.timings.firstFrameAt === 0) this.stats.timings.firstFrameAt = performance.now();
        this.terminal.write(message.data);
        break;
      }
      case 'terminal.output.gap': {
        const outcome = onGap(this.cursor, message);
        if (!outcome.accepted) return;
        this.cursor = outcome.cursor;
        this.stats.gaps += 1;
        if (outcome.notice !== null) this.terminal.write(`\r\n${DIM}${outcome.notice}${RESET}\r\n`);
        break;
      }
      case 'terminal.modes.sync':
        if (checkTag(this.cursor, message) === null) this.terminal.write(message.data);
        break;
      case 'terminal.exit':
        this.showExited(message.exitCode, null);
        break;
      case 'error':
        this.onError(message.code, message.message, message.requestId, message.terminalExitCode);
        break;
      default:
        break;
    }
  }

  dispose(): void {
    this.observer.disconnect();
    this.sizeFollower.stop();
    if (this.resizeTimer !== null) clearTimeout(this.resizeTimer);
    if (this.state === 'live' || this.state === 'waiting') {
      this.deps.connection.send(detach(this.deps.terminalId));
    }
    this.terminal.dispose();
  }

  /** The visible screen as text, one string per row (for tests and the e2e script). */
  screenLines(): string[] {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < this.terminal.rows; row++) {
      lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
    }
    return lines;
  }

  /** The whole buffer (scrollback and screen) as text, one line per row. */
  bufferLines(): string[] {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < buffer.length; row++) {
      lines.push(buffer.getLine(row)?.translateToString(true) ?? '');
    }
    return lines;
  }

  private attachNow(bootChanged: boolean): void {
    const resume = this.hasScreen && !bootChanged;
    let intent: AttachIntent;
    if (this.deps.readonly) intent = 'keepalive_delta';
    else intent = resume ? 'transport_reconnect' : 'viewport_hydrate';
    if (!resume) {
      this.terminal.reset();
      this.cursor = { ...EMPTY_CURSOR };
    }
    const sinceSeq = resume ? this.cursor.lastSeq : 0;
    this.attachCount += 1;
    const id = attachRequestId(this.deps.paneId, this.attachCount);
    this.cursor = beginAttach(this.cursor, id, sinceSeq);
    this.fitNow();
    const { cols, rows } = this.windowSize ?? this.terminal;
    const sent = this.deps.connection.send(
      attach({
        terminalId: this.deps.terminalId,
        intent,
        cols,
        rows,
        sinceSeq,
        attachRequestId: id,
        maxReplayBytes: HYDRATE_MAX_REPLAY_BYTES,
      }),
    );
    if (sent) {
      this.hasScreen = true;
      this.stats.attaches += 1;
      this.stats.lastAttach = { intent, sinceSeq };
      this.stats.timings = { attachSentAt: performance.now(), readyAt: 0, firstFrameAt: 0 };
      if (intent !== 'keepalive_delta') this.wished({ cols, rows });
      this.setState('waiting');
    }
  }

  private onInventory(terminals: ReadonlyArray<{ terminalId: string; title: string; mode: string }>): void {
    const mine = terminals.find((t) => t.terminalId === this.deps.terminalId);
    if (mine) this.deps.onTitle(mine.title || mine.mode);
  }

  private onError(code: string, text: string, requestId: string | undefined, exitCode: number | undefined): void {
    const aboutMyAttach = requestId !== undefined && requestId === this.cursor.attachRequestId;
    if (requestId !== undefined && !aboutMyAttach) return;
    if (code !== 'INVALID_TERMINAL_ID') {
      if (aboutMyAttach) this.showBanner('error', `The daemon refused to attach: ${text} (${code})`);
      return;
    }
    if (this.state === 'exited') return;
    if (exitCode !== undefined) this.showExited(exitCode, text);
    else this.deps.onNotLive(false);
  }

  /** Ctrl+Shift+C/V/F are the page's, never typed into the session (`clipboard.ts`). */
  private onShortcut(event: KeyboardEvent): boolean {
    if (isShiftEnter(event)) {
      if (event.type === 'keydown') {
        event.preventDefault();
        this.sendInput(SHIFT_ENTER_INPUT);
      }
      return false;
    }
    const shortcut = shortcutOf(event);
    if (shortcut === null) return true;
    if (event.type === 'keydown') {
      if (shortcut === 'copy') {
        event.preventDefault();
        void copyText(this.terminal.getSelection());
      } else if (shortcut === 'search') {
        event.preventDefault();
        this.search.open();
      }
      // 'paste': the browser's own paste (Ctrl+Shift+V) reaches xterm's textarea.
    }
    return false;
  }

  private showExited(exitCode: number, detail: string | null): void {
    if (this.state === 'exited') return;
    this.setState('exited');
    this.sizeFollower.stop();
    this.terminal.options.disableStdin = true;
    this.terminal.options.cursorBlink = false;
    // Hide the cursor: nothing will type here any more.
    const cursorOff = '\x1b[?25l';
    if (detail === null) this.terminal.write(`\r\n${DIM}[process exited with code ${exitCode}]${RESET}\r\n${cursorOff}`);
    else this.terminal.write(cursorOff);
    this.showBanner(
      'exited',
      `This session has exited with code ${exitCode}.`,
      detail ?? undefined,
    );
    this.deps.onNotLive(true);
  }

  /** The daemon knows no such session, and nothing continues it. */
  showUnknown(): void {
    this.setState('unknown');
    this.terminal.options.disableStdin = true;
    this.showBanner(
      'unknown',
      `The daemon has no session ${this.deps.terminalId}.`,
      'It may have been closed and forgotten. Pick one from the list.',
    );
  }

  /** Its session is being resumed; the page moves to the new terminal once it runs. */
  showResuming(what: string): void {
    this.setState('resuming');
    this.terminal.options.disableStdin = true;
    this.showBanner('resuming', `Resuming ${what}…`, 'It did not run since the daemon restarted.');
  }

  /** A session that is not running and cannot be resumed from here (`why`). */
  showNotResumable(headline: string, why: string): void {
    this.setState('unknown');
    this.terminal.options.disableStdin = true;
    this.showBanner('unknown', headline, why);
  }

  /** Adds a "Resume" button to the exited banner. */
  offerResume(resume: () => void): void {
    if (this.state !== 'exited') return;
    const button = h('button', { type: 'button', class: 'primary', 'data-action': 'resume', onclick: () => resume() }, 'Resume');
    this.banner.insertBefore(button, this.banner.lastChild);
  }

  private showBanner(kind: string, headline: string, detail?: string): void {
    this.banner.className = `banner banner-${kind}`;
    replaceChildren(
      this.banner,
      h('strong', {}, headline),
      detail ? h('span', { class: 'detail' }, detail) : null,
      h('a', { href: '#/', class: 'button-link' }, 'All sessions'),
    );
    this.banner.hidden = false;
    this.fitSoon();
  }

  private setState(state: ViewState): void {
    this.state = state;
    this.element.dataset.state = state;
  }

  private sendInput(data: string): void {
    if (this.deps.readonly) return;
    // Between a reconnect's attach and its answer the keys wait too: sent before the
    // attach is ready, they would reach the session ahead of the resume.
    const resuming = this.state === 'waiting' && this.hasScreen;
    if (this.state !== 'live' && !resuming) return;
    // While the socket is down (the daemon upgrading in place, a network blip) keys wait, in
    // order, and go once the terminal is attached again, as a terminal's type-ahead does.
    if (resuming || this.typedAhead !== '' || !this.deps.connection.send(input(this.deps.terminalId, data))) {
      this.typedAhead = (this.typedAhead + data).slice(0, TYPE_AHEAD_MAX_CHARS);
    }
  }

  /** Sends the keys typed while the socket was down (see `sendInput`). */
  private flushTypedAhead(): void {
    if (this.typedAhead === '' || this.deps.readonly) return;
    if (this.deps.connection.send(input(this.deps.terminalId, this.typedAhead))) this.typedAhead = '';
  }

  /**
   * Measures the grid the window fits, and draws the terminal at it while this page drives
   * the size, else at the PTY's.
   */
  private fitNow(): void {
    this.stats.fits += 1;
    let proposed: { cols: number; rows: number } | undefined;
    try {
      proposed = this.fit.proposeDimensions();
    } catch {
      proposed = undefined;
    }
    // Not measurable yet (hidden or detached): the ResizeObserver fits again later.
    if (proposed === undefined || !Number.isFinite(proposed.cols) || !Number.isFinite(proposed.rows)) return;
    this.windowSize = { cols: proposed.cols, rows: proposed.rows };
    this.drawAtShownSize();
  }

  private drawAtShownSize(): void {
    const shown = this.drivesSize || this.ptySize === null ? this.windowSize : this.ptySize;
    if (shown !== null && (shown.cols !== this.terminal.cols || shown.rows !== this.terminal.rows)) {
      this.terminal.resize(shown.cols, shown.rows);
    }
    this.showSizeNote();
  }

  /** This page sent `size` as its wish; while it drives, the PTY takes it. */
  private wished(size: Size): void {
    this.lastSentSize = size;
    if (this.drivesSize) this.sizeFollower.expect(size);
  }

  /** The daemon says the PTY is `size` now. */
  private onPtySize(size: PtySize): void {
    this.ptySize = size;
    this.drivesSize = !this.deps.readonly && sameSize(size, this.lastSentSize);
    this.stats.ptySize = { cols: size.cols, rows: size.rows };
    this.drawAtShownSize();
  }

  /** Says so when the terminal is drawn at another viewer's size, with a way to take it. */
  private showSizeNote(): void {
    const pty = this.ptySize;
    const fits = this.windowSize;
    const elsewhere = pty !== null && fits !== null && !this.drivesSize && !sameSize(pty, fits);
    this.stats.drivesSize = this.drivesSize;
    this.sizeNote.hidden = !elsewhere;
    if (!elsewhere) return;
    const canTake = !this.deps.readonly && policyLetsAViewerTakeTheSize(pty.sizePolicy);
    const who = this.deps.readonly
      ? 'read-only: this page never sets it'
      : pty.sizePolicy === 'latest'
        ? 'set by the viewer that typed last'
        : `size policy “${pty.sizePolicy}”`;
    replaceChildren(
      this.sizeNote,
      h('span', {}, `Session size ${pty.cols}×${pty.rows}, ${who}. This window fits ${fits.cols}×${fits.rows}.`),
      canTake
        ? h('button', { type: 'button', 'data-action': 'take-size', onclick: () => this.takeSize() }, 'Use this window’s size')
        : null,
    );
  }

  /** Asks the daemon for this window's size, as typing would. */
  private takeSize(): void {
    const size = this.windowSize;
    if (size === null || this.deps.readonly || this.state !== 'live') return;
    if (this.deps.connection.send(resize(this.deps.terminalId, size.cols, size.rows, true))) {
      this.drivesSize = true;
      this.wished(size);
      this.drawAtShownSize();
      this.terminal.focus();
    }
  }

  private fitSoon(): void {
    requestAnimationFrame(() => this.onContainerResize());
  }

  private onContainerResize(): void {
    this.fitNow();
    if (this.deps.readonly) return;
    if (this.resizeTimer !== null) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      this.resizeTimer = null;
      const size = this.windowSize;
      if (this.state !== 'live' || size === null || sameSize(size, this.lastSentSize)) return;
      if (this.deps.connection.send(resize(this.deps.terminalId, size.cols, size.rows))) this.wished(size);
    }, RESIZE_DEBOUNCE_MS);
  }
}

/** GPU rendering where the browser has WebGL2; xterm's DOM renderer otherwise, silently. */
function loadWebgl(terminal: Terminal): void {
  try {
    const webgl = new WebglAddon();
    webgl.onContextLoss(() => webgl.dispose());
    terminal.loadAddon(webgl);
  } catch {
    // No WebGL2 here: the DOM renderer is already active.
  }
}
