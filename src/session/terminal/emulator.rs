//! The terminal emulator behind the screen model: alacritty's `Term`, fed
//! through a handler that also records what `Term` keeps private and a
//! repaint needs.
//!
//! alacritty_terminal parses about twice as fast as vt100 (BENCHMARKS.md)
//! and models far more of the terminal (scroll regions, saved cursors,
//! charsets, underline styles, hyperlinks, kitty keyboard flags). It keeps a
//! few things to itself: the scroll region, the active charset, tab stops,
//! the screen under the alternate one. Every parsed action passes through
//! [`Observer`] on its way to `Term`, which mirrors exactly those, so the
//! crate is used as published, not forked.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use alacritty_terminal::event::{Event, EventListener};
use alacritty_terminal::grid::{Cursor, Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Cell;
use alacritty_terminal::term::{Config, Term, TermMode};
use alacritty_terminal::vte::ansi::cursor_icon::CursorIcon;
use alacritty_terminal::vte::ansi::{
    self, Attr, CharsetIndex, ClearMode, Color, CursorShape, CursorStyle, Handler, Hyperlink,
    KeyboardModes, KeyboardModesApplyBehavior, LineClearMode, Mode, ModifyOtherKeys, NamedColor,
    NamedPrivateMode, PrivateMode, Rgb, ScpCharPath, ScpUpdateMode, StandardCharset,
    TabulationClearMode,
};
use parking_lot::Mutex;

use super::soft_reset::SoftResetFinder;

#[path = "emulator_resize.rs"]
mod resize;
use resize::mark_every_cell_written;

/// Default tab interval (terminfo `it`), as alacritty and xterm set it.
const TAB_INTERVAL: usize = 8;

/// Private modes the emulator does not know but a viewer may: remembered so
/// a repaint can re-enter them. Bounded, as any program can set thousands.
const MAX_FOREIGN_PRIVATE_MODES: usize = 32;

/// Private modes alacritty does not know and the model carries out as
/// xterm (and xterm.js, the viewers) does: 47 and 1047 switch screens
/// without saving the cursor, 1048 saves and restores the cursor, 9 is the
/// X10 mouse protocol.
const ALTERNATE_SCREEN: u16 = 47;
const ALTERNATE_SCREEN_CLEARED: u16 = 1047;
const SAVE_CURSOR: u16 = 1048;
const X10_MOUSE: u16 = 9;

/// The grid size, in the form alacritty asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridSize {
    pub cols: u16,
    pub rows: u16,
}

impl Dimensions for GridSize {
    fn total_lines(&self) -> usize {
        self.screen_lines()
    }

    fn screen_lines(&self) -> usize {
        usize::from(self.rows.max(1))
    }

    fn columns(&self) -> usize {
        usize::from(self.cols.max(2))
    }
}

/// What `Term` reports through events that the model keeps: the title.
#[derive(Clone, Default)]
pub struct EventSink {
    title: Arc<Mutex<Option<String>>>,
}

impl EventListener for EventSink {
    fn send_event(&self, event: Event) {
        match event {
            Event::Title(title) => *self.title.lock() = Some(title),
            // A reset after a title was set is kept as an empty one, so a
            // repaint clears the title a stale viewer still shows.
            Event::ResetTitle => {
                if let Some(title) = self.title.lock().as_mut() {
                    title.clear();
                }
            }
            // Answers to queries: the daemon answers the ones it takes out
            // of the output (`session/query_filter.rs`) from the model's
            // state, and leaves the rest to viewers. Everything else is
            // about a window the model has not.
            _ => {}
        }
    }
}

/// Synchronized updates (mode 2026) applied at once: vte's processor would
/// otherwise hold the bytes of an update back for up to 150 ms, and a
/// repaint taken meanwhile would lack output the ring already counts as
/// parsed. The mode itself is still seen by the handler and kept.
#[derive(Default)]
pub struct ApplyImmediately;

impl ansi::Timeout for ApplyImmediately {
    fn set_timeout(&mut self, _: Duration) {}
    fn clear_timeout(&mut self) {}
    fn pending_timeout(&self) -> bool {
        false
    }
}

