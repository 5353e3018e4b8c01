//! The repaint's cells: every row drawn with its pens, soft wraps made
//! again by wrapping, blanks skipped, and the cells a wide character or a
//! tab leaves behind.

use std::fmt::Write;

use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::vte::ansi::{Color, NamedColor};

use super::cursor::write_saved_cursor;
use super::wide_chars::{
    before_an_orphaned_spacer, draw_orphaned_spacers, draw_wide_chars_cut_at_the_margin,
    lost_its_spacer,
};
use crate::session::terminal::pen::Pen;

/// Runs of blank cells at least this long are skipped with a cursor move
/// rather than written as spaces.
const MIN_SKIPPED_BLANKS: usize = 4;

/// A cell nothing was drawn in: what erasing with the default pen leaves.
pub(super) fn is_blank(cell: &Cell) -> bool {
    is_erased(cell) && cell.bg == Color::Named(NamedColor::Background)
}

/// What erasing leaves, in any background: ECH with that background
/// (`Pen::of` the cell) makes it again.
pub(in crate::session::terminal) fn is_erased(cell: &Cell) -> bool {
    cell.c == ' '
        && (cell.flags - Flags::WRAPLINE).is_empty()
        && cell.fg == Color::Named(NamedColor::Foreground)
        && (cell.extra.is_none()
            || (cell.zerowidth().is_none_or(<[char]>::is_empty)
                && cell.underline_color().is_none()
                && cell.hyperlink().is_none()))
}

/// Clears the screen, saves the grid's saved cursor and draws every cell;
/// returns the pen left selected. A soft-wrapped row is drawn through its
/// last column and the next one follows without a cursor move, so the
/// viewer marks the wrap itself.
pub(super) fn draw_cells(out: &mut String, grid: &Grid<Cell>) -> Pen {
    let rows = grid.screen_lines();
    out.push_str("\x1b[0m\x1b]8;;\x1b\\\x1b[H\x1b[2J");
    let mut pen = Pen::default();
    // Before the rows: saving a pending wrap means writing a cell, which
    // would take the soft-wrap mark off a row drawn already.
    write_saved_cursor(out, grid, &mut pen);
    if rows > 1 && soft_wraps(grid, rows - 1) {
        // Only wrapping onto a row below marks the last row soft-wrapped:
        // the rows under the top one are drawn a row higher, the last one
        // wrapping onto a throwaway row, then scrolled down into place
        // (SD), which pushes the throwaway row off the bottom and, unlike
        // scrolling up, never into the viewer's history. The top row last.
        draw_rows(out, grid, 1..rows, 1, &mut pen);
        // With the default pen: the row SD opens at the top takes the pen's
        // background (as erasing does), and the top row's blanks are skipped.
        let blank = Pen::default();
        blank.select(&pen, out);
        pen = blank;
        out.push_str("\x1b[T");
        draw_rows(out, grid, 0..1, 0, &mut pen);
    } else {
        draw_rows(out, grid, 0..rows, 0, &mut pen);
    }
    draw_wide_chars_cut_at_the_margin(out, grid, &mut pen);
    draw_orphaned_spacers(out, grid, &mut pen);
    pen
}

/// Whether `row` ends in a soft wrap onto the row below.
pub(in crate::session::terminal) fn soft_wraps(grid: &Grid<Cell>, row: usize) -> bool {
    grid[Line(row as i32)][Column(grid.columns() - 1)]
        .flags
        .contains(Flags::WRAPLINE)
}

/// Draws grid rows `rows`, each `rows_up` screen rows above its own. A
/// row that soft-wraps onto one outside `rows` wraps onto it all the same:
/// onto the next grid row drawn already (its first cell written again), or,
/// past the grid's last row, onto a throwaway row.
fn draw_rows(
    out: &mut String,
    grid: &Grid<Cell>,
    rows: std::ops::Range<usize>,
    rows_up: usize,
    pen: &mut Pen,
) {
    let rewritten = if rows.end < grid.screen_lines() && soft_wraps(grid, rows.end - 1) {
        first_cells_rewritten(grid, rows.end)
    } else {
        rows.end..rows.end
    };
    for row in rewritten.clone() {
        if grid[Line(row as i32)][Column(0)]
            .flags
            .contains(Flags::WIDE_CHAR)
        {
            // Writing over a wide character in the first column takes the
            // leading spacer off the row above, which the wrap onto it may
            // just have left: erased first, it is written on blanks.
            let _ = write!(out, "\x1b[{};1H\x1b[2X", row - rows_up + 1);
        }
    }
    let mut continues_previous = false;
    for row_index in rows.clone() {
        let screen_row = row_index - rows_up;
        // The last row wraps only onto a throwaway row below the screen,
        // that is when drawn higher up: on a screen of one row it cannot.
        let may_wrap = row_index + 1 < grid.screen_lines() || rows_up > 0;
        continues_previous = draw_row(
            out,
            grid,
            (row_index, screen_row),
            continues_previous,
            may_wrap,
            pen,
        );
    }
    if !continues_previous {
        return;
    }
    if rows.end < grid.screen_lines() {
        if ends_in_a_dangling_leading_spacer(grid, rows.end - 1) {
            // The throwaway wide character erased from under the row's
            // first two cells (`draw_row`): both drawn again.
            let row = &grid[Line(rows.end as i32)];
            draw_first_cell(out, grid, rows.end, pen);
            if !row[Column(1)].flags.contains(Flags::WIDE_CHAR_SPACER) {
                write_cell(out, &row[Column(1)], 1, pen);
            }
            return;
        }
        for row in rewritten {
            draw_first_cell(out, grid, row, pen);
        }
        return;
    }
    // The throwaway row: a wide character where the wrap left a leading
    // spacer (one that did not fit), a blank otherwise.
    // The leading spacer takes the pen the wide character is written with.
    let last = &grid[Line(rows.end as i32 - 1)][Column(grid.columns() - 1)];
    let leading_spacer = last.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER);
    let look = if leading_spacer {
        Pen::of(last)
    } else {
        Pen::default()
    };
    look.select(pen, out);
    *pen = look;
    out.push(if leading_spacer {
        THROWAWAY_WIDE_CHAR
    } else {
        ' '
    });
}

