/**
 * When to try the WebSocket again after it closed, and whether to try at all.
 *
 * Mirrors freshell's client (spec §1.5, §14) so that a page left open behaves the same
 * against ptyhub as against freshell: quick retries while a restart or a network blip is
 * likely over in seconds, then a slow steady retry that costs the daemon nothing when it
 * is gone for good. Jitter keeps many tabs from reconnecting in lockstep after a restart.
 */

/** First retry delay; doubles per failed attempt. */
export const BASE_DELAY_MS = 1_000;
/** Cap of the doubling phase. */
export const MAX_FAST_DELAY_MS = 4_000;
/** Number of attempts in the fast phase before the steady phase. */
export const FAST_ATTEMPTS = 10;
/** Retry period once the fast attempts are used up. */
export const STEADY_DELAY_MS = 15_000;
/** Base after close 4009 (daemon shutting down or restarting): it is back in a moment. */
export const SHUTDOWN_BASE_DELAY_MS = 500;
/** Floor after close 4008 (backpressure): give the daemon room first. */
export const BACKPRESSURE_MIN_DELAY_MS = 5_000;
/** ± fraction of jitter applied to fast-phase delays. */
export const JITTER = 0.2;

/** Close codes after which retrying cannot help; the page says why instead. */
export type FatalReason = 'auth' | 'busy' | 'protocol';

export function fatalReason(closeCode: number): FatalReason | null {
  switch (closeCode) {
    case 4001:
      return 'auth';
    case 4003:
      return 'busy';
    case 4010:
      return 'protocol';
    default:
      return null;
  }
}

/** Whether a close resets the attempt counter (the daemon asked for a fast comeback). */
export function resetsAttempts(closeCode: number): boolean {
  return closeCode === 4009;
}

/**
 * Delay before the next connection attempt.
 *
 * @param attempt failed attempts since the last successful `ready`, counting this one from 0
 *   (after a 4009 the caller resets it to 0)
 * @param closeCode the code the socket closed with (1006 for a dropped network)
 * @param random a float in [0, 1) for the jitter
 */
export function reconnectDelayMs(attempt: number, closeCode: number, random: () => number = Math.random): number {
  if (attempt >= FAST_ATTEMPTS) return Math.max(STEADY_DELAY_MS, floorFor(closeCode));
  const base = closeCode === 4009 ? SHUTDOWN_BASE_DELAY_MS : BASE_DELAY_MS;
  const doubled = Math.min(base * 2 ** Math.max(0, attempt), MAX_FAST_DELAY_MS);
  const jittered = doubled * (1 - JITTER + 2 * JITTER * random());
  return Math.round(Math.max(jittered, floorFor(closeCode)));
}

function floorFor(closeCode: number): number {
  return closeCode === 4008 ? BACKPRESSURE_MIN_DELAY_MS : 0;
}
