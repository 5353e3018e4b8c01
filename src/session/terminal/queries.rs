//! The answers to the terminal queries the daemon takes out of a child's
//! output (`session/query_filter.rs`), from the model's state at that point
//! of the stream: the terminal a session's child talks to is the daemon,
//! not whichever viewers happen to be attached.
//!
//! | Query | Sequence | Answer |
//! |---|---|---|
//! | DA1 | `CSI c` | `CSI ? 1 ; 2 c` (what xterm.js, the viewers' renderer, answers) |
//! | DA2 | `CSI > c` | `CSI > 0 ; 276 ; 0 c` (likewise) |
//! | XTVERSION | `CSI > q` | `DCS > \| ptyhub <version> ST` |
//! | DSR status | `CSI 5 n` | `CSI 0 n` |
//! | CPR | `CSI 6 n` | the cursor there, rows from the region's top in origin mode |
//! | DECXCPR | `CSI ? 6 n` | the same, with page 1 |
//! | DECRQM | `CSI ? Ps $ p`, `CSI Ps $ p` | set/reset for the modes the model tracks, else "not recognized" |
//! | Kitty keyboard flags | `CSI ? u` | the flags in force |
//! | Colours | `OSC 4;n;?`, `OSC 10/11/12;?` | a colour the program set, else the viewers' theme (`theme.rs`) and xterm.js's palette |
//! | XTWINOPS | `CSI 14/16/18/19 t` | cells from the PTY size, pixels from `CELL_PIXELS` |
//! | DA3 | `CSI = c` | `DCS ! \| 00000000 ST`, as xterm answers |
//! | DECRQSS | `DCS $ q Pt ST` | `m` (the pen), `r` (the scroll region), ` q` (the cursor style); others "invalid" |
//! | XTGETTCAP | `DCS + q Pt ST` | `TN` (`xterm-256color`), `Co` and `colors` (`256`); others "invalid", one answer per name |
//!
//! Every other query passes to the viewers, whose terminals answer it as
//! before.

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::vte::ansi::Rgb;

use super::emulator::Emulator;
use super::pen::Pen;
use super::repaint::{cursor_style_code, kitty_keyboard_flags, DEC_MODES};
use super::theme::Theme;
use crate::session::query_filter::Query;

/// Primary device attributes: a VT100 with advanced video, as xterm.js
/// (the renderer every viewer uses) answers, consistent with
/// `TERM=xterm-256color`.
pub const PRIMARY_DEVICE_ATTRIBUTES: &str = "\x1b[?1;2c";

/// Secondary device attributes, as xterm.js answers.
pub const SECONDARY_DEVICE_ATTRIBUTES: &str = "\x1b[>0;276;0c";

/// Tertiary device attributes: the unit id xterm reports.
pub const TERTIARY_DEVICE_ATTRIBUTES: &str = "\x1bP!|00000000\x1b\\";

/// What `TERM` says the daemon is, for XTGETTCAP's `TN`.
pub const TERMINAL_NAME: &str = "xterm-256color";

/// The device status report "ready".
pub const STATUS_OK: &str = "\x1b[0n";

/// A cell's size in pixels for the pixel size reports: the web client's
/// (14 px DejaVu Sans Mono, rounded).
pub const CELL_PIXELS: (u16, u16) = (8, 17);

/// xterm.js's sixteen ANSI colours (the theme leaves them at its defaults).
const ANSI: [Rgb; 16] = [
    rgb(0x2e, 0x34, 0x36),
    rgb(0xcc, 0x00, 0x00),
    rgb(0x4e, 0x9a, 0x06),
    rgb(0xc4, 0xa0, 0x00),
    rgb(0x34, 0x65, 0xa4),
    rgb(0x75, 0x50, 0x7b),
    rgb(0x06, 0x98, 0x9a),
    rgb(0xd3, 0xd7, 0xcf),
    rgb(0x55, 0x57, 0x53),
    rgb(0xef, 0x29, 0x29),
    rgb(0x8a, 0xe2, 0x34),
    rgb(0xfc, 0xe9, 0x4f),
    rgb(0x72, 0x9f, 0xcf),
    rgb(0xad, 0x7f, 0xa8),
    rgb(0x34, 0xe2, 0xe2),
    rgb(0xee, 0xee, 0xec),
];

const fn rgb(r: u8, g: u8, b: u8) -> Rgb {
    Rgb { r, g, b }
}

