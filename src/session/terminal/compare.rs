//! What makes two terminals' states differ, as readable lines: the check
//! behind every repaint test and fuzz target ("a terminal fed a repaint and
//! the output after it is in the same state as one fed everything").

use std::fmt::Debug;

use alacritty_terminal::grid::{Cursor, Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::TermMode;
use alacritty_terminal::vte::ansi::CharsetIndex;

use super::emulator::Emulator;
use super::pen::Pen;
use super::repaint;

/// Differences reported per comparison at most: the first ones tell.
const MAX_DIFFERENCES: usize = 24;

/// Colour slots compared: the palette and the default foreground,
/// background and cursor colours.
const COMPARED_COLORS: usize = 259;

/// Flags of a cell's place in a wide character (its look is in the pen).
/// The spacer after a wide character is not among them: it shows as the
/// blank it is, and a wide character whose spacer was erased (alacritty
/// erases from a pending-wrap cursor) can only be redrawn with it.
const LAYOUT_FLAGS: Flags = Flags::WIDE_CHAR.union(Flags::LEADING_WIDE_CHAR_SPACER);

struct Report(Vec<String>);

impl Report {
    fn check<T: PartialEq + Debug>(&mut self, what: impl FnOnce() -> String, a: T, b: T) {
        if a != b && self.0.len() < MAX_DIFFERENCES {
            self.0.push(format!("{}: {a:?} vs {b:?}", what()));
        }
    }
}

pub fn differences(a: &Emulator, b: &Emulator) -> Vec<String> {
    let mut report = Report(Vec::new());
    report.check(|| "size".into(), a.size(), b.size());
    if a.size() != b.size() {
        return report.0;
    }
    let (mode_a, mode_b) = (*a.term.mode(), *b.term.mode());
    // The vi-mode and urgency flags belong to a window, not to the stream.
    let ignored = TermMode::VI;
    report.check(|| "modes".into(), mode_a - ignored, mode_b - ignored);
    report.check(
        || "cursor style".into(),
        a.term.cursor_style(),
        b.term.cursor_style(),
    );
    // A repaint leaves alone a title the program never set: the viewer
    // keeps its own (one that stopped inside a title sequence may even
    // have finished it with the repaint's first escape).
    if a.title().is_some() {
        report.check(
            || "title".into(),
            repaint::printable_title(a),
            repaint::printable_title(b),
        );
    }
    let (seen_a, seen_b) = (&a.observed, &b.observed);
    report.check(
        || "scroll region".into(),
        a.scroll_region(),
        b.scroll_region(),
    );
    report.check(
        || "active charset".into(),
        charset_number(seen_a.active_charset),
        charset_number(seen_b.active_charset),
    );
    report.check(|| "tab stops".into(), &seen_a.tab_stops, &seen_b.tab_stops);
    report.check(
        || "synchronized output".into(),
        seen_a.synchronized_output,
        seen_b.synchronized_output,
    );
    report.check(|| "X10 mouse".into(), seen_a.x10_mouse, seen_b.x10_mouse);
    if seen_a.blinking_cursor_mode.is_some() {
        // A repaint leaves alone a blink the program never chose, as a title.
        report.check(
            || "blinking cursor mode".into(),
            seen_a.blinking_cursor_mode,
            seen_b.blinking_cursor_mode,
        );
        report.check(
            || "blinking cursor mode set after the style".into(),
            seen_a.blinking_mode_after_style,
            seen_b.blinking_mode_after_style,
        );
    }
    report.check(
        || "cursor style requested (DECSCUSR)".into(),
        seen_a.cursor_style_request,
        seen_b.cursor_style_request,
    );
    let modes_on = |modes: &std::collections::BTreeMap<u16, bool>| {
        modes
            .iter()
            .filter(|(_, on)| **on)
            .map(|(mode, _)| *mode)
            .collect::<Vec<_>>()
    };
    report.check(
        || "foreign private modes on".into(),
        modes_on(&seen_a.foreign_private_modes),
        modes_on(&seen_b.foreign_private_modes),
    );
    for index in 0..COMPARED_COLORS {
        report.check(
            || format!("colour {index}"),
            a.term.colors()[index],
            b.term.colors()[index],
        );
    }
    let below_region_in_origin_mode = mode_a.contains(TermMode::ORIGIN)
        && a.term.grid().cursor.point.line.0.max(0) as usize >= a.scroll_region().1;
    if below_region_in_origin_mode {
        // Only DECRC puts the cursor below the region in origin mode, and
        // that uses the one saved-cursor slot the repaint must keep: the
        // repaint puts the cursor on the region's last row instead.
        let mut a_grid = a.term.grid().clone();
        a_grid.cursor.point = b.term.grid().cursor.point;
        compare_grids(&mut report, "screen", (&a_grid, b.term.grid()), true);
    } else {
        compare_grids(&mut report, "screen", (a.term.grid(), b.term.grid()), true);
    }
    if mode_a.contains(TermMode::ALT_SCREEN) && mode_b.contains(TermMode::ALT_SCREEN) {
        match (
            &seen_a.primary_under_alternate,
            &seen_b.primary_under_alternate,
        ) {
            (Some(primary_a), Some(primary_b)) => {
                compare_grids(&mut report, "primary screen", (primary_a, primary_b), false)
            }
            (primary_a, primary_b) => report.check(
                || "primary screen kept".into(),
                primary_a.is_some(),
                primary_b.is_some(),
            ),
        }
    }
    report.0
}

fn charset_number(index: CharsetIndex) -> u8 {
    index as u8
}

/// Compares two grids' cells and cursors; `cursor_shows` is false for the
/// primary screen under the alternate one, whose own cursor never comes
/// back (leaving puts the alternate or the saved cursor there).
fn compare_grids(
    report: &mut Report,
    name: &str,
    (a, b): (&Grid<Cell>, &Grid<Cell>),
    cursor_shows: bool,
) {
    let columns = a.columns();
    if cursor_shows {
        compare_cursors(
            report,
            &format!("{name} cursor"),
            columns,
            &a.cursor,
            &b.cursor,
        );
    }
    compare_cursors(
        report,
        &format!("{name} saved cursor"),
        columns,
        &a.saved_cursor,
        &b.saved_cursor,
    );
    let rows = a.screen_lines().min(b.screen_lines());
    let columns = columns.min(b.columns());
    for row in 0..rows {
        let line = Line(row as i32);
        for column in 0..columns {
            let (cell_a, cell_b) = (&a[line][Column(column)], &b[line][Column(column)]);
            // A cell a wide character covers does not show; what is left
            // in it after an erase differs from what a redraw leaves.
            if column > 0 && a[line][Column(column - 1)].flags.contains(Flags::WIDE_CHAR) {
                continue;
            }
            let at = || format!("{name} row {row} col {column}");
            report.check(
                || format!("{} text", at()),
                text_of(a, row, column),
                text_of(b, row, column),
            );
            // A leading spacer takes the pen of the wide character that
            // made it, or, made by reflow, keeps the pen of the cell it
            // replaced: a redraw can make only the first.
            if layout(a, row, column) != Flags::LEADING_WIDE_CHAR_SPACER {
                report.check(
                    || format!("{} pen", at()),
                    PenForComparison::of(cell_a),
                    PenForComparison::of(cell_b),
                );
            }
            // Writing the cell a cursor waits after takes a leading
            // spacer's mark (a cursor the alternate screen left by 47 or
            // 1047 can wait there): the blank it shows as stays.
            let cursor_waits_after = cursor_shows
                && a.cursor.input_needs_wrap
                && a.cursor.point.line == line
                && a.cursor.point.column.0 == column
                && column + 1 == columns;
            let shown_layout = |grid: &Grid<Cell>| {
                let flags = layout(grid, row, column);
                if cursor_waits_after {
                    flags - Flags::LEADING_WIDE_CHAR_SPACER
                } else {
                    flags
                }
            };
            report.check(
                || format!("{} layout", at()),
                shown_layout(a),
                shown_layout(b),
            );
        }
        // A soft wrap on the last row has no row to continue on, and a
        // repaint cannot make one there without scrolling the screen. Nor
        // on the row of a cursor waiting to wrap (a scroll can move a
        // wrapped row under it): writing the cell that makes the cursor
        // wait takes the mark off.
        let cursor_waits_here =
            cursor_shows && a.cursor.input_needs_wrap && a.cursor.point.line == line;
        if row + 1 < rows && !cursor_waits_here {
            let last = Column(columns - 1);
            report.check(
                || format!("{name} row {row} soft-wrapped"),
                a[line][last].flags.contains(Flags::WRAPLINE),
                b[line][last].flags.contains(Flags::WRAPLINE),
            );
        }
    }
}

fn compare_cursors(
    report: &mut Report,
    name: &str,
    columns: usize,
    a: &Cursor<Cell>,
    b: &Cursor<Cell>,
) {
    report.check(
        || format!("{name} position"),
        (a.point.line.0, a.point.column.0),
        (b.point.line.0, b.point.column.0),
    );
    // Only a cursor in the last column can wait to wrap on a viewer (one
    // elsewhere kept the flag through a resize, where it does nothing).
    let waits = |cursor: &Cursor<Cell>, columns: usize| {
        cursor.input_needs_wrap && cursor.point.column.0 + 1 == columns
    };
    report.check(
        || format!("{name} pending wrap"),
        waits(a, columns),
        waits(b, columns),
    );
    report.check(
        || format!("{name} pen"),
        PenForComparison::of(&a.template),
        PenForComparison::of(&b.template),
    );
    report.check(|| format!("{name} charsets"), a.charsets, b.charsets);
}

/// The cell's place in a wide character. A leading spacer whose wide
/// character moved away (lines inserted or deleted under it), or that was
/// moved out of the last column (DCH), is the blank it shows; only a wide
/// character that does not fit can make one.
fn layout(grid: &Grid<Cell>, row: usize, column: usize) -> Flags {
    let flags = grid[Line(row as i32)][Column(column)].flags & LAYOUT_FLAGS;
    let orphaned = column + 1 != grid.columns()
        || row + 1 >= grid.screen_lines()
        || !grid[Line(row as i32 + 1)][Column(0)]
            .flags
            .contains(Flags::WIDE_CHAR);
    if orphaned {
        flags - Flags::LEADING_WIDE_CHAR_SPACER
    } else {
        flags
    }
}

fn text_of(grid: &Grid<Cell>, row: usize, column: usize) -> (char, Vec<char>) {
    let cell = &grid[Line(row as i32)][Column(column)];
    // A tab's mark in the last column, where a soft wrap or a cursor waits
    // to wrap: a repaint keeps the wait and draws the blank the mark shows
    // as (see `repaint::cells::draw_row`).
    let last_column_tab = cell.c == '\t' && column + 1 == grid.columns();
    (
        if last_column_tab { ' ' } else { cell.c },
        cell.zerowidth().map(<[char]>::to_vec).unwrap_or_default(),
    )
}

/// A pen with its hyperlink reduced to the address: an id the emulator made
/// up for a link that had none differs between two emulators.
#[derive(Debug, PartialEq)]
struct PenForComparison {
    look: Pen,
    link: Option<String>,
}

impl PenForComparison {
    fn of(cell: &Cell) -> Self {
        Self {
            look: Pen::of(cell).without_link(),
            link: cell.hyperlink().map(|link| link.uri().to_owned()),
        }
    }
}

/// The grid as text for a person reading a failed comparison: one line per
/// row, each cell its character and layout marks (`<` wide, `>` its spacer,
/// `^` a leading spacer, `~` a soft wrap), then both cursors.
pub fn dump(emulator: &Emulator) -> String {
    let grid = emulator.term.grid();
    let mut out = String::new();
    for row in 0..grid.screen_lines() {
        let line = &grid[Line(row as i32)];
        out.push_str(&format!("{row:>3} |"));
        for column in 0..grid.columns() {
            let cell = &line[Column(column)];
            out.push(if cell.c == '\t' { '→' } else { cell.c });
            for (flag, mark) in [
                (Flags::WIDE_CHAR, '<'),
                (Flags::WIDE_CHAR_SPACER, '>'),
                (Flags::LEADING_WIDE_CHAR_SPACER, '^'),
                (Flags::WRAPLINE, '~'),
            ] {
                if cell.flags.contains(flag) {
                    out.push(mark);
                }
            }
            out.push('|');
        }
        out.push('\n');
    }
    for (name, cursor) in [("cursor", &grid.cursor), ("saved", &grid.saved_cursor)] {
        out.push_str(&format!(
            "{name} {},{}{}\n",
            cursor.point.line.0,
            cursor.point.column.0,
            if cursor.input_needs_wrap {
                " waiting"
            } else {
                ""
            }
        ));
    }
    out
}
