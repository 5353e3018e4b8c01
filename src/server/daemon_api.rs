//! The daemon about itself: `GET /ptyhub/api/daemon` (what runs, since
//! which upgrade) and `POST /ptyhub/api/upgrade` (execute the binary at its
//! path in place, `crate::handover`). Behind the token layer; the view
//! token may read, never upgrade.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::daemon::Daemon;
use crate::handover::upgrade::{self, UpgradeTurn};

/// Time for the answer to an upgrade request to reach the client before the
/// exec closes its connection.
const ANSWER_BEFORE_EXEC: Duration = Duration::from_millis(100);

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonStatus {
    pub pid: u32,
    pub version: String,
    pub boot_id: String,
    pub server_instance_id: String,
    /// In-place upgrades this daemon has been through.
    pub handovers: u64,
    /// How long the last one took, sessions paused to serving again (ms).
    pub last_handover_ms: u64,
    pub running_sessions: usize,
    /// Upgrades that did not happen since this image started, and why the
    /// last one did not.
    pub upgrade_failures: u64,
    pub last_upgrade_failure: Option<String>,
}

impl DaemonStatus {
    pub fn of(daemon: &Daemon) -> DaemonStatus {
        let (upgrade_failures, last_upgrade_failure) = daemon.upgrade_failures();
        DaemonStatus {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").into(),
            boot_id: daemon.boot_id.clone(),
            server_instance_id: daemon.server_instance_id.clone(),
            handovers: daemon.handovers(),
            last_handover_ms: daemon.last_handover_ms(),
            running_sessions: daemon.registry.running_count(),
            upgrade_failures,
            last_upgrade_failure,
        }
    }
}

/// `GET /ptyhub/api/daemon`.
pub async fn status(State(daemon): State<Arc<Daemon>>) -> Json<DaemonStatus> {
    Json(DaemonStatus::of(&daemon))
}

/// The answer to an accepted upgrade request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeAccepted {
    /// What the binary at the path said when asked whether it takes over.
    pub verdict: String,
    /// The daemon as it was before the upgrade.
    pub before: DaemonStatus,
}

/// `POST /ptyhub/api/upgrade`: 202 once the binary at the path has agreed
/// to take over (the exec follows at once); 409 with the reason when it
/// cannot, or another upgrade is under way — the daemon then keeps serving.
pub async fn upgrade(State(daemon): State<Arc<Daemon>>) -> Response {
    let turn = match UpgradeTurn::claim() {
        Ok(turn) => turn,
        Err(err) => return (StatusCode::CONFLICT, err.to_string()).into_response(),
    };
    let verdict = match upgrade::check().await {
        Ok(verdict) => verdict,
        Err(err) => {
            daemon.note_upgrade_failure(err.to_string());
            return (StatusCode::CONFLICT, err.to_string()).into_response();
        }
    };
    let before = DaemonStatus::of(&daemon);
    let handing = Arc::clone(&daemon);
    let said = verdict.clone();
    tokio::spawn(async move {
        tokio::time::sleep(ANSWER_BEFORE_EXEC).await;
        upgrade::hand_over_and_exec(handing, turn, said).await;
    });
    (
        StatusCode::ACCEPTED,
        Json(UpgradeAccepted { verdict, before }),
    )
        .into_response()
}
