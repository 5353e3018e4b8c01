/**
 * Shift+Enter types a newline (Ctrl+J, `\n`) instead of a carriage return, as freshell's page
 * does: coding CLIs (Claude Code, codex) read Ctrl+J as "new line in the prompt" and Enter as
 * "send", and xterm.js would otherwise send the same `\r` for both. It holds whatever the
 * program believes of the terminal's keyboard protocol (codex advertises Shift+Enter once the
 * terminal answers the kitty keyboard query, which ptyhub does; xterm.js never encodes it).
 */

import type { KeyLike } from './clipboard';

/** What Shift+Enter types. */
export const SHIFT_ENTER_INPUT = '\n';

/** Shift+Enter with no other modifier. */
export function isShiftEnter(event: KeyLike): boolean {
  return event.key === 'Enter' && event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey;
}
