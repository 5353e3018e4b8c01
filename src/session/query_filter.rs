//! Terminal queries taken out of a child's output. The daemon is the
//! terminal a session's child talks to: its screen model answers each query
//! once, from the state at that point of the stream (`terminal/queries.rs`),
//! and viewers never see the query, so their terminals (xterm.js, freshell's
//! frontend, the terminal running `ptyhub attach`) never answer it too.
//!
//! Only the queries the daemon answers are taken out; anything else passes
//! through untouched. A query cut by a read is held back until it ends (at
//! most `MAX_HELD_BYTES`; a longer unfinished sequence is passed on).

/// A query the daemon answers (see `terminal/queries.rs` for the answers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// DA1: `CSI c`, `CSI 0 c`.
    PrimaryAttributes,
    /// DA2: `CSI > c`, `CSI > 0 c`.
    SecondaryAttributes,
    /// DA3: `CSI = c`, `CSI = 0 c`.
    TertiaryAttributes,
    /// XTVERSION: `CSI > q`, `CSI > 0 q`.
    Version,
    /// DSR: `CSI 5 n`.
    Status,
    /// CPR: `CSI 6 n`.
    CursorPosition,
    /// DECXCPR: `CSI ? 6 n`.
    ExtendedCursorPosition,
    /// DECRQM: `CSI Ps $ p` (ANSI) or `CSI ? Ps $ p` (DEC private).
    Mode { private: bool, mode: u16 },
    /// The kitty keyboard protocol's flags: `CSI ? u`.
    KeyboardFlags,
    /// XTWINOPS reports: `CSI 14 t` (text area in pixels), `16 t` (cell in
    /// pixels), `18 t` (text area in cells), `19 t` (screen in cells).
    WindowReport(u16),
    /// `OSC 10/11/12 ; ?` or `OSC 4 ; n ; ?`: `prefix` is what the answer
    /// repeats (`11`, `4;1`), `index` the colour slot in alacritty's
    /// numbering (256 foreground, 257 background, 258 cursor).
    Color {
        prefix: String,
        index: usize,
        terminator: Terminator,
    },
    /// DECRQSS: `DCS $ q Pt ST`, the setting `Pt` names (`m`, `r`, ` q`).
    Setting(String),
    /// XTGETTCAP: `DCS + q Pt ST`, `Pt` the capability names in hex,
    /// separated by `;`.
    Capabilities(Vec<String>),
}

/// How an OSC query ended; its answer ends the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminator {
    Bell,
    StringTerminator,
}

impl Terminator {
    pub fn as_str(self) -> &'static str {
        match self {
            Terminator::Bell => "\x07",
            Terminator::StringTerminator => "\x1b\\",
        }
    }
}

/// Output in stream order: what viewers see, and the queries between.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Output(String),
    Query(Query),
}

/// The longest unfinished sequence held back in case it is a query: every
/// query above is shorter.
const MAX_HELD_BYTES: usize = 32;

const ESC: u8 = 0x1b;

#[derive(Debug, Default)]
pub struct QueryFilter {
    /// The start of a possible query that the last read ended inside of.
    held: String,
}

/// What an escape sequence at some point of the output is.
enum Sequence {
    /// A query, `len` bytes long.
    Query(Query, usize),
    /// Anything else; scanning goes on after its first `len` bytes.
    Other(usize),
    /// It may still become a query: the output ended inside it.
    Unfinished,
}

