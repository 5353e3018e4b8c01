//! Server → client messages of freshell's protocol v7.
//!
//! Every field name and optionality follows freshell's frozen contract
//! (`ws-server-messages.schema.json`): absent optionals are omitted, never
//! `null`. Output frames are not built here but in `output_encoding.rs`,
//! where the part shared by all viewers is encoded once.

use serde::Serialize;

use crate::session::{GeometryAuthority, SessionRef};

/// freshell's error codes (protocol 7) that ptyhub emits.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    NotAuthenticated,
    InvalidMessage,
    InvalidTerminalId,
    SessionIdentityMismatch,
    InvalidSessionId,
    RestoreUnavailable,
    InvalidCreateRequest,
    PtySpawnFailed,
    InternalError,
    RateLimited,
    Unauthorized,
    ProtocolMismatch,
}

pub fn timestamp_now() -> String {
    // RFC 3339 in UTC with millisecond precision, like JavaScript's toISOString.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let millis = now.subsec_millis();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    #[serde(rename = "type")]
    kind: &'static str,
    pub code: ErrorCode,
    pub message: String,
    pub timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_session_ref: Option<SessionRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_session_ref: Option<SessionRef>,
}

impl ErrorMessage {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            kind: "error",
            code,
            message: message.into(),
            timestamp: timestamp_now(),
            request_id: None,
            terminal_id: None,
            terminal_exit_code: None,
            expected_session_ref: None,
            actual_session_ref: None,
        }
    }

    pub fn request(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    pub fn terminal(mut self, terminal_id: impl Into<String>) -> Self {
        self.terminal_id = Some(terminal_id.into());
        self
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ready {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub timestamp: String,
    pub server_instance_id: String,
    pub boot_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryTerminal {
    pub terminal_id: String,
    pub title: String,
    pub mode: String,
    pub status: &'static str,
    pub created_at: u64,
    pub last_activity_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_ref: Option<SessionRef>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub boot_id: String,
    pub terminals: Vec<InventoryTerminal>,
    pub terminal_meta: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub request_id: String,
    pub terminal_id: String,
    pub created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_ref: Option<SessionRef>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WireGeometryAuthority {
    SingleClient,
    MultiClientUnknown,
}

impl From<GeometryAuthority> for WireGeometryAuthority {
    fn from(authority: GeometryAuthority) -> Self {
        match authority {
            GeometryAuthority::SingleClient => WireGeometryAuthority::SingleClient,
            GeometryAuthority::MultiClientUnknown => WireGeometryAuthority::MultiClientUnknown,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachReady {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub terminal_id: String,
    pub stream_id: String,
    pub head_seq: u64,
    pub replay_from_seq: u64,
    pub replay_to_seq: u64,
    pub requested_since_seq: u64,
    pub effective_since_seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_reset_reason: Option<&'static str>,
    pub geometry_epoch: u64,
    pub geometry_authority: WireGeometryAuthority,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_ref: Option<SessionRef>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputGap {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub terminal_id: String,
    pub stream_id: String,
    pub from_seq: u64,
    pub to_seq: u64,
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_request_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModesSync {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub terminal_id: String,
    pub attach_request_id: String,
    pub stream_id: String,
    pub data: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exit {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub terminal_id: String,
    pub exit_code: i32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detached {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub terminal_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminalsChanged {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub revision: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recoverable_terminal_ids: Vec<String>,
}

/// A terminal was bound to the session its CLI chose (spec §6.11).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAssociated {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub terminal_id: String,
    pub session_ref: SessionRef,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pong {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub timestamp: String,
}

/// Serializes a message; the types above cannot fail to serialize.
pub fn to_json(message: &impl Serialize) -> String {
    serde_json::to_string(message).unwrap_or_else(|err| {
        tracing::error!(%err, "serializing a server message failed");
        String::from(r#"{"type":"error","code":"INTERNAL_ERROR","message":"serialization failed","timestamp":"1970-01-01T00:00:00.000Z"}"#)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_javascript_iso_strings() {
        let ts = timestamp_now();
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
    }

    #[test]
    fn absent_optionals_are_omitted() {
        let json = to_json(&ErrorMessage::new(
            ErrorCode::InvalidMessage,
            "Invalid JSON",
        ));
        assert!(!json.contains("null"), "{json}");
        assert!(json.contains(r#""code":"INVALID_MESSAGE""#));
    }
}
