//! The line at the bottom of a terminal that shows the session clipped:
//! the session's size against this terminal's, and how to take the size.
//!
//! tmux shows a client smaller or larger than its window the window's
//! corner, and says nothing; the user who did not choose the size deserves
//! to know why the screen is cut and what fixes it, as the web client's
//! note over the terminal says it.

use std::fmt::Write;

use crate::server::api::PtySize;
use crate::session::SizePolicy;

/// Why the size is not this terminal's, and what can change it.
pub struct SizeStatus<'a> {
    pub pty: PtySize,
    /// This terminal's (cols, rows).
    pub local: (u16, u16),
    pub read_only: bool,
    /// The key that takes the size (`C-\ s`), if there is one.
    pub take_size_key: Option<&'a str>,
}

impl SizeStatus<'_> {
    /// The line's words: `session 100x30, this terminal 60x20 · C-\ s: use this size`.
    pub fn text(&self) -> String {
        let PtySize { cols, rows, .. } = self.pty;
        let (local_cols, local_rows) = self.local;
        let sizes = format!("session {cols}x{rows}, this terminal {local_cols}x{local_rows}");
        self.with_remedy(sizes)
    }

    /// The same in fewer columns: `100x30 ≠ 60x20 · C-\ s: use this size`.
    pub fn compact_text(&self) -> String {
        let PtySize { cols, rows, .. } = self.pty;
        let (local_cols, local_rows) = self.local;
        self.with_remedy(format!("{cols}x{rows} ≠ {local_cols}x{local_rows}"))
    }

    /// `sizes`, then what can make the PTY this terminal's size.
    fn with_remedy(&self, sizes: String) -> String {
        let size_policy = self.pty.size_policy;
        let mut text = sizes;
        let can_take = matches!(size_policy, SizePolicy::Latest | SizePolicy::Manual);
        match (self.read_only, can_take, self.take_size_key) {
            (true, _, _) => text.push_str(" · read-only"),
            (false, true, Some(key)) => {
                let _ = write!(text, " · {key}: use this size");
            }
            // No key left for it (the detach key took `s`): typing still takes it.
            (false, true, None) => text.push_str(" · type to take the size"),
            (false, false, _) => {
                let policy = serde_json::to_value(size_policy)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let _ = write!(text, " · size policy {policy}");
            }
        }
        text
    }

    /// Escape sequences that draw the line on row `row` (1-based), `cols`
    /// wide, in reverse video: compact if the words do not fit, cut at the
    /// width if even those do not, padded to it.
    pub fn draw(&self, row: u16, cols: u16) -> String {
        let width = usize::from(cols);
        let full = format!(" {}", self.text());
        let words = if full.chars().count() <= width {
            full
        } else {
            format!(" {}", self.compact_text())
        };
        let mut shown: String = words.chars().take(width).collect();
        let used = shown.chars().count();
        shown.extend(std::iter::repeat_n(' ', width - used));
        format!("\x1b[{row};1H\x1b[0;7m{shown}\x1b[0m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(policy: SizePolicy, read_only: bool) -> SizeStatus<'static> {
        SizeStatus {
            pty: PtySize {
                cols: 100,
                rows: 30,
                size_policy: policy,
            },
            local: (60, 20),
            read_only,
            take_size_key: Some("C-\\ s"),
        }
    }

    #[test]
    fn the_line_names_both_sizes_and_what_takes_the_size() {
        assert_eq!(
            status(SizePolicy::Latest, false).text(),
            "session 100x30, this terminal 60x20 · C-\\ s: use this size"
        );
        assert_eq!(
            status(SizePolicy::Latest, true).text(),
            "session 100x30, this terminal 60x20 · read-only"
        );
        assert_eq!(
            status(SizePolicy::Largest, false).text(),
            "session 100x30, this terminal 60x20 · size policy largest"
        );
    }

    #[test]
    fn the_line_fills_the_width_and_is_cut_at_it() {
        let drawn = status(SizePolicy::Manual, false).draw(20, 12);
        assert_eq!(drawn, "\x1b[20;1H\x1b[0;7m 100x30 ≠ 60\x1b[0m");
        let narrow = status(SizePolicy::Latest, false).draw(20, 45);
        assert!(
            narrow.contains(" 100x30 ≠ 60x20 · C-\\ s: use this size "),
            "{narrow:?}"
        );
        let wide = status(SizePolicy::Manual, false).draw(1, 70);
        let line = wide
            .strip_prefix("\x1b[1;1H\x1b[0;7m")
            .and_then(|rest| rest.strip_suffix("\x1b[0m"))
            .expect("one reverse-video line");
        assert_eq!(line.chars().count(), 70, "{line:?}");
        assert_eq!(
            line.trim_end(),
            " session 100x30, this terminal 60x20 · C-\\ s: use this size"
        );
    }
}
