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
    // Only a title the program set: an empty one would rename a viewer's
    // tab (freshell names panes after it) for a program that never set any.
    let title = printable_title(emulator);
    if !title.is_empty() {
        let _ = write!(out, "\x1b]2;{title}\x07");
    }
    write_tab_stops(&mut out, &observed.tab_stops);

    if mode.contains(TermMode::ALT_SCREEN) {
        if let Some(primary) = &observed.primary_under_alternate {
            let mut pen = draw_cells(&mut out, primary);
            position(&mut out, primary, &primary.cursor, &mut pen, None, None);
            Pen::of(&primary.cursor.template).select(&pen, &mut out);
            designate_charsets(&mut out, &primary.cursor.charsets);
        }
        // Saves the primary cursor, as the program's own switch did.
        out.push_str("\x1b[?1049h");
    }

    let mut pen = draw_cells(&mut out, grid);
    // What REP repeats is mapped through the charset in use when it runs.
    let preceding = observed.preceding_char.map(|c| {
        let mapped = grid.cursor.charsets[observed.active_charset].map(c);
        (c, mapped)
    });
    redraw_preceding_char(&mut out, grid, preceding, &mut pen);

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
    Pen::of(&grid.cursor.template).select(&pen, &mut out);
    designate_charsets(&mut out, &grid.cursor.charsets);
    if observed.active_charset == CharsetIndex::G1 {
        out.push('\x0e');
    }

    write_modes(&mut out, mode);
    write_cursor_style(&mut out, emulator);
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
    out
}

/// DEC private modes that are one flag each in `TermMode`, with their numbers.
const DEC_MODES: [(TermMode, u16); 12] = [
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
    // Mouse modes are exclusive: turn all off so the one set wins, on
    // viewers that keep several.
    out.push_str("\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l");
    for (flag, code) in DEC_MODES {
        let is_mouse = matches!(code, 1000 | 1002 | 1003 | 1005 | 1006);
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
    if mode.contains(TermMode::LINE_FEED_NEW_LINE) {
        out.push_str("\x1b[20h");
    }
    if mode.contains(TermMode::INSERT) {
        out.push_str("\x1b[4h");
    }
    let kitty = (mode & TermMode::KITTY_KEYBOARD_PROTOCOL).bits()
        >> TermMode::DISAMBIGUATE_ESC_CODES.bits().trailing_zeros();
    if kitty != 0 {
        // Pushed, as a program does (`CSI > flags u`), so its pop finds it.
        let _ = write!(out, "\x1b[>{kitty}u");
    }
}

fn write_cursor_style(out: &mut String, emulator: &Emulator) {
    let style = emulator.term.cursor_style();
    if style == Config::default().default_cursor_style {
        out.push_str("\x1b[0 q");
        return;
    }
    let steady = u8::from(!style.blinking);
    let code = match style.shape {
        CursorShape::Underline => 3 + steady,
        CursorShape::Beam => 5 + steady,
        _ => 1 + steady,
    };
    let _ = write!(out, "\x1b[{code} q");
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
    cell.c == ' '
        && (cell.flags - Flags::WRAPLINE).is_empty()
        && cell.fg == Color::Named(NamedColor::Foreground)
        && cell.bg == Color::Named(NamedColor::Background)
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
    let columns = grid.columns();
    let rows = grid.screen_lines();
    out.push_str("\x1b[0m\x1b]8;;\x1b\\\x1b[H\x1b[2J");
    let mut pen = Pen::default();
    // Before the rows: saving a pending wrap means writing a cell, which
    // would take the soft-wrap mark off a row drawn already.
    write_saved_cursor(out, grid, &mut pen);
    let mut continues_previous = false;
    for row_index in 0..rows {
        let row = &grid[Line(row_index as i32)];
        // The last row cannot be drawn wrapped without scrolling the screen.
        let wraps =
            row_index + 1 < rows && row[Column(columns - 1)].flags.contains(Flags::WRAPLINE);
        let end = if wraps {
            columns
        } else {
            (0..columns)
                .rev()
                .find(|&c| !is_blank(&row[Column(c)]))
                .map_or(0, |c| c + 1)
        };
        let end = if continues_previous {
            // At least one cell, to make the wrap onto this row happen.
            end.max(1)
        } else if end == 0 {
            continue;
        } else {
            let _ = write!(out, "\x1b[{};1H", row_index + 1);
            end
        };
        let mut column = 0;
        let mut blanks = 0;
        while column < end {
            let cell = &row[Column(column)];
            let must_write = continues_previous && column == 0;
            let after_wide = column > 0 && row[Column(column - 1)].flags.contains(Flags::WIDE_CHAR);
            if cell.flags.contains(Flags::WIDE_CHAR_SPACER) || after_wide {
                // Filled by the wide character before it (whose spacer an
                // erase may have turned into a plain blank).
                column += 1;
                continue;
            }
            let starts_next_row_wide = || {
                row_index + 1 < rows
                    && grid[Line(row_index as i32 + 1)][Column(0)]
                        .flags
                        .contains(Flags::WIDE_CHAR)
            };
            if cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) && starts_next_row_wide() {
                // Left by a wide character that did not fit: drawing that
                // character from here, at the start of the next row, leaves
                // it again.
                blanks += 1;
                column += 1;
                continue;
            }
            if is_blank(cell) && !must_write && !(wraps && column + 1 == end) {
                blanks += 1;
                column += 1;
                continue;
            }
            skip_blanks(out, &mut pen, blanks);
            blanks = 0;
            write_cell(out, cell, column, &mut pen);
            column += 1;
        }
        if wraps && blanks > 0 {
            // Up to a leading spacer in the last column: only a cursor move
            // leaves the cursor there without a pending wrap.
            let _ = write!(out, "\x1b[{blanks}C");
        }
        continues_previous = wraps;
    }
    pen
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
fn write_cell(out: &mut String, cell: &Cell, column: usize, pen: &mut Pen) {
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
        let _ = write!(out, " \x1b[{}G\t\x1b[{}G", column + 1, column + 2);
    } else {
        out.push(cell.c);
    }
    if let Some(zero_width) = cell.zerowidth() {
        out.extend(zero_width.iter());
    }
}

