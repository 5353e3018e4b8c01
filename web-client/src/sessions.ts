/**
 * The session list's data: rows from `terminal.inventory` at hello, replaced by the
 * daemon's `GET /ptyhub/api/sessions` whenever the list may have changed.
 *
 * Why both: the inventory arrives on the socket with no extra round trip, so the list shows
 * at once; the HTTP API adds what the protocol has no field for (viewers, pid, exit code)
 * and is the way freshell's own client refreshes after `terminals.changed`.
 */

import type { InventoryTerminal, SessionRef } from './protocol';

export interface SessionRow {
  terminalId: string;
  mode: string;
  title: string;
  status: 'running' | 'exited';
  exitCode: number | null;
  sessionRef: SessionRef | null;
  /** `null` when only the inventory is known (it does not count viewers). */
  viewers: number | null;
  pid: number | null;
  createdAt: number;
  lastActivityAt: number;
  cwd: string | null;
  /** Not running, and a create naming its sessionRef would resume it. */
  resumable: boolean;
  /** The terminal this one continues (an old id, a bookmark, leads here). */
  resumedFrom: string | null;
  /** Whose window size the PTY takes (running sessions). */
  sizePolicy: string | null;
}

export function rowFromInventory(terminal: InventoryTerminal): SessionRow {
  return {
    terminalId: terminal.terminalId,
    mode: terminal.mode,
    title: terminal.title,
    status: terminal.status,
    exitCode: null,
    sessionRef: terminal.sessionRef ?? null,
    viewers: null,
    pid: null,
    createdAt: terminal.createdAt,
    lastActivityAt: terminal.lastActivityAt,
    cwd: terminal.cwd ?? null,
    // Only the API says; until it answers, nothing is offered for resume.
    resumable: false,
    resumedFrom: null,
    sizePolicy: null,
  };
}

/** One record of `GET /ptyhub/api/sessions` (docs/test-contract.md), checked field by field. */
export function rowFromApi(value: unknown): SessionRow | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.terminalId !== 'string' || typeof record.mode !== 'string') return null;
  const ref = record.sessionRef as Partial<SessionRef> | null | undefined;
  return {
    terminalId: record.terminalId,
    mode: record.mode,
    title: typeof record.title === 'string' ? record.title : record.mode,
    status: record.status === 'exited' ? 'exited' : 'running',
    exitCode: typeof record.exitCode === 'number' ? record.exitCode : null,
    sessionRef:
      ref && typeof ref.provider === 'string' && typeof ref.sessionId === 'string'
        ? { provider: ref.provider, sessionId: ref.sessionId }
        : null,
    viewers: typeof record.viewers === 'number' ? record.viewers : null,
    pid: typeof record.pid === 'number' ? record.pid : null,
    createdAt: typeof record.createdAt === 'number' ? record.createdAt : 0,
    lastActivityAt: typeof record.lastActivityAt === 'number' ? record.lastActivityAt : 0,
    cwd: typeof record.cwd === 'string' ? record.cwd : null,
    resumable: record.resumable === true,
    resumedFrom: typeof record.resumedFrom === 'string' ? record.resumedFrom : null,
    sizePolicy: typeof record.sizePolicy === 'string' ? record.sizePolicy : null,
  };
}

export type FetchOutcome = { ok: true; rows: SessionRow[] } | { ok: false; unauthorized: boolean; message: string };

/** `GET /ptyhub/api/sessions` on the page's own origin, with the token as a bearer. */
export async function fetchSessions(token: string, fetchImpl: typeof fetch = fetch): Promise<FetchOutcome> {
  let response: Response;
  try {
    response = await fetchImpl('/ptyhub/api/sessions', {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
  } catch (err) {
    return { ok: false, unauthorized: false, message: `cannot reach the daemon (${String(err)})` };
  }
  if (response.status === 401) return { ok: false, unauthorized: true, message: 'the daemon refused the token' };
  if (!response.ok) return { ok: false, unauthorized: false, message: `GET /ptyhub/api/sessions answered ${response.status}` };
  const body: unknown = await response.json().catch(() => null);
  if (!Array.isArray(body)) return { ok: false, unauthorized: false, message: 'GET /ptyhub/api/sessions did not answer a list' };
  return { ok: true, rows: body.map(rowFromApi).filter((row): row is SessionRow => row !== null) };
}

/** "just now", "5 min ago", "3 h ago", "2 d ago". */
export function age(sinceMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - sinceMs) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}
