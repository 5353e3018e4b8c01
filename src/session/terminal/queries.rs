//! The answers a program's terminal queries get from the model itself, in
//! stream order: the terminal a session's child talks to is the daemon's
//! model, not whichever viewers happen to be attached (issue 12).
//!
//! | Query | Sequence | Answer |
//! |---|---|---|
//! | DA1 | `CSI c` | `CSI ? 1 ; 2 c` (what xterm.js, the viewers' renderer, answers) |
//! | DA2 | `CSI > c` | `CSI > 0 ; 276 ; 0 c` (likewise) |
//! | DSR status | `CSI 5 n` | `CSI 0 n` |
//! | CPR | `CSI 6 n` | the cursor at that point of the stream, from the region's top in origin mode |
//! | DECRQM | `CSI ? n $ p`, `CSI n $ p` | the modes the model tracks; others "not recognized" (alacritty_terminal) |
//! | Kitty keyboard flags | `CSI ? u` | the flags in force (alacritty_terminal) |
//! | Colours | `OSC 4;n;?`, `OSC 10/11/12;?` | a colour the program set, else the web client's theme |
//! | Size | `CSI 18 t`, `CSI 14 t` | cells from the PTY size; pixels from `CELL_PIXELS` |
//!
//! Not answered yet: XTVERSION (`CSI > q`), DECXCPR (`CSI ? 6 n`), XTWINOPS
//! 16t/19t, DECRQSS and XTGETTCAP — the parser (vte) does not report them.

use alacritty_terminal::vte::ansi::Rgb;

/// Primary device attributes: a VT100 with advanced video, as xterm.js
/// (the renderer every viewer uses) answers, consistent with
/// `TERM=xterm-256color`.
pub const PRIMARY_DEVICE_ATTRIBUTES: &str = "\x1b[?1;2c";

/// Secondary device attributes, as xterm.js answers.
pub const SECONDARY_DEVICE_ATTRIBUTES: &str = "\x1b[>0;276;0c";

/// The device status report "ready".
pub const STATUS_OK: &str = "\x1b[0n";

/// A cell's size in pixels for the pixel size reports: the web client's
/// (14 px DejaVu Sans Mono, rounded).
pub const CELL_PIXELS: (u16, u16) = (8, 17);

/// The web client's theme (`web-client/src/terminal-view.ts`).
const FOREGROUND: Rgb = rgb(0xd7, 0xdc, 0xe2);
const BACKGROUND: Rgb = rgb(0x10, 0x13, 0x18);
const CURSOR: Rgb = rgb(0xf0, 0xc6, 0x74);

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
/// default foreground (256), background (257) and cursor (258) colours, as
/// alacritty_terminal numbers them.
pub fn default_color(index: usize) -> Rgb {
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
        257 => BACKGROUND,
        258 => CURSOR,
        _ => FOREGROUND,
    }
}

/// The answer to a colour query (`OSC prefix ; ?`), in xterm's 16-bit form.
pub fn color_reply(prefix: &str, color: Rgb, terminator: &str) -> String {
    let Rgb { r, g, b } = color;
    format!("\x1b]{prefix};rgb:{r:02x}{r:02x}/{g:02x}{g:02x}/{b:02x}{b:02x}{terminator}")
}

/// The answer to CPR: 1-based row and column.
pub fn cursor_position_report(row: usize, column: usize) -> String {
    format!("\x1b[{};{}R", row + 1, column + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_palette_is_xterms_cube_and_ramp_under_the_web_clients_theme() {
        assert_eq!(default_color(1), rgb(0xcc, 0, 0));
        assert_eq!(default_color(16), rgb(0, 0, 0));
        assert_eq!(default_color(196), rgb(255, 0, 0));
        assert_eq!(default_color(231), rgb(255, 255, 255));
        assert_eq!(default_color(232), rgb(8, 8, 8));
        assert_eq!(default_color(255), rgb(238, 238, 238));
        assert_eq!(default_color(257), BACKGROUND);
    }

    #[test]
    fn a_colour_reply_repeats_each_component() {
        assert_eq!(
            color_reply("11", rgb(0x10, 0x13, 0x18), "\x07"),
            "\x1b]11;rgb:1010/1313/1818\x07"
        );
    }
}
