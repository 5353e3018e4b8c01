//! What `capture` returns and what `wait-for` watches: a terminal's output
//! as freshell's agent API renders it — the output ptyhub still holds, with
//! escape sequences removed (or kept), split into lines.

use crate::session::Session;

/// `capture`'s options: `S` (first line; negative counts from the end),
/// `J` (join the lines), `e` (keep escape sequences).
#[derive(Clone, Copy, Debug, Default)]
pub struct CaptureOptions {
    pub start: Option<i64>,
    pub join_lines: bool,
    pub keep_escapes: bool,
}

pub fn render(output: &str, options: CaptureOptions) -> String {
    let text = if options.keep_escapes {
        output.to_owned()
    } else {
        strip_ansi_escapes::strip_str(output)
    };
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    if let Some(start) = options.start {
        let skip = if start < 0 {
            lines.len().saturating_sub(start.unsigned_abs() as usize)
        } else {
            (start as usize).min(lines.len())
        };
        lines.drain(..skip);
    }
    lines.join(if options.join_lines { "" } else { "\n" })
}

/// A session's output as plain text, for matching.
pub fn plain_text(session: &Session) -> String {
    render(&session.retained_output(), CaptureOptions::default())
}

/// freshell's prompt heuristic: the last non-empty line ends in `#`, `$`
/// or `>` (and perhaps one space).
pub fn looks_like_prompt(text: &str) -> bool {
    let last = text.lines().rev().find(|l| !l.is_empty()).unwrap_or("");
    let last = last.trim_end();
    last.ends_with(['#', '$', '>'])
}

/// A JavaScript-style pattern (`body` or `/body/flags`) as a Rust regex.
/// Flags `i`, `m` and `s` carry over; `g`, `u` and `y` mean nothing for a
/// yes/no match.
pub fn parse_pattern(pattern: &str) -> Result<regex::Regex, regex::Error> {
    let (body, flags) = match pattern
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once('/'))
        .filter(|(_, flags)| flags.chars().all(|c| "gimsuy".contains(c)))
    {
        Some((body, flags)) => (body, flags),
        None => (pattern, ""),
    };
    regex::RegexBuilder::new(body)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .size_limit(1 << 20)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_strips_escapes_and_slices_lines() {
        let output = "\x1b[31mone\x1b[0m\r\ntwo\r\nthree\n";
        assert_eq!(
            render(output, CaptureOptions::default()),
            "one\ntwo\nthree\n"
        );
        let last_two = CaptureOptions {
            start: Some(-2),
            ..Default::default()
        };
        assert_eq!(render(output, last_two), "three\n");
        let joined = CaptureOptions {
            start: Some(1),
            join_lines: true,
            ..Default::default()
        };
        assert_eq!(render(output, joined), "twothree");
        let raw = CaptureOptions {
            keep_escapes: true,
            ..Default::default()
        };
        assert!(render(output, raw).starts_with("\x1b[31mone"));
    }

    #[test]
    fn prompts_and_patterns_read_as_in_freshell() {
        assert!(looks_like_prompt("output\nuser@host:~$ \n\n"));
        assert!(looks_like_prompt("> "));
        assert!(!looks_like_prompt("building...\n"));
        assert!(parse_pattern("/DONE/i").expect("valid").is_match("done"));
        assert!(parse_pattern("a/b").expect("valid").is_match("a/b"));
        assert!(parse_pattern("(").is_err());
    }
}
