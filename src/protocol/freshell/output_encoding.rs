//! `terminal.output` frames, encoded once and spliced per viewer.
//!
//! Serializing a JSON frame once per viewer halves throughput at 10+ viewers
//! (field notes), so the JSON-escaped `data` of a frame is computed once and
//! cached in the frame; each viewer only concatenates its own envelope, whose
//! escaped strings are built once per attachment.

use std::sync::Arc;

use crate::session::{Frame, FrameLimit};

/// Mirrors freshell's `TERMINAL_STREAM_BATCH_MAX_BYTES`: one `terminal.output`
/// message, serialized, is at most 16 KiB.
pub const MAX_OUTPUT_MESSAGE_BYTES: usize = 16 * 1024;

/// Room kept for the envelope of a worst-case frame: a 514-byte
/// attachRequestId, maximal seqs, ids and `"source":"replay"`.
const ENVELOPE_RESERVE_BYTES: usize = 1024;

/// Length of each byte of UTF-8 once JSON-escaped by serde_json, which
/// escapes only ASCII controls, `"` and `\\`: a character's escaped length is
/// the sum of its bytes'.
static JSON_ESCAPED_BYTE_LENS: [u8; 256] = {
    let mut lens = [1; 256];
    let mut byte = 0;
    while byte < 0x20 {
        lens[byte] = 6;
        byte += 1;
    }
    let mut short = [b'"', b'\\', b'\n', b'\r', b'\t', 0x08, 0x0c].as_slice();
    while let [first, rest @ ..] = short {
        lens[*first as usize] = 2;
        short = rest;
    }
    lens
};

/// Length of a character once JSON-escaped by serde_json.
pub fn json_escaped_len(ch: char) -> usize {
    ch.encode_utf8(&mut [0; 4])
        .bytes()
        .map(|byte| usize::from(JSON_ESCAPED_BYTE_LENS[usize::from(byte)]))
        .sum()
}

/// How the session core must cut output so every frame fits one message.
pub fn frame_limit() -> FrameLimit {
    FrameLimit {
        max_weight: MAX_OUTPUT_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES,
        byte_weights: &JSON_ESCAPED_BYTE_LENS,
    }
}

/// The frame's `data` as a JSON string literal, computed once per frame.
pub fn escaped_data(frame: &Frame) -> &str {
    frame
        .wire_cache
        .get_or_init(|| json_string(&frame.data).into_boxed_str())
}

pub fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

/// Whether a frame is delivered as part of an attach's replay or live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Replay,
    Live,
}

/// The per-attachment half of `terminal.output`: built once per attach.
#[derive(Clone, Debug)]
pub struct OutputEnvelope {
    /// `{"type":"terminal.output","terminalId":…,"streamId":…[,"attachRequestId":…]`
    head: String,
}

