//! freshell's per-socket limit on creates: at most N non-restore creates in
//! a rolling window (10 in 10 s), so a runaway client cannot spawn without
//! bound. Restores are exempt: after a restart every pane restores at once.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub struct CreateRate {
    max: usize,
    window: Duration,
    recent: VecDeque<Instant>,
}

impl CreateRate {
    pub fn new(max: usize, window: Duration) -> CreateRate {
        CreateRate {
            max,
            window,
            recent: VecDeque::new(),
        }
    }

    /// Counts a create now; false when it is one too many.
    pub fn allow(&mut self, now: Instant) -> bool {
        while self
            .recent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= self.window)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.max {
            return false;
        }
        self.recent.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_create_in_ten_seconds_is_refused_and_later_ones_pass() {
        let mut rate = CreateRate::new(10, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..10 {
            assert!(rate.allow(start));
        }
        assert!(!rate.allow(start + Duration::from_secs(5)));
        assert!(rate.allow(start + Duration::from_secs(10)));
    }
}
