/**
 * The page's one WebSocket to the daemon: hello, the wait for `ready`, and reconnecting
 * with backoff when the socket drops.
 *
 * Why one socket for the whole tab (as freshell does): the session list and the terminal
 * share it, so the daemon sees one connection per tab and a tab costs one slot of its
 * connection limit. Views never touch the WebSocket; they send through [`Connection.send`]
 * (which refuses while not connected, so nothing is queued for a stale generation) and
 * re-drive their own state from the `ready` callback, which says whether this is the first
 * connection, a reconnect, or a reconnect to a restarted daemon.
 */

import { fatalReason, reconnectDelayMs, resetsAttempts, type FatalReason } from './backoff';
import { hello, parseServerMessage, type ClientMessage, type ReadyMessage, type ServerMessage } from './protocol';

/** freshell's client gives up on an attempt when `ready` has not come within 10 s. */
export const READY_TIMEOUT_MS = 10_000;

/** Close code this page uses for its own ready timeout (application range). */
const READY_TIMEOUT_CLOSE = 4000;
/** Close code of [`Connection.drop`]: any code the backoff treats as an ordinary drop. */
const DROP_CLOSE = 3000;

export type ConnectionStatus =
  /** `reconnect` once the page has been connected before (its views are kept meanwhile). */
  | { kind: 'connecting'; reconnect: boolean }
  | { kind: 'connected' }
  | { kind: 'reconnecting'; retryAt: number; closeCode: number }
  | { kind: 'failed'; reason: FatalReason }
  | { kind: 'no_token' };

export interface ReadyInfo {
  ready: ReadyMessage;
  /** False for the first `ready` of this page, true for every later one. */
  reconnect: boolean;
  /** The daemon restarted since the last `ready` (its terminals are gone). */
  bootChanged: boolean;
}

export interface ConnectionOptions {
  url: string;
  /** Read at every attempt, so a token pasted after a refusal is used by the next one. */
  token: () => string | null;
  random?: () => number;
  now?: () => number;
}

type Listener<T> = (value: T) => void;

export class Connection {
  private socket: WebSocket | null = null;
  private status: ConnectionStatus = { kind: 'connecting', reconnect: false };
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readyTimer: ReturnType<typeof setTimeout> | null = null;
  private everReady = false;
  private lastBootId: string | undefined;
  private refusedToken = false;
  private readonly statusListeners: Listener<ConnectionStatus>[] = [];
  private readonly readyListeners: Listener<ReadyInfo>[] = [];
  private readonly messageListeners: Listener<ServerMessage>[] = [];

  constructor(private readonly options: ConnectionOptions) {}

  onStatus(listener: Listener<ConnectionStatus>): void {
    this.statusListeners.push(listener);
    listener(this.status);
  }

  onReady(listener: Listener<ReadyInfo>): void {
    this.readyListeners.push(listener);
  }

  onMessage(listener: Listener<ServerMessage>): void {
    this.messageListeners.push(listener);
  }

  get current(): ConnectionStatus {
    return this.status;
  }

  get connected(): boolean {
    return this.status.kind === 'connected';
  }

  /** Sends a message if the handshake is done; returns whether it was sent. */
  send(message: ClientMessage): boolean {
    if (!this.connected || this.socket === null || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Starts (or restarts, e.g. after a new token was pasted) with a fresh attempt counter. */
  start(): void {
    this.attempts = 0;
    this.refusedToken = false;
    this.clearTimers();
    this.dropSocket();
    this.open();
  }

  /** Skips the rest of a backoff wait. */
  retryNow(): void {
    if (this.status.kind === 'reconnecting') {
      this.clearTimers();
      this.open();
    }
  }

  /**
   * Closes the socket without ending the connection: the page goes through its reconnect
   * path exactly as after a network drop. For tests and devtools.
   */
  drop(): void {
    this.socket?.close(DROP_CLOSE, 'dropped on purpose');
  }

  private open(): void {
    const token = this.options.token();
    if (token === null) {
      this.setStatus({ kind: 'no_token' });
      return;
    }
    this.setStatus({ kind: 'connecting', reconnect: this.everReady });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.options.url);
    } catch {
      this.scheduleRetry(1006);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify(hello(token)));
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      const message = parseServerMessage(event.data);
      if (message !== null) this.onServerMessage(message);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onClosed(event.code);
    };
    // `error` is always followed by `close`, which decides what happens next.
    socket.onerror = () => {};
    this.readyTimer = setTimeout(() => {
      if (this.socket === socket && !this.connected) socket.close(READY_TIMEOUT_CLOSE, 'ready timeout');
    }, READY_TIMEOUT_MS);
  }

  private onServerMessage(message: ServerMessage): void {
    if (message.type === 'ready') {
      if (this.readyTimer !== null) clearTimeout(this.readyTimer);
      this.readyTimer = null;
      const info: ReadyInfo = {
        ready: message,
        reconnect: this.everReady,
        bootChanged: this.everReady && message.bootId !== this.lastBootId,
      };
      this.everReady = true;
      this.lastBootId = message.bootId;
      this.attempts = 0;
      this.setStatus({ kind: 'connected' });
      for (const listener of this.readyListeners) listener(info);
      return;
    }
    if (message.type === 'error' && message.code === 'NOT_AUTHENTICATED') {
      // The close 4001 follows; remember the cause in case the close code gets lost.
      this.refusedToken = true;
    }
    for (const listener of this.messageListeners) listener(message);
  }

  private onClosed(code: number): void {
    if (this.readyTimer !== null) clearTimeout(this.readyTimer);
    this.readyTimer = null;
    const fatal = this.refusedToken ? 'auth' : fatalReason(code);
    if (fatal !== null) {
      this.setStatus({ kind: 'failed', reason: fatal });
      return;
    }
    this.scheduleRetry(code);
  }

  private scheduleRetry(code: number): void {
    if (resetsAttempts(code)) this.attempts = 0;
    const delay = reconnectDelayMs(this.attempts, code, this.options.random);
    this.attempts += 1;
    const now = this.options.now ?? Date.now;
    this.setStatus({ kind: 'reconnecting', retryAt: now() + delay, closeCode: code });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.readyTimer !== null) clearTimeout(this.readyTimer);
    this.retryTimer = null;
    this.readyTimer = null;
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) socket.close(1000, 'restart');
  }
}