impl QueryFilter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Splits decoded output into what viewers see and the queries in it.
    pub fn filter(&mut self, text: String) -> Vec<Piece> {
        let text = if self.held.is_empty() {
            text
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.push_str(&text);
            joined
        };
        let bytes = text.as_bytes();
        let mut pieces = Vec::new();
        let mut shown_from = 0;
        let mut shown_to = bytes.len();
        let mut at = 0;
        while let Some(offset) = memchr::memchr(ESC, &bytes[at..]) {
            let start = at + offset;
            match sequence_at(&text[start..]) {
                Sequence::Query(query, len) => {
                    if start > shown_from {
                        pieces.push(Piece::Output(text[shown_from..start].to_owned()));
                    }
                    pieces.push(Piece::Query(query));
                    at = start + len;
                    shown_from = at;
                }
                Sequence::Other(len) => at = start + len,
                Sequence::Unfinished if bytes.len() - start <= MAX_HELD_BYTES => {
                    self.held = text[start..].to_owned();
                    shown_to = start;
                    break;
                }
                Sequence::Unfinished => at = start + 1,
            }
        }
        if pieces.is_empty() && shown_to == bytes.len() {
            // No query and nothing held: the output as it came, uncopied.
            return if text.is_empty() {
                Vec::new()
            } else {
                vec![Piece::Output(text)]
            };
        }
        if shown_to > shown_from {
            pieces.push(Piece::Output(text[shown_from..shown_to].to_owned()));
        }
        pieces
    }

    /// The start of a possible query the last read ended inside of.
    pub fn held(&self) -> &str {
        &self.held
    }

    /// What is still held back, as output: the child's output has ended.
    pub fn finish(&mut self) -> Vec<Piece> {
        let held = std::mem::take(&mut self.held);
        if held.is_empty() {
            Vec::new()
        } else {
            vec![Piece::Output(held)]
        }
    }
}

/// The escape sequence `text` starts with (`text` starts with ESC).
fn sequence_at(text: &str) -> Sequence {
    match text.as_bytes().get(1) {
        None => Sequence::Unfinished,
        Some(b'[') => control_sequence_at(text),
        Some(b']') => operating_system_command_at(text),
        Some(b'P') => device_control_string_at(text),
        Some(_) => Sequence::Other(1),
    }
}

/// `ESC [`, an optional private marker, parameters, intermediates, a final
/// byte.
fn control_sequence_at(text: &str) -> Sequence {
    let bytes = text.as_bytes();
    let mut at = 2;
    let marker = match bytes.get(at) {
        Some(&b) if matches!(b, b'<' | b'=' | b'>' | b'?') => {
            at += 1;
            Some(b)
        }
        _ => None,
    };
    let params_start = at;
    while bytes.get(at).is_some_and(|b| (0x30..=0x3f).contains(b)) {
        at += 1;
    }
    let params = &text[params_start..at];
    let intermediates_start = at;
    while bytes.get(at).is_some_and(|b| (0x20..=0x2f).contains(b)) {
        at += 1;
    }
    let intermediates = &text[intermediates_start..at];
    let Some(&last) = bytes.get(at) else {
        return Sequence::Unfinished;
    };
    if !(0x40..=0x7e).contains(&last) {
        // A control inside the sequence: the terminal runs it; not ours.
        return Sequence::Other(at);
    }
    let len = at + 1;
    let default_or_zero = params.is_empty() || params == "0";
    let query = match (marker, intermediates, last) {
        (None, "", b'c') if default_or_zero => Query::PrimaryAttributes,
        (Some(b'>'), "", b'c') if default_or_zero => Query::SecondaryAttributes,
        (Some(b'='), "", b'c') if default_or_zero => Query::TertiaryAttributes,
        (Some(b'>'), "", b'q') if default_or_zero => Query::Version,
        (None, "", b'n') if params == "5" => Query::Status,
        (None, "", b'n') if params == "6" => Query::CursorPosition,
        (Some(b'?'), "", b'n') if params == "6" => Query::ExtendedCursorPosition,
        (None | Some(b'?'), "$", b'p') => match params.parse() {
            Ok(mode) => Query::Mode {
                private: marker.is_some(),
                mode,
            },
            Err(_) => return Sequence::Other(len),
        },
        (Some(b'?'), "", b'u') if params.is_empty() => Query::KeyboardFlags,
        (None, "", b't') if matches!(params, "14" | "16" | "18" | "19") => {
            Query::WindowReport(params.parse().unwrap_or_default())
        }
        _ => return Sequence::Other(len),
    };
    Sequence::Query(query, len)
}

