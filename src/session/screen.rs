//! The vt100 model of one terminal's screen, and the repaint built from it.
//!
//! The model is fed from the replay ring *beside* the viewers (see
//! `Session::catch_up_screen`): raw output reaches viewers without waiting for
//! the parser, which is slower than the PTY. A repaint is what a viewer gets
//! instead of history it can no longer have: escape sequences that reproduce
//! the screen, its modes and the cursor in a freshly constructed or a
//! half-updated terminal.

use std::num::NonZeroU16;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use super::frame::Frame;

/// Rows of scrollback the model keeps. Small on purpose: vt100 costs about
/// 31 bytes per cell, and long history is kept as raw bytes in the ring.
const MODEL_SCROLLBACK_ROWS: usize = 0;

/// Modes a repaint turns off first, so a viewer that saw stale modes ends in
/// the model's state: application cursor/keypad, bracketed paste, every mouse
/// tracking mode and encoding, the cursor style (vt100 writes a style only
/// when it is not the default), and a reset scrolling region and SGR.
const RESET_MODES: &str = "\x1b[?1l\x1b>\x1b[?2004l\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[0 q\x1b[r\x1b[m";

/// Collects what the screen itself does not store: the window title.
#[derive(Debug, Default)]
pub struct ScreenEvents {
    pub title: Option<String>,
}

impl vt100::Callbacks for ScreenEvents {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = Some(String::from_utf8_lossy(title).into_owned());
    }
}

/// A repaint of the screen as of the frame with seq `through_seq`.
#[derive(Clone, Debug)]
pub struct ScreenSnapshot {
    pub through_seq: u64,
    pub repaint: String,
}

pub struct ScreenModel {
    parser: vt100::Parser<ScreenEvents>,
    /// Seq of the last frame fed to the parser.
    parsed_through_seq: u64,
    /// Stream offset just past the last parsed frame.
    parsed_through_offset: u64,
    /// The visible text when `take_text_change` last looked.
    compared_rows: Vec<String>,
    /// (cols, rows), kept outside the parser to rebuild it after a panic.
    size: (u16, u16),
}

