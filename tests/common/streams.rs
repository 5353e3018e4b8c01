//! What one attach (one attachRequestId) has been sent, checked against the seq rules.
//!
//! The protocol promises, per attach: `terminal.attach.ready` comes before any frame; frames
//! cover seqs contiguously starting at `replayFromSeq`, except where a `terminal.output.gap`
//! says a range will never come; seqs never repeat; nothing of a terminal arrives after its
//! `terminal.exit`. [`AttachStream::book`] panics on the first message breaking a rule, so
//! every test checks them for free.

use serde_json::Value;

/// One `terminal.output` frame; its data is `stream.data[start..end]`.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq_start: u64,
    pub seq_end: u64,
    pub source: Option<String>,
    pub start: usize,
    pub end: usize,
}

/// One `terminal.output.gap`; `frames_before` is how many frames had arrived before it.
#[derive(Debug, Clone)]
pub struct Gap {
    pub from_seq: u64,
    pub to_seq: u64,
    pub reason: String,
    pub frames_before: usize,
}

/// Everything one attach received, in order.
#[derive(Debug)]
pub struct AttachStream {
    pub terminal_id: String,
    pub attach_request_id: String,
    /// The `terminal.attach.ready` that opened this attach.
    pub ready: Value,
    /// All frame data, concatenated in arrival order.
    pub data: String,
    pub frames: Vec<Frame>,
    pub gaps: Vec<Gap>,
    /// The seq the next frame (or gap) must start at.
    pub next_seq: u64,
}

fn u64_field(message: &Value, field: &str) -> u64 {
    message[field]
        .as_u64()
        .unwrap_or_else(|| panic!("`{field}` is not a non-negative integer in {message}"))
}

impl AttachStream {
    pub fn open(ready: &Value) -> AttachStream {
        AttachStream {
            terminal_id: ready["terminalId"].as_str().unwrap().to_owned(),
            attach_request_id: ready["attachRequestId"].as_str().unwrap_or("").to_owned(),
            ready: ready.clone(),
            data: String::new(),
            frames: Vec::new(),
            gaps: Vec::new(),
            next_seq: u64_field(ready, "replayFromSeq"),
        }
    }

    /// Records a `terminal.output` or `terminal.output.gap` of this attach, enforcing the rules.
    pub fn book(&mut self, message: &Value) {
        let who = format!(
            "attach {} of terminal {}",
            self.attach_request_id, self.terminal_id
        );
        assert_eq!(
            message["streamId"], self.ready["streamId"],
            "{who}: streamId differs from attach.ready's: {message}"
        );
        match message["type"].as_str() {
            Some("terminal.output") => {
                let (seq_start, seq_end) =
                    (u64_field(message, "seqStart"), u64_field(message, "seqEnd"));
                assert!(
                    seq_start <= seq_end,
                    "{who}: seqStart > seqEnd in {message}"
                );
                assert!(
                    seq_start == self.next_seq,
                    "{who}: expected a frame starting at seq {} but got seqs {seq_start}..={seq_end} \
                     ({}; no gap announced the difference)",
                    self.next_seq,
                    if seq_start < self.next_seq { "a repeat" } else { "a silent hole" },
                );
                let data = message["data"].as_str().unwrap();
                let start = self.data.len();
                self.data.push_str(data);
                self.frames.push(Frame {
                    seq_start,
                    seq_end,
                    source: message["source"].as_str().map(str::to_owned),
                    start,
                    end: self.data.len(),
                });
                self.next_seq = seq_end + 1;
            }
            Some("terminal.output.gap") => {
                let (from_seq, to_seq) =
                    (u64_field(message, "fromSeq"), u64_field(message, "toSeq"));
                assert!(from_seq <= to_seq, "{who}: empty gap range in {message}");
                let reason = message["reason"].as_str().unwrap().to_owned();
                if self.frames.is_empty() && to_seq < self.next_seq {
                    // On attach the gap for the missing prefix follows attach.ready, whose
                    // replayFromSeq already starts after it.
                    assert_eq!(
                        to_seq + 1,
                        self.next_seq,
                        "{who}: an attach gap must end right before replayFromSeq: {message}"
                    );
                    let since = self.ready["effectiveSinceSeq"]
                        .as_u64()
                        .or(self.ready["requestedSinceSeq"].as_u64())
                        .unwrap_or(0);
                    assert_eq!(
                        from_seq,
                        since + 1,
                        "{who}: an attach gap must start right after the seq the viewer had: {message}"
                    );
                } else {
                    assert_eq!(
                        from_seq, self.next_seq,
                        "{who}: a gap must start exactly where the received frames stop: {message}"
                    );
                    self.next_seq = to_seq + 1;
                }
                self.gaps.push(Gap {
                    from_seq,
                    to_seq,
                    reason,
                    frames_before: self.frames.len(),
                });
            }
            _ => unreachable!("only output and gaps are booked"),
        }
    }

    /// The last seq received (or announced lost), 0 if none.
    pub fn last_seq(&self) -> u64 {
        self.next_seq.saturating_sub(1)
    }

    pub fn frame_data(&self, frame: &Frame) -> &str {
        &self.data[frame.start..frame.end]
    }

    /// Bytes of frame data that came tagged `source:"replay"`.
    pub fn replay_bytes(&self) -> usize {
        self.frames
            .iter()
            .filter(|f| f.source.as_deref() == Some("replay"))
            .map(|f| f.end - f.start)
            .sum()
    }

