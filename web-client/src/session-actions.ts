/**
 * What the session list (and a session's page) can do to a session besides opening it:
 * rename and forget it over the daemon's HTTP API, kill it and resume it over the socket.
 *
 * Why resume goes over the socket: it is the same `terminal.create` with a `sessionRef`
 * freshell's frontend sends for a restored pane, so the daemon's one create decision makes
 * one process however many tabs (or CLIs) resume the session at once.
 */

import { create, kill, newRequestId, type ClientMessage, type CreateMessage } from './protocol';
import type { SessionRow } from './sessions';

export type ActionOutcome = { ok: true } | { ok: false; unauthorized: boolean; message: string };

async function call(token: string, method: string, path: string, body: unknown, fetchImpl: typeof fetch): Promise<ActionOutcome> {
  let response: Response;
  try {
    response = await fetchImpl(path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    return { ok: false, unauthorized: false, message: `cannot reach the daemon (${String(err)})` };
  }
  if (response.ok) return { ok: true };
  const text = (await response.text().catch(() => '')).trim();
  return {
    ok: false,
    unauthorized: response.status === 401,
    message: text !== '' ? text : `${method} ${path} answered ${response.status}`,
  };
}

function sessionPath(terminalId: string): string {
  return `/ptyhub/api/sessions/${encodeURIComponent(terminalId)}`;
}

/** Gives a session a title; an empty one brings back its provider's. */
export function renameSession(token: string, terminalId: string, title: string, fetchImpl: typeof fetch = fetch): Promise<ActionOutcome> {
  return call(token, 'PATCH', sessionPath(terminalId), { title }, fetchImpl);
}

/** Forgets an exited session (a remembered one can then no longer be resumed). */
export function forgetSession(token: string, terminalId: string, fetchImpl: typeof fetch = fetch): Promise<ActionOutcome> {
  return call(token, 'DELETE', sessionPath(terminalId), undefined, fetchImpl);
}

export function killMessage(row: SessionRow): ClientMessage {
  return kill(row.terminalId);
}

/** The `terminal.create` that resumes `row`'s session, or `null` if it cannot be resumed. */
export function resumeMessage(row: SessionRow, requestId: string = newRequestId()): CreateMessage | null {
  if (!row.resumable || row.sessionRef === null) return null;
  return create(requestId, row.sessionRef.provider, row.cwd ?? undefined, { sessionRef: row.sessionRef, restore: true });
}

/** Exited rows nobody can resume: what "Clear exited" forgets. Resumable ones are kept. */
export function clearable(rows: ReadonlyArray<SessionRow>): SessionRow[] {
  return rows.filter((row) => row.status === 'exited' && !row.resumable);
}

/** Where a page opened at `/#/t/<terminalId>` should go when the daemon has no such live terminal. */
export type Destination =
  | { kind: 'running'; terminalId: string } // a terminal continues it: go there
  | { kind: 'resume'; row: SessionRow } // remembered and resumable: resume it, then go there
  | { kind: 'none' };

export function destinationOf(rows: ReadonlyArray<SessionRow>, terminalId: string): Destination {
  const successor = rows.filter((r) => r.resumedFrom === terminalId);
  const running = successor.find((r) => r.status === 'running');
  if (running) return { kind: 'running', terminalId: running.terminalId };
  const own = rows.find((r) => r.terminalId === terminalId);
  if (own?.sessionRef) {
    const ref = own.sessionRef;
    const elsewhere = rows.find(
      (r) => r.status === 'running' && r.sessionRef?.provider === ref.provider && r.sessionRef.sessionId === ref.sessionId,
    );
    if (elsewhere) return { kind: 'running', terminalId: elsewhere.terminalId };
  }
  if (own?.resumable) return { kind: 'resume', row: own };
  return { kind: 'none' };
}

/** Rows whose title, mode, directory, status or ids contain `filter` (any case). */
export function filterRows(rows: ReadonlyArray<SessionRow>, filter: string): SessionRow[] {
  const needle = filter.trim().toLowerCase();
  if (needle === '') return [...rows];
  return rows.filter((row) =>
    [row.title, row.mode, row.cwd ?? '', row.terminalId, row.sessionRef?.sessionId ?? '', row.resumable ? 'resumable' : row.status]
      .some((field) => field.toLowerCase().includes(needle)),
  );
}
