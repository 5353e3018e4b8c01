/**
 * Resuming a remembered session from the page: one `terminal.create` with the session's
 * `sessionRef` (`session-actions.ts`), resent with the same requestId after a reconnect so a
 * retried resume is still one process, and the created terminal handed to whoever asked.
 *
 * One per tab, owned by the app: the list's "Resume" button and a session URL opened after a
 * daemon restart both resume through it.
 */

import type { Connection } from './connection';
import { newRequestId, type CreateMessage, type ServerMessage } from './protocol';
import { resumeMessage } from './session-actions';
import type { SessionRow } from './sessions';

interface Pending {
  message: CreateMessage;
  onCreated: (terminalId: string) => void;
  onError: (message: string) => void;
}

export class Resumer {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly connection: Connection) {}

  /**
   * Resumes `row`'s session; `onCreated` hears the terminal that runs it. Returns false if
   * the row cannot be resumed. Sent now if connected, else on the next `ready`.
   */
  resume(row: SessionRow, onCreated: (terminalId: string) => void, onError: (message: string) => void): boolean {
    const message = resumeMessage(row, newRequestId());
    if (message === null) return false;
    this.pending.set(message.requestId, { message, onCreated, onError });
    this.connection.send(message);
    return true;
  }

  /** Whether a resume waits for its answer. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  onReady(): void {
    for (const { message } of this.pending.values()) this.connection.send(message);
  }

  onMessage(message: ServerMessage): void {
    if (message.type !== 'terminal.created' && message.type !== 'error') return;
    const requestId = message.requestId;
    if (requestId === undefined) return;
    const pending = this.pending.get(requestId);
    if (pending === undefined) return;
    this.pending.delete(requestId);
    if (message.type === 'terminal.created') pending.onCreated(message.terminalId);
    else pending.onError(`${message.message} (${message.code})`);
  }

  /** Forgets every pending resume (its answer, if any, is then ignored). */
  cancel(): void {
    this.pending.clear();
  }
}
