//! Whether a coding agent is working or waiting for its user, from what
//! passes through its terminal, as freshell's activity trackers tell it:
//! a submitted line starts a turn (the agent is busy), a bell rung outside
//! any escape sequence ends one (claude's stop hook and codex's
//! `tui.notification_method=bel` ring it when a turn completes), and the
//! agent is idle when no turn is left in flight. A turn completion that
//! leaves the agent idle becomes "truly idle" (`terminal.idle`, the edge a
//! client rings on) once `IDLE_GRACE` has passed without a new submit.
//!
//! The tracker only keeps state; the session feeds it input and output and
//! publishes what it returns.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long an agent must stay idle after a turn completes before it is
/// announced as truly idle (freshell's grace).
pub const IDLE_GRACE: Duration = Duration::from_secs(2);

/// A busy agent that has written nothing for this long is taken to be idle
/// (a turn whose bell never came), without a completion.
pub const BUSY_DEADMAN: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Idle,
    Busy,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Busy => "busy",
        }
    }
}

/// Something about an agent's activity that viewers are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnChange {
    /// The phase changed at `at` (ms since the epoch).
    Phase { phase: Phase, at: u64 },
    /// Turn number `completion_seq` (1, 2, …) completed at `at`.
    TurnComplete { completion_seq: u64, at: u64 },
    /// The agent is still idle `IDLE_GRACE` after its last turn completed.
    Idle { at: u64 },
}

