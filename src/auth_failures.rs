//! Failed authentication, per peer: counted, logged and slowed down.
//!
//! Without this a wrong token was answered as fast as it could be read (4 670 guesses/s over
//! HTTP) and nobody heard of it. Now each failure is logged (peer, route, the peer's count;
//! never the token) and counted for `/metrics`, and after a few failures a peer's wrong
//! answers come only after a delay that doubles with each further failure. A right token is
//! never delayed: on loopback the owner and a local attacker share one address, so a lockout
//! would lock the owner out too. The delay holds the guesser's connection, which the
//! connection budget bounds. Every loopback address (127.0.0.0/8, ::1) counts as one peer, so
//! changing the source address gains nothing.
//!
//! The log is bounded twice, so a flood cannot fill a disk: per peer, every early failure and
//! then only the ones at powers of two; overall, at most `MAX_LOG_LINES_PER_SECOND` lines a
//! second (many peers at once), the next line saying how many were left out.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::registry::LabeledCounter;

/// Failures a peer may make before its wrong answers are delayed.
pub const FREE_FAILURES: u64 = 5;
/// The delay after the first failure beyond the free ones; it doubles from there.
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
pub const MAX_DELAY: Duration = Duration::from_secs(10);
/// A peer without a failure for this long starts over.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Peers remembered at most; beyond it the quiet ones are forgotten first.
const MAX_PEERS: usize = 4096;

/// Failure lines logged at most per second, all peers together.
const MAX_LOG_LINES_PER_SECOND: u32 = 10;

/// Where a token was refused (the `route` label of the metric).
pub const ROUTES: &[&str] = &["http", "ws_hello", "login_code"];

#[derive(Default)]
pub struct AuthFailures {
    peers: Mutex<HashMap<IpAddr, PeerFailures>>,
    log_budget: Mutex<LogBudget>,
    /// Failures by route, since start.
    pub total: LabeledCounter,
}

/// Failure lines logged in the current second, and those left out since the last one logged.
#[derive(Default)]
struct LogBudget {
    second_started: Option<Instant>,
    lines: u32,
    left_out: u64,
}

impl LogBudget {
    /// `Some(lines left out before this one)` when this line may be logged.
    fn take(&mut self, now: Instant) -> Option<u64> {
        let new_second = self
            .second_started
            .is_none_or(|started| now.duration_since(started) >= Duration::from_secs(1));
        if new_second {
            self.second_started = Some(now);
            self.lines = 0;
        }
        if self.lines >= MAX_LOG_LINES_PER_SECOND {
            self.left_out += 1;
            return None;
        }
        self.lines += 1;
        Some(std::mem::take(&mut self.left_out))
    }
}

struct PeerFailures {
    count: u64,
    last: Instant,
}

impl AuthFailures {
    /// Records one wrong token or login code from `peer` on `route` (`path` says where, for the
    /// log) and returns how long to wait before answering.
    pub fn record(&self, peer: IpAddr, route: &'static str, path: &str) -> Duration {
        let peer = peer_key(peer);
        let now = Instant::now();
        let count = {
            let mut peers = self.peers.lock();
            if peers.len() >= MAX_PEERS && !peers.contains_key(&peer) {
                peers.retain(|_, p| now.duration_since(p.last) < FORGET_AFTER);
                if peers.len() >= MAX_PEERS {
                    peers.clear();
                }
            }
            let entry = peers.entry(peer).or_insert(PeerFailures {
                count: 0,
                last: now,
            });
            if now.duration_since(entry.last) >= FORGET_AFTER {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
            entry.count
        };
        self.total.add(route, 1);
        let delay = delay_after(count);
        // Every early failure, then at powers of two: a flood cannot flood the log.
        let worth_a_line = count <= FREE_FAILURES + 1 || count.is_power_of_two();
        let left_out = worth_a_line
            .then(|| self.log_budget.lock().take(now))
            .flatten();
        if let Some(left_out) = left_out {
            // What was refused, never what was presented.
            let refused = match route {
                "login_code" => "a wrong, used or expired login code",
                "ws_hello" => "a wrong token in hello",
                _ => "a wrong token",
            };
            tracing::warn!(
                %peer,
                route,
                path,
                count,
                delay_ms = delay.as_millis() as u64,
                // Absent unless the overall budget left lines out.
                lines_left_out = (left_out > 0).then_some(left_out),
                "authentication failed: {refused}"
            );
        }
        delay
    }
}

/// Wrong answers wait this long after the peer's `count`th failure.
pub fn delay_after(count: u64) -> Duration {
    let Some(beyond) = count.checked_sub(FREE_FAILURES + 1) else {
        return Duration::ZERO;
    };
    let factor = 1u32.checked_shl(beyond.min(31) as u32).unwrap_or(u32::MAX);
    FIRST_DELAY.saturating_mul(factor).min(MAX_DELAY)
}

fn peer_key(peer: IpAddr) -> IpAddr {
    let peer = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
        v4 => v4,
    };
    if peer.is_loopback() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        peer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_after_the_free_failures_and_doubles_up_to_the_cap() {
        assert_eq!(delay_after(FREE_FAILURES), Duration::ZERO);
        assert_eq!(delay_after(FREE_FAILURES + 1), FIRST_DELAY);
        assert_eq!(delay_after(FREE_FAILURES + 3), FIRST_DELAY * 4);
        assert_eq!(delay_after(1_000_000), MAX_DELAY);
    }

    #[test]
    fn the_log_budget_leaves_lines_out_within_a_second_and_counts_them_in_the_next() {
        let mut budget = LogBudget::default();
        let start = Instant::now();
        for _ in 0..MAX_LOG_LINES_PER_SECOND {
            assert_eq!(budget.take(start), Some(0));
        }
        assert_eq!(budget.take(start), None);
        assert_eq!(budget.take(start + Duration::from_millis(999)), None);
        assert_eq!(budget.take(start + Duration::from_secs(1)), Some(2));
        assert_eq!(budget.take(start + Duration::from_secs(1)), Some(0));
    }

    #[test]
    fn every_loopback_address_is_one_peer() {
        let failures = AuthFailures::default();
        for last in 1..=FREE_FAILURES {
            let peer = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last as u8));
            assert_eq!(failures.record(peer, "http", "/"), Duration::ZERO);
        }
        let v6 = "::1".parse().expect("ip");
        assert_eq!(failures.record(v6, "ws_hello", "/ws"), FIRST_DELAY);
        let elsewhere = "192.0.2.1".parse().expect("ip");
        assert_eq!(failures.record(elsewhere, "http", "/"), Duration::ZERO);
        assert_eq!(failures.total.get("http"), 6);
    }
}
