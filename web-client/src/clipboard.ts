/**
 * Copy and paste in the terminal, as terminal emulators bind them: Ctrl+Shift+C copies the
 * selection, Ctrl+Shift+V pastes, and (optionally) selecting text copies it.
 *
 * Why not Ctrl+C/Ctrl+V: those are keys the program in the terminal reads (interrupt, literal
 * next). Ctrl+Shift+V needs no code of its own: in Chromium it is the browser's "paste as
 * plain text", whose paste event reaches xterm's textarea, so the key handler only keeps it
 * from being typed. Copy writes through the async Clipboard API where the page is a secure
 * context (https, or a loopback address), else through `execCommand('copy')`.
 */

import type { StorageLike } from './token-store';

export const COPY_ON_SELECT_KEY = 'ptyhub.copy-on-select';

/** A shortcut the terminal page handles itself instead of typing it. */
export type Shortcut = 'copy' | 'paste' | 'search';

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

/** Ctrl+Shift+C, Ctrl+Shift+V, Ctrl+Shift+F (any case of the letter); anything else is typed. */
export function shortcutOf(event: KeyLike): Shortcut | null {
  if (!event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return null;
  switch (event.key.toLowerCase()) {
    case 'c':
      return 'copy';
    case 'v':
      return 'paste';
    case 'f':
      return 'search';
    default:
      return null;
  }
}

export function loadCopyOnSelect(storage: StorageLike | null): boolean {
  try {
    return storage?.getItem(COPY_ON_SELECT_KEY) === 'on';
  } catch {
    return false;
  }
}

export function saveCopyOnSelect(storage: StorageLike | null, on: boolean): void {
  try {
    if (on) storage?.setItem(COPY_ON_SELECT_KEY, 'on');
    else storage?.removeItem(COPY_ON_SELECT_KEY);
  } catch {
    // Storage disabled: the choice lasts for this page.
  }
}

/** Puts `text` on the clipboard; false if the browser refused. */
export async function copyText(text: string): Promise<boolean> {
  if (text === '') return false;
  try {
    if (window.isSecureContext && navigator.clipboard !== undefined) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, no focus): try the old way.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  const focused = document.activeElement;
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  if (focused instanceof HTMLElement) focused.focus();
  return copied;
}
