//! The last character printed, which REP (`CSI n b`, which ncurses uses
//! for runs of one character) repeats: a repaint makes it the viewer's last
//! print too, without leaving a trace on the screen where it can.

use std::fmt::Write;

use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};

use super::pen::Pen;
use super::repaint::{is_erased, soft_wraps, write_cell};

/// Makes `preceding` the last character the viewer printed, as it is the
/// model's. Redraws a cell that holds it, in the last column only on a
/// row that does not soft-wrap (the write would take the mark off; the
/// pending wrap it sets ends with the cursor's move). When none holds it,
/// prints it on an erased cell and erases that again.
/// `preceding` is the character as printed and as the charset maps it: a
/// cell holds the second, and either repeats the same under that charset.
pub(super) fn redraw(
    out: &mut String,
    grid: &Grid<Cell>,
    preceding: Option<(char, char)>,
    pen: &mut Pen,
) {
    let Some((printed, mapped)) = preceding else {
        return;
    };
    match plan(grid, printed, mapped) {
        PrecedingRedraw::Cell { line, column } => {
            let _ = write!(out, "\x1b[{};{}H", line + 1, column + 1);
            let cell = &grid[Line(line as i32)][Column(column)];
            if cell.c == mapped && mapped != printed {
                // Printed through DEC line drawing, the only charset that
                // maps: printed so again, since REP maps what it repeats
                // anew.
                let look = Pen::of(cell);
                look.select(pen, out);
                *pen = look;
                let _ = write!(out, "\x1b(0{printed}\x1b(B");
            } else {
                write_cell(out, cell, column, pen);
            }
        }
        PrecedingRedraw::Erased {
            line,
            column,
            width,
        } => {
            let erased = Pen::of(&grid[Line(line as i32)][Column(column)]);
            erased.select(pen, out);
            *pen = erased;
            let _ = write!(
                out,
                "\x1b[{row};{col}H{printed}\x1b[{row};{col}H\x1b[{width}X",
                row = line + 1,
                col = column + 1
            );
        }
        PrecedingRedraw::Alignment => {
            let _ = write!(out, "{printed}\x1b#8");
        }
        PrecedingRedraw::Nothing | PrecedingRedraw::Lost => {}
    }
}

/// How a repaint makes the last character printed its own last one.
pub(super) enum PrecedingRedraw {
    /// Redraw the cell that holds it.
    Cell { line: usize, column: usize },
    /// Print it on erased cells (two for a wide character), then erase
    /// them again in their background, which prints nothing.
    Erased {
        line: usize,
        column: usize,
        width: usize,
    },
    /// DECALN (`ESC # 8`) filled the screen and printed nothing: print it
    /// anywhere, then fill the screen again.
    Alignment,
    /// A control character: the DEL the repaint ends with stands for it.
    Nothing,
    /// No way without a trace: REP will repeat another character.
    Lost,
}

/// `printed` is the character as printed, `mapped` as the charset in use
/// mapped it: a cell holds the second, and either repeats the same under
/// that charset.
pub(super) fn plan(grid: &Grid<Cell>, printed: char, mapped: char) -> PrecedingRedraw {
    if printed.is_control() {
        return PrecedingRedraw::Nothing;
    }
    let columns = grid.columns();
    let found = (0..grid.screen_lines()).rev().find_map(|line| {
        let row = &grid[Line(line as i32)];
        let end = if soft_wraps(grid, line) {
            columns - 1
        } else {
            columns
        };
        (0..end)
            .rev()
            .find(|&column| {
                let cell = &row[Column(column)];
                // Writing the first column of a row takes a leading spacer
                // off the row above, so those cells are left alone.
                let after_leading_spacer = column == 0
                    && line > 0
                    && grid[Line(line as i32 - 1)][Column(columns - 1)]
                        .flags
                        .contains(Flags::LEADING_WIDE_CHAR_SPACER);
                // Nor a cell a wide character covers: writing it would
                // erase that character.
                let covered =
                    column > 0 && row[Column(column - 1)].flags.contains(Flags::WIDE_CHAR);
                let holds_mapped =
                    printed != mapped && cell.c == mapped && cell.zerowidth().is_none();
                (last_printed(cell) == printed || holds_mapped)
                    && !(cell.flags.contains(Flags::WIDE_CHAR) && column + 2 > end)
                    && !after_leading_spacer
                    && !covered
            })
            .map(|column| PrecedingRedraw::Cell { line, column })
    });
    if let Some(cell) = found {
        return cell;
    }
    // A zero-width character joins the cell before it: printed on an
    // erased cell it would join another.
    let width = match columns_taken(printed) {
        Some(width @ 1..) => width,
        _ => return PrecedingRedraw::Lost,
    };
    let erased = (0..grid.screen_lines()).find_map(|line| {
        let row = &grid[Line(line as i32)];
        // Erasing the last column would take a soft-wrap mark with it.
        let end = columns.saturating_sub(if soft_wraps(grid, line) { 2 } else { 1 });
        (0..end)
            .find(|&column| {
                let cell = &row[Column(column)];
                let covered =
                    column > 0 && row[Column(column - 1)].flags.contains(Flags::WIDE_CHAR);
                is_erased(cell)
                    && !covered
                    && (width == 1 || {
                        let next = &row[Column(column + 1)];
                        is_erased(next) && next.bg == cell.bg
                    })
            })
            .map(|column| PrecedingRedraw::Erased {
                line,
                column,
                width,
            })
    });
    match erased {
        Some(erased) => erased,
        None if is_alignment_pattern(grid) => PrecedingRedraw::Alignment,
        None => PrecedingRedraw::Lost,
    }
}

/// The columns `c` takes when printed, as the emulator counts them (the
/// same Unicode tables); `None` for a control.
pub(super) fn columns_taken(c: char) -> Option<usize> {
    unicode_width::UnicodeWidthChar::width(c)
}

/// The character a redraw of `cell` prints last: its zero-width ones come
/// after it.
pub(super) fn last_printed(cell: &Cell) -> char {
    cell.zerowidth()
        .and_then(<[char]>::last)
        .copied()
        .unwrap_or(cell.c)
}

/// Whether every cell is what the screen alignment pattern (DECALN) left:
/// an `E` in the default pen, on rows that do not wrap.
fn is_alignment_pattern(grid: &Grid<Cell>) -> bool {
    let alignment_cell = Cell {
        c: 'E',
        ..Cell::default()
    };
    (0..grid.screen_lines()).all(|line| {
        let row = &grid[Line(line as i32)];
        (0..grid.columns()).all(|column| row[Column(column)] == alignment_cell)
    })
}