/// State `Term` holds privately, mirrored from the actions that change it.
#[derive(Clone, Debug)]
pub struct Observed {
    /// The DECSTBM parameters (1-based top, bottom) of the scroll region
    /// in force, as given (`None`: the whole screen); see
    /// `Emulator::scroll_region`.
    pub scroll_region_request: Option<(usize, usize)>,
    /// Which of G0..G3 is invoked (SI/SO).
    pub active_charset: CharsetIndex,
    pub tab_stops: Vec<bool>,
    /// The last character printed: what REP (`CSI n b`) repeats.
    pub preceding_char: Option<char>,
    /// Mode 2026, begun and not yet ended.
    pub synchronized_output: bool,
    /// Private modes the emulator ignores, as last set (`true`) or reset.
    pub foreign_private_modes: BTreeMap<u16, bool>,
    /// Mode 9, the X10 mouse protocol (clicks only): one of the mouse
    /// protocols, which exclude each other.
    pub x10_mouse: bool,
    /// The primary screen as it was when the alternate one was entered,
    /// resized with the terminal since: `Term` keeps it, but privately.
    /// Its saved cursor is the one leaving restores (the cursor at the
    /// switch for 1049, the one DECSC saved before for 47 and 1047).
    pub primary_under_alternate: Option<Grid<Cell>>,
    /// Mode 12 (blinking cursor) as the program last set it, if it did.
    /// xterm.js (the viewers) makes it the blink that `CSI 0 SP q` returns
    /// to; alacritty blinks the cursor's current style instead, which the
    /// cursor style already carries.
    pub blinking_cursor_mode: Option<bool>,
    /// The cursor style the last DECSCUSR (`CSI n SP q`) set, `None` after
    /// `CSI 0 SP q` or a reset. xterm.js (the viewers) keeps it apart from
    /// mode 12, and it wins over it; alacritty folds both into one style.
    pub cursor_style_request: Option<CursorStyle>,
    /// Mode 12 changed after the last DECSCUSR: a repaint then sets it again
    /// after the style, as it came.
    pub blinking_mode_after_style: bool,
    /// While the primary screen shows: the alternate screen's saved
    /// cursor, which `ESC 8` restores there after the next switch (`None`
    /// when at its default). `Term` keeps it in its inactive grid.
    pub alternate_saved_cursor: Option<Cursor<Cell>>,
}

impl Observed {
    fn new(size: GridSize) -> Self {
        Self {
            scroll_region_request: None,
            active_charset: CharsetIndex::G0,
            tab_stops: default_tab_stops(0, size.columns()),
            preceding_char: None,
            synchronized_output: false,
            foreign_private_modes: BTreeMap::new(),
            x10_mouse: false,
            primary_under_alternate: None,
            alternate_saved_cursor: None,
            blinking_cursor_mode: None,
            cursor_style_request: None,
            blinking_mode_after_style: false,
        }
    }
}

/// Tab stops for columns `from..to` as a fresh terminal has them.
fn default_tab_stops(from: usize, to: usize) -> Vec<bool> {
    (from..to)
        .map(|column| column % TAB_INTERVAL == 0)
        .collect()
}

pub struct Emulator {
    pub term: Term<EventSink>,
    pub observed: Observed,
    processor: ansi::Processor<ApplyImmediately>,
    soft_resets: SoftResetFinder,
    events: EventSink,
    size: GridSize,
}

impl Emulator {
    /// A blank terminal. `scrollback_rows` of history are kept above the
    /// primary screen.
    pub fn new(size: GridSize, scrollback_rows: usize) -> Self {
        let config = Config {
            scrolling_history: scrollback_rows,
            kitty_keyboard: true,
            ..Config::default()
        };
        let events = EventSink::default();
        Self {
            term: Term::new(config, &size, events.clone()),
            observed: Observed::new(size),
            processor: ansi::Processor::new(),
            soft_resets: SoftResetFinder::default(),
            events,
            size,
        }
    }

    pub fn size(&self) -> GridSize {
        self.size
    }

    pub fn advance(&mut self, bytes: &[u8]) {
        let mut observer = Observer {
            term: &mut self.term,
            observed: &mut self.observed,
        };
        let mut rest = bytes;
        // Up to the end of each DECSTR, which the parser drops, then the
        // reset it stands for.
        while let Some(end) = self.soft_resets.next_end(rest) {
            self.processor.advance(&mut observer, &rest[..end]);
            observer.soft_reset();
            rest = &rest[end..];
        }
        self.processor.advance(&mut observer, rest);
    }

    pub fn title(&self) -> Option<String> {
        self.events.title.lock().clone()
    }

    /// Top (inclusive) and bottom (exclusive) rows of the scroll region:
    /// its request fitted to the screen, as `Term` fits it.
    pub fn scroll_region(&self) -> (usize, usize) {
        let lines = self.size.screen_lines();
        match self.observed.scroll_region_request {
            Some((top, bottom)) => (top.saturating_sub(1).min(lines), bottom.min(lines)),
            None => (0, lines),
        }
    }