fn nonzero(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

/// A blank parser as the model keeps it, with the window title it had.
fn model_parser(cols: u16, rows: u16, title: Option<String>) -> vt100::Parser<ScreenEvents> {
    vt100::Parser::new_with_callbacks(
        nonzero(rows),
        nonzero(cols),
        MODEL_SCROLLBACK_ROWS,
        ScreenEvents { title },
    )
}

impl ScreenModel {
    pub fn new(cols: u16, rows: u16) -> Self {
        Self {
            parser: model_parser(cols, rows, None),
            parsed_through_seq: 0,
            parsed_through_offset: 0,
            compared_rows: Vec::new(),
            size: (cols, rows),
        }
    }

    /// How many cells of visible text changed since the last call. A redraw
    /// that repaints the same text, or a spinner or clock ticking, changes
    /// few cells; new output changes many (it scrolls every row).
    pub fn take_text_change(&mut self) -> usize {
        let screen = self.parser.screen();
        let (_, cols) = screen.size();
        let rows: Vec<String> = screen.rows(0, cols.get()).collect();
        let row_count = rows.len().max(self.compared_rows.len());
        let mut changed = 0;
        for index in 0..row_count {
            let now = rows.get(index).map_or("", String::as_str);
            let before = self.compared_rows.get(index).map_or("", String::as_str);
            if now == before {
                continue;
            }
            let (mut a, mut b) = (now.chars(), before.chars());
            loop {
                match (a.next(), b.next()) {
                    (None, None) => break,
                    (x, y) if x != y => changed += 1,
                    _ => {}
                }
            }
        }
        self.compared_rows = rows;
        changed
    }

    pub fn parsed_through_seq(&self) -> u64 {
        self.parsed_through_seq
    }

    pub fn parsed_through_offset(&self) -> u64 {
        self.parsed_through_offset
    }

    /// Feeds frames in seq order; frames already parsed are skipped.
    pub fn feed(&mut self, frames: &[Arc<Frame>]) {
        for frame in frames {
            if frame.seq <= self.parsed_through_seq {
                continue;
            }
            let data = frame.data.as_bytes();
            let parsed = panic::catch_unwind(AssertUnwindSafe(|| self.parser.process(data)));
            if parsed.is_err() {
                self.rebuild_after_parser_panic(frame.seq);
            }
            self.parsed_through_seq = frame.seq;
            self.parsed_through_offset = frame.end_offset();
        }
    }

    /// vt100 0.18 panics on a few sequences any program can print (a
    /// character widened by U+FE0F at the right margin, then its row
    /// rewritten). The parser is then in an unknown state, so it is replaced:
    /// by a parser fed the old screen's repaint when that can still be made,
    /// else by a blank one. Output after the frame lands as usual; viewers
    /// are not affected, they get the raw bytes.
    fn rebuild_after_parser_panic(&mut self, seq: u64) {
        let (cols, rows) = self.size;
        let salvaged =
            panic::catch_unwind(AssertUnwindSafe(|| self.parser.screen().state_formatted()));
        let title = self.parser.callbacks_mut().title.take();
        tracing::warn!(
            seq,
            salvaged = salvaged.is_ok(),
            "the vt100 parser panicked on a frame; rebuilt the screen model"
        );
        let mut parser = model_parser(cols, rows, title);
        if let Ok(repaint) = salvaged {
            let replayed =
                panic::catch_unwind(AssertUnwindSafe(|| parser.process(repaint.as_bytes())));
            if replayed.is_err() {
                let title = parser.callbacks_mut().title.take();
                parser = model_parser(cols, rows, title);
            }
        }
        self.parser = parser;
    }

    /// Skips frames the model can no longer see (evicted before parsing).
    /// The screen is then only as good as what follows; this is logged.
    pub fn skip_to(&mut self, seq: u64, offset: u64) {
        self.parsed_through_seq = seq;
        self.parsed_through_offset = offset;
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.size = (cols, rows);
        self.parser
            .screen_mut()
            .set_size(nonzero(rows), nonzero(cols));
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    pub fn title(&self) -> Option<&str> {
        self.parser.callbacks().title.as_deref()
    }

    /// DEC private modes that are on, as `ESC[?Nh` in ascending order, then
    /// `ESC =` for the application keypad and `ESC[?25l` when the cursor is
    /// hidden. Empty when all are at defaults.
    pub fn mode_preamble(&self) -> String {
        let screen = self.parser.screen();
        let mut on: Vec<u16> = Vec::new();
        if screen.application_cursor() {
            on.push(1);
        }
        match screen.mouse_protocol_mode() {
            vt100::MouseProtocolMode::None => {}
            vt100::MouseProtocolMode::Press => on.push(9),
            vt100::MouseProtocolMode::PressRelease => on.push(1000),
            vt100::MouseProtocolMode::ButtonMotion => on.push(1002),
            vt100::MouseProtocolMode::AnyMotion => on.push(1003),
        }
        match screen.mouse_protocol_encoding() {
            vt100::MouseProtocolEncoding::Default => {}
            vt100::MouseProtocolEncoding::Utf8 => on.push(1005),
            vt100::MouseProtocolEncoding::Sgr => on.push(1006),
        }
        if screen.alternate_screen() {
            on.push(1049);
        }
        if screen.bracketed_paste() {
            on.push(2004);
        }
        on.sort_unstable();
        let mut out: String = on.iter().map(|mode| format!("\x1b[?{mode}h")).collect();
        if screen.application_keypad() {
            out.push_str("\x1b=");
        }
        if screen.hide_cursor() {
            out.push_str("\x1b[?25l");
        }
        out
    }

    /// Escape sequences that repaint this screen on any terminal of its size.
    pub fn snapshot(&self) -> ScreenSnapshot {
        let screen = self.parser.screen();
        let mut repaint = String::with_capacity(4096);
        // The alternate-screen flag is not part of vt100's formatted state.
        repaint.push_str(if screen.alternate_screen() {
            "\x1b[?1049h"
        } else {
            "\x1b[?1049l"
        });
        repaint.push_str(RESET_MODES);
        if let Some(title) = self.title() {
            let printable: String = title.chars().filter(|c| !c.is_control()).collect();
            repaint.push_str("\x1b]2;");
            repaint.push_str(&printable);
            repaint.push('\x07');
        }
        repaint.push_str(&screen.state_formatted());
        ScreenSnapshot {
            through_seq: self.parsed_through_seq,
            repaint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64, offset: u64, data: &str) -> Arc<Frame> {
        Arc::new(Frame::new(seq, offset, data.into()))
    }

    fn replayed(repaint: &str, cols: u16, rows: u16) -> vt100::Parser {
        let mut fresh = vt100::Parser::new(nonzero(rows), nonzero(cols), 0);
        fresh.process(repaint.as_bytes());
        fresh
    }

    #[test]
    fn repaint_reproduces_cells_cursor_and_modes() {
        let mut model = ScreenModel::new(40, 10);
        model.feed(&[frame(
            1,
            0,
            "hello \x1b[1;31mred\x1b[m\r\n\x1b[?2004h\x1b[?1002h\x1b[?1006h\x1b[5;7Hx\x1b[?25l",
        )]);
        let snapshot = model.snapshot();
        assert_eq!(snapshot.through_seq, 1);
        let fresh = replayed(&snapshot.repaint, 40, 10);
        assert_eq!(fresh.screen().contents(), model.screen().contents());
        assert_eq!(fresh.screen().cursor_position(), (4, 7));
        assert!(fresh.screen().bracketed_paste());
        assert!(fresh.screen().hide_cursor());
        assert_eq!(
            fresh.screen().mouse_protocol_mode(),
            vt100::MouseProtocolMode::ButtonMotion
        );
        assert_eq!(
            fresh.screen().cell(0, 6).map(|c| c.fgcolor()),
            Some(vt100::Color::Idx(1))
        );
    }

    #[test]
    fn a_ticking_spinner_changes_few_cells_and_new_lines_change_many() {
        let mut model = ScreenModel::new(40, 10);
        model.feed(&[frame(1, 0, "working |\r\n")]);
        model.take_text_change();
        model.feed(&[frame(2, 11, "\x1b[1;9H/")]);
        assert_eq!(model.take_text_change(), 1);
        model.feed(&[frame(3, 20, "\x1b[2J\x1b[Hworking /")]);
        assert_eq!(
            model.take_text_change(),
            0,
            "a full redraw of the same text"
        );
        let lines: String = (0..10)
            .map(|i| format!("new output line {i}\r\n"))
            .collect();
        model.feed(&[frame(4, 40, &lines)]);
        assert!(model.take_text_change() > 50);
    }

    #[test]
    fn repaint_restores_the_alternate_screen_and_title() {
        let mut model = ScreenModel::new(20, 5);
        model.feed(&[frame(1, 0, "\x1b]2;my app\x07\x1b[?1049h\x1b[2;2HTUI")]);
        let snapshot = model.snapshot();
        assert!(snapshot.repaint.starts_with("\x1b[?1049h"));
        assert!(snapshot.repaint.contains("\x1b]2;my app\x07"));
        let fresh = replayed(&snapshot.repaint, 20, 5);
        assert!(fresh.screen().alternate_screen());
        assert_eq!(fresh.screen().contents(), model.screen().contents());
    }

    #[test]
    fn repaint_over_a_stale_screen_turns_stale_modes_off() {
        let mut model = ScreenModel::new(20, 5);
        model.feed(&[frame(1, 0, "plain")]);
        let mut stale = vt100::Parser::new(nonzero(5), nonzero(20), 0);
        stale.process(b"\x1b[?1049h\x1b[?1003hgarbage\x1b[?2004h");
        stale.process(model.snapshot().repaint.as_bytes());
        assert!(!stale.screen().alternate_screen());
        assert!(!stale.screen().bracketed_paste());
        assert_eq!(
            stale.screen().mouse_protocol_mode(),
            vt100::MouseProtocolMode::None
        );
        assert_eq!(stale.screen().contents(), "plain");
    }
}