/// The colour a viewer shows for palette slot `index` when the program set
/// none: the 16 ANSI colours, the 6×6×6 cube, the grey ramp, then the
/// theme's foreground (256), background (257) and cursor (258) colours, as
/// alacritty_terminal numbers them.
pub fn default_color(index: usize, theme: &Theme) -> Rgb {
    const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match index {
        0..=15 => ANSI[index],
        16..=231 => {
            let cube = index - 16;
            rgb(
                CUBE_LEVELS[cube / 36],
                CUBE_LEVELS[cube / 6 % 6],
                CUBE_LEVELS[cube % 6],
            )
        }
        232..=255 => {
            let level = 8 + 10 * (index - 232) as u8;
            rgb(level, level, level)
        }
        257 => theme.background,
        258 => theme.cursor,
        _ => theme.foreground,
    }
}

/// The answer to `query`, written right after the output the emulator has
/// parsed; `theme` is what viewers show where the program chose no colour.
pub fn answer(emulator: &Emulator, query: &Query, theme: &Theme) -> String {
    let term = &emulator.term;
    match query {
        Query::PrimaryAttributes => PRIMARY_DEVICE_ATTRIBUTES.to_owned(),
        Query::SecondaryAttributes => SECONDARY_DEVICE_ATTRIBUTES.to_owned(),
        Query::TertiaryAttributes => TERTIARY_DEVICE_ATTRIBUTES.to_owned(),
        Query::Version => format!("\x1bP>|ptyhub {}\x1b\\", env!("CARGO_PKG_VERSION")),
        Query::Status => STATUS_OK.to_owned(),
        Query::CursorPosition => {
            let (row, column) = cursor_as_reported(emulator);
            format!("\x1b[{row};{column}R")
        }
        Query::ExtendedCursorPosition => {
            let (row, column) = cursor_as_reported(emulator);
            format!("\x1b[?{row};{column};1R")
        }
        Query::Mode { private, mode } => {
            let state = mode_state(emulator, *private, *mode);
            let marker = if *private { "?" } else { "" };
            format!("\x1b[{marker}{mode};{state}$y")
        }
        Query::KeyboardFlags => format!("\x1b[?{}u", kitty_keyboard_flags(*term.mode())),
        Query::WindowReport(kind) => {
            let (rows, columns) = (term.screen_lines(), term.columns());
            let (cell_width, cell_height) = CELL_PIXELS;
            let (cell_width, cell_height) = (usize::from(cell_width), usize::from(cell_height));
            match kind {
                14 => format!("\x1b[4;{};{}t", rows * cell_height, columns * cell_width),
                16 => format!("\x1b[6;{cell_height};{cell_width}t"),
                18 => format!("\x1b[8;{rows};{columns}t"),
                _ => format!("\x1b[9;{rows};{columns}t"),
            }
        }
        Query::Color {
            prefix,
            index,
            terminator,
        } => {
            let color = term.colors()[*index].unwrap_or_else(|| default_color(*index, theme));
            color_reply(prefix, color, terminator.as_str())
        }
        Query::Setting(setting) => match setting_value(emulator, setting) {
            Some(value) => format!("\x1bP1$r{value}{setting}\x1b\\"),
            None => "\x1bP0$r\x1b\\".to_owned(),
        },
        Query::Capabilities(names) => names
            .iter()
            .map(|name| match capability(name) {
                Some(value) => format!("\x1bP1+r{name}={}\x1b\\", hex_encode(value)),
                None => format!("\x1bP0+r{name}\x1b\\"),
            })
            .collect(),
    }
}

/// A DECRQSS setting's current parameters, for the settings the model
/// tracks.
fn setting_value(emulator: &Emulator, setting: &str) -> Option<String> {
    match setting {
        "m" => Some(Pen::of(&emulator.term.grid().cursor.template).sgr_parameters()),
        "r" => {
            let (top, bottom) = emulator.scroll_region();
            Some(format!("{};{}", top + 1, bottom))
        }
        " q" => Some(cursor_style_code(emulator).to_string()),
        _ => None,
    }
}

/// An XTGETTCAP capability's value; `hex_name` as the query spells it.
fn capability(hex_name: &str) -> Option<&'static str> {
    match hex_decode(hex_name)?.as_str() {
        "TN" | "name" => Some(TERMINAL_NAME),
        "Co" | "colors" => Some("256"),
        _ => None,
    }
}

fn hex_decode(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

fn hex_encode(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02X}")).collect()
}

