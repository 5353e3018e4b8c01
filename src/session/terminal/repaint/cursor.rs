//! Where the repaint leaves the cursors: the cursor itself (its place and
//! a pending wrap), the cursor saved by DECSC on each screen, and absolute
//! moves that respect origin mode.

use std::fmt::Write;

use alacritty_terminal::grid::{Cursor, Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};

use super::cells::{is_blank, is_erased, write_cell_before_wait};
use super::designate_charsets;
use super::wide_chars::ERASE_WIDE_CHAR;
use crate::session::terminal::pen::Pen;
use crate::session::terminal::preceding_char::columns_taken;

/// The cursor saved by DECSC (`ESC 7`), saved again on the viewer.
pub(super) fn write_saved_cursor(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
    save_cursor(out, grid, pen);
    let saved = &grid.saved_cursor;
    let columns = grid.columns();
    if saved.input_needs_wrap && saved.point.column.0 + 1 == columns {
        // The cell written to save a pending wrap is blanked: its row is
        // drawn later, and a wide character already there would change
        // how that drawing lands (writing over one in the first columns
        // takes the leading spacer off the row above; a soft wrap on the
        // last row scrolls the rows down).
        let blank = Pen::default();
        blank.select(pen, out);
        *pen = blank;
        out.push_str("\x1b[2K");
    }
}

/// Saves the grid's saved cursor on the viewer (DECSC): its place (a
/// pending wrap is written), pen and charsets; the charsets are then back
/// to ASCII for the cells written after.
pub(super) fn save_cursor(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
    let saved = &grid.saved_cursor;
    position(out, grid, saved, pen, None, None);
    let saved_pen = Pen::of(&saved.template);
    saved_pen.select(pen, out);
    *pen = saved_pen;
    designate_charsets(out, &saved.charsets);
    out.push_str("\x1b7");
    // Cells written later must not be mapped through a saved charset.
    out.push_str("\x1b(B\x1b)B\x1b*B\x1b+B");
}

/// The alternate screen's saved cursor, saved there on the viewer, for a
/// program that restores it (`ESC 8`) after its next switch. In and out of
/// the alternate screen before the primary one is drawn: the switch saves
/// the primary cursor, which the drawing sets again, and entering the
/// alternate screen always clears it.
pub(super) fn write_alternate_saved_cursor(out: &mut String, columns: usize, saved: &Cursor<Cell>) {
    out.push_str("\x1b[?1049h");
    let line = saved.point.line.0.max(0) as usize;
    let column = saved.point.column.0;
    move_to(out, line, column, None);
    if saved.input_needs_wrap && column + 1 == columns {
        // Only a write in the last column makes the cursor wait.
        out.push(' ');
    }
    Pen::of(&saved.template).select(&Pen::default(), out);
    designate_charsets(out, &saved.charsets);
    out.push_str("\x1b7\x1b[?1049l\x1b[0m\x1b(B\x1b)B\x1b*B\x1b+B");
}

/// Puts the viewer's cursor where `cursor` is on `grid`, waiting to wrap
/// when it waits (only writing the last column makes it wait).
pub(super) fn position(
    out: &mut String,
    grid: &Grid<Cell>,
    cursor: &Cursor<Cell>,
    pen: &mut Pen,
    origin_top: Option<usize>,
    preceding: Option<char>,
) {
    let line = cursor.point.line.0.max(0) as usize;
    let column = cursor.point.column.0;
    let pending_wrap = cursor.input_needs_wrap;
    if !pending_wrap || column + 1 != grid.columns() {
        move_to(out, line, column, origin_top);
        return;
    }
    let start = waiting_cell_start(grid, line, column);
    move_to(out, line, start, origin_top);
    write_waiting_cell(out, grid, (line, start), pen, preceding);
}

/// Where the write that makes the cursor wait in the last column of `line`
/// starts: that column, or the wide character it belongs to.
pub(super) fn waiting_cell_start(grid: &Grid<Cell>, line: usize, column: usize) -> usize {
    let cells = &grid[Line(line as i32)];
    let wide = column > 0 && cells[Column(column - 1)].flags.contains(Flags::WIDE_CHAR);
    if wide {
        column - 1
    } else {
        column
    }
}

/// Writes the cell at `(line, start)` again, the cursor being there: only
/// writing the last column sets a pending wrap.
pub(super) fn write_waiting_cell(
    out: &mut String,
    grid: &Grid<Cell>,
    (line, start): (usize, usize),
    pen: &mut Pen,
    preceding: Option<char>,
) {
    let cell = &grid[Line(line as i32)][Column(start)];
    // This write is the repaint's last print, so it also decides what REP
    // repeats: on a blank cell, print the model's last character and erase
    // it again (ECH keeps the pending wrap).
    let preceding = preceding.filter(|&c| columns_taken(c) == Some(1));
    if let (Some(c), true) = (preceding, is_erased(cell)) {
        let erased = Pen::of(cell);
        erased.select(pen, out);
        *pen = erased;
        out.push(c);
        out.push_str("\x1b[X");
    } else if is_blank(cell) || cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
        let blank = Pen::default();
        blank.select(pen, out);
        *pen = blank;
        out.push(' ');
    } else {
        if cell.flags.contains(Flags::WIDE_CHAR) {
            out.push_str(ERASE_WIDE_CHAR);
        }
        write_cell_before_wait(out, cell, start, pen);
    }
}

/// Moves the cursor to an absolute cell. In origin mode rows count from the
/// region's top; a row above it is reached as alacritty lets a program reach
/// it, by a relative move (which adds the region's top twice): from the
/// top, up by 2 × top − line.
pub(super) fn move_to(out: &mut String, line: usize, column: usize, origin_top: Option<usize>) {
    match origin_top {
        Some(top) if line < top => {
            // The column first: CHA would add the region's top once more.
            let _ = write!(out, "\x1b[1;{}H\x1b[{}A", column + 1, 2 * top - line);
        }
        Some(top) => {
            let _ = write!(out, "\x1b[{};{}H", line - top + 1, column + 1);
        }
        None => {
            let _ = write!(out, "\x1b[{};{}H", line + 1, column + 1);
        }
    }
}
