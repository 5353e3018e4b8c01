import { describe, expect, it } from 'vitest';

import {
  attach,
  attachRequestId,
  create,
  detach,
  hello,
  HYDRATE_MAX_REPLAY_BYTES,
  input,
  newRequestId,
  parseServerMessage,
  resize,
  themeReport,
} from '../src/protocol';
import { THEME } from '../src/theme';

/** A deterministic `random` that walks through the given values. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('messages the page sends', () => {
  it('hello carries protocol 7 and the token, and asks for no optional capability', () => {
    expect(hello('tok-0123456789abcdef')).toEqual({
      type: 'hello',
      protocolVersion: 7,
      token: 'tok-0123456789abcdef',
    });
  });

  it('the theme report carries the terminals\' colours as #rrggbb, and nothing of the selection', () => {
    expect(themeReport(THEME)).toEqual({
      type: 'ptyhub.theme',
      foreground: '#d7dce2',
      background: '#101318',
      cursor: '#f0c674',
    });
  });

  it('create has exactly the strict fields freshell allows (no resumeSessionId, no extras)', () => {
    expect(create('req-1', 'shell')).toEqual({ type: 'terminal.create', requestId: 'req-1', mode: 'shell' });
    expect(create('req-2', 'claude', '/work')).toEqual({
      type: 'terminal.create',
      requestId: 'req-2',
      mode: 'claude',
      cwd: '/work',
    });
    expect(Object.keys(create('req-3', 'shell', ''))).toEqual(['type', 'requestId', 'mode']);
  });

  it('a hydrate attach asks for everything from seq 0 within the replay budget', () => {
    expect(
      attach({
        terminalId: 't1',
        intent: 'viewport_hydrate',
        cols: 120,
        rows: 30,
        sinceSeq: 0,
        attachRequestId: 'web-a:1:xyzxyz',
        maxReplayBytes: HYDRATE_MAX_REPLAY_BYTES,
      }),
    ).toEqual({
      type: 'terminal.attach',
      terminalId: 't1',
      intent: 'viewport_hydrate',
      cols: 120,
      rows: 30,
      sinceSeq: 0,
      attachRequestId: 'web-a:1:xyzxyz',
      maxReplayBytes: 131072,
    });
  });

  it('attach and resize keep the geometry inside the daemon bounds', () => {
    const tiny = attach({ terminalId: 't', intent: 'keepalive_delta', cols: 1, rows: 0, sinceSeq: -5, attachRequestId: 'p:1:r' });
    expect([tiny.cols, tiny.rows, tiny.sinceSeq]).toEqual([2, 2, 0]);
    expect('maxReplayBytes' in tiny).toBe(false);
    expect(resize('t', 5000, 900.7)).toEqual({ type: 'terminal.resize', terminalId: 't', cols: 1000, rows: 500 });
    expect(resize('t', Number.NaN, 24)).toMatchObject({ cols: 2, rows: 24 });
  });

  it('input and detach name the terminal', () => {
    expect(input('t1', 'ls\r')).toEqual({ type: 'terminal.input', terminalId: 't1', data: 'ls\r' });
    expect(detach('t1')).toEqual({ type: 'terminal.detach', terminalId: 't1' });
  });
});

describe('identities', () => {
  it('attachRequestIds have freshell’s <paneId>:<n>:<6 random> shape', () => {
    expect(attachRequestId('web-AbCd1234', 3, sequence(0))).toBe('web-AbCd1234:3:AAAAAA');
    expect(attachRequestId('web-AbCd1234', 4, sequence(0, 0.999))).toBe('web-AbCd1234:4:A-A-A-');
    expect(attachRequestId('web-x', 1)).toMatch(/^web-x:1:[A-Za-z0-9_-]{6}$/);
  });

  it('requestIds are 21 characters of the nanoid alphabet, fresh each time', () => {
    const a = newRequestId();
    const b = newRequestId();
    expect(a).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(a).not.toBe(b);
  });
});

describe('parsing server frames', () => {
  it('accepts JSON objects with a string type', () => {
    expect(parseServerMessage('{"type":"ready","serverInstanceId":"s","bootId":"b"}')).toMatchObject({ type: 'ready' });
  });

  it('rejects what is not a typed JSON object, without throwing', () => {
    for (const text of ['', 'not json', '[]', 'null', '42', '{"type":7}', '{}']) {
      expect(parseServerMessage(text)).toBeNull();
    }
  });
});
