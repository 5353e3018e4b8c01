/**
 * What the address bar asks for: the session list or one session, read-only or not, and a
 * token to take over.
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
  return {
    route: parseHashPath(path),
    readonly: view === 'readonly',
    token: token !== null && token !== '' ? token : null,
  };
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
 * The address to show once the token has been taken: the same URL without `token` in the
 * query (so it does not linger in history, screenshots or a pasted link).
 */
export function withoutToken(location: LocationLike): string {
  const query = new URLSearchParams(location.search);
  query.delete('token');
  const search = query.toString();
  return `${location.pathname}${search ? `?${search}` : ''}${location.hash}`;
}

/** The daemon's WebSocket endpoint for a page served from `protocol//host`. */
export function webSocketUrl(protocol: string, host: string): string {
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/ws`;
}
