//! Quiet sessions' screen models rest (`ScreenModel::rest`): an idle
//! session costs the daemon a repaint, not an emulator's two grids.

use std::time::Duration;

use super::Registry;
use crate::session::{now_ms, SCREEN_REST_AFTER_QUIET_MS};

impl Registry {
    pub fn start_resting_quiet_screens(self: &std::sync::Arc<Self>) {
        let interval = Duration::from_millis(SCREEN_REST_AFTER_QUIET_MS / 2);
        self.every(interval, |registry| {
            let now = now_ms();
            for session in registry.list() {
                session.rest_screen_if_quiet(now);
            }
        });
    }
}
