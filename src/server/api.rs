//! The daemon's own JSON API, for local tools and the web client.
//!
//! The same records back `ptyhub ls --json`, so scripts see one shape.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::daemon::Daemon;
use crate::registry::{Accounting, Registry, RememberedSession};
use crate::session::{Session, SessionRef, SizePolicy};

/// One terminal as the API and `ptyhub ls --json` describe it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub terminal_id: String,
    pub mode: String,
    pub title: String,
    pub status: String,
    pub exit_code: Option<i32>,
    pub session_ref: Option<SessionRef>,
    pub viewers: usize,
    pub pid: Option<u32>,
    pub created_at: u64,
    pub last_activity_at: u64,
    pub cwd: Option<String>,
    /// Processes in the child's tree, as of the last accounting.
    #[serde(default)]
    pub processes: Option<u64>,
    /// Resident memory of the tree (bytes), as of the last accounting.
    #[serde(default)]
    pub rss_bytes: Option<u64>,
    /// Proportional memory of the tree (bytes), where the kernel lets us read it.
    #[serde(default)]
    pub pss_bytes: Option<u64>,
    /// Since when (epoch ms) nobody watches a running session.
    #[serde(default)]
    pub detached_since: Option<u64>,
    /// Whether a create naming its sessionRef would resume it.
    #[serde(default)]
    pub resumable: bool,
    /// Whether its screen model is at rest: quiet for a while, kept as a
    /// repaint instead of an emulator (restored on its next output).
    #[serde(default)]
    pub screen_resting: bool,
    /// For agents whose turns are tracked: `busy` (working on a turn) or
    /// `idle` (waiting for their user).
    #[serde(default)]
    pub activity: Option<String>,
    /// Which viewer's size the PTY takes (running sessions).
    #[serde(default)]
    pub size_policy: Option<SizePolicy>,
}

impl SessionRecord {
    pub fn of(registry: &Registry, accounting: &Accounting, session: &Session) -> SessionRecord {
        let info = session.info();
        let usage = accounting
            .usage_of(session.terminal_id())
            .filter(|_| session.is_running());
        SessionRecord {
            terminal_id: info.terminal_id.clone(),
            mode: info.mode.clone(),
            title: registry.title_of(session),
            status: if session.is_running() {
                "running"
            } else {
                "exited"
            }
            .to_owned(),
            exit_code: session.exit_code(),
            session_ref: session.session_ref().cloned(),
            viewers: session.viewer_count(),
            pid: session.pid(),
            created_at: info.created_at_ms,
            last_activity_at: session.last_activity_ms(),
            cwd: info.cwd.clone(),
            processes: usage.map(|u| u.processes),
            rss_bytes: usage.map(|u| u.rss_bytes),
            pss_bytes: usage.and_then(|u| u.pss_bytes),
            detached_since: session.detached_since_ms().filter(|_| session.is_running()),
            resumable: !session.is_running() && session.session_ref().is_some(),
            screen_resting: session.screen_is_resting(),
            activity: session.activity().map(|a| a.phase.as_str().to_owned()),
            size_policy: session.is_running().then(|| session.size_policy()),
        }
    }

    /// A session of a previous run, not resumed yet.
    pub fn dormant(remembered: RememberedSession) -> SessionRecord {
        SessionRecord {
            session_ref: Some(remembered.session_ref()),
            terminal_id: remembered.terminal_id,
            mode: remembered.provider,
            title: remembered.title,
            status: "exited".to_owned(),
            exit_code: None,
            viewers: 0,
            pid: None,
            created_at: remembered.created_at,
            last_activity_at: remembered.last_activity_at,
            cwd: remembered.cwd,
            processes: None,
            rss_bytes: None,
            pss_bytes: None,
            detached_since: None,
            resumable: true,
            screen_resting: false,
            activity: None,
            size_policy: None,
        }
    }
}

/// Every session the daemon knows, as records: running and exited, then
/// those of a previous run.
pub fn all_records(registry: &Registry) -> Vec<SessionRecord> {
    let accounting = registry.accounting();
    let mut records: Vec<SessionRecord> = registry
        .list()
        .iter()
        .map(|s| SessionRecord::of(registry, &accounting, s))
        .collect();
    records.extend(registry.dormant().into_iter().map(SessionRecord::dormant));
    records
}

/// `GET /ptyhub/api/sessions`: every session the daemon knows.
pub async fn sessions(State(daemon): State<Arc<Daemon>>) -> Response {
    let records = all_records(&daemon.registry);
    Json(records).into_response()
}

/// What `PATCH /ptyhub/api/sessions/{terminalId}` may change.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionChange {
    size_policy: Option<SizePolicy>,
}

/// `PATCH /ptyhub/api/sessions/{terminalId}` (full token): changes a running
/// session's `sizePolicy`; answers with its record.
pub async fn change_session(
    State(daemon): State<Arc<Daemon>>,
    axum::extract::Path(terminal_id): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let change: SessionChange = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(err) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("expected {{\"sizePolicy\": \"latest\"|\"largest\"|\"smallest\"|\"manual\"}}: {err}"),
            )
                .into_response()
        }
    };
    let Some(session) = daemon.registry.get(&terminal_id).filter(|s| s.is_running()) else {
        return (
            StatusCode::NOT_FOUND,
            format!("no running terminal {terminal_id}"),
        )
            .into_response();
    };
    if let Some(policy) = change.size_policy {
        session.set_size_policy(policy);
    }
    let record = SessionRecord::of(&daemon.registry, &daemon.registry.accounting(), &session);
    Json(record).into_response()
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
