//! Escape-heavy terminal output, as coding CLIs and TUIs write it: text of
//! every width, C0/C1 controls, cursor movement, erasing, SGR (16, 256 and
//! truecolour, valid and not), the DEC private modes a viewer must get right,
//! scroll regions, titles, and garbage — cut into frames at arbitrary
//! character boundaries, so sequences are split across frames.

use proptest::prelude::*;
use proptest::sample::select;

/// Text of every width: wide CJK and emoji, combining marks, zero-width
/// joiners, U+FE0F (emoji presentation, which widens a character already
/// drawn in some terminals), C1 controls as characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 .,:;!?/_=+-]{1,12}",
        1 => select(&[
            "你好", "漢字テスト", "한국어", "ｆｕｌｌ", "😀", "👍🏽", "👩‍💻", "🇫🇷", "e\u{301}",
            "a\u{300}\u{301}\u{302}", "\u{200b}", "\u{200d}", "\u{301}", "\u{fffd}",
            "\u{85}", "\u{9b}", "\u{a0}", "\u{7f}", "ß", "Ω", "→", "█▓▒░", "│├─┤", "❤\u{fe0f}",
            "✔\u{fe0f}",
        ][..])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// C0 controls, the ones vt100 acts on and some it ignores.
fn control() -> impl Strategy<Value = String> {
    select(
        &[
            "\r", "\n", "\r\n", "\t", "\x08", "\x07", "\x0b", "\x0c", "\x0e", "\x0f", "\x00",
            "\x18", "\x1a", "\x7f",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// A numeric parameter: absent, zero, ordinary, at the edges of u16, beyond.
fn param() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(String::new()),
        1 => Just("0".to_owned()),
        6 => (1u32..12).prop_map(|n| n.to_string()),
        2 => (12u32..300).prop_map(|n| n.to_string()),
        1 => select(&["255", "256", "1000", "65535", "65536", "99999", "4294967296"][..])
            .prop_map(str::to_owned),
    ]
}

fn cursor_or_edit() -> impl Strategy<Value = String> {
    cursor_or_edit_with(&[
        'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'f', 'd', '`', 'J', 'K', 'L', 'M', 'P', 'S', 'T',
        'X', '@', 'b', 'r',
    ])
}

/// `cursor_or_edit` without REP (`CSI b`), which xterm.js and vte read apart: xterm.js
/// repeats only right after a print (any control or sequence between makes it do nothing),
/// vte repeats the last character printed whatever came between.
fn cursor_or_edit_read_alike() -> impl Strategy<Value = String> {
    cursor_or_edit_with(&[
        'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'f', 'd', '`', 'J', 'K', 'L', 'M', 'P', 'S', 'T',
        'X', '@', 'r',
    ])
}

fn cursor_or_edit_with(final_bytes: &'static [char]) -> impl Strategy<Value = String> {
    (param(), proptest::option::of(param()), select(final_bytes)).prop_map(|(a, b, f)| match b {
        Some(b) => format!("\x1b[{a};{b}{f}"),
        None => format!("\x1b[{a}{f}"),
    })
}

fn sgr_param() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(&[
            "0", "1", "2", "3", "4", "5", "7", "8", "9", "21", "22", "23", "24", "27", "39", "49",
            "",
        ][..])
        .prop_map(str::to_owned),
        3 => (30u16..38).prop_map(|n| n.to_string()),
        3 => (40u16..48).prop_map(|n| n.to_string()),
        2 => (90u16..98).prop_map(|n| n.to_string()),
        2 => (100u16..108).prop_map(|n| n.to_string()),
        3 => (select(&["38", "48"][..]), 0u16..300)
            .prop_map(|(which, index)| format!("{which};5;{index}")),
        3 => (select(&["38", "48"][..]), 0u16..300, 0u16..256, 0u16..256)
            .prop_map(|(which, r, g, b)| format!("{which};2;{r};{g};{b}")),
        1 => (select(&["38", "48"][..]), 0u16..256, 0u16..256, 0u16..256)
            .prop_map(|(which, r, g, b)| format!("{which}:2::{r}:{g}:{b}")),
        1 => select(&["38", "48", "38;5", "38;2;1", "58;5;3"][..]).prop_map(str::to_owned),
    ]
}