/// Whether `row` soft-wraps from a leading spacer in its last column onto
/// a next row that does not start with the wide character it was left for.
fn ends_in_a_dangling_leading_spacer(grid: &Grid<Cell>, row: usize) -> bool {
    let last = &grid[Line(row as i32)][Column(grid.columns() - 1)];
    row + 1 < grid.screen_lines()
        && soft_wraps(grid, row)
        && last.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER)
        && !grid[Line(row as i32 + 1)][Column(0)]
            .flags
            .contains(Flags::WIDE_CHAR)
}

/// A wide character for a row no one sees.
const THROWAWAY_WIDE_CHAR: char = '\u{4e00}';

/// The rows whose first cell is written again when the wrap onto `row`
/// is made: `row`, and the rows after it as long as that cell fills its
/// row (a wide character, two columns) and the row soft-wraps, since the
/// write takes the row's own mark, which only wrapping onto the next row
/// makes again. Not onto the throwaway row: the last row is drawn by then.
pub(super) fn first_cells_rewritten(grid: &Grid<Cell>, row: usize) -> std::ops::Range<usize> {
    let fills_its_row = |row: usize| {
        grid.columns() == 2
            && grid[Line(row as i32)][Column(0)]
                .flags
                .contains(Flags::WIDE_CHAR)
    };
    let mut end = row + 1;
    while end < grid.screen_lines() && fills_its_row(end - 1) && soft_wraps(grid, end - 1) {
        end += 1;
    }
    row..end
}

/// Writes the first cell of `row` again, which makes the wrap onto it
/// happen without touching the rest of it (a write in its last column
/// would take its own soft-wrap mark off).
pub(super) fn draw_first_cell(out: &mut String, grid: &Grid<Cell>, row: usize, pen: &mut Pen) {
    write_cell(out, &grid[Line(row as i32)][Column(0)], 0, pen);
}