    /// Restores a title saved from an emulator that had to be replaced.
    pub fn set_title(&mut self, title: Option<String>) {
        *self.events.title.lock() = title;
    }
}

/// Passes every action to `Term`, noting on the way what `Term` will not tell.
pub(super) struct Observer<'a> {
    pub(super) term: &'a mut Term<EventSink>,
    pub(super) observed: &'a mut Observed,
}

/// Forwards handler methods to `Term` unchanged.
macro_rules! forward {
    ($(fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*);)*) => {
        $(
            #[inline]
            fn $name(&mut self $(, $arg: $ty)*) {
                self.term.$name($($arg),*)
            }
        )*
    };
}

impl Observer<'_> {
    pub(super) fn reset_scroll_region(&mut self) {
        self.observed.scroll_region_request = None;
    }

    fn note_foreign_mode(&mut self, mode: u16, on: bool) {
        let modes = &mut self.observed.foreign_private_modes;
        if modes.len() < MAX_FOREIGN_PRIVATE_MODES || modes.contains_key(&mode) {
            modes.insert(mode, on);
        }
    }

    /// Enters the alternate screen as xterm does for 1049 (`save_cursor`),
    /// 1047 and 47: cleared in the pen's background, the cursor where it
    /// was. Already there, 1049 saves the cursor (DECSC) and the others do
    /// nothing.
    fn enter_alternate_screen(&mut self, save_cursor: bool) {
        if self.term.mode().contains(TermMode::ALT_SCREEN) {
            if save_cursor {
                self.term.save_cursor_position();
            }
            return;
        }
        let mut primary = self.term.grid().clone();
        if save_cursor {
            primary.saved_cursor = primary.cursor.clone();
        }
        self.observed.primary_under_alternate = Some(primary);
        // `swap_alt` also saves the primary cursor, which 47 and 1047 do
        // not: leaving puts the saved cursor kept above back.
        self.term.swap_alt();
        let background = self.term.grid().cursor.template.bg;
        if background != Color::Named(NamedColor::Background) {
            let grid = self.term.grid_mut();
            for line in 0..grid.screen_lines() {
                for column in 0..grid.columns() {
                    grid[Line(line as i32)][Column(column)] = background.into();
                }
            }
        }
    }

    /// Leaves the alternate screen as xterm does for 1049
    /// (`restore_cursor`: the cursor saved on the primary screen comes
    /// back), 1047 and 47 (the cursor stays where it is, pen and charsets
    /// too). On the primary screen, 1049 restores the saved cursor (DECRC)
    /// and the others do nothing.
    fn leave_alternate_screen(&mut self, restore_cursor: bool) {
        if !self.term.mode().contains(TermMode::ALT_SCREEN) {
            if restore_cursor {
                self.term.restore_cursor_position();
            }
            return;
        }
        let alternate_cursor = self.term.grid().cursor.clone();
        let alternate_saved = &self.term.grid().saved_cursor;
        self.observed.alternate_saved_cursor =
            (*alternate_saved != Cursor::default()).then(|| alternate_saved.clone());
        let primary = self.observed.primary_under_alternate.take();
        self.term.swap_alt();
        let grid = self.term.grid_mut();
        // `Term` resized it while it was hidden (see `resize`).
        mark_every_cell_written(grid);
        if let Some(primary) = primary {
            grid.saved_cursor = primary.saved_cursor;
        }
        grid.cursor = if restore_cursor {
            grid.saved_cursor.clone()
        } else {
            alternate_cursor
        };
    }

    /// Sets or resets a mouse protocol: setting one replaces the one in
    /// force, resetting any turns mouse reports off (xterm, xterm.js).
    fn set_mouse_protocol(&mut self, mode: PrivateMode, on: bool) {
        for protocol in [
            NamedPrivateMode::ReportMouseClicks,
            NamedPrivateMode::ReportCellMouseMotion,
            NamedPrivateMode::ReportAllMouseMotion,
        ] {
            self.term.unset_private_mode(PrivateMode::Named(protocol));
        }
        self.observed.x10_mouse = on && matches!(mode, PrivateMode::Unknown(X10_MOUSE));
        if on && !self.observed.x10_mouse {
            self.term.set_private_mode(mode);
        }
    }
}

