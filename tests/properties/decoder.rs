//! The inbound decoder on anything a client can send: arbitrary text, JSON of
//! any shape and depth, envelopes of every known type with fields of random
//! types and sizes, numbers at and past every limit, lone surrogates in
//! escapes, and messages around the 1 MiB cap. It never panics, keeps the
//! invariants in `decoder_invariants`, and accepts well-formed messages with
//! their fields intact.

use proptest::prelude::*;
use proptest::sample::select;
use ptyhub::protocol::freshell::inbound::{
    parse, AttachIntent, ClientMessage, Rejection, MAX_MESSAGE_BYTES,
};
use serde_json::{json, Value};

use crate::config;
use crate::decoder_invariants::decoder_violations;

const TYPES: &[&str] = &[
    "hello",
    "ping",
    "terminal.create",
    "terminal.attach",
    "terminal.input",
    "terminal.resize",
    "terminal.detach",
    "terminal.kill",
    "claude.activity.list",
    "codex.activity.list",
    "amplifier.activity.list",
    "ptyhub.theme",
    "ui.screenshot.result",
    "tabs.sync.push",
    "freshAgent.send",
    "warp.drive",
    "",
    "Hello",
    "terminal.create ",
];

const FIELDS: &[&str] = &[
    "type",
    "requestId",
    "terminalId",
    "protocolVersion",
    "token",
    "intent",
    "cols",
    "rows",
    "sinceSeq",
    "attachRequestId",
    "maxReplayBytes",
    "surfaceReset",
    "expectedSessionRef",
    "sessionRef",
    "provider",
    "sessionId",
    "data",
    "mode",
    "shell",
    "cwd",
    "restore",
    "recoveryIntent",
    "liveTerminal",
    "serverInstanceId",
    "codexDurability",
    "tabId",
    "paneId",
    "resumeSessionId",
    "foreground",
    "background",
    "cursor",
    "__proto__",
    "",
];

/// Number literals at the edges of every integer type the decoder reads, and
/// past what JSON numbers can hold.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(&[
            "0", "-0", "7", "7.0", "7e0", "70e-1", "1", "2", "-1", "1.5", "500", "501", "1000",
            "1001", "65535", "65536", "-65536", "4294967296", "9007199254740993",
            "18446744073709551615", "18446744073709551616", "-9223372036854775809", "1e308",
            "1e309", "-1e400", "1E2", "1e-400", "0.0000001", "123456789012345678901234567890",
            "01", "+1", ".5", "1.", "NaN", "Infinity",
        ][..])
        .prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|n| n.to_string()),
    ]
}

/// String literals: any text serde would write, raw escapes including lone
/// and reversed surrogates, and the values the decoder looks for.
fn string_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>().prop_map(|s| json!(s).to_string()),
        2 => select(&[
            r#""\ud800""#, r#""\udc00""#, r#""\ud83d\ude00""#, r#""\ude00\ud83d""#,
            r#""\ud800\u0041""#, r#""\u0000""#, r#""\u00""#, r#""\x41""#, r#""a\"b""#,
            r#""unterminated"#, "\"raw\ncontrol\"", r#""viewport_hydrate""#,
            r#""keepalive_delta""#, r#""transport_reconnect""#, r#""system""#, r#""wsl""#,
            r#""fresh_after_restore_unavailable""#, r#""claude""#, r#""t1""#, r#""""#,
            r##""#0f1e2D""##, r##""#0f1e2""##, r##""#0f1e2g""##,
        ][..])
        .prop_map(str::to_owned),
        1 => (1usize..2000, any::<char>())
            .prop_map(|(n, c)| json!(c.to_string().repeat(n)).to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(FIELDS).prop_map(|f| json!(f).to_string()),
        1 => string_literal(),
    ]
}