/// Draws grid row `row_index` on screen row `screen_row`, continuing the
/// previous row's wrap if `continues_previous`; returns whether it wraps
/// onto the next (only if it soft-wraps and `may_wrap`).
fn draw_row(
    out: &mut String,
    grid: &Grid<Cell>,
    (row_index, screen_row): (usize, usize),
    continues_previous: bool,
    may_wrap: bool,
    pen: &mut Pen,
) -> bool {
    let columns = grid.columns();
    let rows = grid.screen_lines();
    let row = &grid[Line(row_index as i32)];
    let wraps = may_wrap && soft_wraps(grid, row_index);
    let end = if wraps {
        columns
    } else {
        (0..columns)
            .rev()
            .find(|&c| !is_blank(&row[Column(c)]) || lost_its_spacer(row, c))
            .map_or(0, |c| c + 1)
    };
    let end = if continues_previous {
        // At least one cell, to make the wrap onto this row happen.
        end.max(1)
    } else if end == 0 {
        return false;
    } else {
        let _ = write!(out, "\x1b[{};1H", screen_row + 1);
        end
    };
    // Past the last row comes the throwaway one, which a leading spacer
    // always makes start with a wide character.
    let next_row_starts_wide = || {
        row_index + 1 >= rows
            || grid[Line(row_index as i32 + 1)][Column(0)]
                .flags
                .contains(Flags::WIDE_CHAR)
    };
    let mut column = 0;
    let mut blanks = 0;
    while column < end {
        let cell = &row[Column(column)];
        let must_write = continues_previous && column == 0;
        if before_an_orphaned_spacer(row, column) {
            // A wide character makes the spacer; `draw_orphaned_spacers`
            // erases it from under it once the rows are drawn.
            skip_blanks(out, pen, blanks);
            blanks = 0;
            let look = Pen::of(&row[Column(column + 1)]);
            look.select(pen, out);
            *pen = look;
            out.push(THROWAWAY_WIDE_CHAR);
            column += 2;
            continue;
        }
        if lost_its_spacer(row, column) {
            // The spacer of the wide character before it was erased or
            // written over (alacritty leaves the character): the viewer's
            // is erased too (ECH), and what took its place written there.
            skip_blanks(out, pen, blanks);
            blanks = 0;
            let _ = write!(out, "\x1b[{}G", column + 1);
            let waits = wraps && column + 1 == columns;
            if is_erased(cell) && !waits {
                let erased = Pen::of(cell);
                erased.select(pen, out);
                *pen = erased;
                out.push_str("\x1b[X\x1b[C");
            } else {
                out.push_str("\x1b[X");
                if waits {
                    write_cell_before_wait(out, cell, column, pen);
                } else {
                    write_cell(out, cell, column, pen);
                }
            }
            column += 1;
            continue;
        }
        if column > 0 && row[Column(column - 1)].flags.contains(Flags::WIDE_CHAR) {
            // The spacer of the wide character before it.
            column += 1;
            continue;
        }
        if cell.flags.contains(Flags::WIDE_CHAR) && column + 1 == columns {
            // Half of a wide character shifted to the edge: drawn once the
            // rows are (`draw_wide_chars_cut_at_the_margin`). On a row that
            // wraps, a blank stands in for it, so the wrap happens.
            if wraps {
                skip_blanks(out, pen, blanks);
                blanks = 0;
                write_cell_before_wait(out, &Cell::default(), column, pen);
            } else {
                blanks += 1;
            }
            column += 1;
            continue;
        }
        let leading_spacer = cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER)
            && column + 1 == columns
            && next_row_starts_wide();
        if leading_spacer {
            // Left by a wide character that did not fit: drawing that
            // character from here, at the start of the next row, leaves
            // it again.
            blanks += 1;
            column += 1;
            continue;
        }
        if wraps && column + 1 == columns && cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
            // A leading spacer whose wide character is gone from the next
            // row (erased, or the row replaced): a throwaway one leaves the
            // spacer and the wrap, and is erased (ECH keeps the spacer, as
            // only a write over a wide character takes it off).
            skip_blanks(out, pen, blanks);
            blanks = 0;
            let look = Pen::of(cell);
            look.select(pen, out);
            out.push(THROWAWAY_WIDE_CHAR);
            let blank = Pen::default();
            blank.select(&look, out);
            *pen = blank;
            out.push_str("\r\x1b[2X");
            column += 1;
            continue;
        }
        if is_blank(cell) && !must_write && !(wraps && column + 1 == end) {
            blanks += 1;
            column += 1;
            continue;
        }
        skip_blanks(out, pen, blanks);
        blanks = 0;
        if wraps && column + 1 == columns {
            write_cell_before_wait(out, cell, column, pen);
        } else {
            write_cell(out, cell, column, pen);
        }
        column += 1;
    }
    if wraps && blanks > 0 {
        // Up to a leading spacer in the last column: only a cursor move
        // leaves the cursor there without a pending wrap.
        let _ = write!(out, "\x1b[{blanks}C");
    }
    wraps
}

/// Moves past `count` blank cells: a cursor move for a long run, spaces
/// with the default pen for a short one.
fn skip_blanks(out: &mut String, pen: &mut Pen, count: usize) {
    if count == 0 {
        return;
    }
    if count >= MIN_SKIPPED_BLANKS {
        let _ = write!(out, "\x1b[{count}C");
        return;
    }
    let blank = Pen::default();
    blank.select(pen, out);
    *pen = blank;
    out.extend(std::iter::repeat_n(' ', count));
}

/// Draws `cell`, which sits in `column`, at the cursor.
pub(in crate::session::terminal) fn write_cell(
    out: &mut String,
    cell: &Cell,
    column: usize,
    pen: &mut Pen,
) {
    if !pen.draws(cell) {
        let look = Pen::of(cell);
        look.select(pen, out);
        *pen = look;
    }
    if cell.c == '\t' {
        // The mark a tab leaves in the cell it started from (kept for
        // copying): a tab drawn here leaves it again; then back to the
        // column after it.
        // The space gives the cell its pen; the tab only marks a blank.
        // Zero-width characters right after the space: they join the cell
        // before the cursor, or the one it waits on in the last column.
        out.push(' ');
        if let Some(zero_width) = cell.zerowidth() {
            out.extend(zero_width.iter());
        }
        let _ = write!(out, "\x1b[{}G\t\x1b[{}G", column + 1, column + 2);
        return;
    }
    out.push(cell.c);
    if let Some(zero_width) = cell.zerowidth() {
        out.extend(zero_width.iter());
    }
}

/// Draws `cell`, after which the cursor waits to wrap (a soft wrap or a
/// pending one): a tab's mark cannot be left there (a tab there wraps), so
/// the wait wins and the mark, kept only for copying, is the blank it
/// shows as.
pub(super) fn write_cell_before_wait(out: &mut String, cell: &Cell, column: usize, pen: &mut Pen) {
    if cell.c == '\t' {
        write_cell(
            out,
            &Cell {
                c: ' ',
                ..cell.clone()
            },
            column,
            pen,
        );
    } else {
        write_cell(out, cell, column, pen);
    }
}
