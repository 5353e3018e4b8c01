import { describe, expect, it } from 'vitest';

import { fatalReason, reconnectDelayMs, resetsAttempts } from '../src/backoff';

const middle = () => 0.5; // no jitter
const low = () => 0; // -20 %
const high = () => 0.999999; // +20 %

describe('reconnect backoff (freshell: 1 s doubling to 4 s, ±20 %, 10 fast tries, then 15 s)', () => {
  it('doubles from 1 s and caps at 4 s', () => {
    expect([0, 1, 2, 3, 4, 9].map((attempt) => reconnectDelayMs(attempt, 1006, middle))).toEqual([
      1000, 2000, 4000, 4000, 4000, 4000,
    ]);
  });

  it('jitters by ±20 %', () => {
    expect(reconnectDelayMs(0, 1006, low)).toBe(800);
    expect(reconnectDelayMs(0, 1006, high)).toBe(1200);
    expect(reconnectDelayMs(5, 1006, high)).toBe(4800);
  });

  it('retries every 15 s once the fast attempts are used up', () => {
    expect(reconnectDelayMs(10, 1006, middle)).toBe(15000);
    expect(reconnectDelayMs(500, 1006, high)).toBe(15000);
  });

  it('comes back fast after 4009 (daemon restarting) and resets the counter', () => {
    expect(resetsAttempts(4009)).toBe(true);
    expect(resetsAttempts(1006)).toBe(false);
    expect(reconnectDelayMs(0, 4009, middle)).toBe(500);
  });

  it('waits at least 5 s after 4008 (backpressure)', () => {
    expect(reconnectDelayMs(0, 4008, middle)).toBe(5000);
    expect(reconnectDelayMs(10, 4008, middle)).toBe(15000);
  });

  it('does not retry a refused token, a full daemon or a protocol mismatch', () => {
    expect(fatalReason(4001)).toBe('auth');
    expect(fatalReason(4003)).toBe('busy');
    expect(fatalReason(4010)).toBe('protocol');
    for (const code of [1000, 1001, 1006, 4002, 4008, 4009, 4011]) expect(fatalReason(code)).toBeNull();
  });
});