fn sgr() -> impl Strategy<Value = String> {
    prop::collection::vec(sgr_param(), 0..5)
        .prop_map(|params| format!("\x1b[{}m", params.join(";")))
}

/// SGR parameters xterm.js and the model (vte, alacritty) read alike: `sgr_param` but for
/// the ones they read apart, left out each for its reason —
/// - `21`: xterm.js starts a double underline, alacritty ignores it;
/// - extended colours out of range (a palette index ≥ 256, a component ≥ 256): xterm.js
///   keeps the low byte, vte drops the colour (and reads what follows `38;2;300` as
///   more parameters: `1` turns bold on);
/// - extended colours cut short or of no known kind (`38`, `38;5`, `38;2;1`, `38;1;...`):
///   xterm.js takes what is missing as 0 or skips one parameter, vte skips others.
fn sgr_param_read_alike() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(&[
            "0", "1", "2", "3", "4", "5", "7", "8", "9", "22", "23", "24", "27", "39", "49", "",
        ][..])
        .prop_map(str::to_owned),
        3 => (30u16..38).prop_map(|n| n.to_string()),
        3 => (40u16..48).prop_map(|n| n.to_string()),
        2 => (90u16..98).prop_map(|n| n.to_string()),
        2 => (100u16..108).prop_map(|n| n.to_string()),
        3 => (select(&["38", "48"][..]), 0u16..256)
            .prop_map(|(which, index)| format!("{which};5;{index}")),
        3 => (select(&["38", "48"][..]), 0u16..256, 0u16..256, 0u16..256)
            .prop_map(|(which, r, g, b)| format!("{which};2;{r};{g};{b}")),
        1 => (select(&["38", "48"][..]), 0u16..256, 0u16..256, 0u16..256)
            .prop_map(|(which, r, g, b)| format!("{which}:2::{r}:{g}:{b}")),
        1 => (0u16..256).prop_map(|index| format!("58;5;{index}")),
    ]
}

fn sgr_read_alike() -> impl Strategy<Value = String> {
    prop::collection::vec(sgr_param_read_alike(), 0..5)
        .prop_map(|params| format!("\x1b[{}m", params.join(";")))
}

/// DEC private modes: cursor keys, origin, autowrap, mouse (X10, 1000–1006,
/// urxvt 1015), cursor visibility, every alternate screen variant, bracketed
/// paste; sometimes several in one sequence.
fn dec_mode() -> impl Strategy<Value = String> {
    let mode = select(&[
        1u16, 6, 7, 9, 12, 25, 47, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 1047, 1048, 1049, 2004,
    ]);
    (prop::collection::vec(mode, 1..3), select(&['h', 'l'])).prop_map(|(modes, set)| {
        let list: Vec<String> = modes.iter().map(u16::to_string).collect();
        format!("\x1b[?{}{set}", list.join(";"))
    })
}

fn escape() -> impl Strategy<Value = String> {
    select(
        &[
            "\x1b7", "\x1b8", "\x1b=", "\x1b>", "\x1bM", "\x1bD", "\x1bE", "\x1bc", "\x1b(0",
            "\x1b(B", "\x1b#8", "\x1b[!p", "\x1b[4h", "\x1b[4l", "\x1b[20h",
        ][..],
    )
    .prop_map(str::to_owned)
}

fn cursor_style() -> impl Strategy<Value = String> {
    (0u16..8).prop_map(|n| format!("\x1b[{n} q"))
}