/// Whether `mode` is one of the mouse protocols (9, 1000, 1002, 1003).
fn is_mouse_protocol(mode: PrivateMode) -> bool {
    matches!(
        mode,
        PrivateMode::Unknown(X10_MOUSE)
            | PrivateMode::Named(
                NamedPrivateMode::ReportMouseClicks
                    | NamedPrivateMode::ReportCellMouseMotion
                    | NamedPrivateMode::ReportAllMouseMotion
            )
    )
}

impl Handler for Observer<'_> {
    forward! {
        fn set_title(&mut self, title: Option<String>);
        fn set_cursor_shape(&mut self, shape: CursorShape);
        fn goto(&mut self, line: i32, col: usize);
        fn goto_line(&mut self, line: i32);
        fn identify_terminal(&mut self, intermediate: Option<char>);
        fn device_status(&mut self, arg: usize);
        fn goto_col(&mut self, col: usize);
        fn insert_blank(&mut self, count: usize);
        fn move_up(&mut self, count: usize);
        fn move_down(&mut self, count: usize);
        fn move_forward(&mut self, col: usize);
        fn move_backward(&mut self, col: usize);
        fn move_down_and_cr(&mut self, row: usize);
        fn move_up_and_cr(&mut self, row: usize);
        fn put_tab(&mut self, count: u16);
        fn backspace(&mut self);
        fn carriage_return(&mut self);
        fn linefeed(&mut self);
        fn bell(&mut self);
        fn substitute(&mut self);
        fn newline(&mut self);
        fn scroll_up(&mut self, count: usize);
        fn scroll_down(&mut self, count: usize);
        fn insert_blank_lines(&mut self, count: usize);
        fn delete_lines(&mut self, count: usize);
        fn erase_chars(&mut self, count: usize);
        fn delete_chars(&mut self, count: usize);
        fn move_backward_tabs(&mut self, count: u16);
        fn move_forward_tabs(&mut self, count: u16);
        fn save_cursor_position(&mut self);
        fn restore_cursor_position(&mut self);
        fn clear_line(&mut self, mode: LineClearMode);
        fn clear_screen(&mut self, mode: ClearMode);
        fn set_tabs(&mut self, interval: u16);
        fn reverse_index(&mut self);
        fn terminal_attribute(&mut self, attr: Attr);
        fn set_mode(&mut self, mode: Mode);
        fn unset_mode(&mut self, mode: Mode);
        fn report_mode(&mut self, mode: Mode);
        fn report_private_mode(&mut self, mode: PrivateMode);
        fn set_keypad_application_mode(&mut self);
        fn unset_keypad_application_mode(&mut self);
        fn configure_charset(&mut self, index: CharsetIndex, charset: StandardCharset);
        fn set_color(&mut self, index: usize, color: Rgb);
        fn dynamic_color_sequence(&mut self, prefix: String, index: usize, terminator: &str);
        fn reset_color(&mut self, index: usize);
        fn clipboard_store(&mut self, clipboard: u8, data: &[u8]);
        fn clipboard_load(&mut self, clipboard: u8, terminator: &str);
        fn decaln(&mut self);
        fn push_title(&mut self);
        fn pop_title(&mut self);
        fn text_area_size_pixels(&mut self);
        fn text_area_size_chars(&mut self);
        fn set_hyperlink(&mut self, hyperlink: Option<Hyperlink>);
        fn set_mouse_cursor_icon(&mut self, icon: CursorIcon);
        fn report_keyboard_mode(&mut self);
        fn push_keyboard_mode(&mut self, mode: KeyboardModes);
        fn pop_keyboard_modes(&mut self, to_pop: u16);
        fn set_keyboard_mode(&mut self, mode: KeyboardModes, behavior: KeyboardModesApplyBehavior);
        fn set_modify_other_keys(&mut self, mode: ModifyOtherKeys);
        fn report_modify_other_keys(&mut self);
        fn set_scp(&mut self, char_path: ScpCharPath, update_mode: ScpUpdateMode);
    }

    fn input(&mut self, c: char) {
        self.observed.preceding_char = Some(c);
        self.term.input(c);
    }

    fn set_horizontal_tabstop(&mut self) {
        let column = self.term.grid().cursor.point.column.0;
        if let Some(stop) = self.observed.tab_stops.get_mut(column) {
            *stop = true;
        }
        self.term.set_horizontal_tabstop();
    }

    fn clear_tabs(&mut self, mode: TabulationClearMode) {
        match mode {
            TabulationClearMode::Current => {
                let Column(column) = self.term.grid().cursor.point.column;
                if let Some(stop) = self.observed.tab_stops.get_mut(column) {
                    *stop = false;
                }
            }
            TabulationClearMode::All => self.observed.tab_stops.fill(false),
        }
        self.term.clear_tabs(mode);
    }

    fn reset_state(&mut self) {
        self.term.reset_state();
        let columns = self.term.columns();
        self.reset_scroll_region();
        self.observed.active_charset = CharsetIndex::G0;
        self.observed.tab_stops = default_tab_stops(0, columns);
        self.observed.synchronized_output = false;
        // Reset, not forgotten: a viewer that saw them set is told so.
        for on in self.observed.foreign_private_modes.values_mut() {
            *on = false;
        }
        self.observed.x10_mouse = false;
        self.observed.primary_under_alternate = None;
        self.observed.alternate_saved_cursor = None;
        // Mode 12's record stays: in xterm.js it set an option, which a
        // reset keeps. The style is reset (`Term` resets its own).
        self.observed.cursor_style_request = None;
        self.observed.blinking_mode_after_style = false;
    }

    fn set_cursor_style(&mut self, style: Option<CursorStyle>) {
        self.observed.cursor_style_request = style;
        self.observed.blinking_mode_after_style = false;
        self.term.set_cursor_style(style);
    }

    fn set_private_mode(&mut self, mode: PrivateMode) {
        match mode {
            PrivateMode::Named(NamedPrivateMode::SwapScreenAndSetRestoreCursor) => {
                return self.enter_alternate_screen(true);
            }
            PrivateMode::Unknown(ALTERNATE_SCREEN | ALTERNATE_SCREEN_CLEARED) => {
                return self.enter_alternate_screen(false);
            }
            PrivateMode::Unknown(SAVE_CURSOR) => return self.term.save_cursor_position(),
            mode if is_mouse_protocol(mode) => return self.set_mouse_protocol(mode, true),
            PrivateMode::Named(NamedPrivateMode::SyncUpdate) => {
                self.observed.synchronized_output = true;
            }
            PrivateMode::Named(NamedPrivateMode::BlinkingCursor) => {
                self.observed.blinking_cursor_mode = Some(true);
                self.observed.blinking_mode_after_style = true;
            }
            PrivateMode::Unknown(mode) => self.note_foreign_mode(mode, true),
            PrivateMode::Named(_) => {}
        }
        self.term.set_private_mode(mode);
        if let PrivateMode::Named(NamedPrivateMode::ColumnMode) = mode {
            // DECCOLM resets the scroll region (`Term::deccolm`).
            self.reset_scroll_region();
        }
    }

    fn unset_private_mode(&mut self, mode: PrivateMode) {
        match mode {
            PrivateMode::Named(NamedPrivateMode::SwapScreenAndSetRestoreCursor) => {
                return self.leave_alternate_screen(true);
            }
            PrivateMode::Unknown(ALTERNATE_SCREEN | ALTERNATE_SCREEN_CLEARED) => {
                return self.leave_alternate_screen(false);
            }
            PrivateMode::Unknown(SAVE_CURSOR) => return self.term.restore_cursor_position(),
            mode if is_mouse_protocol(mode) => return self.set_mouse_protocol(mode, false),
            PrivateMode::Named(NamedPrivateMode::SyncUpdate) => {
                self.observed.synchronized_output = false;
            }
            PrivateMode::Named(NamedPrivateMode::BlinkingCursor) => {
                self.observed.blinking_cursor_mode = Some(false);
                self.observed.blinking_mode_after_style = true;
            }
            PrivateMode::Unknown(mode) => self.note_foreign_mode(mode, false),
            PrivateMode::Named(_) => {}
        }
        self.term.unset_private_mode(mode);
        if let PrivateMode::Named(NamedPrivateMode::ColumnMode) = mode {
            self.reset_scroll_region();
        }
    }

    fn set_scrolling_region(&mut self, top: usize, bottom: Option<usize>) {
        let lines = self.term.screen_lines();
        let bottom = bottom.unwrap_or(lines);
        let start = top.saturating_sub(1).min(lines);
        let end = bottom.min(lines);
        // A region with no rows once fitted to the screen is ignored, as
        // xterm and xterm.js (the viewers) ignore it; `Term` would keep an
        // empty one and then address the cursor past it.
        if top >= bottom || start >= end {
            return;
        }
        self.observed.scroll_region_request = Some((top, bottom));
        self.term.set_scrolling_region(top, Some(bottom));
    }

    fn set_active_charset(&mut self, index: CharsetIndex) {
        self.observed.active_charset = index;
        self.term.set_active_charset(index);
    }
}
