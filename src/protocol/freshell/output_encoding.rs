//! `terminal.output` frames, encoded once and spliced per viewer.
//!
//! Serializing a JSON frame once per viewer halves throughput at 10+ viewers
//! (field notes), so the JSON-escaped `data` of a frame is computed once and
//! cached in the frame; each viewer only concatenates its own envelope, whose
//! escaped strings are built once per attachment.

use bytes::Bytes;

use crate::session::{Frame, FrameLimit};

/// Mirrors freshell's `TERMINAL_STREAM_BATCH_MAX_BYTES`: one `terminal.output`
/// message, serialized, is at most 16 KiB.
pub const MAX_OUTPUT_MESSAGE_BYTES: usize = 16 * 1024;

/// Room kept for the envelope of a worst-case frame: a 514-byte
/// attachRequestId, maximal seqs, ids and `"source":"replay"`.
const ENVELOPE_RESERVE_BYTES: usize = 1024;

/// Length of a character once JSON-escaped by serde_json.
pub fn json_escaped_len(ch: char) -> usize {
    match ch {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// How the session core must cut output so every frame fits one message.
pub fn frame_limit() -> FrameLimit {
    FrameLimit {
        max_weight: MAX_OUTPUT_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES,
        char_weight: json_escaped_len,
    }
}

/// The frame's `data` as a JSON string literal, computed once per frame.
pub fn escaped_data(frame: &Frame) -> &Bytes {
    frame
        .wire_cache
        .get_or_init(|| Bytes::from(json_string(&frame.data)))
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

    /// Serialized size of `frame` in this envelope (for replay budgets).
    pub fn message_len(&self, frame: &Frame) -> u64 {
        // ,"seqStart":N,"seqEnd":N,"source":"replay","data":…}
        (self.head.len() + 2 * (12 + 20) + 18 + 8 + escaped_data(frame).len() + 1) as u64
    }

    /// One `terminal.output` message carrying `escaped` (a JSON string) as seq `seq`.
    pub fn encode_escaped(&self, seq: u64, escaped: &[u8], source: Source) -> String {
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
        // `escaped` came from serde_json, so it is valid UTF-8.
        out.push_str(std::str::from_utf8(escaped).unwrap_or("\"\""));
        out.push('}');
        out
    }

    pub fn encode(&self, frame: &Frame, source: Source) -> String {
        self.encode_escaped(frame.seq, escaped_data(frame), source)
    }
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
