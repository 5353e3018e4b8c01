/**
 * Where the page keeps the daemon's token between visits.
 *
 * Why localStorage: a session URL pasted into another tab of the same origin must open
 * without the token in it, and the token must not stay in the address bar (history,
 * screenshots, shared links). The key is ptyhub's own, not freshell's, so a freshell and a
 * ptyhub served from one host do not overwrite each other's token.
 */

export const TOKEN_STORAGE_KEY = 'ptyhub.auth-token';

/** The parts of `Storage` used here (so tests can pass a Map-backed fake). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function loadToken(storage: StorageLike | null): string | null {
  try {
    const token = storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
    return token !== null && token.trim() !== '' ? token : null;
  } catch {
    return null; // storage disabled (private mode, policy): the page asks for the token.
  }
}

export function saveToken(storage: StorageLike | null, token: string): void {
  try {
    storage?.setItem(TOKEN_STORAGE_KEY, token.trim());
  } catch {
    // Storage disabled: the token still works for this page's life (kept by the caller).
  }
}

export function forgetToken(storage: StorageLike | null): void {
  try {
    storage?.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to forget.
  }
}
