//! Client → server messages of freshell's protocol v7, and their validation.
//!
//! Parsing mirrors freshell's Zod schemas: `terminal.create` is strict
//! (unknown keys are an error), every other message ignores unknown keys, and
//! an unknown `type` is `INVALID_MESSAGE`. The gates run in freshell's order
//! (see `parse`).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::session::{SessionRef, Theme};

/// Mirrors freshell's `MAX_REGULAR_WS_MESSAGE_BYTES`.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// The one message type freshell lets exceed `MAX_MESSAGE_BYTES`.
const OVERSIZE_EXEMPT_TYPE: &str = "ui.screenshot.result";

fn too_large() -> Rejection {
    invalid(
        format!("WebSocket message exceeds {MAX_MESSAGE_BYTES} bytes."),
        None,
    )
}

/// Mirrors freshell's cap on an attachRequestId (514 bytes of JSON).
pub const MAX_ATTACH_REQUEST_ID_JSON_BYTES: usize = 514;
pub const PROTOCOL_VERSION: u64 = 7;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// Checked on the raw message before parsing (see `parse`).
    pub token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveTerminal {
    pub terminal_id: String,
    pub server_instance_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Create {
    pub request_id: String,
    #[serde(default)]
    pub mode: Option<String>,
    /// Validated for strictness; on Unix every shell kind is the login shell.
    #[serde(default)]
    #[allow(dead_code)]
    pub shell: Option<ShellKind>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub session_ref: Option<SessionRef>,
    #[serde(default)]
    pub restore: Option<bool>,
    #[serde(default)]
    pub recovery_intent: Option<RecoveryIntent>,
    #[serde(default)]
    pub live_terminal: Option<LiveTerminal>,
    /// codex restore evidence; ptyhub resumes codex by sessionRef alone.
    #[serde(default)]
    #[allow(dead_code)]
    pub codex_durability: Option<Value>,
    #[serde(default)]
    pub tab_id: Option<String>,
    #[serde(default)]
    pub pane_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShellKind {
    System,
    Cmd,
    Powershell,
    Wsl,
}

#[derive(Debug, Deserialize)]
pub enum RecoveryIntent {
    #[serde(rename = "fresh_after_restore_unavailable")]
    FreshAfterRestoreUnavailable,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AttachIntent {
    ViewportHydrate,
    KeepaliveDelta,
    TransportReconnect,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attach {
    pub terminal_id: String,
    pub intent: AttachIntent,
    pub cols: u16,
    pub rows: u16,
    #[serde(default)]
    pub since_seq: Option<u64>,
    #[serde(default)]
    pub attach_request_id: Option<String>,
    #[serde(default)]
    pub max_replay_bytes: Option<u64>,
    #[serde(default)]
    pub surface_reset: Option<bool>,
    #[serde(default)]
    pub expected_session_ref: Option<SessionRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub terminal_id: String,
    pub data: String,
    #[serde(default)]
    pub expected_session_ref: Option<SessionRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resize {
    pub terminal_id: String,
    pub cols: u16,
    pub rows: u16,
    #[serde(default)]
    pub expected_session_ref: Option<SessionRef>,
    /// ptyhub's own extension (freshell never sends it): this viewer asks
    /// for the PTY to take its size now, as typing would ("use my size" in
    /// ptyhub's web client and attach CLI).
    #[serde(default)]
    pub take_size: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminalRef {
    pub terminal_id: String,
}

/// ptyhub's own message type (freshell sends no such thing): the colours a
/// viewer's terminal shows where a program chose none, `#rrggbb` each, so
/// that the daemon answers colour queries with the background the viewer
/// really shows (`session/terminal/theme.rs`). No reply.
pub const THEME_REPORT_TYPE: &str = "ptyhub.theme";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThemeReport {
    foreground: String,
    background: String,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityList {
    pub request_id: String,
}

/// Which provider's activity list a client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityProvider {
    Claude,
    Codex,
    Opencode,
    Amplifier,
}

impl ActivityProvider {
    pub fn response_type(self) -> &'static str {
        match self {
            ActivityProvider::Claude => "claude.activity.list.response",
            ActivityProvider::Codex => "codex.activity.list.response",
            ActivityProvider::Opencode => "opencode.activity.list.response",
            ActivityProvider::Amplifier => "amplifier.activity.list.response",
        }
    }
}

#[derive(Debug)]
pub enum ClientMessage {
    Hello(Hello),
    Ping,
    Create(Create),
    Attach(Attach),
    Input(Input),
    Resize(Resize),
    Detach(TerminalRef),
    Kill(TerminalRef),
    ActivityList(ActivityProvider, ActivityList),
    /// A viewer's theme (`THEME_REPORT_TYPE`).
    Theme(Theme),
    /// A message of freshell's that a terminal daemon tolerates silently.
    Tolerated(String),
    /// A type this daemon does not know. freshell answers `INVALID_MESSAGE`;
    /// in front of freshell it is freshell's to answer.
    Unknown {
        kind: String,
        request_id: Option<String>,
    },
}

/// Why a message was refused, with what the `error` reply must carry.
#[derive(Debug)]
pub enum Rejection {
    /// `INVALID_MESSAGE`; the socket stays open.
    Invalid {
        message: String,
        request_id: Option<String>,
        terminal_id: Option<String>,
    },
    /// `PROTOCOL_MISMATCH`, then close 4010.
    ProtocolMismatch,
}

fn invalid(message: impl Into<String>, object: Option<&Map<String, Value>>) -> Rejection {
    let request_id = object
        .and_then(|o| o.get("requestId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Rejection::Invalid {
        message: message.into(),
        request_id,
        terminal_id: None,
    }
}

/// Message types freshell's UI sends that carry nothing for a terminal daemon.
/// (`tabs.sync.*` are missing from freshell's inventory file but are sent.)
const TOLERATED_TYPES: &[&str] = &[
    "client.diagnostic",
    "sessions.prefs",
    "ui.layout.sync",
    "ui.screenshot.result",
    "terminal.codex.candidate.persisted",
    "terminal.autoResumeCancel",
    "pane.reconcile.request",
    "tabs.sync.push",
    "tabs.sync.query",
    "tabs.sync.client.retire",
    "codingcli.create",
    "codingcli.input",
    "codingcli.kill",
    "freshAgent.approval.respond",
    "freshAgent.attach",
    "freshAgent.compact",
    "freshAgent.create",
    "freshAgent.fork",
    "freshAgent.interrupt",
    "freshAgent.kill",
    "freshAgent.question.respond",
    "freshAgent.send",
];

fn typed<T: serde::de::DeserializeOwned>(
    kind: &str,
    object: Map<String, Value>,
) -> Result<T, Rejection> {
    let request_id = object
        .get("requestId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    serde_json::from_value(Value::Object(object)).map_err(|err| Rejection::Invalid {
        message: format!("Invalid {kind} message: {err}"),
        request_id,
        terminal_id: None,
    })
}

fn require_non_empty(
    field: &str,
    value: &str,
    object: &Map<String, Value>,
) -> Result<(), Rejection> {
    if value.is_empty() {
        Err(invalid(format!("{field} must not be empty"), Some(object)))
    } else {
        Ok(())
    }
}

fn check_size(cols: u16, rows: u16, object: &Map<String, Value>) -> Result<(), Rejection> {
    if !(2..=1000).contains(&cols) || !(2..=500).contains(&rows) {
        return Err(invalid(
            format!("cols must be 2-1000 and rows 2-500 (got {cols}x{rows})"),
            Some(object),
        ));
    }
    Ok(())
}

fn check_session_ref(
    session_ref: &Option<SessionRef>,
    object: &Map<String, Value>,
) -> Result<(), Rejection> {
    if let Some(r) = session_ref {
        require_non_empty("sessionRef.provider", &r.provider, object)?;
        require_non_empty("sessionRef.sessionId", &r.session_id, object)?;
    }
    Ok(())
}

/// Parses one text frame. `authenticated` enables the legacy-field guard,
/// which freshell applies only after hello.
pub fn parse(text: &str, authenticated: bool) -> Result<ClientMessage, Rejection> {
    let oversized = text.len() > MAX_MESSAGE_BYTES;
    let value: Value = serde_json::from_str(text).map_err(|_| {
        if oversized {
            too_large()
        } else {
            invalid("Invalid JSON", None)
        }
    })?;
    // freshell exempts screenshots (sent back to the UI's own server) from
    // the cap; the WebSocket frame cap still bounds them.
    if oversized && value.get("type").and_then(Value::as_str) != Some(OVERSIZE_EXEMPT_TYPE) {
        return Err(too_large());
    }
    let Value::Object(mut object) = value else {
        return Err(invalid("Invalid message: expected a JSON object", None));
    };
    let Some(kind) = object
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err(invalid(
            "Invalid message: missing string field 'type'",
            Some(&object),
        ));
    };
    if kind == "hello" {
        let version = object.get("protocolVersion").and_then(Value::as_f64);
        if version != Some(PROTOCOL_VERSION as f64) {
            return Err(Rejection::ProtocolMismatch);
        }
    }
    if authenticated && kind == "terminal.create" && object.contains_key("resumeSessionId") {
        return Err(invalid(
            "Restore requires sessionRef; resumeSessionId is a legacy field and cannot be used as restore identity.",
            Some(&object),
        ));
    }
    let snapshot = object.clone();
    object.remove("type");
    let message = match kind.as_str() {
        "hello" => ClientMessage::Hello(typed(&kind, object)?),
        "ping" => ClientMessage::Ping,
        "terminal.create" => {
            let create: Create = typed(&kind, object)?;
            require_non_empty("requestId", &create.request_id, &snapshot)?;
            check_session_ref(&create.session_ref, &snapshot)?;
            ClientMessage::Create(create)
        }
        "terminal.attach" => {
            let attach: Attach = typed(&kind, object)?;
            require_non_empty("terminalId", &attach.terminal_id, &snapshot)?;
            check_size(attach.cols, attach.rows, &snapshot)?;
            check_session_ref(&attach.expected_session_ref, &snapshot)?;
            if attach.max_replay_bytes == Some(0) {
                return Err(invalid("maxReplayBytes must be positive", Some(&snapshot)));
            }
            if let Some(id) = &attach.attach_request_id {
                require_non_empty("attachRequestId", id, &snapshot)?;
                let json_bytes = serde_json::to_string(id).map_or(usize::MAX, |s| s.len());
                if json_bytes > MAX_ATTACH_REQUEST_ID_JSON_BYTES {
                    return Err(Rejection::Invalid {
                        message: "attachRequestId exceeds terminal output serialized application JSON byte budget".into(),
                        request_id: None,
                        terminal_id: Some(attach.terminal_id),
                    });
                }
            }
            ClientMessage::Attach(attach)
        }
        "terminal.input" => {
            let input: Input = typed(&kind, object)?;
            require_non_empty("terminalId", &input.terminal_id, &snapshot)?;
            check_session_ref(&input.expected_session_ref, &snapshot)?;
            ClientMessage::Input(input)
        }
        "terminal.resize" => {
            let resize: Resize = typed(&kind, object)?;
            require_non_empty("terminalId", &resize.terminal_id, &snapshot)?;
            check_size(resize.cols, resize.rows, &snapshot)?;
            check_session_ref(&resize.expected_session_ref, &snapshot)?;
            ClientMessage::Resize(resize)
        }
        "terminal.detach" | "terminal.kill" => {
            let target: TerminalRef = typed(&kind, object)?;
            require_non_empty("terminalId", &target.terminal_id, &snapshot)?;
            if kind == "terminal.detach" {
                ClientMessage::Detach(target)
            } else {
                ClientMessage::Kill(target)
            }
        }
        "claude.activity.list"
        | "codex.activity.list"
        | "opencode.activity.list"
        | "amplifier.activity.list" => {
            let provider = match kind.as_str() {
                "claude.activity.list" => ActivityProvider::Claude,
                "codex.activity.list" => ActivityProvider::Codex,
                "opencode.activity.list" => ActivityProvider::Opencode,
                _ => ActivityProvider::Amplifier,
            };
            let list: ActivityList = typed(&kind, object)?;
            ClientMessage::ActivityList(provider, list)
        }
        THEME_REPORT_TYPE => {
            let report: ThemeReport = typed(&kind, object)?;
            let theme = Theme::from_hex(
                &report.foreground,
                &report.background,
                report.cursor.as_deref(),
            )
            .map_err(|error| {
                invalid(format!("Invalid {kind} message: {error}"), Some(&snapshot))
            })?;
            ClientMessage::Theme(theme)
        }
        other if TOLERATED_TYPES.contains(&other) => ClientMessage::Tolerated(kind),
        _ => ClientMessage::Unknown {
            request_id: snapshot
                .get("requestId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            kind,
        },
    };
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected_message(text: &str) -> String {
        match parse(text, true) {
            Err(Rejection::Invalid { message, .. }) => message,
            other => panic!("expected INVALID_MESSAGE, got {other:?}"),
        }
    }

    #[test]
    fn create_rejects_unknown_keys_and_legacy_resume_ids() {
        rejected_message(r#"{"type":"terminal.create","requestId":"r","bogus":1}"#);
        let legacy = rejected_message(
            r#"{"type":"terminal.create","requestId":"r","resumeSessionId":null}"#,
        );
        assert!(legacy.contains("legacy"));
    }

    #[test]
    fn other_messages_ignore_unknown_keys() {
        let parsed = parse(
            r#"{"type":"terminal.kill","terminalId":"t","extra":true}"#,
            true,
        );
        assert!(matches!(parsed, Ok(ClientMessage::Kill(_))));
    }

    #[test]
    fn wrong_protocol_version_is_a_mismatch() {
        assert!(matches!(
            parse(r#"{"type":"hello","protocolVersion":6}"#, false),
            Err(Rejection::ProtocolMismatch)
        ));
    }

    #[test]
    fn sizes_are_range_checked() {
        rejected_message(r#"{"type":"terminal.resize","terminalId":"t","cols":1,"rows":10}"#);
        rejected_message(r#"{"type":"terminal.resize","terminalId":"t","cols":80,"rows":501}"#);
        rejected_message(r#"{"type":"terminal.resize","terminalId":"t","cols":-3,"rows":10}"#);
    }

    #[test]
    fn an_oversized_attach_request_id_names_the_terminal() {
        let id = "x".repeat(600);
        let text = format!(
            r#"{{"type":"terminal.attach","terminalId":"t","intent":"viewport_hydrate","cols":80,"rows":24,"attachRequestId":"{id}"}}"#
        );
        match parse(&text, true) {
            Err(Rejection::Invalid {
                terminal_id,
                request_id,
                ..
            }) => {
                assert_eq!(terminal_id.as_deref(), Some("t"));
                assert_eq!(request_id, None);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_types_and_bad_json_are_invalid() {
        assert_eq!(rejected_message("{nope"), "Invalid JSON");
        match parse(r#"{"type":"warp.drive","requestId":"q"}"#, true) {
            Ok(ClientMessage::Unknown { kind, request_id }) => {
                assert_eq!(kind, "warp.drive");
                assert_eq!(request_id.as_deref(), Some("q"));
            }
            other => panic!("expected an unknown type, got {other:?}"),
        }
    }

    #[test]
    fn a_theme_report_carries_hex_colours() {
        let parsed = parse(
            r##"{"type":"ptyhub.theme","foreground":"#202020","background":"#fafafa"}"##,
            true,
        );
        match parsed {
            Ok(ClientMessage::Theme(theme)) => {
                assert_eq!(theme, Theme::from_hex("#202020", "#fafafa", None).unwrap());
            }
            other => panic!("expected a theme, got {other:?}"),
        }
        let wrong = rejected_message(
            r##"{"type":"ptyhub.theme","foreground":"white","background":"#fafafa"}"##,
        );
        assert!(wrong.contains("#rrggbb"), "{wrong}");
        rejected_message(r##"{"type":"ptyhub.theme","background":"#fafafa"}"##);
    }
}
