import { describe, expect, it } from 'vitest';

import { age, fetchSessions, rowFromApi, rowFromInventory } from '../src/sessions';
import { describeStatus } from '../src/status';
import {
  chooseToken,
  forgetToken,
  loadTokens,
  storeToken,
  TOKEN_STORAGE_KEY,
  VIEW_TOKEN_STORAGE_KEY,
} from '../src/token-store';

describe('status pill', () => {
  it('counts down to the next attempt', () => {
    const status = { kind: 'reconnecting' as const, retryAt: 10_000, closeCode: 1006 };
    expect(describeStatus(status, 7_100)[1]).toBe('reconnecting in 3s');
    expect(describeStatus(status, 10_500)[1]).toBe('reconnecting in 0s');
  });

  it('names each state', () => {
    expect(describeStatus({ kind: 'connecting', reconnect: false })[1]).toBe('connecting…');
    expect(describeStatus({ kind: 'connecting', reconnect: true })[1]).toBe('reconnecting…');
    expect(describeStatus({ kind: 'connected' })[1]).toBe('connected');
    expect(describeStatus({ kind: 'failed', reason: 'auth' })[1]).toBe('token refused');
    expect(describeStatus({ kind: 'no_token' })[1]).toBe('no token');
  });
});

describe('session rows', () => {
  it('reads the API record of docs/test-contract.md', () => {
    const row = rowFromApi({
      terminalId: 't1',
      mode: 'claude',
      title: 'Claude CLI',
      status: 'exited',
      exitCode: 3,
      sessionRef: { provider: 'claude', sessionId: '0b7c…' },
      viewers: 2,
      pid: null,
      createdAt: 1,
      lastActivityAt: 2,
      cwd: null,
    });
    expect(row).toMatchObject({ status: 'exited', exitCode: 3, viewers: 2, pid: null, cwd: null });
    expect(row?.sessionRef).toEqual({ provider: 'claude', sessionId: '0b7c…' });
    expect(rowFromApi({ mode: 'shell' })).toBeNull();
  });

  it('an inventory row does not know its viewers', () => {
    expect(
      rowFromInventory({ terminalId: 't', title: 'Shell', mode: 'shell', status: 'running', createdAt: 0, lastActivityAt: 0 }).viewers,
    ).toBeNull();
  });

  it('fetches with the token as a bearer and reports a refusal', async () => {
    let seen: RequestInit | undefined;
    const fake = async (_url: RequestInfo | URL, init?: RequestInit) => {
      seen = init;
      return new Response('missing or wrong token', { status: 401 });
    };
    const outcome = await fetchSessions('tok', fake as typeof fetch);
    expect(outcome).toMatchObject({ ok: false, unauthorized: true });
    expect((seen?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
  });

  it('says how long ago', () => {
    expect(age(0, 10_000)).toBe('just now');
    expect(age(0, 5 * 60_000)).toBe('5 min ago');
    expect(age(0, 3 * 3_600_000)).toBe('3 h ago');
    expect(age(0, 72 * 3_600_000)).toBe('3 d ago');
  });
});

function mapStorage(): { map: Map<string, string>; storage: Parameters<typeof loadTokens>[0] } {
  const map = new Map<string, string>();
  return {
    map,
    storage: {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
      removeItem: (k: string) => void map.delete(k),
    },
  };
}

describe('token storage', () => {
  it('keeps the full token under ptyhub.auth-token and the read-only one apart', () => {
    const { map, storage } = mapStorage();
    expect(loadTokens(storage)).toEqual({ full: null, view: null });
    storeToken(storage, '  tok-0123456789abcdef \n', 'full');
    expect(map.get(TOKEN_STORAGE_KEY)).toBe('tok-0123456789abcdef');
    expect(TOKEN_STORAGE_KEY).toBe('ptyhub.auth-token');
    storeToken(storage, 'view-0123456789abcdef', 'read-only');
    expect(loadTokens(storage)).toEqual({ full: 'tok-0123456789abcdef', view: 'view-0123456789abcdef' });
    expect(map.get(VIEW_TOKEN_STORAGE_KEY)).toBe('view-0123456789abcdef');
    forgetToken(storage, 'view-0123456789abcdef');
    expect(loadTokens(storage)).toEqual({ full: 'tok-0123456789abcdef', view: null });
  });

  it('a read-only token an older page kept as the full one moves to its own key', () => {
    const { map, storage } = mapStorage();
    map.set(TOKEN_STORAGE_KEY, 'view-0123456789abcdef');
    storeToken(storage, 'view-0123456789abcdef', 'read-only');
    expect(loadTokens(storage)).toEqual({ full: null, view: 'view-0123456789abcdef' });
  });

  it('a read-only link never takes the place of the full token', () => {
    const stored = { full: 'full', view: 'view' };
    expect(chooseToken(stored, null, false)).toBe('full');
    expect(chooseToken(stored, null, true)).toBe('view');
    expect(chooseToken({ full: null, view: 'view' }, null, false)).toBe('view');
    expect(chooseToken({ full: 'full', view: null }, null, true)).toBe('full');
    expect(chooseToken(stored, 'from-url', false)).toBe('from-url');
  });

  it('survives storage that throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    expect(loadTokens(broken)).toEqual({ full: null, view: null });
    expect(() => storeToken(broken, 'x', 'full')).not.toThrow();
  });
});