/// The cursor saved by DECSC (`ESC 7`), saved again on the viewer.
fn write_saved_cursor(out: &mut String, grid: &Grid<Cell>, pen: &mut Pen) {
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

/// Makes `preceding` the last character the viewer printed, as it is the
/// model's: REP (`CSI n b`, which ncurses uses for runs of one character)
/// repeats it. Redraws a cell that holds it, outside the last column (a
/// write there would set a pending wrap). When none holds it any more, the
/// viewer repeats the repaint's last character instead (not carried).
/// `preceding` is the character as printed and as the charset maps it: a
/// cell holds the second, and either repeats the same under that charset.
fn redraw_preceding_char(
    out: &mut String,
    grid: &Grid<Cell>,
    preceding: Option<(char, char)>,
    pen: &mut Pen,
) {
    let Some((printed, mapped)) = preceding else {
        return;
    };
    let columns = grid.columns();
    let found = (0..grid.screen_lines()).rev().find_map(|line| {
        let row = &grid[Line(line as i32)];
        (0..columns.saturating_sub(1))
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
                // Redrawing a cell prints its zero-width characters last.
                let last_printed = cell
                    .zerowidth()
                    .and_then(<[char]>::last)
                    .copied()
                    .unwrap_or(cell.c);
                (last_printed == printed || last_printed == mapped)
                    && !(cell.flags.contains(Flags::WIDE_CHAR) && column + 2 >= columns)
                    && !after_leading_spacer
            })
            .map(|column| (line, column))
    });
    if let Some((line, column)) = found {
        let _ = write!(out, "\x1b[{};{}H", line + 1, column + 1);
        write_cell(out, &grid[Line(line as i32)][Column(column)], column, pen);
        return;
    }
    // No cell holds it any more: print it on a blank cell (and the one
    // after, which a wide character takes), then erase them again, which
    // prints nothing.
    // Characters before U+1100 take one column (wide ones start there).
    let needs = if printed < '\u{1100}' { 1 } else { 2 };
    let blank_pair = (0..grid.screen_lines()).find_map(|line| {
        let row = &grid[Line(line as i32)];
        // Erasing the last column would take a soft-wrap mark with it.
        let wrapped = row[Column(columns - 1)].flags.contains(Flags::WRAPLINE);
        let end = columns.saturating_sub(if wrapped { 2 } else { 1 });
        (0..end)
            .find(|&column| {
                is_blank(&row[Column(column)]) && (needs == 1 || is_blank(&row[Column(column + 1)]))
            })
            .map(|column| (line, column))
    });
    let zero_width = printed.is_control()
        || matches!(printed, '\u{300}'..='\u{36f}' | '\u{200b}'..='\u{200f}' | '\u{fe00}'..='\u{fe0f}');
    let Some((line, column)) = blank_pair.filter(|_| !zero_width) else {
        return;
    };
    let blank = Pen::default();
    blank.select(pen, out);
    *pen = blank;
    let _ = write!(
        out,
        "\x1b[{row};{col}H{printed}\x1b[{row};{col}H\x1b[{needs}X",
        row = line + 1,
        col = column + 1
    );
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
    // Only writing the last column sets a pending wrap: write that cell
    // again, or the wide character it belongs to.
    let cells = &grid[Line(line as i32)];
    let mut start = column;
    if start > 0
        && (cells[Column(start)].flags.contains(Flags::WIDE_CHAR_SPACER)
            || cells[Column(start - 1)].flags.contains(Flags::WIDE_CHAR))
    {
        start -= 1;
    }
    move_to(out, line, start, origin_top);
    let cell = &cells[Column(start)];
    // This write is the repaint's last print, so it also decides what REP
    // repeats: on a blank cell, print the model's last character and erase
    // it again (ECH keeps the pending wrap).
    let preceding = preceding.filter(|c| !c.is_control() && *c < '\u{300}');
    if is_blank(cell) || cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
        let blank = Pen::default();
        blank.select(pen, out);
        *pen = blank;
        match preceding {
            Some(c) if is_blank(cell) => {
                out.push(c);
                out.push_str("\x1b[X");
            }
            _ => out.push(' '),
        }
    } else {
        write_cell(out, cell, start, pen);
    }
}

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