/// Any JSON value as text, a few levels deep; sometimes not quite JSON.
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        1 => select(&["null", "true", "false", "nul", "[]", "{}"][..]).prop_map(str::to_owned),
        3 => number(),
        3 => string_literal(),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key(), inner), 0..6).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// An object with a `type` (usually a real one) and random fields, in any order.
fn envelope() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        6 => select(TYPES).prop_map(|t| json!(t).to_string()),
        1 => json_value(),
    ];
    (
        kind,
        prop::collection::vec((key(), json_value()), 0..10),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(kind, fields, at)| {
            let mut fields: Vec<String> = fields
                .into_iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect();
            let at = at.index(fields.len() + 1);
            fields.insert(at, format!("\"type\":{kind}"));
            format!("{{{}}}", fields.join(","))
        })
}

/// Arrays or objects nested past serde_json's recursion limit.
fn deep_nesting() -> impl Strategy<Value = String> {
    (
        1usize..600,
        select(&["[", "{\"a\":", "{\"type\":"][..]),
        any::<bool>(),
    )
        .prop_map(|(depth, open, closed)| {
            let close = if open == "[" { "]" } else { "}" };
            let mut text = open.repeat(depth);
            text.push('1');
            if closed {
                text.push_str(&close.repeat(depth));
            }
            text
        })
}