impl OutputEnvelope {
    pub fn new(terminal_id: &str, stream_id: &str, attach_request_id: Option<&str>) -> Self {
        let mut head = String::with_capacity(128);
        head.push_str(r#"{"type":"terminal.output","terminalId":"#);
        head.push_str(&json_string(terminal_id));
        head.push_str(r#","streamId":"#);
        head.push_str(&json_string(stream_id));
        if let Some(id) = attach_request_id {
            head.push_str(r#","attachRequestId":"#);
            head.push_str(&json_string(id));
        }
        Self { head }
    }

    /// Serialized size of `frame` alone in this envelope.
    pub fn message_len(&self, frame: &Frame) -> u64 {
        (self.envelope_len() + escaped_data(frame).len()) as u64
    }

    /// Bytes of one message's envelope at most: the head, two maximal seqs,
    /// `"source":"replay"`, the `data` key and the closing brace.
    fn envelope_len(&self) -> usize {
        // ,"seqStart":N,"seqEnd":N,"source":"replay","data":…}
        self.head.len() + 2 * (12 + 20) + 18 + 8 + 1
    }

    /// What `frame` costs a replay budget, with consecutive frames packed
    /// into messages (`encode_run`): its data plus its share of the
    /// envelopes. Greedy packing fills every two messages past one run's
    /// capacity, so charging two envelopes per capacity of data, plus one
    /// envelope per attach (`replay_budget_reserve`), never undercounts.
    pub fn replay_cost(&self, frame: &Frame) -> u64 {
        let data = escaped_data(frame).len();
        let share = (2 * self.envelope_len() * data).div_ceil(MAX_RUN_DATA_BYTES);
        (data + share) as u64
    }

    /// Budget kept back for the last message's envelope (see `replay_cost`).
    pub fn replay_budget_reserve(&self) -> u64 {
        self.envelope_len() as u64
    }

    /// One `terminal.output` message carrying `escaped` (a JSON string) as seq `seq`.
    pub fn encode_escaped(&self, seq: u64, escaped: &str, source: Source) -> String {
        let mut out = String::with_capacity(self.head.len() + escaped.len() + 96);
        out.push_str(&self.head);
        out.push_str(r#","seqStart":"#);
        out.push_str(&seq.to_string());
        out.push_str(r#","seqEnd":"#);
        out.push_str(&seq.to_string());
        out.push_str(match source {
            Source::Replay => r#","source":"replay","data":"#,
            Source::Live => r#","source":"live","data":"#,
        });
        out.push_str(escaped);
        out.push('}');
        out
    }

    pub fn encode(&self, frame: &Frame, source: Source) -> String {
        self.encode_escaped(frame.seq, escaped_data(frame), source)
    }

    /// One `terminal.output` message carrying consecutive frames as the seq
    /// range `seqStart..=seqEnd` (the protocol's batch): fewer, larger
    /// messages for every viewer, and less envelope in a replay budget.
    /// `frames` must be consecutive and fit one message (`pack_runs`).
    pub fn encode_run(&self, frames: &[Arc<Frame>], source: Source) -> String {
        let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
            return String::new();
        };
        if frames.len() == 1 {
            return self.encode(first, source);
        }
        let data: usize = frames.iter().map(|f| escaped_data(f).len()).sum();
        let mut out = String::with_capacity(self.head.len() + data + 96);
        out.push_str(&self.head);
        out.push_str(r#","seqStart":"#);
        out.push_str(&first.seq.to_string());
        out.push_str(r#","seqEnd":"#);
        out.push_str(&last.seq.to_string());
        out.push_str(match source {
            Source::Replay => r#","source":"replay","data":""#,
            Source::Live => r#","source":"live","data":""#,
        });
        for frame in frames {
            // Each cached literal is `"…"`: its inside joins the others'.
            let literal = escaped_data(frame);
            out.push_str(&literal[1..literal.len() - 1]);
        }
        out.push_str("\"}");
        out
    }
}

/// Escaped data one run (one message) may carry: what one frame may.
const MAX_RUN_DATA_BYTES: usize = MAX_OUTPUT_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES;

/// Cuts `frames` into runs of consecutive frames whose escaped data fits one
/// message; returns the end index (exclusive) of each run.
pub fn pack_runs(frames: &[Arc<Frame>]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut run_bytes = 0;
    for (index, frame) in frames.iter().enumerate() {
        // The quotes of each literal but one's are dropped when joined.
        let bytes = escaped_data(frame).len().saturating_sub(2);
        let consecutive = index == 0 || frames[index - 1].seq + 1 == frame.seq;
        if index > 0 && (run_bytes + bytes + 2 > MAX_RUN_DATA_BYTES || !consecutive) {
            ends.push(index);
            run_bytes = 0;
        }
        run_bytes += bytes;
    }
    if !frames.is_empty() {
        ends.push(frames.len());
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_length_matches_serde_json() {
        for ch in [
            'a', '"', '\\', '\n', '\u{1b}', '\u{7f}', 'é', '€', '😀', '\u{0}',
        ] {
            let escaped = serde_json::to_string(&ch.to_string()).expect("serializes");
            assert_eq!(json_escaped_len(ch), escaped.len() - 2, "{ch:?}");
        }
    }

    fn frames_of(pieces: &[&str]) -> Vec<Arc<Frame>> {
        let mut offset = 0;
        pieces
            .iter()
            .enumerate()
            .map(|(index, piece)| {
                let frame = Arc::new(Frame::new(index as u64 + 1, offset, (*piece).into()));
                offset = frame.end_offset();
                frame
            })
            .collect()
    }

    #[test]
    fn a_run_of_frames_is_one_message_with_their_seq_range_and_joined_data() {
        let frames = frames_of(&["a\"b", "\u{1b}[0m\r\n", "€"]);
        let envelope = OutputEnvelope::new("t", "s", Some("pane:1"));
        let text = envelope.encode_run(&frames, Source::Replay);
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["seqStart"], 1);
        assert_eq!(value["seqEnd"], 3);
        assert_eq!(value["data"], "a\"b\u{1b}[0m\r\n€");
        assert_eq!(value["source"], "replay");
        let charged: u64 = frames.iter().map(|f| envelope.replay_cost(f)).sum::<u64>()
            + envelope.replay_budget_reserve();
        assert!(charged >= text.len() as u64, "{charged} < {}", text.len());
    }

    #[test]
    fn runs_stop_at_the_message_limit_and_at_a_break_in_seqs() {
        let big = "x".repeat(MAX_RUN_DATA_BYTES / 2);
        let frames = frames_of(&[&big, "y", &big, "z"]);
        assert_eq!(pack_runs(&frames), vec![2, 4]);
        let envelope = OutputEnvelope::new("t", "s", Some(&"p".repeat(514)));
        for window in [&frames[0..2], &frames[2..4]] {
            assert!(envelope.encode_run(window, Source::Live).len() <= MAX_OUTPUT_MESSAGE_BYTES);
        }
        let gapped = vec![Arc::clone(&frames[1]), Arc::clone(&frames[3])];
        assert_eq!(
            pack_runs(&gapped),
            vec![1, 2],
            "seqs 2 and 4 are not one run"
        );
        assert_eq!(pack_runs(&[]), Vec::<usize>::new());
    }

    #[test]
    fn a_spliced_frame_is_the_json_serde_would_write() {
        let frame = Frame::new(7, 0, "a\"b\u{1b}[0m".into());
        let envelope = OutputEnvelope::new("t1", "s1", Some("pane:1:x"));
        let text = envelope.encode(&frame, Source::Live);
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["data"], "a\"b\u{1b}[0m");
        assert_eq!(value["seqStart"], 7);
        assert_eq!(value["attachRequestId"], "pane:1:x");
        assert_eq!(value["source"], "live");
        assert!(envelope.message_len(&frame) >= text.len() as u64);
    }

    #[test]
    fn a_worst_case_frame_fits_the_message_limit() {
        let limit = frame_limit();
        let data: String = "\u{1b}".repeat(20_000);
        let pieces = limit.split(data);
        let long_id = "x".repeat(512);
        let envelope = OutputEnvelope::new(&"t".repeat(32), &"s".repeat(39), Some(&long_id));
        for piece in pieces {
            let frame = Frame::new(9_007_199_254_740_991, 0, piece.into());
            assert!(envelope.encode(&frame, Source::Replay).len() <= MAX_OUTPUT_MESSAGE_BYTES);
        }
    }
}
