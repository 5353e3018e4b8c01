//! What must hold for whatever the inbound decoder returns: every accepted
//! message passed the gates freshell applies, and every rejection names only
//! ids the client sent.
//!
//! Shared by the property suite and the `inbound_decoder` fuzz target
//! (`tests/fuzz/`).

use ptyhub::protocol::freshell::inbound::{
    parse, ClientMessage, Rejection, MAX_ATTACH_REQUEST_ID_JSON_BYTES, MAX_MESSAGE_BYTES,
};
use ptyhub::session::SessionRef;
use serde_json::Value;

/// Message types the decoder turns into a typed message; anything else it
/// accepts is `Tolerated` or `Unknown`.
const HANDLED_TYPES: &[&str] = &[
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
    "opencode.activity.list",
    "amplifier.activity.list",
    "ptyhub.theme",
];

/// Parses `text` before and after hello and returns every broken invariant;
/// empty when the decoder behaved. A panic inside `parse` is the caller's
/// (the test's or the fuzzer's) to catch.
pub fn decoder_violations(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let raw: Option<Value> = serde_json::from_str(text).ok();
    let object = raw.as_ref().and_then(Value::as_object);
    let field = |name: &str| object.and_then(|o| o.get(name));
    let kind = field("type").and_then(Value::as_str);

    let before_hello = parse(text, false);
    let after_hello = parse(text, true);
    // The only gate that differs (legacy resumeSessionId on create) rejects
    // what strict create parsing rejects anyway.
    if before_hello.is_ok() != after_hello.is_ok() {
        out.push(format!(
            "accepted only {} hello: {before_hello:?} / {after_hello:?}",
            if before_hello.is_ok() {
                "before"
            } else {
                "after"
            }
        ));
    }
    for result in [&before_hello, &after_hello] {
        match result {
            Ok(message) => {
                if text.len() > MAX_MESSAGE_BYTES && kind != Some("ui.screenshot.result") {
                    out.push(format!("accepted {} bytes as {kind:?}", text.len()));
                }
                check_accepted(message, kind, &field, &mut out);
            }
            Err(Rejection::ProtocolMismatch) => {
                if kind != Some("hello") {
                    out.push(format!("protocol mismatch for type {kind:?}"));
                }
            }
            Err(Rejection::Invalid {
                request_id,
                terminal_id,
                ..
            }) => {
                let sent = |name: &str| field(name).and_then(Value::as_str);
                if let Some(id) = request_id {
                    if sent("requestId") != Some(id.as_str()) {
                        out.push(format!("rejection names requestId {id:?} not sent"));
                    }
                }
                if let Some(id) = terminal_id {
                    if sent("terminalId") != Some(id.as_str()) {
                        out.push(format!("rejection names terminalId {id:?} not sent"));
                    }
                }
            }
        }
    }
    out
}

fn check_accepted<'a>(
    message: &ClientMessage,
    kind: Option<&str>,
    field: &dyn Fn(&str) -> Option<&'a Value>,
    out: &mut Vec<String>,
) {
    let mut require = |ok: bool, what: &str| {
        if !ok {
            out.push(format!("accepted {message:?} although {what}"));
        }
    };
    let size_ok = |cols: u16, rows: u16| (2..=1000).contains(&cols) && (2..=500).contains(&rows);
    let ref_ok = |r: &Option<SessionRef>| {
        r.as_ref()
            .is_none_or(|r| !r.provider.is_empty() && !r.session_id.is_empty())
    };
    match message {
        ClientMessage::Hello(_) => require(
            field("protocolVersion").and_then(Value::as_f64) == Some(7.0),
            "protocolVersion is not 7",
        ),
        ClientMessage::Ping => require(kind == Some("ping"), "type is not ping"),
        ClientMessage::Create(create) => {
            require(!create.request_id.is_empty(), "requestId is empty");
            require(ref_ok(&create.session_ref), "sessionRef has an empty part");
            require(
                field("resumeSessionId").is_none(),
                "it carries resumeSessionId",
            );
        }
        ClientMessage::Attach(attach) => {
            require(!attach.terminal_id.is_empty(), "terminalId is empty");
            require(
                size_ok(attach.cols, attach.rows),
                "the size is out of range",
            );
            require(attach.max_replay_bytes != Some(0), "maxReplayBytes is 0");
            require(
                ref_ok(&attach.expected_session_ref),
                "expectedSessionRef has an empty part",
            );
            if let Some(id) = &attach.attach_request_id {
                let json_bytes = serde_json::to_string(id).map_or(usize::MAX, |s| s.len());
                require(!id.is_empty(), "attachRequestId is empty");
                require(
                    json_bytes <= MAX_ATTACH_REQUEST_ID_JSON_BYTES,
                    "attachRequestId is over budget",
                );
            }
        }
        ClientMessage::Input(input) => {
            require(!input.terminal_id.is_empty(), "terminalId is empty");
            require(
                ref_ok(&input.expected_session_ref),
                "expectedSessionRef has an empty part",
            );
        }
        ClientMessage::Resize(resize) => {
            require(!resize.terminal_id.is_empty(), "terminalId is empty");
            require(
                size_ok(resize.cols, resize.rows),
                "the size is out of range",
            );
        }
        ClientMessage::Detach(target) | ClientMessage::Kill(target) => {
            require(!target.terminal_id.is_empty(), "terminalId is empty");
        }
        ClientMessage::ActivityList(provider, _) => {
            require(
                kind.map(|k| format!("{k}.response")).as_deref() == Some(provider.response_type()),
                "the provider does not match the type",
            );
        }
        ClientMessage::Theme(_) => {
            let is_hex_colour = |value: &Value| {
                value.as_str().is_some_and(|c| {
                    c.len() == 7
                        && c.starts_with('#')
                        && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
                })
            };
            require(
                field("foreground").is_some_and(is_hex_colour)
                    && field("background").is_some_and(is_hex_colour),
                "a colour is not #rrggbb",
            );
            require(
                field("cursor").is_none_or(|c| c.is_null() || is_hex_colour(c)),
                "the cursor colour is not #rrggbb",
            );
        }
        ClientMessage::Tolerated(tolerated) => {
            require(Some(tolerated.as_str()) == kind, "the type differs");
            require(
                !HANDLED_TYPES.contains(&tolerated.as_str()),
                "the type is handled",
            );
        }
        ClientMessage::Unknown { kind: unknown, .. } => {
            require(Some(unknown.as_str()) == kind, "the type differs");
            require(
                !HANDLED_TYPES.contains(&unknown.as_str()),
                "the type is handled",
            );
        }
    }
}
