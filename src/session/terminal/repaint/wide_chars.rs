//! Repairs for wide characters the drawing of rows cannot make alone:
//! half of one shifted into the last column, and spacers whose wide
//! character was erased from under them (both states a program reaches by
//! inserting or erasing, which printing in order never leaves).

use std::fmt::Write;

use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};

use super::cells::{
    draw_first_cell, first_cells_rewritten, is_blank, is_erased, soft_wraps, write_cell,
};
use super::cursor::save_cursor;
use crate::session::terminal::pen::Pen;

/// Wide characters whose first half alone is in the last column (insert
/// mode or ICH shifted them there; printing one there would wrap it): each
/// is printed a column earlier, then shifted right by one (ICH), and the
/// cell it left is drawn again.
pub(super) fn draw_wide_chars_cut_at_the_margin(
    out: &mut String,
    grid: &Grid<Cell>,
    pen: &mut Pen,
) {
    let columns = grid.columns();
    let last = columns - 1;
    let mut used_the_saved_cursor = false;
    for row_index in 0..grid.screen_lines() {
        let row = &grid[Line(row_index as i32)];
        if !row[Column(last)].flags.contains(Flags::WIDE_CHAR) {
            continue;
        }
        // The shift takes a soft wrap's mark off the row; only wrapping
        // from it puts the mark back, and only a cursor waiting in the last
        // column wraps. Writing the character makes the cursor wait there,
        // and DECSC keeps that wait for after the shift (a viewer without
        // this state, xterm.js, still wraps onto the right row).
        let rewraps = soft_wraps(grid, row_index) && row_index + 1 < grid.screen_lines();
        let _ = write!(out, "\x1b[{};{}H", row_index + 1, last);
        write_cell(out, &row[Column(last)], last - 1, pen);
        let waiting_pen = pen.clone();
        if rewraps {
            out.push_str("\x1b7");
            used_the_saved_cursor = true;
        }
        let blank = Pen::default();
        blank.select(pen, out);
        *pen = blank;
        let _ = write!(out, "\x1b[{};{}H\x1b[@", row_index + 1, last);
        // The cell before it again, or the wide character it belongs to.
        let before = last - 1;
        let start = if before > 0 && row[Column(before - 1)].flags.contains(Flags::WIDE_CHAR) {
            before - 1
        } else {
            before
        };
        let cell = &row[Column(start)];
        if start < before || !is_blank(cell) {
            let _ = write!(out, "\x1b[{};{}H", row_index + 1, start + 1);
            if start < before {
                out.push_str(ERASE_WIDE_CHAR);
            }
            write_cell(out, cell, start, pen);
        }
        if rewraps {
            out.push_str("\x1b8");
            *pen = waiting_pen;
            for next in first_cells_rewritten(grid, row_index + 1) {
                draw_first_cell(out, grid, next, pen);
            }
        }
    }
    if used_the_saved_cursor {
        // `inexact` names the one saved cursor this cannot save again.
        save_cursor(out, grid, pen);
    }
}

/// Whether the cell after `column` is a spacer whose wide character was
/// erased from under it (alacritty leaves it, and a later write there
/// erases the cell before it), and the cell at `column` a plain one that a
/// wide character can be written over and then drawn again.
pub(super) fn before_an_orphaned_spacer(
    row: &alacritty_terminal::grid::Row<Cell>,
    column: usize,
) -> bool {
    let next = column + 1;
    next < row.len()
        && row[Column(next)].flags.contains(Flags::WIDE_CHAR_SPACER)
        && !row[Column(column)].flags.intersects(
            Flags::WIDE_CHAR | Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER,
        )
        && !lost_its_spacer(row, column)
}

/// Erases the wide characters written to make orphaned spacers (see
/// `before_an_orphaned_spacer`) and draws the cells they covered again.
pub(super) fn draw_orphaned_spacers(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
    for row_index in 0..grid.screen_lines() {
        let row = &grid[Line(row_index as i32)];
        for column in 0..grid.columns() {
            if !before_an_orphaned_spacer(row, column) {
                continue;
            }
            let cell = &row[Column(column)];
            let _ = write!(out, "\x1b[{};{}H", row_index + 1, column + 1);
            if is_erased(cell) {
                let erased = Pen::of(cell);
                erased.select(pen, out);
                *pen = erased;
                out.push_str("\x1b[X");
            } else {
                out.push_str("\x1b[X");
                write_cell(out, cell, column, pen);
            }
            if row[Column(column + 1)].c == '\t' {
                // A tab's mark in the spacer: a tab from there leaves it.
                let _ = write!(out, "\x1b[{};{}H\t", row_index + 1, column + 2);
            }
        }
    }
}

/// Whether the cell at `column` follows a wide character but is not its
/// spacer: an erase or a write took the spacer and left the character.
pub(super) fn lost_its_spacer(row: &alacritty_terminal::grid::Row<Cell>, column: usize) -> bool {
    column > 0
        && row[Column(column - 1)].flags.contains(Flags::WIDE_CHAR)
        && !row[Column(column)].flags.contains(Flags::WIDE_CHAR_SPACER)
}

/// Erases the wide character at the cursor (ECH 2) before it is written
/// again: writing over one in the first two columns takes the leading
/// spacer off the row above (alacritty), which the wrap may have left.
pub(super) const ERASE_WIDE_CHAR: &str = "\x1b[2X";
