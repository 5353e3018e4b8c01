//! A coding agent's activity (busy, idle, turns completed) as the session
//! sees it, published to whoever listens: the session feeds its turn
//! tracker (`turn_tracker.rs`) every input it writes and every output it
//! reads, and sends each change, with the terminal it concerns, on the
//! daemon's activity channel.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::turn_tracker::{Phase, TurnChange, IDLE_GRACE};
use super::{now_ms, Session};

/// The modes whose turns are tracked: the agents that ring a bell when a
/// turn completes (claude's stop hook, codex's notification bell), and
/// those that report their work themselves.
pub const TRACKED_MODES: [&str; 3] = ["claude", "codex", "opencode"];

/// The modes whose turns come from the agent's own reports (opencode's
/// server, `registry/opencode_watch.rs`), not from submits and bells.
pub const SELF_REPORTING_MODES: [&str; 1] = ["opencode"];

/// One activity change of one terminal.
#[derive(Clone, Debug)]
pub struct ActivityEvent {
    pub terminal_id: String,
    /// The mode (`claude`, `codex`).
    pub provider: String,
    pub session_id: Option<String>,
    pub change: ActivityChange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityChange {
    Turn(TurnChange),
    /// The session ended: it has no activity any more.
    Gone,
}

/// Where a tracked agent stands, for lists.
#[derive(Clone, Copy, Debug)]
pub struct Activity {
    pub phase: Phase,
    pub updated_at: u64,
    /// The last completed turn: its number and when.
    pub latest_completion: Option<(u64, u64)>,
}

impl Session {
    /// The agent's activity, if this session's mode is tracked and it runs.
    pub fn activity(&self) -> Option<Activity> {
        if !self.is_running() {
            return None;
        }
        let turns = self.turns.as_ref()?.lock();
        Some(Activity {
            phase: turns.phase(),
            updated_at: turns.updated_at(),
            latest_completion: turns.latest_completion(),
        })
    }

    pub(super) fn track_input(&self, bytes: &[u8]) {
        let Some(turns) = self.turns_from_the_terminal() else {
            return;
        };
        let change = turns.lock().input(bytes, now_ms());
        if let Some(change) = change {
            self.publish(ActivityChange::Turn(change));
        }
    }

    pub(super) fn track_output(self: &Arc<Self>, text: &str) {
        let Some(turns) = self.turns_from_the_terminal() else {
            return;
        };
        let changes = turns.lock().output(text, now_ms());
        self.publish_turn_changes(changes);
    }

    fn publish_turn_changes(self: &Arc<Self>, changes: Vec<TurnChange>) {
        for change in changes {
            if let TurnChange::TurnComplete { completion_seq, .. } = change {
                self.announce_idle_after_grace(completion_seq);
            }
            self.publish(ActivityChange::Turn(change));
        }
    }

    /// The agent says whether it is working (for the self-reporting
    /// modes; ignored for the others, whose terminal tells).
    pub fn provider_reports_activity(self: &Arc<Self>, busy: bool) {
        if !SELF_REPORTING_MODES.contains(&self.info.mode.as_str()) {
            return;
        }
        let Some(turns) = &self.turns else { return };
        let changes = turns.lock().provider_reports(busy, now_ms());
        self.publish_turn_changes(changes);
    }

    /// The turn tracker, for the modes whose terminal tells their turns.
    fn turns_from_the_terminal(
        &self,
    ) -> Option<&parking_lot::Mutex<super::turn_tracker::TurnTracker>> {
        if SELF_REPORTING_MODES.contains(&self.info.mode.as_str()) {
            return None;
        }
        self.turns.as_ref()
    }

    /// Takes a busy agent silent too long to be idle (called periodically).
    pub fn sweep_activity(&self) {
        let Some(turns) = &self.turns else { return };
        let change = turns.lock().sweep(now_ms());
        if let Some(change) = change {
            self.publish(ActivityChange::Turn(change));
        }
    }

    pub(super) fn publish_gone(&self) {
        if self.turns.is_some() {
            self.publish(ActivityChange::Gone);
        }
    }

    /// A completed turn whose truly-idle announcement was still due when an
    /// earlier image of the daemon handed the session over gets it, after a
    /// full grace (its timer did not survive the exec).
    pub(super) fn announce_idle_still_due(self: &Arc<Self>) {
        let due = self
            .turns
            .as_ref()
            .and_then(|turns| turns.lock().idle_due());
        if let Some(completion_seq) = due {
            self.announce_idle_after_grace(completion_seq);
        }
    }

    fn announce_idle_after_grace(self: &Arc<Self>, completion_seq: u64) {
        let session = Arc::downgrade(self);
        self.runtime.spawn(async move {
            tokio::time::sleep(IDLE_GRACE).await;
            let Some(session) = session.upgrade() else {
                return;
            };
            let Some(turns) = &session.turns else { return };
            let idle = turns.lock().idle_grace_passed(completion_seq, now_ms());
            if let (Some(idle), true) = (idle, session.is_running()) {
                session.publish(ActivityChange::Turn(idle));
            }
        });
    }

    fn publish(&self, change: ActivityChange) {
        let Some(events) = &self.activity_events else {
            return;
        };
        // Nobody listening is fine.
        let _ = events.send(ActivityEvent {
            terminal_id: self.info.terminal_id.clone(),
            provider: self.info.mode.clone(),
            session_id: self.session_ref().map(|r| r.session_id.clone()),
            change,
        });
    }
}

/// A channel for the daemon's activity events.
pub fn activity_channel() -> broadcast::Sender<ActivityEvent> {
    broadcast::channel(1024).0
}