fn assert_decoder_behaves(text: &str) -> Result<(), TestCaseError> {
    let violations = decoder_violations(text);
    prop_assert!(violations.is_empty(), "{}", violations.join("\n"));
    Ok(())
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9a-f]{32}",
        1 => any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        assert_decoder_behaves(&text)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        assert_decoder_behaves(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn any_json_never_panics(text in json_value()) {
        assert_decoder_behaves(&text)?;
    }

    #[test]
    fn envelopes_with_random_fields_keep_the_invariants(text in envelope()) {
        assert_decoder_behaves(&text)?;
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflowing_the_stack(text in deep_nesting()) {
        assert_decoder_behaves(&text)?;
    }

    #[test]
    fn a_well_formed_attach_is_accepted_with_its_fields(
        terminal_id in id(),
        intent in select(&["viewport_hydrate", "keepalive_delta", "transport_reconnect"][..]),
        cols in 2u16..=1000,
        rows in 2u16..=500,
        since_seq in proptest::option::of(any::<u64>()),
        attach_request_id in proptest::option::of("[a-z0-9]{1,16}:[^\u{0}]{1,40}"),
        max_replay_bytes in proptest::option::of(1..=u64::MAX),
        surface_reset in proptest::option::of(any::<bool>()),
        extra in json_value(),
    ) {
        let message = json!({
            "type": "terminal.attach", "terminalId": terminal_id, "intent": intent,
            "cols": cols, "rows": rows, "sinceSeq": since_seq,
            "attachRequestId": attach_request_id, "maxReplayBytes": max_replay_bytes,
            "surfaceReset": surface_reset,
        });
        let text = with_unknown_field(&message, &extra);
        let Ok(ClientMessage::Attach(attach)) = parse(&text, true) else {
            return Err(TestCaseError::fail(format!("not accepted: {:?}", parse(&text, true))));
        };
        prop_assert_eq!(attach.terminal_id, terminal_id);
        let expected_intent = match intent {
            "viewport_hydrate" => AttachIntent::ViewportHydrate,
            "keepalive_delta" => AttachIntent::KeepaliveDelta,
            _ => AttachIntent::TransportReconnect,
        };
        prop_assert_eq!(attach.intent, expected_intent);
        prop_assert_eq!((attach.cols, attach.rows), (cols, rows));
        prop_assert_eq!(attach.since_seq, since_seq);
        prop_assert_eq!(attach.attach_request_id, attach_request_id);
        prop_assert_eq!(attach.max_replay_bytes, max_replay_bytes);
        prop_assert_eq!(attach.surface_reset, surface_reset);
    }

    #[test]
    fn input_of_any_text_arrives_unchanged(
        terminal_id in id(),
        data in any::<String>(),
        extra in json_value(),
    ) {
        let message = json!({"type": "terminal.input", "terminalId": terminal_id, "data": data});
        let text = with_unknown_field(&message, &extra);
        let Ok(ClientMessage::Input(input)) = parse(&text, true) else {
            return Err(TestCaseError::fail(format!("not accepted: {:?}", parse(&text, true))));
        };
        prop_assert_eq!(input.terminal_id, terminal_id);
        prop_assert_eq!(input.data, data);
    }

    #[test]
    fn a_well_formed_create_is_accepted_with_its_fields(
        request_id in id(),
        mode in proptest::option::of("[a-z]{1,10}"),
        cwd in proptest::option::of(any::<String>()),
        session in proptest::option::of(("[a-z]{1,10}", id())),
        restore in proptest::option::of(any::<bool>()),
        pane_id in proptest::option::of(id()),
    ) {
        let mut message = json!({"type": "terminal.create", "requestId": request_id});
        let object = message.as_object_mut().expect("an object");
        // Optional fields are left out or null, as a client may send either.
        for (name, value) in [
            ("mode", mode.clone().map(Value::from)),
            ("cwd", cwd.clone().map(Value::from)),
            ("sessionRef", session.clone().map(|(p, s)| json!({"provider": p, "sessionId": s}))),
            ("restore", restore.map(Value::from)),
            ("paneId", pane_id.clone().map(Value::from)),
        ] {
            if let Some(value) = value {
                object.insert(name.to_owned(), value);
            }
        }
        let text = message.to_string();
        let Ok(ClientMessage::Create(create)) = parse(&text, true) else {
            return Err(TestCaseError::fail(format!("not accepted: {:?}", parse(&text, true))));
        };
        prop_assert_eq!(create.request_id, request_id);
        prop_assert_eq!(create.mode, mode);
        prop_assert_eq!(create.cwd, cwd);
        prop_assert_eq!(
            create.session_ref.map(|r| (r.provider, r.session_id)),
            session
        );
        prop_assert_eq!(create.restore, restore);
        prop_assert_eq!(create.pane_id, pane_id);
    }
}

proptest! {
    // Each case builds and parses a megabyte; a sixteenth of the cases is plenty.
    #![proptest_config(ProptestConfig { cases: (config().cases / 16).max(4), ..config() })]

    #[test]
    fn messages_over_the_cap_are_refused_except_screenshots(
        kind in select(&["ui.screenshot.result", "terminal.input", "hello", "nonsense"][..]),
        slack in -64i64..64,
        valid in any::<bool>(),
    ) {
        let envelope_bytes = format!(r#"{{"type":"{kind}","terminalId":"t","data":""}}"#).len();
        let padding = (MAX_MESSAGE_BYTES as i64 - envelope_bytes as i64 + slack).max(0) as usize;
        let mut text = format!(
            r#"{{"type":"{kind}","terminalId":"t","data":"{}"}}"#,
            "x".repeat(padding)
        );
        if !valid {
            text.pop();
        }
        assert_decoder_behaves(&text)?;
        if text.len() > MAX_MESSAGE_BYTES {
            let result = parse(&text, true);
            if valid && kind == "ui.screenshot.result" {
                prop_assert!(matches!(result, Ok(ClientMessage::Tolerated(_))), "{:?}", result);
            } else {
                let Err(Rejection::Invalid { message, .. }) = result else {
                    return Err(TestCaseError::fail(format!("not refused: {result:?}")));
                };
                prop_assert!(message.contains("exceeds"), "{}", message);
            }
        }
    }
}

/// `message` with one more key freshell does not define (other messages than
/// create ignore unknown keys).
fn with_unknown_field(message: &Value, extra: &str) -> String {
    let text = message.to_string();
    let extra_is_json = serde_json::from_str::<Value>(extra).is_ok();
    let extra = if extra_is_json { extra } else { "null" };
    format!("{},\"x-unknown\":{extra}}}", &text[..text.len() - 1])
}
