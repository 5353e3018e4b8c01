//! Background work the registry does on a timer (accounting, reaping),
//! for as long as the registry lives and the daemon is not shutting down.

use std::sync::Arc;
use std::time::Duration;

use super::Registry;

impl Registry {
    /// Runs `work` every `interval` on the blocking pool (it may read /proc
    /// or take locks), until the registry is dropped or shuts down.
    pub(super) fn every(self: &Arc<Self>, interval: Duration, work: fn(&Registry)) {
        let registry = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                let Some(registry) = registry.upgrade() else {
                    return;
                };
                if registry.is_shutting_down() {
                    return;
                }
                let _ = tokio::task::spawn_blocking(move || work(&registry)).await;
            }
        });
    }
}
