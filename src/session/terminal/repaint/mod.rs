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
//!
//! This file sets the modes, colours, title and charsets and orders the
//! parts; the rows are drawn in `cells.rs`, the cursors placed in
//! `cursor.rs`, wide characters cut by insertion or erasure repaired in
//! `wide_chars.rs`, and the states no repaint reaches are named in
//! `inexact.rs`.

mod cells;
mod cursor;
mod inexact;
mod wide_chars;

use std::fmt::Write;

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::term::color::Colors;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::vte::ansi::{
    CharsetIndex, CursorShape, CursorStyle, NamedColor, StandardCharset,
};

use super::emulator::Emulator;
use super::pen::Pen;
use super::preceding_char;

pub use self::inexact::inexact;
use cells::draw_cells;
pub(super) use cells::{is_erased, soft_wraps, write_cell};
use cursor::{
    move_to, position, waiting_cell_start, write_alternate_saved_cursor, write_waiting_cell,
};

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

/// The kitty keyboard protocol's flags in force, as `CSI > flags u` sets
/// them and `CSI ? u` reports them.
pub(super) fn kitty_keyboard_flags(mode: TermMode) -> u32 {
    (mode & TermMode::KITTY_KEYBOARD_PROTOCOL).bits()
        >> TermMode::DISAMBIGUATE_ESC_CODES.bits().trailing_zeros()
}

/// The cursor's style as each kind of viewer keeps it. xterm.js keeps
/// mode 12 (blink) as an option that the default style returns to, and the
/// last DECSCUSR apart from it, winning over it; alacritty folds both into
/// one style, the later one winning. So: mode 12, then the DECSCUSR in force
/// (or `CSI 0 SP q`), then mode 12 again if it came after that DECSCUSR —
/// which gives each emulator its own reading back.
fn write_cursor_style(out: &mut String, emulator: &Emulator) {
    let observed = &emulator.observed;
    let blinking_mode =
        observed
            .blinking_cursor_mode
            .map(|on| if on { "\x1b[?12h" } else { "\x1b[?12l" });
    if let Some(mode) = blinking_mode {
        out.push_str(mode);
    }
    match observed.cursor_style_request {
        Some(style) => {
            let _ = write!(out, "\x1b[{} q", decscusr_code(style));
        }
        None => out.push_str("\x1b[0 q"),
    }
    if let Some(mode) = blinking_mode.filter(|_| observed.blinking_mode_after_style) {
        out.push_str(mode);
    }
}

/// The cursor's style in force as DECSCUSR numbers it (1 blinking block …
/// 6 steady bar).
pub(super) fn cursor_style_code(emulator: &Emulator) -> u8 {
    decscusr_code(emulator.term.cursor_style())
}

fn decscusr_code(style: CursorStyle) -> u8 {
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
