//! The terminal the viewers share: an emulator's model of one session's
//! screen, and the repaint built from it.
//!
//! The model is fed from the replay ring *beside* the viewers (see
//! `Session::catch_up_screen`): raw output reaches viewers without waiting
//! for the parser. A repaint is what a viewer gets instead of history it can
//! no longer have: escape sequences that bring a fresh or a stale terminal
//! to the model's exact state (`repaint/`).
//!
//! The emulator is alacritty_terminal (`emulator.rs`), chosen on measured
//! grounds over vt100: it parses about twice as fast and keeps the state an
//! exact repaint needs (BENCHMARKS.md, "Choosing the screen model").

mod clipped;
mod compare;
mod emulator;
mod pen;
mod preceding_char;
mod queries;
mod repaint;
mod soft_reset;
mod theme;
mod unfinished_sequence;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::term::TermMode;

use super::frame::Frame;
use super::query_filter::Query;
pub use clipped::{ClipArea, ClippedView};
use emulator::{Emulator, GridSize};
pub use theme::{SharedTheme, Theme, ThemeError};
use unfinished_sequence::UnfinishedSequence;

/// Rows of scrollback the model keeps: none. A viewer's history comes from
/// the raw output in the replay ring (replayed from a checkpoint), which
/// costs a byte per byte, where an emulator's scrollback costs 24 bytes per
/// cell.
const MODEL_SCROLLBACK_ROWS: usize = 0;

/// A repaint of the screen as of the frame with seq `through_seq`.
#[derive(Clone, Debug)]
pub struct ScreenSnapshot {
    pub through_seq: u64,
    pub repaint: String,
}

pub struct ScreenModel {
    emulator: Emulator,
    /// Seq of the last frame fed to the emulator.
    parsed_through_seq: u64,
    /// Stream offset just past the last parsed frame.
    parsed_through_offset: u64,
    /// The visible text when `take_text_change` last looked.
    compared_rows: Vec<String>,
    /// The sequence the last frame ended inside of, if any.
    unfinished: UnfinishedSequence,
    /// While the session is quiet: the state as a repaint, and `emulator`
    /// a two-cell stand-in (see `rest`).
    resting: Option<Resting>,
}

/// A screen model at rest: a few KiB of repaint instead of an emulator's
/// two grids (24 bytes a cell each).
struct Resting {
    repaint: String,
    size: GridSize,
    title: Option<String>,
}

impl Resting {
    /// An emulator in the state this repaint carries.
    fn restored(&self) -> Emulator {
        let mut emulator = Emulator::new(self.size, MODEL_SCROLLBACK_ROWS);
        let replayed = panic::catch_unwind(AssertUnwindSafe(|| {
            emulator.advance(self.repaint.as_bytes())
        }));
        if replayed.is_err() {
            emulator = Emulator::new(self.size, MODEL_SCROLLBACK_ROWS);
        }
        emulator.set_title(self.title.clone());
        emulator
    }
}

/// The emulator to read: the live one, or one restored for the occasion
/// from a resting model (reads of a resting model are rare: an API's text,
/// an attach's modes).
enum Reading<'a> {
    Live(&'a Emulator),
    Restored(Box<Emulator>),
}

impl std::ops::Deref for Reading<'_> {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        match self {
            Reading::Live(emulator) => emulator,
            Reading::Restored(emulator) => emulator,
        }
    }
}

impl ScreenModel {
    pub fn new(cols: u16, rows: u16) -> Self {
        Self {
            emulator: Emulator::new(GridSize { cols, rows }, MODEL_SCROLLBACK_ROWS),
            parsed_through_seq: 0,
            parsed_through_offset: 0,
            compared_rows: Vec::new(),
            unfinished: UnfinishedSequence::default(),
            resting: None,
        }
    }

    /// Puts the model at rest: its state kept as a repaint, its emulator's
    /// grids freed. The session does this when its output has been quiet a
    /// while; the next output (or resize) restores the emulator from the
    /// repaint (a fraction of a millisecond), exact but for the round trip's
    /// known gaps (tests/properties/screen.rs).
    pub fn rest(&mut self) {
        if self.resting.is_some() {
            return;
        }
        let emulator = std::mem::replace(
            &mut self.emulator,
            Emulator::new(GridSize { cols: 2, rows: 1 }, 0),
        );
        self.resting = Some(Resting {
            repaint: repaint::repaint(&emulator),
            size: emulator.size(),
            title: emulator.title(),
        });
    }