/// `ESC ]`, its text, then BEL or ST; only colour queries are ours.
fn operating_system_command_at(text: &str) -> Sequence {
    let body = &text[2..];
    let end = body.find(['\x07', '\x1b']);
    let Some(end) = end else {
        return if could_become_color_query(body) {
            Sequence::Unfinished
        } else {
            Sequence::Other(2)
        };
    };
    let terminator = match body.as_bytes()[end] {
        0x07 => (Terminator::Bell, 1),
        _ => match body.as_bytes().get(end + 1) {
            Some(b'\\') => (Terminator::StringTerminator, 2),
            Some(_) => return Sequence::Other(2),
            None if could_become_color_query(&body[..end]) => return Sequence::Unfinished,
            None => return Sequence::Other(2),
        },
    };
    let len = 2 + end + terminator.1;
    match color_query(&body[..end], terminator.0) {
        Some(query) => Sequence::Query(query, len),
        None => Sequence::Other(len),
    }
}

/// `ESC P`, its text, then ST; only DECRQSS and XTGETTCAP are ours.
fn device_control_string_at(text: &str) -> Sequence {
    let body = &text[2..];
    let Some(end) = body.find('\x1b') else {
        return if could_become_setting_query(body) {
            Sequence::Unfinished
        } else {
            Sequence::Other(2)
        };
    };
    match body.as_bytes().get(end + 1) {
        Some(b'\\') => {}
        Some(_) => return Sequence::Other(2),
        None if could_become_setting_query(&body[..end]) => return Sequence::Unfinished,
        None => return Sequence::Other(2),
    }
    let len = 2 + end + 2;
    let body = &body[..end];
    let query = if let Some(setting) = body.strip_prefix("$q") {
        Query::Setting(setting.to_owned())
    } else if let Some(names) = body.strip_prefix("+q") {
        Query::Capabilities(names.split(';').map(str::to_owned).collect())
    } else {
        return Sequence::Other(len);
    };
    Sequence::Query(query, len)
}

/// Whether a DCS's text so far may still end as DECRQSS or XTGETTCAP.
fn could_become_setting_query(body: &str) -> bool {
    body.len() <= MAX_HELD_BYTES
        && ["$q", "+q"]
            .iter()
            .any(|prefix| prefix.starts_with(body) || body.starts_with(prefix))
}

fn color_query(body: &str, terminator: Terminator) -> Option<Query> {
    let (prefix, index) = match body.strip_suffix(";?")? {
        "10" => ("10".to_owned(), 256),
        "11" => ("11".to_owned(), 257),
        "12" => ("12".to_owned(), 258),
        palette => {
            let index: usize = palette.strip_prefix("4;")?.parse().ok()?;
            if index > 255 {
                return None;
            }
            (palette.to_owned(), index)
        }
    };
    Some(Query::Color {
        prefix,
        index,
        terminator,
    })
}

