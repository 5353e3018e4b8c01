//! One terminal as the API, the web client and `ptyhub ls --json` see it.

use serde::{Deserialize, Serialize};

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
    /// The child's pid while it runs (an exited child's pid may belong to
    /// another process by now).
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
    /// Whether a create naming its sessionRef would resume it: it has a
    /// provider session, does not run, and no other terminal runs that session.
    #[serde(default)]
    pub resumable: bool,
    /// The terminal this one continues, when it resumed a session: an old
    /// id (a bookmark, a pasted URL) leads here.
    #[serde(default)]
    pub resumed_from: Option<String>,
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
        let running = session.is_running();
        let usage = accounting
            .usage_of(session.terminal_id())
            .filter(|_| running);
        let resumable = !running
            && session.session_ref().is_some_and(|r| {
                registry.owner_of(r).is_none()
                    && registry
                        .providers()
                        .get(&r.provider)
                        .is_some_and(|p| p.can_resume())
            });
        SessionRecord {
            terminal_id: info.terminal_id.clone(),
            mode: info.mode.clone(),
            title: registry.title_of(session),
            status: if running { "running" } else { "exited" }.to_owned(),
            exit_code: session.exit_code(),
            session_ref: session.session_ref().cloned(),
            viewers: session.viewer_count(),
            pid: session.pid().filter(|_| running),
            created_at: info.created_at_ms,
            last_activity_at: session.last_activity_ms(),
            cwd: info.cwd.clone(),
            processes: usage.map(|u| u.processes),
            rss_bytes: usage.map(|u| u.rss_bytes),
            pss_bytes: usage.and_then(|u| u.pss_bytes),
            detached_since: session.detached_since_ms().filter(|_| running),
            resumable,
            resumed_from: registry.resumed_from(session.terminal_id()),
            screen_resting: session.screen_is_resting(),
            activity: session.activity().map(|a| a.phase.as_str().to_owned()),
            size_policy: running.then(|| session.size_policy()),
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
            created_at: remembered.created_at,
            last_activity_at: remembered.last_activity_at,
            cwd: remembered.cwd,
            resumable: true,
            ..SessionRecord::default()
        }
    }

    pub fn is_running(&self) -> bool {
        self.status == "running"
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

/// The record of one known terminal (running, exited or remembered).
pub fn record_of(registry: &Registry, terminal_id: &str) -> Option<SessionRecord> {
    match registry.get(terminal_id) {
        Some(session) => Some(SessionRecord::of(
            registry,
            &registry.accounting(),
            &session,
        )),
        None => registry
            .dormant()
            .into_iter()
            .find(|d| d.terminal_id == terminal_id)
            .map(SessionRecord::dormant),
    }
}