    /// The data of the frames covering exactly seqs `from..=to`, if frame boundaries allow.
    pub fn data_for_seqs(&self, from: u64, to: u64) -> Option<&str> {
        let first = self.frames.iter().position(|f| f.seq_start == from)?;
        let last = self.frames[first..].iter().position(|f| f.seq_end == to)? + first;
        let contiguous = self.frames[first..=last]
            .windows(2)
            .all(|w| w[1].seq_start == w[0].seq_end + 1);
        contiguous.then(|| &self.data[self.frames[first].start..self.frames[last].end])
    }

    /// Rebuilds the screen a viewer of this size would show after applying everything received.
    pub fn screen(&self, rows: u16, cols: u16) -> vt100::Parser {
        let mut parser = screen_model(rows, cols);
        parser.process(self.data.as_bytes());
        parser
    }
}

/// Every line a viewer of this size can scroll through after applying `data`: its
/// scrollback (up to `scrollback_rows`), oldest first, then the screen, trailing blanks
/// trimmed.
pub fn history_lines(data: &str, rows: u16, cols: u16, scrollback_rows: usize) -> Vec<String> {
    let nonzero =
        |n: u16| std::num::NonZeroU16::new(n).expect("a screen has at least one row and column");
    let mut parser = vt100::Parser::new(nonzero(rows), nonzero(cols), scrollback_rows);
    parser.process(data.as_bytes());
    parser.screen_mut().set_scrollback(usize::MAX);
    let kept = parser.screen().scrollback();
    let mut lines = Vec::with_capacity(kept + usize::from(rows));
    // One line at a time: the top row at each scrollback offset.
    for offset in (1..=kept).rev() {
        parser.screen_mut().set_scrollback(offset);
        let top = parser.screen().rows(0, cols).next().unwrap_or_default();
        lines.push(top.trim_end().to_owned());
    }
    parser.screen_mut().set_scrollback(0);
    lines.extend(
        parser
            .screen()
            .rows(0, cols)
            .map(|row| row.trim_end().to_owned()),
    );
    lines
}

/// An empty screen model (no scrollback) of `rows`×`cols`, like a freshly opened xterm.
pub fn screen_model(rows: u16, cols: u16) -> vt100::Parser {
    let nonzero =
        |n: u16| std::num::NonZeroU16::new(n).expect("a screen has at least one row and column");
    vt100::Parser::new(nonzero(rows), nonzero(cols), 0)
}

/// The screen's text, trailing blanks of each row and trailing blank rows dropped: vt100
/// tells a space that was written (or erased) from a cell never written, which no viewer
/// shows.
fn visible_text(screen: &vt100::Screen) -> String {
    let contents = screen.contents();
    let mut lines: Vec<&str> = contents.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Asserts two viewers show the same screen: every cell's text and attributes, the cursor,
/// which buffer is active and the input modes a TUI sets.
pub fn assert_same_screen(expected: &vt100::Parser, actual: &vt100::Parser, context: &str) {
    let (e, a) = (expected.screen(), actual.screen());
    assert_eq!(a.size(), e.size(), "{context}: screen size");
    let (expected_text, actual_text) = (visible_text(e), visible_text(a));
    assert_eq!(
        actual_text, expected_text,
        "{context}: screen text differs\n--- expected ---\n{expected_text}\n--- actual ---\n{actual_text}",
    );
    assert_eq!(
        a.cursor_position(),
        e.cursor_position(),
        "{context}: cursor position"
    );
    assert_eq!(
        a.alternate_screen(),
        e.alternate_screen(),
        "{context}: alternate screen"
    );
    assert_eq!(
        a.hide_cursor(),
        e.hide_cursor(),
        "{context}: cursor visibility"
    );
    assert_eq!(
        a.application_cursor(),
        e.application_cursor(),
        "{context}: application cursor"
    );
    assert_eq!(
        a.bracketed_paste(),
        e.bracketed_paste(),
        "{context}: bracketed paste"
    );
    assert_eq!(
        a.mouse_protocol_mode(),
        e.mouse_protocol_mode(),
        "{context}: mouse mode"
    );
    assert_eq!(
        a.mouse_protocol_encoding(),
        e.mouse_protocol_encoding(),
        "{context}: mouse encoding"
    );
    let (rows, cols) = e.size();
    for row in 0..rows.get() {
        for col in 0..cols.get() {
            let (ec, ac) = (e.cell(row, col).unwrap(), a.cell(row, col).unwrap());
            let attrs = |c: &vt100::Cell| {
                // A written space and a blank cell look the same.
                let text = c.contents();
                (
                    if text == " " { "" } else { text }.to_owned(),
                    c.fgcolor(),
                    c.bgcolor(),
                    c.bold(),
                    c.italic(),
                    c.underline(),
                    c.inverse(),
                )
            };
            assert_eq!(
                attrs(ac),
                attrs(ec),
                "{context}: cell ({row},{col}) differs"
            );
        }
    }
}

/// Asserts two outputs are identical; on failure shows where they first differ, not megabytes.
pub fn assert_same_output(expected: &str, actual: &str, context: &str) {
    if expected == actual {
        return;
    }
    let at = expected
        .bytes()
        .zip(actual.bytes())
        .take_while(|(e, a)| e == a)
        .count();
    let window = |s: &str| {
        let (mut from, mut to) = (at.saturating_sub(120), (at + 120).min(s.len()));
        while !s.is_char_boundary(from) {
            from -= 1;
        }
        while !s.is_char_boundary(to) {
            to += 1;
        }
        format!("{:?}", &s[from..to])
    };
    panic!(
        "{context}: outputs differ at byte {at} (expected {} bytes, got {})\n--- expected around there ---\n{}\n--- actual around there ---\n{}",
        expected.len(),
        actual.len(),
        window(expected),
        window(actual)
    );
}
