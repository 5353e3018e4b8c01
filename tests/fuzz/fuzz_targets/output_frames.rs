//! Output cut by the freshell frame limit: the pieces put together are the
//! output, and each piece, in the largest envelope a viewer can have, encodes
//! to at most 16 KiB of valid JSON that carries the piece unchanged.
//!
//! Input: byte 0 picks the envelope and seq, byte 1 how many times the rest
//! (lossy UTF-8) is repeated, so small inputs still cross the frame limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptyhub::protocol::freshell::output_encoding::{
    frame_limit, OutputEnvelope, Source, MAX_OUTPUT_MESSAGE_BYTES,
};
use ptyhub::session::Frame;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let [choice, repeat, rest @ ..] = data else {
        return;
    };
    let text = String::from_utf8_lossy(rest).repeat(1 + usize::from(*repeat) % 64);
    // The decoder lets an attachRequestId through up to 514 bytes of JSON:
    // 85 control characters escape to 6 bytes each (510 + quotes).
    let attach_request_id = match choice % 3 {
        0 => None,
        1 => Some("x".repeat(512)),
        _ => Some("\u{1}".repeat(85)),
    };
    let seq = if choice & 4 == 0 { u64::MAX } else { 1 };
    let source = if choice & 8 == 0 {
        Source::Replay
    } else {
        Source::Live
    };
    let terminal_id = "0123456789abcdef0123456789abcdef";
    let stream_id = "stream-0123456789abcdef0123456789abcdef";
    let envelope = OutputEnvelope::new(terminal_id, stream_id, attach_request_id.as_deref());

    let pieces = frame_limit().split(text.clone());
    assert_eq!(pieces.concat(), text);
    for piece in pieces {
        // Only empty output is one empty piece (the session never appends it).
        assert!(!piece.is_empty() || text.is_empty());
        let frame = Frame::new(seq, 0, piece.as_str().into());
        let message = envelope.encode(&frame, source);
        assert!(
            message.len() <= MAX_OUTPUT_MESSAGE_BYTES,
            "{} bytes for {} bytes of data",
            message.len(),
            piece.len()
        );
        assert!(envelope.message_len(&frame) >= message.len() as u64);
        let value: Value = serde_json::from_str(&message).expect("valid JSON");
        assert_eq!(value["data"].as_str(), Some(piece.as_str()));
        assert_eq!(value["seqStart"].as_u64(), Some(seq));
        assert_eq!(
            value["attachRequestId"].as_str(),
            attach_request_id.as_deref()
        );
    }
});
