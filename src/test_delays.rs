//! The delays tests use to widen a race (`PTYHUB_TEST_*_MS`): each names a
//! place that waits that long when its variable is set, so a test can put
//! an event inside a window that is otherwise microseconds wide. Unset, or
//! 0, nothing waits. Each place says in its own doc why it has one.

use std::time::Duration;

/// The delay `var` asks for, in milliseconds; `None` unless a positive number.
pub fn from_env(var: &str) -> Option<Duration> {
    std::env::var(var)
        .ok()
        .and_then(|ms| ms.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis)
}
