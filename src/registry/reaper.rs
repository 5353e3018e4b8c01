//! The idle reaper: a session nobody watches, types into or gets real output
//! from for long enough is ended, so forgotten agents stop holding memory.
//!
//! Idle time counts from the later of the last viewer leaving and the last
//! meaningful activity (input, or output that changed the screen's text:
//! spinners, clocks and same-text redraws do not count). A session with a
//! viewer is never reaped. Reaped sessions are announced as recoverable, so
//! a freshell pane that still shows one re-creates it with `restore`.

use std::sync::Arc;
use std::time::Duration;

use super::Registry;
use crate::session::{now_ms, Session};

impl Registry {
    fn idle_timeout_ms(&self, mode: &str) -> u64 {
        self.config
            .providers
            .get(mode)
            .and_then(|p| p.idle_timeout_ms)
            .unwrap_or(self.config.reaper.idle_timeout_ms)
    }

    /// Sessions due for reaping now.
    fn idle_sessions(&self, now: u64) -> Vec<Arc<Session>> {
        self.list()
            .into_iter()
            .filter(|s| s.is_running())
            .filter(|s| {
                let timeout = self.idle_timeout_ms(&s.info().mode);
                let Some(detached_since) = s.detached_since_ms() else {
                    return false;
                };
                let idle_since = detached_since.max(s.last_meaningful_activity_ms());
                timeout > 0 && now.saturating_sub(idle_since) >= timeout
            })
            .collect()
    }

    /// Ends every session that is due; returns how many.
    pub fn reap_idle(&self) -> usize {
        let due = self.idle_sessions(now_ms());
        if due.is_empty() {
            return 0;
        }
        let accounting = self.accounting();
        for session in &due {
            let freed = accounting
                .usage_of(session.terminal_id())
                .unwrap_or_default();
            tracing::info!(
                terminal = %session.terminal_id(),
                mode = %session.info().mode,
                session_ref = session.session_ref().map(tracing::field::display),
                idle_ms = now_ms().saturating_sub(session.last_meaningful_activity_ms()),
                freed_processes = freed.processes,
                freed_rss_bytes = freed.rss_bytes,
                freed_pss_bytes = freed.pss_bytes,
                "reaping an idle detached session"
            );
            self.counters.reaped.add(&session.info().mode, 1);
            session.kill();
        }
        self.announce_change(due.iter().map(|s| s.terminal_id().to_owned()).collect());
        due.len()
    }

    /// Checks every `check_interval_ms` from now on.
    pub fn start_reaper(self: &Arc<Self>) {
        let interval = Duration::from_millis(self.config.reaper.check_interval_ms.max(50));
        self.every(interval, |registry| {
            registry.reap_idle();
        });
    }
}
