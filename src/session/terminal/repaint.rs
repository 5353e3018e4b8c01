//! The repaint: escape sequences that bring any terminal of the model's size
//! — a fresh one, or one that saw an older or garbled stream — to the
//! model's exact state, so that the output after it lands as it did on the
//! model.
//!
//! It carries what the output after it can depend on: every cell with its
//! pen, the cursor (position, pending wrap, pen, charsets, style,
//! visibility), the saved cursor, the scroll region and origin mode, tab
//! stops, palette and default colours, the title, every mode the model
//! tracks, and, under a full-screen program, the primary screen it will
//! return to. It first resets what it does not set, so a stale viewer keeps
//! nothing of its own.

use std::fmt::Write;

use alacritty_terminal::grid::{Cursor, Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::color::Colors;
use alacritty_terminal::term::{Config, TermMode};
use alacritty_terminal::vte::ansi::{
    CharsetIndex, Color, CursorShape, NamedColor, StandardCharset,
};

use super::emulator::Emulator;
use super::pen::Pen;
use super::preceding_char::{self, columns_taken, last_printed, PrecedingRedraw};

/// Held while the repaint draws, so a viewer never renders it half done.
const BEGIN_SYNCHRONIZED: &str = "\x1b[?2026h";
const END_SYNCHRONIZED: &str = "\x1b[?2026l";

/// Back to the primary screen, then everything a repaint does not set
/// explicitly later to its power-on value: margins, origin mode, autowrap,
/// insert and newline modes, charsets, the pen and any open hyperlink.
const RESET: &str = "\x1b[?1049l\x1b[r\x1b[?6l\x1b[?7h\x1b[4l\x1b[20l\
                     \x1b(B\x1b)B\x1b*B\x1b+B\x0f\x1b[0m\x1b]8;;\x1b\\";

/// Every palette entry and the default foreground, background and cursor
/// colours back to the viewer's own (OSC 104, 110, 111, 112).
const RESET_COLORS: &str = "\x1b]104\x07\x1b]110\x07\x1b]111\x07\x1b]112\x07";

/// Runs of blank cells at least this long are skipped with a cursor move
/// rather than written as spaces.
const MIN_SKIPPED_BLANKS: usize = 4;

pub fn repaint(emulator: &Emulator) -> String {
    let term = &emulator.term;
    let observed = &emulator.observed;
    let mode = *term.mode();
    let grid = term.grid();
    let mut out = String::with_capacity(4096);
    out.push_str(BEGIN_SYNCHRONIZED);
    out.push_str(RESET);
    write_colors(&mut out, term.colors());
    // Only a title the program set (an empty one too: it clears a stale
    // viewer's): setting one where there was none would rename a viewer's
    // tab (freshell names panes after it).
    if emulator.title().is_some() {
        let _ = write!(out, "\x1b]2;{}\x07", printable_title(emulator));
    }
    write_tab_stops(&mut out, &observed.tab_stops);

    if let Some(saved) = &observed.alternate_saved_cursor {
        if !mode.contains(TermMode::ALT_SCREEN) {
            write_alternate_saved_cursor(&mut out, grid.columns(), saved);
        }
    }
    if mode.contains(TermMode::ALT_SCREEN) {
        if let Some(primary) = &observed.primary_under_alternate {
            // Leaving the alternate screen puts the cursor where the
            // alternate one is (47, 1047) or where the saved one is
            // (1049), as xterm does; the primary screen's own cursor shows
            // only in how a resize meanwhile reflows it (rows below it go
            // first), so it is put back all the same: its place, not a
            // wait to wrap (which would mean writing a cell, and take a
            // soft wrap's mark off the row).
            let pen = draw_cells(&mut out, primary);
            let cursor = primary.cursor.point;
            move_to(
                &mut out,
                cursor.line.0.max(0) as usize,
                cursor.column.0,
                None,
            );
            Pen::default().select(&pen, &mut out);
        }
        // 47 saves no cursor: the primary screen's saved cursor is the
        // one drawn above, which leaving by 1049 restores.
        out.push_str("\x1b[?47h");
    }

    let mut pen = draw_cells(&mut out, grid);
    // What REP repeats is mapped through the charset in use when it runs.
    let preceding = observed.preceding_char.map(|c| {
        let mapped = grid.cursor.charsets[observed.active_charset].map(c);
        (c, mapped)
    });
    preceding_char::redraw(&mut out, grid, preceding, &mut pen);

    if let Some((top, bottom)) = observed.scroll_region_request {
        let _ = write!(out, "\x1b[{top};{bottom}r");
    }
    let origin = mode
        .contains(TermMode::ORIGIN)
        .then_some(emulator.scroll_region().0);
    if origin.is_some() {
        out.push_str("\x1b[?6h");
    }
    let (region_top, region_bottom) = emulator.scroll_region();
    let line = grid.cursor.point.line.0.max(0) as usize;
    let outside_region = !(region_top..region_bottom).contains(&line);
    if origin.is_some() && outside_region && grid.saved_cursor.point == grid.cursor.point {
        // In origin mode only DECRC puts the cursor outside the region, and
        // it left the saved cursor there too: restoring it does the same.
        out.push_str("\x1b8");
        pen = Pen::of(&grid.saved_cursor.template);
        let column = grid.cursor.point.column.0;
        let at_last_column = column + 1 == grid.columns();
        match (
            grid.cursor.input_needs_wrap,
            grid.saved_cursor.input_needs_wrap,
        ) {
            (true, false) if at_last_column => {
                // Waiting to wrap where the saved cursor did not.
                let start = waiting_cell_start(grid, line, column);
                if start < column {
                    out.push_str("\x1b[D");
                }
                let preceding_mapped = preceding.map(|(_, mapped)| mapped);
                write_waiting_cell(&mut out, grid, (line, start), &mut pen, preceding_mapped);
            }
            // Any cursor move ends a wait.
            (false, true) if at_last_column => out.push_str("\x1b[C"),
            _ => {}
        }
    } else {
        // Above a region with rows, in origin mode, `move_to` gets there.
        let origin = origin.filter(|_| region_top < region_bottom);
        let preceding_mapped = preceding.map(|(_, mapped)| mapped);
        position(
            &mut out,
            grid,
            &grid.cursor,
            &mut pen,
            origin,
            preceding_mapped,
        );
    }
    if matches!(observed.preceding_char, None | Some('\x7f')) {
        // vte prints DEL as nothing, and REP then repeats nothing, as it
        // does before any print: not the repaint's last character.
        out.push('\x7f');
    }
    Pen::of(&grid.cursor.template).select(&pen, &mut out);
    designate_charsets(&mut out, &grid.cursor.charsets);
    if observed.active_charset == CharsetIndex::G1 {
        out.push('\x0e');
    }

    write_modes(&mut out, mode);
    write_cursor_style(&mut out, emulator);
    if observed.x10_mouse {
        out.push_str(X10_MOUSE_ON);
    }
    for (mode, on) in &observed.foreign_private_modes {
        let _ = write!(out, "\x1b[?{mode}{}", if *on { 'h' } else { 'l' });
    }
    if !observed.synchronized_output {
        out.push_str(END_SYNCHRONIZED);
    }
    out
}

/// The title as a repaint sets it: without control characters, C1 ones
/// included (xterm.js ends an OSC at U+009C, vte does not), and empty when
/// none was set (which shows as none).
pub fn printable_title(emulator: &Emulator) -> String {
    emulator
        .title()
        .map(|title| {
            let printable: String = title.chars().filter(|c| !c.is_control()).collect();
            // Trimmed, as the emulator trims a title it is sent.
            printable.trim().to_owned()
        })
        .unwrap_or_default()
}

/// The sequences that re-enter the modes that are not at their defaults:
/// for a fresh terminal that gets the stream from some point on, not a
/// repaint.
pub fn mode_preamble(emulator: &Emulator) -> String {
    let mode = *emulator.term.mode();
    let defaults = TermMode::default();
    let mut out = String::new();
    for (flag, code) in DEC_MODES {
        if mode.contains(flag) != defaults.contains(flag) {
            let _ = write!(
                out,
                "\x1b[?{code}{}",
                if mode.contains(flag) { 'h' } else { 'l' }
            );
        }
    }
    if mode.contains(TermMode::ALT_SCREEN) {
        out.insert_str(0, "\x1b[?1049h");
    }
    if mode.contains(TermMode::APP_KEYPAD) {
        out.push_str("\x1b=");
    }
    if emulator.observed.x10_mouse {
        out.push_str(X10_MOUSE_ON);
    }
    out
}

/// The X10 mouse protocol (mode 9), which the model keeps beside `TermMode`.
const X10_MOUSE_ON: &str = "\x1b[?9h";

/// DEC private modes that are one flag each in `TermMode`, with their numbers.
pub(super) const DEC_MODES: [(TermMode, u16); 12] = [
    (TermMode::APP_CURSOR, 1),
    (TermMode::LINE_WRAP, 7),
    (TermMode::SHOW_CURSOR, 25),
    (TermMode::MOUSE_REPORT_CLICK, 1000),
    (TermMode::MOUSE_DRAG, 1002),
    (TermMode::MOUSE_MOTION, 1003),
    (TermMode::FOCUS_IN_OUT, 1004),
    (TermMode::UTF8_MOUSE, 1005),
    (TermMode::SGR_MOUSE, 1006),
    (TermMode::ALTERNATE_SCROLL, 1007),
    (TermMode::URGENCY_HINTS, 1042),
    (TermMode::BRACKETED_PASTE, 2004),
];

fn write_modes(out: &mut String, mode: TermMode) {
    write_dec_modes(out, mode, &[]);
    if mode.contains(TermMode::LINE_FEED_NEW_LINE) {
        out.push_str("\x1b[20h");
    }
    if mode.contains(TermMode::INSERT) {
        out.push_str("\x1b[4h");
    }
    let kitty = kitty_keyboard_flags(mode);
    if kitty != 0 {
        // Pushed, as a program does (`CSI > flags u`), so its pop finds it.
        let _ = write!(out, "\x1b[>{kitty}u");
    }
}

/// The kitty keyboard protocol's flags in force, as `CSI > flags u` sets
/// them and `CSI ? u` reports them.
/// Every tracked DEC private mode as `mode` has it (but those in `skip`),
/// and the keypad mode. Mouse modes are exclusive: all are turned off first
/// so the one set wins, on viewers that keep several.
pub(super) fn write_dec_modes(out: &mut String, mode: TermMode, skip: &[u16]) {
    out.push_str("\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l");
    for (flag, code) in DEC_MODES {
        let is_mouse = matches!(code, 1000 | 1002 | 1003 | 1005 | 1006);
        if skip.contains(&code) {
            continue;
        }
        if mode.contains(flag) {
            let _ = write!(out, "\x1b[?{code}h");
        } else if !is_mouse {
            let _ = write!(out, "\x1b[?{code}l");
        }
    }
    out.push_str(if mode.contains(TermMode::APP_KEYPAD) {
        "\x1b="
    } else {
        "\x1b>"
    });
}

pub(super) fn kitty_keyboard_flags(mode: TermMode) -> u32 {
    (mode & TermMode::KITTY_KEYBOARD_PROTOCOL).bits()
        >> TermMode::DISAMBIGUATE_ESC_CODES.bits().trailing_zeros()
}

fn write_cursor_style(out: &mut String, emulator: &Emulator) {
    // Before the style, which it changes in alacritty; in xterm.js it is
    // the blink the default style (`CSI 0 SP q`) returns to.
    if let Some(on) = emulator.observed.blinking_cursor_mode {
        out.push_str(if on { "\x1b[?12h" } else { "\x1b[?12l" });
    }
    if emulator.term.cursor_style() == Config::default().default_cursor_style {
        out.push_str("\x1b[0 q");
        return;
    }
    let _ = write!(out, "\x1b[{} q", cursor_style_code(emulator));
}

/// The cursor's style as DECSCUSR numbers it (1 blinking block … 6 steady
/// bar).
pub(super) fn cursor_style_code(emulator: &Emulator) -> u8 {
    let style = emulator.term.cursor_style();
    let steady = u8::from(!style.blinking);
    match style.shape {
        CursorShape::Underline => 3 + steady,
        CursorShape::Beam => 5 + steady,
        _ => 1 + steady,
    }
}

fn write_colors(out: &mut String, colors: &Colors) {
    out.push_str(RESET_COLORS);
    let rgb =
        |c: alacritty_terminal::vte::ansi::Rgb| format!("rgb:{:02x}/{:02x}/{:02x}", c.r, c.g, c.b);
    for index in 0..256 {
        if let Some(color) = colors[index] {
            let _ = write!(out, "\x1b]4;{index};{}\x07", rgb(color));
        }
    }
    for (named, osc) in [
        (NamedColor::Foreground, 10),
        (NamedColor::Background, 11),
        (NamedColor::Cursor, 12),
    ] {
        if let Some(color) = colors[named] {
            let _ = write!(out, "\x1b]{osc};{}\x07", rgb(color));
        }
    }
}

fn write_tab_stops(out: &mut String, stops: &[bool]) {
    out.push_str("\x1b[3g");
    for (column, _) in stops.iter().enumerate().filter(|(_, &stop)| stop) {
        let _ = write!(out, "\x1b[{}G\x1bH", column + 1);
    }
}

fn designate_charsets(out: &mut String, charsets: &alacritty_terminal::grid::Charsets) {
    for (index, intermediate) in [
        (CharsetIndex::G0, '('),
        (CharsetIndex::G1, ')'),
        (CharsetIndex::G2, '*'),
        (CharsetIndex::G3, '+'),
    ] {
        let set = match charsets[index] {
            StandardCharset::Ascii => 'B',
            StandardCharset::SpecialCharacterAndLineDrawing => '0',
        };
        let _ = write!(out, "\x1b{intermediate}{set}");
    }
}

/// A cell nothing was drawn in: what erasing with the default pen leaves.
fn is_blank(cell: &Cell) -> bool {
    is_erased(cell) && cell.bg == Color::Named(NamedColor::Background)
}

/// What erasing leaves, in any background: ECH with that background
/// (`Pen::of` the cell) makes it again.
pub(super) fn is_erased(cell: &Cell) -> bool {
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
fn draw_cells(out: &mut String, grid: &Grid<Cell>) -> Pen {
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

/// Wide characters whose first half alone is in the last column (insert
/// mode or ICH shifted them there; printing one there would wrap it): each
/// is printed a column earlier, then shifted right by one (ICH), and the
/// cell it left is drawn again.
fn draw_wide_chars_cut_at_the_margin(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
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

/// Whether `row` ends in a soft wrap onto the row below.
pub(super) fn soft_wraps(grid: &Grid<Cell>, row: usize) -> bool {
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
fn first_cells_rewritten(grid: &Grid<Cell>, row: usize) -> std::ops::Range<usize> {
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
fn draw_first_cell(out: &mut String, grid: &Grid<Cell>, row: usize, pen: &mut Pen) {
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

/// Whether the cell after `column` is a spacer whose wide character was
/// erased from under it (alacritty leaves it, and a later write there
/// erases the cell before it), and the cell at `column` a plain one that a
/// wide character can be written over and then drawn again.
fn before_an_orphaned_spacer(row: &alacritty_terminal::grid::Row<Cell>, column: usize) -> bool {
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
fn draw_orphaned_spacers(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
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
fn lost_its_spacer(row: &alacritty_terminal::grid::Row<Cell>, column: usize) -> bool {
    column > 0
        && row[Column(column - 1)].flags.contains(Flags::WIDE_CHAR)
        && !row[Column(column)].flags.contains(Flags::WIDE_CHAR_SPACER)
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
pub(super) fn write_cell(out: &mut String, cell: &Cell, column: usize, pen: &mut Pen) {
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
fn write_cell_before_wait(out: &mut String, cell: &Cell, column: usize, pen: &mut Pen) {
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

/// The cursor saved by DECSC (`ESC 7`), saved again on the viewer.
fn write_saved_cursor(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
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
fn save_cursor(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
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
fn write_alternate_saved_cursor(out: &mut String, columns: usize, saved: &Cursor<Cell>) {
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

/// Puts the viewer's cursor where `cursor` is on `grid`, waiting to wrap
/// when it waits (only writing the last column makes it wait).
fn position(
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
fn waiting_cell_start(grid: &Grid<Cell>, line: usize, column: usize) -> usize {
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
fn write_waiting_cell(
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

/// Erases the wide character at the cursor (ECH 2) before it is written
/// again: writing over one in the first two columns takes the leading
/// spacer off the row above (alacritty), which the wrap may have left.
const ERASE_WIDE_CHAR: &str = "\x1b[2X";

/// Moves the cursor to an absolute cell. In origin mode rows count from the
/// region's top; a row above it is reached as alacritty lets a program reach
/// it, by a relative move (which adds the region's top twice): from the
/// top, up by 2 × top − line.
fn move_to(out: &mut String, line: usize, column: usize, origin_top: Option<usize>) {
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
