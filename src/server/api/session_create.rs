//! `POST /ptyhub/api/sessions` (full token): start a session, or resume one
//! — the CLI's way in (`ptyhub new`, and the resume behind `attach` and
//! `send`).
//!
//! It goes through the registry's one create decision, as a browser's
//! `terminal.create` does, so a resume here and one from freshell's frontend
//! at the same moment still make one process. Unlike the WebSocket create,
//! which must keep freshell's answers, it refuses what would silently do
//! something else: a `cwd` that is not a directory (freshell falls back to
//! the home directory) and a name another session already has.

use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::session_changes::MAX_TITLE_CHARS;
use super::{all_records, refusal, SessionRecord};
use crate::daemon::Daemon;
use crate::registry::{CreateError, CreateOutcome, CreateRequest};
use crate::session::SessionRef;

/// The body of `POST /ptyhub/api/sessions`; every field is optional.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSession {
    /// `shell` (the default), `claude`, `codex`, … any configured provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// An absolute path to an existing directory [default: the daemon's home].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Run this argv instead of the mode's program (mode `shell` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// A name for the session, unique among sessions that run or can resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Resume this session of the mode's provider (or join the terminal that runs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

pub async fn create_session(
    State(daemon): State<Arc<Daemon>>,
    body: axum::body::Bytes,
) -> Response {
    let new: NewSession = match serde_json::from_slice(&body) {
        Ok(new) => new,
        Err(err) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                format!(
                    "expected {{\"mode\", \"cwd\", \"command\", \"title\", \"sessionId\"}}: {err}"
                ),
            )
        }
    };
    let request = match checked_request(&daemon, &new) {
        Ok(request) => request,
        Err((status, message)) => return refusal(status, message),
    };
    let registry = &daemon.registry;
    let outcome = match registry.create(request).await {
        Ok(outcome) => outcome,
        Err(err) => return create_refusal(&err),
    };
    let session = outcome.session();
    if let Some(title) = new.title.as_deref().map(str::trim) {
        registry.rename(session.terminal_id(), Some(title.to_owned()));
    } else {
        registry.announce_change(Vec::new());
    }
    let record = SessionRecord::of(registry, &registry.accounting(), session);
    let status = match outcome {
        CreateOutcome::Spawned(_) => StatusCode::CREATED,
        CreateOutcome::Reused(_) => StatusCode::OK,
    };
    (status, Json(record)).into_response()
}

/// The registry's request for `new`, or the status and sentence that refuse it.
fn checked_request(
    daemon: &Daemon,
    new: &NewSession,
) -> Result<CreateRequest, (StatusCode, String)> {
    let bad = |message: String| Err((StatusCode::BAD_REQUEST, message));
    let mode = new.mode.clone().unwrap_or_else(|| "shell".to_owned());
    if let Some(command) = &new.command {
        if command.is_empty() || command[0].is_empty() {
            return bad("the command is empty".to_owned());
        }
        if mode != "shell" || new.session_id.is_some() {
            return bad("a command runs in a plain terminal: give no mode other than shell, and no sessionId".to_owned());
        }
    }
    if let Some(cwd) = &new.cwd {
        let path = Path::new(cwd);
        if !path.is_absolute() {
            return bad(format!(
                "the directory must be an absolute path, not {cwd:?}"
            ));
        }
        match std::fs::metadata(path) {
            Err(_) => return bad(format!("there is no directory {cwd}")),
            Ok(meta) if !meta.is_dir() => return bad(format!("{cwd} is not a directory")),
            Ok(_) => {}
        }
    }
    if let Some(session_id) = &new.session_id {
        let resumable = daemon
            .registry
            .providers()
            .get(&mode)
            .map(|p| p.can_resume());
        if resumable == Some(false) {
            return bad(format!(
                "{mode} sessions cannot be resumed (only agents' can)"
            ));
        }
        if session_id.is_empty() {
            return bad("the sessionId is empty".to_owned());
        }
    }
    if let Some(title) = &new.title {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return bad(format!("a name has 1 to {MAX_TITLE_CHARS} characters"));
        }
        if let Some(taken) = all_records(&daemon.registry).into_iter().find(|r| {
            r.title == title
                && (r.is_running() || r.resumable)
                // Resuming a session under the name it already has is no clash.
                && !(new.session_id.is_some()
                    && r.session_ref.as_ref().map(|s| &s.session_id) == new.session_id.as_ref())
        }) {
            return Err((
                StatusCode::CONFLICT,
                format!(
                    "a session named {title:?} already exists ({}): pick another name",
                    taken.terminal_id
                ),
            ));
        }
    }
    Ok(CreateRequest {
        request_id: format!("api-{}", uuid::Uuid::new_v4().simple()),
        session_ref: new.session_id.as_ref().map(|session_id| SessionRef {
            provider: mode.clone(),
            session_id: session_id.clone(),
        }),
        restore: new.session_id.is_some(),
        mode,
        cwd: new.cwd.clone(),
        command: new.command.clone(),
        ..CreateRequest::default()
    })
}

fn create_refusal(err: &CreateError) -> Response {
    let status = match err {
        CreateError::InvalidMode { .. }
        | CreateError::InvalidSessionId(_)
        | CreateError::RestoreUnavailable
        | CreateError::FreshWithRestoreIdentity => StatusCode::BAD_REQUEST,
        CreateError::LimitReached(_) => StatusCode::TOO_MANY_REQUESTS,
        CreateError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        CreateError::SpawnFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    refusal(status, err.to_string())
}