/// Where the output scan stands, across reads: a bell ends an OSC or DCS
/// and is no signal there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
enum Scan {
    #[default]
    Text,
    Escape,
    ControlSequence,
    /// Inside an OSC, DCS, SOS, PM or APC string.
    String,
    /// ESC inside a string: `\` ends it.
    StringEscape,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TurnTracker {
    phase: Phase,
    /// Submits not yet answered by a bell.
    in_flight: u32,
    updated_at: u64,
    last_output_at: u64,
    /// The last completed turn: its number and when.
    latest_completion: Option<(u64, u64)>,
    /// The completion whose truly-idle announcement is still due.
    idle_due: Option<u64>,
    scan: Scan,
}

impl TurnTracker {
    pub fn new(now: u64) -> Self {
        Self {
            phase: Phase::Idle,
            in_flight: 0,
            updated_at: now,
            last_output_at: now,
            latest_completion: None,
            idle_due: None,
            scan: Scan::default(),
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// When the phase last changed (ms since the epoch).
    pub fn updated_at(&self) -> u64 {
        self.updated_at
    }

    /// The last completed turn's number and time.
    pub fn latest_completion(&self) -> Option<(u64, u64)> {
        self.latest_completion
    }

    /// The completion whose truly-idle announcement is still due.
    pub fn idle_due(&self) -> Option<u64> {
        self.idle_due
    }

    /// Input was written to the agent: a write that ends with Enter
    /// submits a line.
    pub fn input(&mut self, bytes: &[u8], now: u64) -> Option<TurnChange> {
        if bytes.last() != Some(&b'\r') {
            return None;
        }
        self.in_flight += 1;
        self.idle_due = None;
        self.last_output_at = now;
        self.set_phase(Phase::Busy, now)
    }

    /// The agent wrote `text`: every bell outside an escape sequence ends a
    /// turn in flight.
    pub fn output(&mut self, text: &str, now: u64) -> Vec<TurnChange> {
        self.last_output_at = now;
        let mut changes = Vec::new();
        for byte in text.bytes() {
            if self.scan_byte(byte) && self.in_flight > 0 {
                self.in_flight -= 1;
                let completion_seq = self.latest_completion.map_or(1, |(seq, _)| seq + 1);
                self.latest_completion = Some((completion_seq, now));
                changes.push(TurnChange::TurnComplete {
                    completion_seq,
                    at: now,
                });
                if self.in_flight == 0 {
                    changes.extend(self.set_phase(Phase::Idle, now));
                    self.idle_due = Some(completion_seq);
                }
            }
        }
        changes
    }

    /// The agent itself says whether it is working (opencode's server
    /// does): starting to work starts a turn, stopping completes it.
    pub fn provider_reports(&mut self, busy: bool, now: u64) -> Vec<TurnChange> {
        self.last_output_at = now;
        match (busy, self.phase) {
            (true, Phase::Idle) => {
                self.in_flight = 1;
                self.idle_due = None;
                self.set_phase(Phase::Busy, now).into_iter().collect()
            }
            (false, Phase::Busy) => {
                self.in_flight = 0;
                let completion_seq = self.latest_completion.map_or(1, |(seq, _)| seq + 1);
                self.latest_completion = Some((completion_seq, now));
                self.idle_due = Some(completion_seq);
                let mut changes = vec![TurnChange::TurnComplete {
                    completion_seq,
                    at: now,
                }];
                changes.extend(self.set_phase(Phase::Idle, now));
                changes
            }
            _ => Vec::new(),
        }
    }

    /// Called `IDLE_GRACE` after turn `completion_seq` completed: the
    /// truly-idle announcement, if nothing started since.
    pub fn idle_grace_passed(&mut self, completion_seq: u64, now: u64) -> Option<TurnChange> {
        if self.idle_due != Some(completion_seq) || self.phase != Phase::Idle {
            return None;
        }
        self.idle_due = None;
        Some(TurnChange::Idle { at: now })
    }

    /// A busy agent silent for `BUSY_DEADMAN` is idle again.
    pub fn sweep(&mut self, now: u64) -> Option<TurnChange> {
        let silent_for = now.saturating_sub(self.last_output_at);
        if self.phase != Phase::Busy || silent_for < BUSY_DEADMAN.as_millis() as u64 {
            return None;
        }
        self.in_flight = 0;
        self.set_phase(Phase::Idle, now)
    }

    fn set_phase(&mut self, phase: Phase, now: u64) -> Option<TurnChange> {
        if self.phase == phase {
            return None;
        }
        self.phase = phase;
        self.updated_at = now;
        Some(TurnChange::Phase { phase, at: now })
    }

    /// Advances the escape-sequence scan by one byte; true for a bell that
    /// is a signal.
    fn scan_byte(&mut self, byte: u8) -> bool {
        const BEL: u8 = 0x07;
        const ESC: u8 = 0x1b;
        let (next, bell) = match (self.scan, byte) {
            (Scan::Text, BEL) => (Scan::Text, true),
            (Scan::Text, ESC) => (Scan::Escape, false),
            (Scan::Text, _) => (Scan::Text, false),
            (Scan::Escape, b'[') => (Scan::ControlSequence, false),
            (Scan::Escape, b']' | b'P' | b'X' | b'^' | b'_') => (Scan::String, false),
            (Scan::Escape, ESC) => (Scan::Escape, false),
            (Scan::Escape, _) => (Scan::Text, false),
            (Scan::ControlSequence, 0x40..=0x7e) => (Scan::Text, false),
            (Scan::ControlSequence, ESC) => (Scan::Escape, false),
            (Scan::ControlSequence, _) => (Scan::ControlSequence, false),
            (Scan::String, BEL) => (Scan::Text, false),
            (Scan::String, ESC) => (Scan::StringEscape, false),
            (Scan::String, _) => (Scan::String, false),
            (Scan::StringEscape, b'\\') => (Scan::Text, false),
            (Scan::StringEscape, ESC) => (Scan::StringEscape, false),
            (Scan::StringEscape, _) => (Scan::String, false),
        };
        self.scan = next;
        bell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_that_reports_its_work_has_turns_without_submits_or_bells() {
        let mut turns = TurnTracker::new(0);
        assert_eq!(
            turns.provider_reports(true, 5),
            vec![TurnChange::Phase {
                phase: Phase::Busy,
                at: 5
            }]
        );
        assert!(turns.provider_reports(true, 6).is_empty(), "still busy");
        assert_eq!(
            turns.provider_reports(false, 9),
            vec![
                TurnChange::TurnComplete {
                    completion_seq: 1,
                    at: 9
                },
                TurnChange::Phase {
                    phase: Phase::Idle,
                    at: 9
                }
            ]
        );
        assert!(turns.provider_reports(false, 10).is_empty(), "still idle");
        assert_eq!(turns.idle_due(), Some(1));
        turns.provider_reports(true, 11);
        assert_eq!(turns.idle_due(), None, "a new turn cancels the idle bell");
        assert_eq!(
            turns.provider_reports(false, 12)[0],
            TurnChange::TurnComplete {
                completion_seq: 2,
                at: 12
            }
        );
    }

    #[test]
    fn a_submit_starts_a_turn_and_the_bell_ends_it() {
        let mut turns = TurnTracker::new(0);
        assert_eq!(turns.input(b"fix the bug", 1), None);
        assert_eq!(
            turns.input(b"\r", 2),
            Some(TurnChange::Phase {
                phase: Phase::Busy,
                at: 2
            })
        );
        assert_eq!(turns.output("working…\r\n", 3), []);
        assert_eq!(
            turns.output("done\x07", 4),
            [
                TurnChange::TurnComplete {
                    completion_seq: 1,
                    at: 4
                },
                TurnChange::Phase {
                    phase: Phase::Idle,
                    at: 4
                },
            ]
        );
        assert_eq!(
            turns.idle_grace_passed(1, 2004),
            Some(TurnChange::Idle { at: 2004 })
        );
        assert_eq!(turns.idle_grace_passed(1, 2005), None, "announced once");
        // A bell with nothing in flight is no turn.
        assert_eq!(turns.output("\x07", 3000), []);
    }

    #[test]
    fn a_bell_that_ends_a_title_or_a_string_is_no_signal() {
        let mut turns = TurnTracker::new(0);
        turns.input(b"go\r", 1);
        assert_eq!(turns.output("\x1b]0;title\x07\x1b]8;;x\x1b", 2), []);
        assert_eq!(turns.output("\\\x1bP$q\x07", 3), []);
        assert_eq!(turns.phase(), Phase::Busy);
        assert_eq!(turns.output("\x1b[0m\x07", 4).len(), 2);
    }

    #[test]
    fn a_new_submit_in_the_grace_cancels_the_idle_announcement() {
        let mut turns = TurnTracker::new(0);
        turns.input(b"\r", 1);
        turns.output("\x07", 2);
        turns.input(b"again\r", 3);
        assert_eq!(turns.idle_grace_passed(1, 2002), None);
        assert_eq!(turns.phase(), Phase::Busy);
    }

    #[test]
    fn a_silent_busy_agent_falls_idle_after_the_deadman() {
        let mut turns = TurnTracker::new(0);
        turns.input(b"\r", 1000);
        assert_eq!(turns.sweep(60_000), None);
        assert_eq!(
            turns.sweep(1000 + BUSY_DEADMAN.as_millis() as u64),
            Some(TurnChange::Phase {
                phase: Phase::Idle,
                at: 121_000
            })
        );
        assert_eq!(turns.latest_completion(), None, "no completion invented");
    }
}
