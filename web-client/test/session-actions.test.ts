import { describe, expect, it } from 'vitest';

import { shortcutOf } from '../src/clipboard';
import { infoFromApi, startLabel } from '../src/daemon-info';
import { kill } from '../src/protocol';
import { clearable, destinationOf, filterRows, forgetSession, renameSession, resumeMessage } from '../src/session-actions';
import type { SessionRow } from '../src/sessions';

function row(terminalId: string, changes: Partial<SessionRow> = {}): SessionRow {
  return {
    terminalId,
    mode: 'shell',
    title: 'Shell',
    status: 'running',
    exitCode: null,
    sessionRef: null,
    viewers: 0,
    pid: null,
    createdAt: 0,
    lastActivityAt: 0,
    cwd: null,
    resumable: false,
    resumedFrom: null,
    sizePolicy: null,
    ...changes,
  };
}

const ref = { provider: 'claude', sessionId: '0b6c5e5e-3f7c-4c39-9d8e-3f3b8e1f2a11' };

describe('resume', () => {
  it('resumes with the strict create freshell sends for a restored pane', () => {
    const remembered = row('old', { mode: 'claude', status: 'exited', sessionRef: ref, resumable: true, cwd: '/projects/a' });
    expect(resumeMessage(remembered, 'req-1')).toEqual({
      type: 'terminal.create',
      requestId: 'req-1',
      mode: 'claude',
      cwd: '/projects/a',
      sessionRef: ref,
      restore: true,
    });
    expect(resumeMessage(row('shell', { status: 'exited' }), 'req-2')).toBeNull();
  });

  it('an old address leads to the terminal that continues it, or to a resume', () => {
    const remembered = row('old', { mode: 'claude', status: 'exited', sessionRef: ref, resumable: true });
    expect(destinationOf([remembered], 'old')).toEqual({ kind: 'resume', row: remembered });
    const resumed = row('new', { mode: 'claude', sessionRef: ref, resumedFrom: 'old' });
    expect(destinationOf([resumed], 'old')).toEqual({ kind: 'running', terminalId: 'new' });
    const exitedHere = row('gone', { mode: 'claude', status: 'exited', sessionRef: ref });
    expect(destinationOf([exitedHere, row('elsewhere', { sessionRef: ref })], 'gone')).toEqual({
      kind: 'running',
      terminalId: 'elsewhere',
    });
    expect(destinationOf([row('x', { status: 'exited' })], 'x')).toEqual({ kind: 'none' });
    expect(destinationOf([], 'nothing')).toEqual({ kind: 'none' });
  });
});

describe('managing the list', () => {
  it('clear exited keeps the sessions that can be resumed', () => {
    const rows = [
      row('a'),
      row('b', { status: 'exited', exitCode: 0 }),
      row('c', { status: 'exited', sessionRef: ref, resumable: true }),
    ];
    expect(clearable(rows).map((r) => r.terminalId)).toEqual(['b']);
  });

  it('filters on title, mode, directory, status and ids, in any case', () => {
    const rows = [
      row('t-1', { title: 'build', cwd: '/projects/a' }),
      row('t-2', { mode: 'claude', title: 'Claude CLI', sessionRef: ref, status: 'exited', resumable: true }),
    ];
    const ids = (filter: string): string[] => filterRows(rows, filter).map((r) => r.terminalId);
    expect(ids('')).toEqual(['t-1', 't-2']);
    expect(ids('BUILD')).toEqual(['t-1']);
    expect(ids('projects/a')).toEqual(['t-1']);
    expect(ids('resumable')).toEqual(['t-2']);
    expect(ids('0b6c5e5e')).toEqual(['t-2']);
    expect(ids('nothing like it')).toEqual([]);
  });

  it('renames and forgets over the API with the token, and reports the daemon’s sentence', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const fake = async (url: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ url: String(url), init });
      return init?.method === 'DELETE'
        ? new Response('terminal t/1 is running: kill it first', { status: 409 })
        : new Response('{}', { status: 200 });
    };
    expect(await renameSession('tok', 't/1', 'build', fake as typeof fetch)).toEqual({ ok: true });
    expect(calls[0]?.url).toBe('/ptyhub/api/sessions/t%2F1');
    expect(calls[0]?.init?.method).toBe('PATCH');
    expect(calls[0]?.init?.body).toBe('{"title":"build"}');
    expect((calls[0]?.init?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect(await forgetSession('tok', 't/1', fake as typeof fetch)).toEqual({
      ok: false,
      unauthorized: false,
      message: 'terminal t/1 is running: kill it first',
    });
    expect(kill('t1')).toEqual({ type: 'terminal.kill', terminalId: 't1' });
  });
});

describe('daemon info and keys', () => {
  it('reads the access and the providers that can start', () => {
    expect(
      infoFromApi({ access: 'read-only', providers: [{ mode: 'shell', title: 'Shell', resumable: false }, { bad: 1 }] }),
    ).toEqual({ access: 'read-only', providers: [{ mode: 'shell', title: 'Shell', resumable: false }] });
    expect(infoFromApi({ access: 'admin' })).toBeNull();
    expect(startLabel({ mode: 'shell', title: 'Shell', resumable: false })).toBe('New shell');
    expect(startLabel({ mode: 'claude', title: 'Claude CLI', resumable: true })).toBe('New Claude CLI');
  });

  it('Ctrl+Shift+C/V/F are the page’s; Ctrl+C and Ctrl+F are the program’s', () => {
    const key = (key: string, mods: Partial<{ ctrlKey: boolean; shiftKey: boolean; altKey: boolean; metaKey: boolean }>) =>
      shortcutOf({ key, ctrlKey: false, shiftKey: false, altKey: false, metaKey: false, ...mods });
    expect(key('C', { ctrlKey: true, shiftKey: true })).toBe('copy');
    expect(key('V', { ctrlKey: true, shiftKey: true })).toBe('paste');
    expect(key('F', { ctrlKey: true, shiftKey: true })).toBe('search');
    expect(key('c', { ctrlKey: true })).toBeNull();
    expect(key('f', { ctrlKey: true })).toBeNull();
    expect(key('C', { ctrlKey: true, shiftKey: true, altKey: true })).toBeNull();
  });
});
