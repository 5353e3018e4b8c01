//! How a connection words its replies: inventory records, identity and
//! exit errors, create refusals — freshell's texts and codes in one place.

use super::outbound::{ErrorCode, ErrorMessage, InventoryTerminal};
use crate::registry::CreateError;
use crate::session::{Session, SessionRef};

pub fn inventory_record(session: &Session, title: String) -> InventoryTerminal {
    let info = session.info();
    InventoryTerminal {
        terminal_id: info.terminal_id.clone(),
        title,
        mode: info.mode.clone(),
        status: if session.is_running() {
            "running"
        } else {
            "exited"
        },
        created_at: info.created_at_ms,
        last_activity_at: session.last_activity_ms(),
        cwd: info.cwd.clone(),
        session_ref: session.session_ref().cloned(),
    }
}

/// The error for a request whose expected session is not the terminal's.
/// An exited terminal is bound to no session.
pub fn identity_mismatch(session: &Session, expected: Option<&SessionRef>) -> Option<ErrorMessage> {
    let expected = expected?;
    let actual = session
        .info()
        .session_ref
        .clone()
        .filter(|_| session.is_running());
    if actual.as_ref() == Some(expected) {
        return None;
    }
    let mut error = ErrorMessage::new(
        ErrorCode::SessionIdentityMismatch,
        "Terminal session does not match the expected session.",
    )
    .terminal(session.terminal_id());
    error.expected_session_ref = Some(expected.clone());
    error.actual_session_ref = actual;
    Some(error)
}

/// freshell's wording for an attach to an exited terminal.
pub fn exited_summary(session: &Session, title: &str, exit_code: i32) -> String {
    let screen = session.screen_text();
    let last_line = screen
        .lines()
        .rev()
        .map(str::trim_end)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    let last_line: String = last_line.chars().take(200).collect();
    format!("{title} is no longer running (exit {exit_code}). Last output: {last_line}")
}

pub fn create_error(err: &CreateError) -> ErrorMessage {
    let code = match err {
        CreateError::InvalidMode { .. } => ErrorCode::InvalidMessage,
        CreateError::InvalidSessionId(_) => ErrorCode::InvalidSessionId,
        CreateError::RestoreUnavailable => ErrorCode::RestoreUnavailable,
        CreateError::FreshWithRestoreIdentity => ErrorCode::InvalidCreateRequest,
        CreateError::LimitReached(_) | CreateError::SpawnFailed(_) => ErrorCode::PtySpawnFailed,
        CreateError::ShuttingDown => ErrorCode::InternalError,
    };
    ErrorMessage::new(code, err.to_string())
}
