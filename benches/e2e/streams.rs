//! The output the benchmark's writer child produces: plain scrolling text, and an agent-like
//! TUI stream.
//!
//! Both are generated once as a block of about 1 MiB and written over and over, so the writer
//! costs almost nothing next to the PTY and the system under test. Every block ends on a line
//! or frame boundary, so no escape sequence or UTF-8 character is ever cut between blocks.

use std::fmt::Write;

/// Which stream the writer produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// Lines of 20–118 columns, every eighth coloured (like `ls --color` or a build log),
    /// each ending in `\r\n`: the terminal scrolls all the time.
    Plain,
    /// Full-screen repaints inside synchronized-update markers (`ESC[?2026h … ESC[?2026l`),
    /// 256-colour and truecolor SGR, box drawing, a spinner and a status line, on the
    /// alternate screen: what Claude Code or Codex look like on the wire.
    Tui,
}

impl StreamKind {
    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Plain => "plain",
            StreamKind::Tui => "tui",
        }
    }

    pub fn parse(name: &str) -> Option<StreamKind> {
        match name {
            "plain" => Some(StreamKind::Plain),
            "tui" => Some(StreamKind::Tui),
            _ => None,
        }
    }
}

/// Size of the screen every system is run at.
pub const COLS: u16 = 120;
pub const ROWS: u16 = 40;

const BLOCK_BYTES: usize = 1 << 20;

const WORDS: &[&str] = &[
    "compiling",
    "ptyhub",
    "session",
    "viewer",
    "frame",
    "screen",
    "replay",
    "ring",
    "tokio",
    "axum",
    "vt100",
    "warning:",
    "error[E0382]:",
    "src/session/mod.rs:218",
    "ok",
    "test",
    "passed",
    "→",
    "café",
    "naïve",
    "…",
    "build",
    "release",
];

/// Everything the writer needs before its go signal: the repeated block and a prefix
/// written once (the TUI enters the alternate screen).
pub fn block(kind: StreamKind) -> (String, Vec<u8>) {
    match kind {
        StreamKind::Plain => (String::new(), plain_block().into_bytes()),
        StreamKind::Tui => ("\x1b[?1049h\x1b[?25l".to_owned(), tui_block().into_bytes()),
    }
}

/// A deterministic pseudo-random sequence (xorshift), so every run writes the same bytes.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

fn plain_line(dice: &mut Dice, number: usize, out: &mut String) {
    let width = 20 + dice.next(99);
    let coloured = number.is_multiple_of(8);
    if coloured {
        let _ = write!(out, "\x1b[1;3{}m", 1 + dice.next(6));
    }
    let start = out.len();
    let _ = write!(out, "{number:07} ");
    while out[start..].chars().count() < width {
        out.push_str(WORDS[dice.next(WORDS.len())]);
        out.push(' ');
    }
    // Trim to the width on a character boundary.
    let keep: usize = out[start..].chars().take(width).map(char::len_utf8).sum();
    out.truncate(start + keep);
    if coloured {
        out.push_str("\x1b[0m");
    }
    out.push_str("\r\n");
}

/// Plain lines `number..number+count`, for the history the reattach measure builds.
pub fn plain_lines(first: usize, count: usize) -> String {
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ first as u64);
    let mut out = String::with_capacity(count * 80);
    for number in first..first + count {
        plain_line(&mut dice, number, &mut out);
    }
    out
}

fn plain_block() -> String {
    let mut dice = Dice(0x2545_f491_4f6c_dd1d);
    let mut out = String::with_capacity(BLOCK_BYTES + 256);
    let mut number = 0;
    while out.len() < BLOCK_BYTES {
        plain_line(&mut dice, number, &mut out);
        number += 1;
    }
    out
}

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

fn tui_frame(dice: &mut Dice, index: usize, out: &mut String) {
    let cols = COLS as usize;
    out.push_str("\x1b[?2026h\x1b[H");
    // Header in truecolor.
    let _ = write!(
        out,
        "\x1b[1;1H\x1b[48;2;30;30;46m\x1b[38;2;205;214;244m╭{}╮\x1b[0m",
        "─".repeat(cols - 2)
    );
    for row in 2..ROWS - 2 {
        let _ = write!(
            out,
            "\x1b[{row};1H\x1b[38;5;{}m│\x1b[0m ",
            60 + dice.next(160)
        );
        let mut used = 2;
        while used < cols - 12 {
            let word = WORDS[dice.next(WORDS.len())];
            let _ = write!(out, "\x1b[38;5;{}m{word}\x1b[0m ", 16 + dice.next(216));
            used += word.chars().count() + 1;
        }
        let _ = write!(out, "\x1b[K\x1b[{row};{cols}H\x1b[38;5;60m│\x1b[0m");
    }
    let _ = write!(
        out,
        "\x1b[{};1H\x1b[38;5;60m╰{}╯\x1b[0m",
        ROWS - 1,
        "─".repeat(cols - 2)
    );
    let _ = write!(
        out,
        "\x1b[{};1H\x1b[48;2;49;50;68m\x1b[38;2;166;227;161m {} Thinking… ({index}s · esc to interrupt)\x1b[K\x1b[0m",
        ROWS,
        SPINNER[index % SPINNER.len()]
    );
    out.push_str("\x1b[?2026l");
}

fn tui_block() -> String {
    let mut dice = Dice(0x853c_49e6_748f_ea9b);
    let mut out = String::with_capacity(BLOCK_BYTES + 16 * 1024);
    let mut index = 0;
    while out.len() < BLOCK_BYTES {
        tui_frame(&mut dice, index, &mut out);
        index += 1;
    }
    out
}
