//! Reading the two wire protocols cheaply enough that a hundred viewers in this process do
//! not become the bottleneck: output messages are recognised by their fixed prefixes and
//! their data is measured (its unescaped UTF-8 length) without building a string. Anything
//! else goes through serde_json.

/// UTF-8 length of the JSON string literal body `escaped` (without its quotes) once
/// unescaped. Handles `\uXXXX` including surrogate pairs (Python's `json.dumps` writes
/// every non-ASCII character that way).
pub fn unescaped_len(escaped: &[u8]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < escaped.len() {
        let Some(at) = escaped[i..].iter().position(|&b| b == b'\\') else {
            len += escaped.len() - i;
            break;
        };
        len += at;
        i += at;
        match escaped.get(i + 1) {
            Some(b'u') => {
                let unit = hex4(&escaped[i + 2..]);
                i += 6;
                if (0xD800..0xDC00).contains(&unit) && escaped.get(i + 1) == Some(&b'u') {
                    // High surrogate followed by its low half: one 4-byte character.
                    len += 4;
                    i += 6;
                } else {
                    len += match unit {
                        0..=0x7F => 1,
                        0x80..=0x7FF => 2,
                        _ => 3,
                    };
                }
            }
            _ => {
                len += 1;
                i += 2;
            }
        }
    }
    len
}

fn hex4(bytes: &[u8]) -> u32 {
    bytes.iter().take(4).fold(0, |acc, &b| {
        acc * 16 + (b as char).to_digit(16).unwrap_or(0)
    })
}

fn number_after(text: &[u8], key: &[u8]) -> Option<u64> {
    let at = find(text, key)? + key.len();
    let digits = text[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&text[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One ptyhub (freshell v7) server message, as far as the benchmark cares.
pub enum Ptyhub<'a> {
    /// `terminal.output`: its seq and the JSON-escaped data (between the quotes).
    Output {
        seq: u64,
        escaped: &'a [u8],
    },
    /// `terminal.output.gap`: the viewer skipped output; a repaint follows.
    Gap,
    Exit,
    /// Anything else, parsed.
    Other(serde_json::Value),
}

pub fn ptyhub(text: &str) -> Ptyhub<'_> {
    let bytes = text.as_bytes();
    if bytes.starts_with(br#"{"type":"terminal.output","#) {
        let seq = number_after(bytes, br#""seqEnd":"#).unwrap_or(0);
        if let Some(at) = find(bytes, br#","data":""#) {
            let start = at + 9;
            let end = bytes.len().saturating_sub(2).max(start);
            return Ptyhub::Output {
                seq,
                escaped: &bytes[start..end],
            };
        }
    }
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    match value["type"].as_str() {
        Some("terminal.output.gap") => Ptyhub::Gap,
        Some("terminal.exit") => Ptyhub::Exit,
        _ => Ptyhub::Other(value),
    }
}

/// One terminado server message.
pub enum Terminado<'a> {
    /// `["stdout", "…"]`: the JSON-escaped text between the quotes.
    Stdout(&'a [u8]),
    /// `["disconnect", 1]`: the process ended.
    Disconnect,
    Other,
}

pub fn terminado(text: &str) -> Terminado<'_> {
    let bytes = text.as_bytes();
    if let Some(rest) = bytes.strip_prefix(br#"["stdout", ""#) {
        return Terminado::Stdout(&rest[..rest.len().saturating_sub(2)]);
    }
    if bytes.starts_with(br#"["disconnect""#) {
        return Terminado::Disconnect;
    }
    Terminado::Other
}
