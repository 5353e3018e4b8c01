/**
 * The words of the status pill in the top bar: connecting, connected, reconnecting in Ns, or
 * why the page stopped trying.
 *
 * Kept apart from the DOM so that the countdown and the wording are unit-tested.
 */

import type { ConnectionStatus } from './connection';

/** [css kind, label, tooltip] for the status pill. */
export function describeStatus(status: ConnectionStatus, now = Date.now()): [string, string, string] {
  switch (status.kind) {
    case 'connecting':
      return status.reconnect
        ? ['reconnecting', 'reconnecting…', 'Opening a new connection to the daemon']
        : ['connecting', 'connecting…', 'Opening a connection to the daemon'];
    case 'connected':
      return ['connected', 'connected', 'Connected to the daemon'];
    case 'reconnecting': {
      const seconds = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
      return ['reconnecting', `reconnecting in ${seconds}s`, `Connection lost (close ${status.closeCode}). Click to retry now.`];
    }
    case 'failed':
      return status.reason === 'auth'
        ? ['failed', 'token refused', 'The daemon refused the token']
        : status.reason === 'busy'
          ? ['failed', 'daemon busy', 'Too many connections']
          : ['failed', 'reload needed', 'Protocol version mismatch'];
    case 'no_token':
      return ['failed', 'no token', 'Paste the daemon’s token'];
  }
}
