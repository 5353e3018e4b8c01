import { describe, expect, it } from 'vitest';

import { parseLocation, terminalHash, webSocketUrl, withoutCredentials } from '../src/route';

const at = (search: string, hash: string) => ({ pathname: '/', search, hash });

describe('routes', () => {
  it('the bare page is the session list', () => {
    expect(parseLocation(at('', ''))).toEqual({ route: { kind: 'list' }, readonly: false, token: null, login: null });
    expect(parseLocation(at('', '#/')).route).toEqual({ kind: 'list' });
    expect(parseLocation(at('', '#/elsewhere')).route).toEqual({ kind: 'list' });
  });

  it('#/t/<terminalId> is one session', () => {
    expect(parseLocation(at('', '#/t/V1StGXR8_Z5jdHi6B-myT')).route).toEqual({
      kind: 'terminal',
      terminalId: 'V1StGXR8_Z5jdHi6B-myT',
    });
    expect(parseLocation(at('', '#/t/a%20b/')).route).toEqual({ kind: 'terminal', terminalId: 'a b' });
    expect(parseLocation(at('', '#/t/')).route).toEqual({ kind: 'list' });
  });

  it('?view=readonly counts in the query or in the hash', () => {
    expect(parseLocation(at('?view=readonly', '#/t/x')).readonly).toBe(true);
    expect(parseLocation(at('', '#/t/x?view=readonly'))).toEqual({
      route: { kind: 'terminal', terminalId: 'x' },
      readonly: true,
      token: null,
      login: null,
    });
    expect(parseLocation(at('?view=full', '#/t/x')).readonly).toBe(false);
  });

  it('takes ?token= and gives the address without it', () => {
    const location = { pathname: '/', search: '?token=abc123&view=readonly', hash: '#/t/x' };
    expect(parseLocation(location).token).toBe('abc123');
    expect(withoutCredentials(location)).toBe('/?view=readonly#/t/x');
    expect(withoutCredentials({ pathname: '/', search: '?token=abc', hash: '' })).toBe('/');
    expect(parseLocation(at('?token=', '')).token).toBeNull();
  });

  it('takes #login=<code> and gives the address without it', () => {
    const location = { pathname: '/ptyhub/', search: '', hash: '#login=0123abcd' };
    expect(parseLocation(location)).toEqual({ route: { kind: 'list' }, readonly: false, token: null, login: '0123abcd' });
    expect(withoutCredentials(location)).toBe('/ptyhub/');
    expect(withoutCredentials(location, true)).toBe('/ptyhub/?view=readonly');
    expect(parseLocation(at('', '#login=')).login).toBeNull();
    expect(withoutCredentials(at('', '#/t/x'))).toBe('/#/t/x');
  });

  it('builds session hashes that parse back', () => {
    expect(terminalHash('abc')).toBe('#/t/abc');
    expect(terminalHash('abc', true)).toBe('#/t/abc?view=readonly');
    const hash = terminalHash('we/ird id');
    expect(parseLocation(at('', hash)).route).toEqual({ kind: 'terminal', terminalId: 'we/ird id' });
  });

  it('the socket is /ws on the page’s own host, wss under https', () => {
    expect(webSocketUrl('http:', '127.0.0.1:7373')).toBe('ws://127.0.0.1:7373/ws');
    expect(webSocketUrl('https:', 'hub.example:443')).toBe('wss://hub.example:443/ws');
  });
});
