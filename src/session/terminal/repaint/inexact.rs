//! The few states no repaint reaches exactly, named so the round-trip
//! properties and the fuzz target can count them instead of failing.

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::term::TermMode;

use super::cells::{is_erased, soft_wraps};
use super::cursor::waiting_cell_start;
use crate::session::terminal::emulator::Emulator;
use crate::session::terminal::preceding_char::{
    self, columns_taken, last_printed, PrecedingRedraw,
};

/// Why a repaint of this state would not be exact, if it would not: the
/// states that no writes reach without leaving a trace. Rare in practice
/// (the round-trip properties and the fuzz target skip them, and count).
pub fn inexact(emulator: &Emulator) -> Option<&'static str> {
    let grid = emulator.term.grid();
    let cursor = &grid.cursor;
    let line = cursor.point.line.0.max(0) as usize;
    let column = cursor.point.column.0;
    let waits_at_end = cursor.input_needs_wrap && column + 1 == grid.columns();
    if waits_at_end && soft_wraps(grid, line) {
        // Only a write makes it wait, and a write takes the mark off.
        return Some("the cursor waits to wrap at the end of a soft-wrapped row");
    }
    let columns = grid.columns();
    let cut_wide_char_wraps = |row: usize| {
        grid[Line(row as i32)][Column(columns - 1)]
            .flags
            .contains(Flags::WIDE_CHAR)
            && soft_wraps(grid, row)
    };
    let rows = grid.screen_lines();
    if rows > 1 && cut_wide_char_wraps(rows - 1) {
        // Wrapping from it again would scroll the screen.
        return Some("the last row soft-wraps from half a wide character in its last column");
    }
    let saved_waits =
        grid.saved_cursor.input_needs_wrap && grid.saved_cursor.point.column.0 + 1 == columns;
    if saved_waits && (0..rows.saturating_sub(1)).any(cut_wide_char_wraps) {
        // Saving a waiting cursor writes a cell; the one saved-cursor slot
        // is needed to wrap from such a row again, after the rows are drawn.
        return Some("the saved cursor waits to wrap and a row soft-wraps from half a wide character in its last column");
    }
    let (top, bottom) = emulator.scroll_region();
    let outside_region = !(top..bottom).contains(&line);
    if emulator.term.mode().contains(TermMode::ORIGIN)
        && outside_region
        && grid.saved_cursor.point != cursor.point
    {
        // Only DECRC (ESC 8, 1048) takes the cursor outside the region in
        // origin mode, and the one saved-cursor slot holds another place.
        return Some(
            "in origin mode the cursor is outside the scroll region, where the saved cursor is not",
        );
    }
    let printed = emulator.observed.preceding_char?;
    let mapped = cursor.charsets[emulator.observed.active_charset].map(printed);
    if let PrecedingRedraw::Lost = preceding_char::plan(grid, printed, mapped) {
        return Some("no cell holds the last character printed and none is erased to print it on, so REP would repeat another");
    }
    if waits_at_end && !printed.is_control() {
        // The write that makes the cursor wait is the repaint's last.
        let start = waiting_cell_start(grid, line, column);
        let cell = &grid[Line(line as i32)][Column(start)];
        let reprinted = is_erased(cell) && columns_taken(printed) == Some(1);
        if !reprinted && last_printed(cell) != printed {
            return Some("the write that makes the cursor wait prints another character after the last one printed, so REP would repeat it");
        }
    }
    None
}
