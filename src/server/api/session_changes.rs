//! Changing and forgetting sessions: `PATCH` and `DELETE
//! /ptyhub/api/sessions/{terminalId}` (full token).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{record_of, refusal, SessionRecord};
use crate::daemon::Daemon;
use crate::registry::ForgetError;
use crate::session::SizePolicy;

/// Longest title a user may give; freshell's own limit for a title override.
pub const MAX_TITLE_CHARS: usize = 500;

/// What `PATCH /ptyhub/api/sessions/{terminalId}` may change.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionChange {
    size_policy: Option<SizePolicy>,
    /// A new title; empty or blank: back to the provider's.
    title: Option<String>,
}

/// `PATCH /ptyhub/api/sessions/{terminalId}`: renames any known session
/// (`title`), or changes a running one's `sizePolicy`; answers with its record.
pub async fn change_session(
    State(daemon): State<Arc<Daemon>>,
    Path(terminal_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let change: SessionChange = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(err) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"title\": \"…\"}} or {{\"sizePolicy\": \"latest\"|\"largest\"|\"smallest\"|\"manual\"}}: {err}"),
            )
        }
    };
    let registry = &daemon.registry;
    if let Some(policy) = change.size_policy {
        let Some(session) = registry.get(&terminal_id).filter(|s| s.is_running()) else {
            return refusal(
                StatusCode::NOT_FOUND,
                format!("no running terminal {terminal_id}"),
            );
        };
        session.set_size_policy(policy);
    }
    if let Some(title) = change.title {
        if title.chars().count() > MAX_TITLE_CHARS {
            return refusal(
                StatusCode::BAD_REQUEST,
                format!("a title has at most {MAX_TITLE_CHARS} characters"),
            );
        }
        let title = Some(title.trim().to_owned()).filter(|t| !t.is_empty());
        if !registry.rename(&terminal_id, title) {
            return refusal(StatusCode::NOT_FOUND, format!("no terminal {terminal_id}"));
        }
    }
    match record_of(registry, &terminal_id) {
        Some(record) => Json::<SessionRecord>(record).into_response(),
        None => refusal(StatusCode::NOT_FOUND, format!("no terminal {terminal_id}")),
    }
}

/// `DELETE /ptyhub/api/sessions/{terminalId}`: forgets an exited terminal or
/// a remembered session (which can then no longer be resumed). 409 for a
/// running one: killing is a separate, deliberate step.
pub async fn forget_session(
    State(daemon): State<Arc<Daemon>>,
    Path(terminal_id): Path<String>,
) -> Response {
    match daemon.registry.forget(&terminal_id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err @ ForgetError::Running(_)) => refusal(StatusCode::CONFLICT, err.to_string()),
        Err(err @ ForgetError::Unknown(_)) => refusal(StatusCode::NOT_FOUND, err.to_string()),
    }
}
