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
use crate::metrics::own_process;

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
    // Added after the fields above: `default` lets a newer client read an
    // older daemon's answer (`ptyhub status` against a daemon not yet upgraded).
    /// The git revision the daemon was built from (`crate::build_info`).
    #[serde(default)]
    pub revision: Option<String>,
    /// Seconds since the daemon's process started (kept across upgrades: same pid).
    #[serde(default)]
    pub uptime_seconds: Option<u64>,
    /// Viewers attached to running sessions, over every protocol.
    #[serde(default)]
    pub viewers: Option<usize>,
    /// The daemon's own resident memory (VmRSS), its children not counted.
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    /// The running sessions' process trees (PSS where readable, else RSS), as
    /// the last accounting pass measured them; absent before the first pass.
    #[serde(default)]
    pub sessions_memory_bytes: Option<u64>,
}

impl DaemonStatus {
    pub fn of(daemon: &Daemon) -> DaemonStatus {
        let (upgrade_failures, last_upgrade_failure) = daemon.upgrade_failures();
        let running: Vec<_> = daemon
            .registry
            .list()
            .into_iter()
            .filter(|s| s.is_running())
            .collect();
        let accounting = daemon.registry.accounting();
        // Measured once every running session has been (a fresh session waits for
        // the next pass): a partial sum would understate.
        let sessions_measured = running
            .iter()
            .all(|s| accounting.usage_of(s.terminal_id()).is_some());
        DaemonStatus {
            pid: std::process::id(),
            version: crate::build_info::VERSION.into(),
            boot_id: daemon.boot_id.clone(),
            server_instance_id: daemon.server_instance_id.clone(),
            handovers: daemon.handovers(),
            last_handover_ms: daemon.last_handover_ms(),
            running_sessions: daemon.registry.running_count(),
            upgrade_failures,
            last_upgrade_failure,
            revision: Some(crate::build_info::GIT_REVISION.into()),
            uptime_seconds: own_process::uptime().map(|age| age.as_secs()),
            viewers: Some(running.iter().map(|s| s.viewer_count()).sum()),
            memory_bytes: own_process::rss_bytes(),
            sessions_memory_bytes: sessions_measured.then_some(accounting.memory_used_bytes),
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
