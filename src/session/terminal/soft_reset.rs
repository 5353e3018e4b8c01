//! DECSTR (`CSI ! p`, the soft terminal reset): found in the output, and
//! carried out on the model. vte's parser drops it as unknown, so `Term`
//! never resets anything on it, while xterm.js — every viewer — resets the
//! pen, margins, charsets, several modes and the saved cursor (and
//! `tput init` sends it: it is in xterm's `is2`).
//! The emulator feeds the output up to the end of each one found, then
//! carries out the reset (`Observer::soft_reset`, below).
//!
//! It costs a byte search for `!p` (rare in output) and a look at the last
//! escape sequence of each chunk, for one split across chunks: the
//! parser's own work is not repeated.

use alacritty_terminal::grid::Cursor;
use alacritty_terminal::vte::ansi::{
    self, Attr, CharsetIndex, Handler, Mode, NamedPrivateMode, PrivateMode, StandardCharset,
};

use super::emulator::Observer;

/// How far into a DECSTR the last chunk ended, if it ended inside one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Partial {
    #[default]
    Nothing,
    /// `ESC`.
    Escape,
    /// `ESC [` and parameters, if any.
    Parameters,
    /// `ESC [ … !`.
    Intermediate,
}

impl Partial {
    /// The state after `byte`, or `None` when `byte` ends a DECSTR.
    fn after(self, byte: u8) -> Option<Partial> {
        Some(match (self, byte) {
            (_, ESC) => Partial::Escape,
            (Partial::Escape, b'[') => Partial::Parameters,
            (Partial::Parameters, byte) if is_parameter(byte) => Partial::Parameters,
            (Partial::Parameters, b'!') => Partial::Intermediate,
            (Partial::Intermediate, b'p') => return None,
            _ => Partial::Nothing,
        })
    }
}

const ESC: u8 = 0x1b;

fn is_parameter(byte: u8) -> bool {
    byte.is_ascii_digit() || byte == b';' || byte == b':'
}

/// Finds the DECSTRs of a stream given in chunks, one split anywhere.
#[derive(Clone, Debug, Default)]
pub struct SoftResetFinder {
    partial: Partial,
}

impl SoftResetFinder {
    /// The end (one past its final byte) of the first DECSTR in `bytes`,
    /// counting one the previous chunk ended inside of; `None` if there is
    /// none, remembering where a DECSTR the chunk ends inside of stands.
    pub fn next_end(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut from = 0;
        // A DECSTR the last chunk ended inside of: its parameters are short.
        let mut state = std::mem::take(&mut self.partial);
        while state != Partial::Nothing {
            let Some(&byte) = bytes.get(from) else {
                self.partial = state;
                return None;
            };
            from += 1;
            match state.after(byte) {
                Some(next) => state = next,
                None => return Some(from),
            }
        }
        for at in memchr::memmem::find_iter(&bytes[from..], b"!p").map(|at| from + at) {
            // `ESC [`, parameters, then this `!p`, all after `from`.
            let parameters = bytes[from..at]
                .iter()
                .rev()
                .take_while(|&&byte| is_parameter(byte))
                .count();
            let opener = at - parameters;
            if opener >= from + 2 && bytes[opener - 2..opener] == [ESC, b'['] {
                return Some(at + 2);
            }
        }
        // No DECSTR: does the chunk end inside one (its last escape on)?
        if let Some(last_escape) = memchr::memrchr(ESC, &bytes[from..]) {
            let mut state = Partial::Nothing;
            for &byte in &bytes[from + last_escape..] {
                // The tail holds no `!p`, so no DECSTR ends in it.
                state = state.after(byte).unwrap_or_default();
            }
            self.partial = state;
        }
        None
    }
}

impl Observer<'_> {
    /// DECSTR (`CSI ! p`), which `Term` does not know, carried out as
    /// xterm.js (the viewers) does: the cursor shown, the whole screen as
    /// the scroll region, the default pen, insert, origin, cursor-key and
    /// keypad modes, bracketed paste, focus reports and synchronized output
    /// off, autowrap on, the cursor's style (DECSCUSR) back to its default,
    /// G0..G3 ASCII with G0 in use, and the active screen's saved
    /// cursor at home with the default pen. The cursor stays where it is
    /// (setting the margins would move it home), waiting to wrap if it did.
    pub(super) fn soft_reset(&mut self) {
        let cursor = self.term.grid().cursor.clone();
        self.reset_scroll_region();
        self.term.set_scrolling_region(1, None);
        let grid = self.term.grid_mut();
        grid.cursor.point = cursor.point;
        grid.cursor.input_needs_wrap = cursor.input_needs_wrap;
        self.terminal_attribute(Attr::Reset);
        self.unset_mode(Mode::Named(ansi::NamedMode::Insert));
        for mode in [
            NamedPrivateMode::Origin,
            NamedPrivateMode::CursorKeys,
            NamedPrivateMode::BracketedPaste,
            NamedPrivateMode::ReportFocusInOut,
            NamedPrivateMode::SyncUpdate,
        ] {
            self.unset_private_mode(PrivateMode::Named(mode));
        }
        self.set_private_mode(PrivateMode::Named(NamedPrivateMode::LineWrap));
        self.set_private_mode(PrivateMode::Named(NamedPrivateMode::ShowCursor));
        self.unset_keypad_application_mode();
        // Mode 12 stays: in xterm.js it set an option, which DECSTR keeps.
        self.set_cursor_style(None);
        for index in [
            CharsetIndex::G0,
            CharsetIndex::G1,
            CharsetIndex::G2,
            CharsetIndex::G3,
        ] {
            self.configure_charset(index, StandardCharset::Ascii);
        }
        self.set_active_charset(CharsetIndex::G0);
        self.term.grid_mut().saved_cursor = Cursor::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every DECSTR end in `chunks`, as offsets into their concatenation.
    fn ends(chunks: &[&str]) -> Vec<usize> {
        let mut finder = SoftResetFinder::default();
        let mut found = Vec::new();
        let mut base = 0;
        for chunk in chunks {
            let bytes = chunk.as_bytes();
            let mut from = 0;
            while let Some(end) = finder.next_end(&bytes[from..]) {
                from += end;
                found.push(base + from);
            }
            base += bytes.len();
        }
        found
    }

    #[test]
    fn finds_each_soft_reset_with_or_without_parameters() {
        assert_eq!(ends(&["ab\x1b[!pcd\x1b[0!p"]), [6, 13]);
    }

    #[test]
    fn finds_one_split_across_chunks_at_any_bytes() {
        let stream = "xx\x1b[1;2!pyy\x1b[?1!p";
        for first in 0..=stream.len() {
            for second in first..=stream.len() {
                let chunks = [&stream[..first], &stream[first..second], &stream[second..]];
                assert_eq!(ends(&chunks), [9], "split at {first} and {second}");
            }
        }
    }

    #[test]
    fn ignores_other_sequences_that_end_in_p_or_hold_a_bang() {
        // DECRQM (`CSI ? … $ p`, `CSI … $ p`), a private-marker CSI, text, and a
        // sequence an escape interrupted before the real one.
        assert!(ends(&["\x1b[?2026$p\x1b[4$p\x1b[?!p!p\x1b!p"]).is_empty());
        assert_eq!(ends(&["\x1b[1\x1b[!p"]), [7]);
    }
}
