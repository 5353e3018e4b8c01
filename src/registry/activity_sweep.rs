//! A busy agent that has gone silent too long is taken to be idle again
//! (`TurnTracker::sweep`); this checks every tracked session now and then.

use std::sync::Arc;
use std::time::Duration;

use super::Registry;

/// How often busy agents are checked (freshell sweeps as often).
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

impl Registry {
    pub fn start_activity_sweep(self: &Arc<Self>) {
        self.every(SWEEP_INTERVAL, |registry| {
            for session in registry.list() {
                session.sweep_activity();
            }
        });
    }
}
