//! The user's own terminal while attached: raw mode in, output out, and
//! everything put back on the way out.
//!
//! [`LocalTerminal`] is a guard. However the attach ends — detach, the
//! session exiting, the daemon going away, a signal, an error or a panic —
//! dropping it restores the terminal settings saved on entry and undoes
//! what the session may have switched on: the alternate screen, a hidden
//! cursor, mouse reporting, bracketed paste, application keys, the kitty
//! keyboard protocol, a scroll region, colours. The user's shell must never
//! be left raw or blind.

use std::io::{IsTerminal, Write};

use super::screen_modes::ScreenModes;

/// Undoes modes a session may have set, other than the alternate screen:
/// normal cursor keys and keypad, bracketed paste off, every mouse mode
/// off, focus reports off, kitty keyboard flags popped, modifyOtherKeys
/// reset, the scroll region reset (cursor kept), autowrap on, default
/// cursor shape, cursor shown, attributes reset.
const RESET_MODES: &str = concat!(
    "\x1b[?1l\x1b>",
    "\x1b[?2004l",
    "\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l",
    "\x1b[?1004l",
    "\x1b[<u",
    "\x1b[>4m",
    "\x1b7\x1b[r\x1b8",
    "\x1b[?7h",
    "\x1b[0 q",
    "\x1b[?25h",
    "\x1b[m",
);

/// Sizes the protocol accepts (`terminal.attach`/`resize`: cols 2..1000, rows 2..500).
const COLS_RANGE: (u16, u16) = (2, 1000);
const ROWS_RANGE: (u16, u16) = (2, 500);
/// Used when the terminal does not report a size.
const FALLBACK_SIZE: (u16, u16) = (80, 24);

#[derive(Debug, thiserror::Error)]
pub enum LocalTerminalError {
    #[error("attach needs a terminal on stdin and stdout; for scripts use `ptyhub snapshot` and `ptyhub send`")]
    NotATerminal,
    #[error("cannot put the terminal in raw mode: {0}")]
    RawMode(std::io::Error),
}

pub struct LocalTerminal {
    stdout: std::io::Stdout,
    modes: ScreenModes,
    restored: bool,
}

impl LocalTerminal {
    /// Switches the terminal to raw mode (restored when dropped).
    pub fn enter() -> Result<LocalTerminal, LocalTerminalError> {
        LocalTerminal::check()?;
        crossterm::terminal::enable_raw_mode().map_err(LocalTerminalError::RawMode)?;
        Ok(LocalTerminal {
            stdout: std::io::stdout(),
            modes: ScreenModes::new(),
            restored: false,
        })
    }

    /// Fails unless stdin and stdout are both a terminal.
    pub fn check() -> Result<(), LocalTerminalError> {
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            Ok(())
        } else {
            Err(LocalTerminalError::NotATerminal)
        }
    }

    /// The window size as (cols, rows), clamped to what the protocol accepts.
    pub fn size(&self) -> (u16, u16) {
        let (cols, rows) = match crossterm::terminal::size() {
            Ok((cols, rows)) if cols > 0 && rows > 0 => (cols, rows),
            _ => FALLBACK_SIZE,
        };
        (
            cols.clamp(COLS_RANGE.0, COLS_RANGE.1),
            rows.clamp(ROWS_RANGE.0, ROWS_RANGE.1),
        )
    }

    /// Writes the session's output as it is.
    pub fn write(&mut self, output: &str) -> std::io::Result<()> {
        self.modes.observe(output);
        let mut out = self.stdout.lock();
        out.write_all(output.as_bytes())?;
        out.flush()
    }

    /// Whether what was written left this terminal on its alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.modes.alternate_screen()
    }

    /// Clears the screen, for a session that has drawn nothing yet.
    pub fn clear(&mut self) -> std::io::Result<()> {
        self.write("\x1b[H\x1b[2J")
    }

    fn restore(&mut self) {
        if self.restored {
            return;
        }
        self.restored = true;
        let mut sequence = String::new();
        if self.modes.alternate_screen() {
            // Brings back the user's shell and its cursor.
            sequence.push_str("\x1b[?1049l");
        }
        sequence.push_str(RESET_MODES);
        if !self.modes.alternate_screen() {
            // The session's last line stays; what follows starts below it.
            sequence.push_str("\r\n");
        }
        // The terminal may be gone (SIGHUP); restoring is best effort.
        let mut out = self.stdout.lock();
        let _ = out.write_all(sequence.as_bytes());
        let _ = out.flush();
        drop(out);
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

impl Drop for LocalTerminal {
    fn drop(&mut self) {
        self.restore();
    }
}
