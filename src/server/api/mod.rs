//! The daemon's own JSON API, for local tools, the web client and the CLI.
//!
//! The same records back `ptyhub ls --json`, so scripts see one shape. Every
//! route sits behind one token layer (`server/auth.rs`): reads pass with the
//! read-only token, changes need the full one.

mod daemon_info;
mod session_changes;
mod session_create;
mod session_record;
mod session_size;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::daemon::Daemon;

pub use daemon_info::{info, DaemonInfo, StartableProvider};
pub use session_changes::{change_session, forget_session};
pub use session_create::{create_session, NewSession};
pub use session_record::{all_records, record_of, SessionRecord};
pub use session_size::{session_size, PtySize};

/// `GET /ptyhub/api/sessions`: every session the daemon knows.
pub async fn sessions(State(daemon): State<Arc<Daemon>>) -> Response {
    let records = all_records(&daemon.registry);
    Json(records).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ScreenQuery {
    /// `1`/`true`: keep colours and attributes as escape sequences.
    ansi: Option<String>,
}

/// `GET /ptyhub/api/sessions/{terminalId}/screen`: the current screen as text, or
/// with `?ansi=1` as escape sequences that repaint it (for scripts and agents).
pub async fn screen(
    State(daemon): State<Arc<Daemon>>,
    axum::extract::Path(terminal_id): axum::extract::Path<String>,
    Query(query): Query<ScreenQuery>,
) -> Response {
    let Some(session) = daemon.registry.get(&terminal_id) else {
        return (StatusCode::NOT_FOUND, format!("no terminal {terminal_id}")).into_response();
    };
    let ansi = matches!(query.ansi.as_deref(), Some("1" | "true" | "yes"));
    let body = if ansi {
        session.snapshot().repaint
    } else {
        session.screen_text()
    };
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(daemon): State<Arc<Daemon>>) -> Response {
    let text = crate::metrics::prometheus::render(&daemon.registry, &daemon.auth_failures);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// A plain-text error, as every route of this API answers one.
fn refusal(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.into(),
    )
        .into_response()
}
