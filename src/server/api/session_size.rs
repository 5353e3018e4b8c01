//! Following a session's PTY size: `GET /ptyhub/api/sessions/{terminalId}/size`
//! (read-only token enough).
//!
//! One PTY has one size, and the size policy (`session/size_policy.rs`) picks
//! which viewer's window it is. A viewer that does not drive it — another
//! viewer typed last, or it is read-only — must draw the terminal at the
//! PTY's size, or every line the program wraps or positions lands wrong. The
//! freshell protocol has no message that carries the size (and every message
//! we send must fit its schema), so ptyhub's own clients ask here: with
//! `?changedFrom=COLSxROWS` the answer waits until the size differs from that
//! (a long poll, at most `LONG_POLL_WAIT`, or until the daemon closes), so a
//! client learns of a change at once without polling.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::refusal;
use crate::daemon::{Closing, Daemon};
use crate::session::{Geometry, SizePolicy};

/// Longest a request waits for a change before it answers the same size
/// (below the usual 30 s of proxies and browsers' idle limits).
pub const LONG_POLL_WAIT: Duration = Duration::from_secs(25);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SizeQuery {
    /// `COLSxROWS`: answer once the size is not this one.
    changed_from: Option<String>,
}

/// The PTY's size and the policy that picks it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PtySize {
    pub cols: u16,
    pub rows: u16,
    pub size_policy: SizePolicy,
}

pub async fn session_size(
    State(daemon): State<Arc<Daemon>>,
    Path(terminal_id): Path<String>,
    Query(query): Query<SizeQuery>,
) -> Response {
    let known = match query.changed_from.as_deref().map(parse_size) {
        None => None,
        Some(Some(size)) => Some(size),
        Some(None) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "changedFrom is COLSxROWS, e.g. 120x40",
            )
        }
    };
    let Some(session) = daemon.registry.get(&terminal_id).filter(|s| s.is_running()) else {
        return refusal(
            StatusCode::NOT_FOUND,
            format!("no running terminal {terminal_id}"),
        );
    };
    let mut changes = session.geometry_changes();
    if let Some(known) = known {
        let mut closing = daemon.shutdown_signal();
        let differs = |geometry: &Geometry| (geometry.cols, geometry.rows) != known;
        tokio::select! {
            _ = changes.wait_for(differs) => {}
            _ = closing.wait_for(|closing| *closing != Closing::No) => {}
            _ = tokio::time::sleep(LONG_POLL_WAIT) => {}
        }
    }
    let geometry = *changes.borrow();
    Json(PtySize {
        cols: geometry.cols,
        rows: geometry.rows,
        size_policy: session.size_policy(),
    })
    .into_response()
}

/// `120x40` → (120, 40).
fn parse_size(text: &str) -> Option<(u16, u16)> {
    let (cols, rows) = text.split_once('x')?;
    Some((cols.parse().ok()?, rows.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_are_cols_x_rows() {
        assert_eq!(parse_size("120x40"), Some((120, 40)));
        assert_eq!(parse_size("120"), None);
        assert_eq!(parse_size("x40"), None);
        assert_eq!(parse_size("-1x40"), None);
    }
}
