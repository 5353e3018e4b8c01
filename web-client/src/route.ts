/**
 * What the address bar asks for: the session list or one session, read-only or not, and a
 * login code or token to take over.
 *
 * Why routes live in the hash (`/#/t/<terminalId>`): the daemon serves one page at `/`, so
 * every session URL reaches the same document without server routing, and a URL pasted
 * into another tab opens a second viewer of the same process. `?view=readonly` may sit in
 * the query (`/?view=readonly#/t/x`) or in the hash (`#/t/x?view=readonly`) so that it
 * survives being appended by hand to a copied session URL.
 */

export type Route = { kind: 'list' } | { kind: 'terminal'; terminalId: string };

export interface PageLocation {
  route: Route;
  readonly: boolean;
  /** A `?token=` given in the query, to be stored and removed from the address bar. */
  token: string | null;
  /**
   * A login link's code (`#login=<code>`, what the daemon prints): traded once for the token
   * and removed from the address bar. In the fragment, so the browser never sends it.
   */
  login: string | null;
}

/** The parts of `window.location` this module reads (so tests need no DOM). */
export interface LocationLike {
  pathname: string;
  search: string;
  hash: string;
}

export function parseLocation(location: LocationLike): PageLocation {
  const query = new URLSearchParams(location.search);
  const { path, params: hashParams } = splitHash(location.hash);
  const token = query.get('token');
  const view = hashParams.get('view') ?? query.get('view');
  const login = loginCodeOf(location.hash);
  return {
    route: login === null ? parseHashPath(path) : { kind: 'list' },
    readonly: view === 'readonly',
    token: token !== null && token !== '' ? token : null,
    login,
  };
}

/** The code of a `#login=<code>` hash, if the hash is one. */
function loginCodeOf(hash: string): string | null {
  const match = /^#?login=([^&?#]+)/.exec(hash);
  return match ? safeDecode(match[1] ?? '') : null;
}

function splitHash(hash: string): { path: string; params: URLSearchParams } {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  const at = body.indexOf('?');
  return at < 0
    ? { path: body, params: new URLSearchParams() }
    : { path: body.slice(0, at), params: new URLSearchParams(body.slice(at + 1)) };
}

function parseHashPath(path: string): Route {
  const match = /^\/?t\/([^/?#]+)\/?$/.exec(path);
  if (match) {
    const terminalId = safeDecode(match[1] ?? '');
    if (terminalId !== '') return { kind: 'terminal', terminalId };
  }
  return { kind: 'list' };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The hash of a session's page, e.g. `#/t/abc`. */
export function terminalHash(terminalId: string, readonly = false): string {
  return `#/t/${encodeURIComponent(terminalId)}${readonly ? '?view=readonly' : ''}`;
}

/**
 * The address to show once a token or login code has been taken: the same URL without
 * `token` in the query and without a `#login=` hash (so neither lingers in the address bar, a
 * reload, a restored tab or a pasted link); with `readonly`, marked `?view=readonly` so a
 * reload keeps watching with the read-only token.
 */
export function withoutCredentials(location: LocationLike, readonly = false): string {
  const query = new URLSearchParams(location.search);
  query.delete('token');
  if (readonly) query.set('view', 'readonly');
  const search = query.toString();
  const hash = loginCodeOf(location.hash) === null ? location.hash : '';
  return `${location.pathname}${search ? `?${search}` : ''}${hash}`;
}

/** The daemon's WebSocket endpoint for a page served from `protocol//host`. */
export function webSocketUrl(protocol: string, host: string): string {
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/ws`;
}
