import { describe, expect, it } from 'vitest';

import { FRESHELL_TOKEN_KEY, handToFreshell, redeemLoginCode } from '../src/login-link';

function answering(status: number, body: unknown): { fetch: typeof fetch; sent: RequestInit[] } {
  const sent: RequestInit[] = [];
  const fake = (async (_url: string, init: RequestInit) => {
    sent.push(init);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as unknown as typeof fetch;
  return { fetch: fake, sent };
}

describe('login links', () => {
  it('trades the code by POST for the token and its rights', async () => {
    const daemon = answering(200, { token: 't0k3n', access: 'read-only', freshellFront: false });
    expect(await redeemLoginCode('c0de', daemon.fetch)).toEqual({
      ok: true,
      token: 't0k3n',
      access: 'read-only',
      freshellFront: false,
    });
    expect(daemon.sent[0]?.method).toBe('POST');
    expect(JSON.parse(String(daemon.sent[0]?.body))).toEqual({ code: 'c0de' });
  });

  it('a refused code is spent; anything else is not', async () => {
    expect(await redeemLoginCode('old', answering(401, 'used already').fetch)).toEqual({
      ok: false,
      spent: true,
      message: 'used already',
    });
    const outcome = await redeemLoginCode('c', answering(500, 'boom').fetch);
    expect(outcome.ok === false && outcome.spent).toBe(false);
    const odd = await redeemLoginCode('c', answering(200, { token: 'x', access: 'admin' }).fetch);
    expect(odd.ok).toBe(false);
  });

  it('hands the full token to freshell’s page where freshell keeps it', () => {
    const stored = new Map<string, string>();
    const storage = {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => void stored.set(k, v),
      removeItem: (k: string) => void stored.delete(k),
    };
    const jar = { cookie: '' };
    handToFreshell(storage, jar, 'a b');
    expect(stored.get(FRESHELL_TOKEN_KEY)).toBe('a b');
    expect(jar.cookie).toBe('freshell-auth=a%20b; path=/; SameSite=Strict');
  });
});