    /// Whether the model is at rest (see `rest`).
    pub fn is_resting(&self) -> bool {
        self.resting.is_some()
    }

    /// Restores the emulator of a resting model.
    fn wake(&mut self) {
        if let Some(resting) = self.resting.take() {
            self.emulator = resting.restored();
        }
    }

    fn reading(&self) -> Reading<'_> {
        match &self.resting {
            Some(resting) => Reading::Restored(Box::new(resting.restored())),
            None => Reading::Live(&self.emulator),
        }
    }

    /// The visible rows as text, trailing blanks trimmed.
    fn rows_text(&self) -> Vec<String> {
        let emulator = self.reading();
        let grid = emulator.term.grid();
        (0..grid.screen_lines())
            .map(|line| {
                let row = &grid[Line(line as i32)];
                let mut text = String::with_capacity(grid.columns());
                for column in 0..grid.columns() {
                    let cell = &row[Column(column)];
                    if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
                        continue;
                    }
                    text.push(if cell.c == '\t' { ' ' } else { cell.c });
                    if let Some(zero_width) = cell.zerowidth() {
                        text.extend(zero_width.iter());
                    }
                }
                text.truncate(text.trim_end_matches(' ').len());
                text
            })
            .collect()
    }

    /// The visible text, one line per row, trailing blank rows dropped.
    pub fn text(&self) -> String {
        let rows = self.rows_text();
        let used = rows
            .iter()
            .rposition(|row| !row.is_empty())
            .map_or(0, |i| i + 1);
        rows[..used].join("\n")
    }

    /// How many cells of visible text changed since the last call. A redraw
    /// that repaints the same text, or a spinner or clock ticking, changes
    /// few cells; new output changes many (it scrolls every row).
    pub fn take_text_change(&mut self) -> usize {
        let rows = self.rows_text();
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
        if frames
            .iter()
            .any(|frame| frame.seq > self.parsed_through_seq)
        {
            self.wake();
        }
        for frame in frames {
            if frame.seq <= self.parsed_through_seq {
                continue;
            }
            let data = frame.data.as_bytes();
            let parsed = panic::catch_unwind(AssertUnwindSafe(|| self.emulator.advance(data)));
            if parsed.is_err() {
                self.rebuild_after_panic(frame.seq);
            }
            self.unfinished.note(&frame.data);
            self.parsed_through_seq = frame.seq;
            self.parsed_through_offset = frame.end_offset();
        }
    }

    /// Should the emulator panic on some input (alacritty_terminal 0.26
    /// does, e.g. on more than 4 096 pushed kitty keyboard modes), its state
    /// is unknown: it is replaced by one fed the old state's repaint when
    /// that can still be made, else by a blank one. Output after the frame
    /// lands as usual; viewers are not affected, they get the raw bytes.
    fn rebuild_after_panic(&mut self, seq: u64) {
        let size = self.emulator.size();
        let title = self.emulator.title();
        let salvaged = panic::catch_unwind(AssertUnwindSafe(|| repaint::repaint(&self.emulator)));
        tracing::warn!(
            seq,
            salvaged = salvaged.is_ok(),
            "the terminal emulator panicked on a frame; rebuilt the screen model"
        );
        let mut emulator = Emulator::new(size, MODEL_SCROLLBACK_ROWS);
        if let Ok(repaint) = salvaged {
            let replayed =
                panic::catch_unwind(AssertUnwindSafe(|| emulator.advance(repaint.as_bytes())));
            if replayed.is_err() {
                emulator = Emulator::new(size, MODEL_SCROLLBACK_ROWS);
            }
        }
        emulator.set_title(title);
        self.emulator = emulator;
    }

    /// Skips frames the model can no longer see (evicted before parsing).
    /// The screen is then only as good as what follows; this is logged.
    pub fn skip_to(&mut self, seq: u64, offset: u64) {
        self.unfinished.clear();
        self.parsed_through_seq = seq;
        self.parsed_through_offset = offset;
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.wake();
        let size = GridSize { cols, rows };
        let resized = panic::catch_unwind(AssertUnwindSafe(|| self.emulator.resize(size)));
        if resized.is_err() {
            self.rebuild_after_panic(self.parsed_through_seq);
            self.emulator.resize(size);
        }
    }

    /// Whether a full-screen program has the alternate screen: output then
    /// scrolls nothing into a viewer's history.
    pub fn on_alternate_screen(&self) -> bool {
        self.reading()
            .term
            .mode()
            .contains(alacritty_terminal::term::TermMode::ALT_SCREEN)
    }

    /// (cols, rows) of the model.
    pub fn size(&self) -> (u16, u16) {
        let size = match &self.resting {
            Some(resting) => resting.size,
            None => self.emulator.size(),
        };
        (size.cols, size.rows)
    }

    pub fn title(&self) -> Option<String> {
        match &self.resting {
            Some(resting) => resting.title.clone(),
            None => self.emulator.title(),
        }
    }

    /// Escape sequences that re-enter the modes not at their defaults, for
    /// a fresh terminal that gets the stream from some point on.
    pub fn mode_preamble(&self) -> String {
        repaint::mode_preamble(&self.reading())
    }

    /// Escape sequences that bring any terminal of this size to this state,
    /// ending inside the sequence the last frame ended inside of, if any.
    pub fn snapshot(&self) -> ScreenSnapshot {
        let mut repaint = match &self.resting {
            Some(resting) => resting.repaint.clone(),
            None => repaint::repaint(&self.emulator),
        };
        repaint.push_str(self.unfinished.as_str());
        ScreenSnapshot {
            through_seq: self.parsed_through_seq,
            repaint,
        }
    }

    /// Escape sequences that draw this screen on a terminal of another
    /// size, clipped to `area`, then `footer`; `view` remembers what it drew
    /// there, so only the rows that changed are written (`clipped.rs`).
    pub fn draw_clipped(&self, view: &mut ClippedView, area: ClipArea, footer: &str) -> String {
        view.draw(&self.reading(), area, footer)
    }

    /// How this terminal's state differs from `other`'s, one line per
    /// difference (empty when they are the same): cells and their pens,
    /// both cursors, modes, scroll region, charsets, tab stops, colours,
    /// title, and the primary screen under the alternate one. For tests and
    /// fuzzing of the repaint.
    pub fn differences_from(&self, other: &ScreenModel) -> Vec<String> {
        compare::differences(&self.reading(), &other.reading())
    }

    /// The visible grid and cursors as text, for a person reading a failed
    /// comparison (see `differences_from`).
    pub fn dump(&self) -> String {
        compare::dump(&self.reading())
    }

    /// Whether the child asked for focus reports (mode 1004).
    pub fn reports_focus(&self) -> bool {
        self.reading().term.mode().contains(TermMode::FOCUS_IN_OUT)
    }

    /// The answer to a query the child wrote right after the output fed so
    /// far (see `queries.rs`), with `theme` for the colours it did not set.
    pub fn answer(&self, query: &Query, theme: &Theme) -> String {
        queries::answer(&self.reading(), query, theme)
    }

    /// Why this state's repaint would not be exact, if it would not (see
    /// `repaint::inexact`): the round-trip properties and the fuzz target
    /// skip these states, and count them.
    pub fn inexact_repaint(&self) -> Option<&'static str> {
        repaint::inexact(&self.reading())
    }

    /// Feeds raw bytes, outside the seq bookkeeping (for tests and fuzzing:
    /// a viewer's terminal fed a repaint and the output after it).
    /// Sets the window title (a model restored from a repaint, which does
    /// not carry it).
    pub fn restore_title(&mut self, title: Option<String>) {
        self.wake();
        self.emulator.set_title(title);
    }

    /// Notes that the stream so far ended in `text` (a model restored from a
    /// repaint that ends inside a sequence).
    pub fn note_unfinished(&mut self, text: &str) {
        self.unfinished.clear();
        self.unfinished.note(text);
    }

    pub fn feed_bytes(&mut self, bytes: &[u8]) {
        self.wake();
        let parsed = panic::catch_unwind(AssertUnwindSafe(|| self.emulator.advance(bytes)));
        if parsed.is_err() {
            self.rebuild_after_panic(self.parsed_through_seq);
        }
        self.unfinished.note(&String::from_utf8_lossy(bytes));
    }
}

#[cfg(test)]
mod tests;