/// Whether an OSC's text so far may still end as a colour query.
fn could_become_color_query(body: &str) -> bool {
    if body.len() > MAX_HELD_BYTES {
        return false;
    }
    ["10;?", "11;?", "12;?"]
        .iter()
        .any(|query| query.starts_with(body) || body.starts_with(query))
        || body
            .strip_prefix("4;")
            .map_or("4;".starts_with(body), |rest| {
                rest.bytes()
                    .all(|b| b.is_ascii_digit() || b == b';' || b == b'?')
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(text: &str) -> Piece {
        Piece::Output(text.to_owned())
    }

    fn filtered(chunks: &[&str]) -> Vec<Piece> {
        let mut filter = QueryFilter::new();
        let mut pieces: Vec<Piece> = chunks
            .iter()
            .flat_map(|chunk| filter.filter((*chunk).to_owned()))
            .collect();
        pieces.extend(filter.finish());
        pieces
    }

    #[test]
    fn codexs_and_claudes_startup_queries_are_taken_out_in_order() {
        let codex = "\x1b[?u\x1b[?1007$p\x1b[c\x1b[6n\x1b]10;?\x1b\\\x1b]11;?\x07";
        assert_eq!(
            filtered(&[codex]),
            [
                Piece::Query(Query::KeyboardFlags),
                Piece::Query(Query::Mode {
                    private: true,
                    mode: 1007
                }),
                Piece::Query(Query::PrimaryAttributes),
                Piece::Query(Query::CursorPosition),
                Piece::Query(Query::Color {
                    prefix: "10".into(),
                    index: 256,
                    terminator: Terminator::StringTerminator
                }),
                Piece::Query(Query::Color {
                    prefix: "11".into(),
                    index: 257,
                    terminator: Terminator::Bell
                }),
            ]
        );
        assert_eq!(
            filtered(&["a\x1b[>0qb\x1b[cc"]),
            [
                output("a"),
                Piece::Query(Query::Version),
                output("b"),
                Piece::Query(Query::PrimaryAttributes),
                output("c"),
            ]
        );
    }

    #[test]
    fn settings_and_capabilities_queries_are_taken_out() {
        assert_eq!(
            filtered(&["a\x1bP$qm\x1b\\b\x1bP+q", "544e;436f\x1b", "\\c\x1b[=c"]),
            [
                output("a"),
                Piece::Query(Query::Setting("m".into())),
                output("b"),
                Piece::Query(Query::Capabilities(vec!["544e".into(), "436f".into()])),
                output("c"),
                Piece::Query(Query::TertiaryAttributes),
            ]
        );
        // Sixel and other device control strings pass whole.
        let sixel = "\x1bPq#0;2;0;0;0#0~~\x1b\\";
        assert_eq!(filtered(&[sixel]), [output(sixel)]);
    }

    #[test]
    fn everything_else_passes_untouched() {
        let drawing =
            "\x1b[2J\x1b[1;5H\x1b[38;5;1mred\x1b[0m\x1b[8;24;80t\x1b[?1049h\x1b]0;title\x07\
                       \x1b]4;1;rgb:12/34/56\x07\x1b]8;;http://x\x1b\\link\x1b7\x1b[>4;1m\x1b[3c";
        assert_eq!(filtered(&[drawing]), [output(drawing)]);
    }

    #[test]
    fn a_query_cut_by_a_read_is_held_until_it_ends() {
        assert_eq!(
            filtered(&["ab\x1b", "[6", "nc"]),
            [
                output("ab"),
                Piece::Query(Query::CursorPosition),
                output("c")
            ]
        );
        assert_eq!(
            filtered(&["x\x1b]11;", "?\x1b", "\\y"]),
            [
                output("x"),
                Piece::Query(Query::Color {
                    prefix: "11".into(),
                    index: 257,
                    terminator: Terminator::StringTerminator
                }),
                output("y"),
            ]
        );
        // Not a query after all: passed on whole once it ends.
        assert_eq!(
            filtered(&["x\x1b[1", ";2H", "y"]),
            [output("x"), output("\x1b[1;2H"), output("y")]
        );
    }

    #[test]
    fn a_held_sequence_is_output_when_the_output_ends() {
        assert_eq!(filtered(&["x\x1b[6"]), [output("x"), output("\x1b[6")]);
    }

    #[test]
    fn long_unfinished_sequences_are_not_held() {
        let title = format!("\x1b]2;{}", "t".repeat(100));
        assert_eq!(filtered(&[&title]), [output(&title)]);
        let csi = format!("\x1b[{}", "1;".repeat(40));
        assert_eq!(filtered(&[&csi]), [output(&csi)]);
    }
}