/// The cursor as CPR reports it: 1-based, rows counted from the scroll
/// region's top in origin mode (as the cursor is addressed there).
fn cursor_as_reported(emulator: &Emulator) -> (usize, usize) {
    let point = emulator.term.grid().cursor.point;
    let mut row = point.line.0.max(0) as usize;
    if emulator.term.mode().contains(TermMode::ORIGIN) {
        row = row.saturating_sub(emulator.scroll_region().0);
    }
    (row + 1, point.column.0 + 1)
}

/// DECRQM's state: 1 set, 2 reset, 0 not recognized.
fn mode_state(emulator: &Emulator, private: bool, mode: u16) -> u8 {
    let term_mode = *emulator.term.mode();
    let flag = |on: bool| if on { 1 } else { 2 };
    if !private {
        return match mode {
            4 => flag(term_mode.contains(TermMode::INSERT)),
            20 => flag(term_mode.contains(TermMode::LINE_FEED_NEW_LINE)),
            _ => 0,
        };
    }
    if let Some((tracked, _)) = DEC_MODES.iter().find(|(_, code)| *code == mode) {
        return flag(term_mode.contains(*tracked));
    }
    match mode {
        6 => flag(term_mode.contains(TermMode::ORIGIN)),
        9 => flag(emulator.observed.x10_mouse),
        1049 => flag(term_mode.contains(TermMode::ALT_SCREEN)),
        2026 => flag(emulator.observed.synchronized_output),
        _ => match emulator.observed.foreign_private_modes.get(&mode) {
            Some(on) => flag(*on),
            None => 0,
        },
    }
}

/// The answer to a colour query (`OSC prefix ; ?`), in xterm's 16-bit form.
pub fn color_reply(prefix: &str, color: Rgb, terminator: &str) -> String {
    let Rgb { r, g, b } = color;
    format!("\x1b]{prefix};rgb:{r:02x}{r:02x}/{g:02x}{g:02x}/{b:02x}{b:02x}{terminator}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_palette_is_xterms_cube_and_ramp_under_the_web_clients_theme() {
        let theme = Theme::WEB_CLIENT;
        assert_eq!(default_color(1, &theme), rgb(0xcc, 0, 0));
        assert_eq!(default_color(16, &theme), rgb(0, 0, 0));
        assert_eq!(default_color(196, &theme), rgb(255, 0, 0));
        assert_eq!(default_color(231, &theme), rgb(255, 255, 255));
        assert_eq!(default_color(232, &theme), rgb(8, 8, 8));
        assert_eq!(default_color(255, &theme), rgb(238, 238, 238));
        assert_eq!(default_color(257, &theme), theme.background);
    }

    fn answered_after(output: &str, query: Query) -> String {
        let mut emulator =
            Emulator::new(super::super::emulator::GridSize { cols: 80, rows: 24 }, 0);
        emulator.advance(output.as_bytes());
        answer(&emulator, &query, &Theme::WEB_CLIENT)
    }

    #[test]
    fn decrqss_reports_the_pen_region_and_cursor_style_in_force() {
        let setting = |s: &str| Query::Setting(s.into());
        assert_eq!(
            answered_after("\x1b[1;31m", setting("m")),
            "\x1bP1$r0;1;31m\x1b\\"
        );
        assert_eq!(
            answered_after("\x1b[3;20r", setting("r")),
            "\x1bP1$r3;20r\x1b\\"
        );
        assert_eq!(answered_after("", setting("r")), "\x1bP1$r1;24r\x1b\\");
        assert_eq!(
            answered_after("\x1b[5 q", setting(" q")),
            "\x1bP1$r5 q\x1b\\"
        );
        assert_eq!(answered_after("", setting("s")), "\x1bP0$r\x1b\\");
    }

    #[test]
    fn xtgettcap_answers_each_name_on_its_own() {
        let names = Query::Capabilities(vec!["544E".into(), "436f".into(), "6B6275".into()]);
        assert_eq!(
            answered_after("", names),
            "\x1bP1+r544E=787465726D2D323536636F6C6F72\x1b\\\
             \x1bP1+r436f=323536\x1b\\\
             \x1bP0+r6B6275\x1b\\"
        );
    }

    #[test]
    fn a_colour_reply_repeats_each_component() {
        assert_eq!(
            color_reply("11", rgb(0x10, 0x13, 0x18), "\x07"),
            "\x1b]11;rgb:1010/1313/1818\x07"
        );
    }
}
