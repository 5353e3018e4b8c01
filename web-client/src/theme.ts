/**
 * The colours of every terminal on the page.
 *
 * A module of its own because the daemon needs them too: it answers a program's colour
 * queries (OSC 10/11/12) itself, and agents pick their colours from the background they are
 * told. The daemon's default is this theme (`src/session/terminal/theme.rs`, whose unit test
 * reads this file), and the page reports it on every connection (`themeReport`), so that a
 * theme changed here reaches the daemon's answers without a change there.
 */
export const THEME = {
  foreground: '#d7dce2',
  background: '#101318',
  cursor: '#f0c674',
  selectionBackground: '#3b4a5e',
} as const;
