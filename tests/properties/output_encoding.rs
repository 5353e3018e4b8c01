//! `terminal.output` encoding: output cut by the freshell frame limit always
//! encodes, in the largest envelope a viewer can have, to at most 16 KiB of
//! valid JSON that carries the frame's data unchanged.

use proptest::prelude::*;
use ptyhub::protocol::freshell::output_encoding::{
    frame_limit, json_escaped_len, OutputEnvelope, Source, MAX_OUTPUT_MESSAGE_BYTES,
};
use ptyhub::session::Frame;
use serde_json::Value;

use crate::config;
use crate::terminal_input::output;

/// Output whose JSON escaping costs anything from 1× to 6× its length.
fn raw_output() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => output(400),
        2 => (any::<char>(), 1usize..20_000).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => prop::collection::vec(escaped_char(), 0..30_000)
            .prop_map(|chars| chars.into_iter().collect()),
    ]
}

/// Characters JSON escapes to 2 or 6 bytes, and any other.
fn escaped_char() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\u{1b}'),
        Just('"'),
        Just('\\'),
        Just('\u{0}'),
        any::<char>()
    ]
}

/// Envelopes as the server builds them: uuid-shaped terminal and stream ids,
/// and any attachRequestId the decoder lets through (≤ 514 bytes of JSON).
fn envelope() -> impl Strategy<Value = (String, String, Option<String>)> {
    (
        "[0-9a-f]{32}",
        "stream-[0-9a-f]{32}",
        proptest::option::of(prop_oneof![
            "[a-z0-9:-]{1,512}",
            "[\u{0}-\u{1f}\"\\\\]{1,85}",
            "[^\u{0}]{1,120}",
        ]),
    )
        .prop_filter(
            "attachRequestId within the decoder's budget",
            |(_, _, id)| {
                id.as_ref()
                    .is_none_or(|id| serde_json::to_string(id).is_ok_and(|s| s.len() <= 514))
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_escaped_len_matches_serde_json(ch in any::<char>()) {
        let escaped = serde_json::to_string(&ch.to_string()).expect("a string serializes");
        prop_assert_eq!(json_escaped_len(ch), escaped.len() - 2);
    }

    #[test]
    fn every_cut_frame_encodes_within_the_message_limit(
        data in raw_output(),
        (terminal_id, stream_id, attach_request_id) in envelope(),
        seq in prop_oneof![1u64..=1000, Just(9_007_199_254_740_991), Just(u64::MAX)],
        replay in any::<bool>(),
    ) {
        let pieces = frame_limit().split(data.clone());
        prop_assert_eq!(pieces.concat(), data.clone());
        prop_assert!(pieces.iter().all(|p| !p.is_empty()) || data.is_empty());
        let envelope = OutputEnvelope::new(&terminal_id, &stream_id, attach_request_id.as_deref());
        let source = if replay { Source::Replay } else { Source::Live };
        for piece in pieces {
            let frame = Frame::new(seq, 0, piece.as_str().into());
            let text = envelope.encode(&frame, source);
            prop_assert!(
                text.len() <= MAX_OUTPUT_MESSAGE_BYTES,
                "{} bytes for {} bytes of data", text.len(), piece.len()
            );
            prop_assert!(envelope.message_len(&frame) >= text.len() as u64);
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                TestCaseError::fail(format!("invalid JSON ({e}): {text:?}"))
            })?;
            prop_assert_eq!(value["type"].as_str(), Some("terminal.output"));
            prop_assert_eq!(value["data"].as_str(), Some(piece.as_str()));
            prop_assert_eq!(value["terminalId"].as_str(), Some(terminal_id.as_str()));
            prop_assert_eq!(value["streamId"].as_str(), Some(stream_id.as_str()));
            prop_assert_eq!(value["attachRequestId"].as_str(), attach_request_id.as_deref());
            prop_assert_eq!(value["seqStart"].as_u64(), Some(seq));
            prop_assert_eq!(value["seqEnd"].as_u64(), Some(seq));
            prop_assert_eq!(value["source"].as_str(), Some(if replay { "replay" } else { "live" }));
        }
    }
}
