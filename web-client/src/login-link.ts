/**
 * Opening a login link: the daemon's printed links carry a code (`#login=<code>`), never a
 * token, and the page trades the code once for the token (`POST /ptyhub/login`).
 *
 * Why: a browser keeps every address it opens in its history database, query and fragment
 * included, and taking the token out of the address bar afterwards does not remove the row
 * already written. A code works once and expires, so the one left in the history opens
 * nothing. `ptyhub url` prints a new link when one is needed.
 */

import type { Access, StorageLike } from './token-store';

export type LoginOutcome =
  | { ok: true; token: string; access: Access; freshellFront: boolean }
  /** `spent`: the daemon knows no such code (used already, expired, or from another daemon). */
  | { ok: false; spent: boolean; message: string };

/** Reads the daemon's answer field by field; `null` if it is not one. */
export function redeemedFromApi(value: unknown): { token: string; access: Access; freshellFront: boolean } | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.token !== 'string' || record.token === '') return null;
  if (record.access !== 'full' && record.access !== 'read-only') return null;
  return { token: record.token, access: record.access, freshellFront: record.freshellFront === true };
}

export async function redeemLoginCode(code: string, fetchImpl: typeof fetch = fetch): Promise<LoginOutcome> {
  let response: Response;
  try {
    response = await fetchImpl('/ptyhub/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code }),
      cache: 'no-store',
    });
  } catch (err) {
    return { ok: false, spent: false, message: `cannot reach the daemon (${String(err)})` };
  }
  if (response.status === 401) return { ok: false, spent: true, message: await response.text().catch(() => '') };
  if (!response.ok) return { ok: false, spent: false, message: `POST /ptyhub/login answered ${response.status}` };
  const redeemed = redeemedFromApi(await response.json().catch(() => null));
  return redeemed === null
    ? { ok: false, spent: false, message: 'POST /ptyhub/login did not answer what the page reads' }
    : { ok: true, ...redeemed };
}

/**
 * Where freshell's page keeps its token (`src/lib/auth.ts` in freshell: localStorage, and the
 * `freshell-auth` cookie its server reads). In front of freshell both take the same full
 * token, so a full login link can log freshell's page in too, as its `?token=` would have.
 */
export const FRESHELL_TOKEN_KEY = 'freshell.auth-token';

export function handToFreshell(storage: StorageLike | null, cookies: { cookie: string }, token: string): void {
  try {
    storage?.setItem(FRESHELL_TOKEN_KEY, token);
  } catch {
    // Storage disabled: freshell's page will ask for the token itself.
  }
  cookies.cookie = `freshell-auth=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
}