/// OSC title, icon name and clipboard, terminated by BEL or ST, or not at all.
fn osc() -> impl Strategy<Value = String> {
    (
        select(&["0", "1", "2", "52", "8", "777"][..]),
        "[a-z ;:😀你\u{9c}\u{85}\x01]{0,10}",
        select(&["\x07", "\x1b\\", "\u{9c}", ""][..]),
    )
        .prop_map(|(code, body, end)| format!("\x1b]{code};{body}{end}"))
}

/// `osc` without spaces in the string: vte trims the whitespace around a
/// title, xterm.js keeps it.
fn osc_read_alike() -> impl Strategy<Value = String> {
    (
        select(&["0", "1", "2", "52", "8", "777"][..]),
        "[a-z;:😀你\x01]{0,10}",
        select(&["\x07", "\x1b\\", ""][..]),
    )
        .prop_map(|(code, body, end)| format!("\x1b]{code};{body}{end}"))
}

/// Sequences cut short, DCS and other strings vt100 ignores, junk.
fn odd() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "\x1b",
                "\x1b[",
                "\x1b[?",
                "\x1b[1;",
                "\x1b]",
                "\x1bP",
                "\x1bPq#0;2;0;0;0\x1b\\",
                "\x1b[>c",
                "\x1b[6n",
                "\x1b[8;5;20t",
                "\x1b[?1$p",
                "\x1b_apc\x1b\\",
                "\u{9b}31m",
            ][..]
        )
        .prop_map(str::to_owned),
        "\x1b\\[[0-9;?:<=>!$ ]{0,8}[@-~]",
    ]
}

/// One piece of output.
pub fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => text(),
        3 => control(),
        4 => cursor_or_edit(),
        4 => sgr(),
        3 => dec_mode(),
        1 => escape(),
        1 => cursor_style(),
        1 => osc(),
        1 => odd(),
    ]
}

/// A stream of output.
pub fn output(max_tokens: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..max_tokens).prop_map(|tokens| tokens.concat())
}

/// One piece of output that xterm.js reads as the model does: `token`, with SGR, OSC and
/// cursor and edit sequences as `sgr_param_read_alike`, `osc_read_alike` and
/// `cursor_or_edit_read_alike` have them.
fn token_read_alike() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => text(),
        3 => control(),
        4 => cursor_or_edit_read_alike(),
        4 => sgr_read_alike(),
        3 => dec_mode(),
        1 => escape(),
        1 => cursor_style(),
        1 => osc_read_alike(),
        1 => odd(),
    ]
}

/// A stream of output that xterm.js and the model read alike, as far as the generator
/// knows: what `output` generates but for the sequences they read apart (see
/// `token_read_alike`), and with no C1 control characters (U+0080–U+009F). xterm.js
/// decodes UTF-8 first and acts on a C1 code point as a control (U+0085 moves the cursor
/// down, U+009B opens a CSI, U+009C ends an OSC); vte prints or ignores them, and ends a
/// DCS at the raw byte 0x9C instead.
// Only tests/xterm_round_trip.rs draws these; tests/properties keeps everything.
#[allow(dead_code)]
pub fn output_read_alike(max_tokens: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(token_read_alike(), 0..max_tokens).prop_map(|tokens| {
        tokens
            .concat()
            .chars()
            .filter(|c| !('\u{80}'..='\u{9f}').contains(c))
            .collect()
    })
}

/// Cuts `text` at the given fractions of its length (moved forward to a
/// character boundary, as the PTY reader's UTF-8 decoder does), so escape
/// sequences are split across frames.
pub fn cut_into_frames(text: &str, cuts: &[f64]) -> Vec<String> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|fraction| {
            let mut at = ((text.len() as f64) * fraction.clamp(0.0, 1.0)) as usize;
            while !text.is_char_boundary(at) {
                at += 1;
            }
            at
        })
        .collect();
    points.push(0);
    points.push(text.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|pair| text[pair[0]..pair[1]].to_owned())
        .collect()
}
