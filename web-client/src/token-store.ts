/**
 * Where the page keeps the daemon's tokens between visits: the full token and the read-only
 * (view) token, each under its own key.
 *
 * Why localStorage: a session URL pasted into another tab of the same origin must open
 * without the token in it, and the token must not stay in the address bar (history,
 * screenshots, shared links). The keys are ptyhub's own, not freshell's, so a freshell and a
 * ptyhub served from one host do not overwrite each other's token.
 *
 * Why two keys: a read-only link opened once must never replace the full token. If it did,
 * the plain URL and every bookmark would afterwards drop keystrokes (and "New shell" would be
 * refused) with nothing on the page saying why. The page stores a token under the key its
 * rights call for, which the daemon tells it (`/ptyhub/api/info`), not the link.
 */

export const TOKEN_STORAGE_KEY = 'ptyhub.auth-token';
export const VIEW_TOKEN_STORAGE_KEY = 'ptyhub.view-token';

/** What a token allows, as the daemon says. */
export type Access = 'full' | 'read-only';

/** The parts of `Storage` used here (so tests can pass a Map-backed fake). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface StoredTokens {
  full: string | null;
  view: string | null;
}

function read(storage: StorageLike | null, key: string): string | null {
  try {
    const token = storage?.getItem(key) ?? null;
    return token !== null && token.trim() !== '' ? token : null;
  } catch {
    return null; // storage disabled (private mode, policy): the page asks for the token.
  }
}

export function loadTokens(storage: StorageLike | null): StoredTokens {
  return { full: read(storage, TOKEN_STORAGE_KEY), view: read(storage, VIEW_TOKEN_STORAGE_KEY) };
}

/**
 * The token a page uses: one given in the address bar first; else, on a read-only link, the
 * view token (a browser that has both watches with the one that cannot type); else the full
 * token, and the view token only when no full one is stored.
 */
export function chooseToken(stored: StoredTokens, fromUrl: string | null, readonlyLink: boolean): string | null {
  if (fromUrl !== null) return fromUrl;
  return readonlyLink ? (stored.view ?? stored.full) : (stored.full ?? stored.view);
}

/**
 * Keeps `token` under the key its `access` calls for. A read-only token found under the full
 * token's key (stored there by an older page) moves to its own key.
 */
export function storeToken(storage: StorageLike | null, token: string, access: Access): void {
  const trimmed = token.trim();
  try {
    if (access === 'full') {
      storage?.setItem(TOKEN_STORAGE_KEY, trimmed);
      return;
    }
    storage?.setItem(VIEW_TOKEN_STORAGE_KEY, trimmed);
    if (storage?.getItem(TOKEN_STORAGE_KEY) === trimmed) storage.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Storage disabled: the token still works for this page's life (kept by the caller).
  }
}

/** Forgets a token the daemon refused, under whichever key holds it. */
export function forgetToken(storage: StorageLike | null, token: string): void {
  try {
    for (const key of [TOKEN_STORAGE_KEY, VIEW_TOKEN_STORAGE_KEY]) {
      if (storage?.getItem(key) === token) storage.removeItem(key);
    }
  } catch {
    // Nothing stored, nothing to forget.
  }
}
