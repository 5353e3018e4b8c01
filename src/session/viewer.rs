//! A viewer: one cursor over a session's replay ring.
//!
//! The ring is every viewer's queue. A viewer's backlog is the output between
//! its cursor and the head; when that passes the viewer's bound (or the ring
//! has evicted the cursor) the backlog is dropped and the viewer is resynced:
//! it learns exactly which seqs it skipped and gets the current screen
//! instead. The PTY and the other viewers never wait for anyone.

use std::sync::Arc;

use tokio::sync::Notify;

use super::frame::Frame;
use super::terminal::ScreenSnapshot;
use super::Session;

/// Why a viewer does not receive some seqs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The replay it asked for is larger than its replay budget.
    OverReplayBudget,
    /// The ring no longer holds what it asked for.
    OlderThanRing,
    /// It fell further behind live output than its queue bound.
    QueueOverflow,
}

/// An inclusive range of seqs a viewer will never receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub from_seq: u64,
    pub to_seq: u64,
    pub reason: SkipReason,
}

/// What a viewer asks for when it attaches.
pub struct AttachRequest<'a> {
    /// Last seq the viewer already has (0: none).
    pub since_seq: u64,
    /// Largest replay, in the units of `replay_cost`, before the screen is
    /// sent instead of history.
    pub replay_budget: u64,
    pub replay_cost: &'a dyn Fn(&Frame) -> u64,
    /// Who the viewer belongs to (a socket); used for geometry arbitration.
    pub owner: u64,
    /// Notified whenever the viewer may have something to read.
    pub wake: Arc<Notify>,
    /// The viewer's queue bound: the most output it may fall behind.
    pub max_queued_bytes: u64,
}

/// What an attach will deliver, in the order it must be delivered.
#[derive(Debug)]
pub struct AttachPlan {
    pub head_seq: u64,
    /// First seq of the replay (the repaint's seq when there is one).
    pub replay_from_seq: u64,
    /// Last seq delivered as replay; later seqs are live.
    pub replay_to_seq: u64,
    /// History the viewer will not get (announced before any output).
    pub skipped: Option<Skipped>,
    /// Replaces seq `replay_from_seq` with a repaint of the screen.
    pub repaint: Option<ScreenSnapshot>,
}

/// A viewer that dropped its backlog: the gap to announce, then the screen.
#[derive(Debug)]
pub struct Resync {
    pub skipped: Option<Skipped>,
    pub repaint: ScreenSnapshot,
}

#[derive(Debug)]
pub enum ViewerEvent {
    /// The next frames, in order. Seqs ≤ `replay_to_seq` are replay.
    Output {
        frames: Vec<Arc<Frame>>,
        replay_to_seq: u64,
    },
    Resync(Resync),
    /// The child exited and the viewer has received everything it wrote.
    Exited {
        exit_code: i32,
    },
    /// Nothing to read now; wait for the wake notification.
    Idle,
}

/// Counters a viewer keeps about itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct ViewerStats {
    pub resyncs: u64,
    pub skipped_frames: u64,
    pub skipped_bytes: u64,
}

pub struct Viewer {
    session: Arc<Session>,
    id: u64,
    next_seq: u64,
    replay_to_seq: u64,
    max_queued_bytes: u64,
    stats: ViewerStats,
}

impl Session {
    /// Attaches a viewer and plans its replay: raw history when it fits the
    /// budget and the ring, otherwise the current screen.
    pub fn attach(self: &Arc<Self>, request: AttachRequest<'_>) -> (AttachPlan, Viewer) {
        let want_from = request.since_seq.saturating_add(1);
        let (head, within_budget) = {
            let ring = self.ring.lock();
            let first =
                ring.first_seq_within_budget(want_from, request.replay_budget, request.replay_cost);
            (ring.head_seq(), first)
        };
        let id = self.add_viewer(request.owner, request.wake);
        let mut viewer = Viewer {
            session: Arc::clone(self),
            id,
            next_seq: want_from,
            replay_to_seq: head,
            max_queued_bytes: request.max_queued_bytes,
            stats: ViewerStats::default(),
        };
        if want_from > head || within_budget == Some(want_from) {
            // Everything asked for fits (or nothing is asked for): raw replay.
            let from = want_from.min(head + 1);
            viewer.next_seq = from;
            let plan = AttachPlan {
                head_seq: head,
                replay_from_seq: from,
                replay_to_seq: head,
                skipped: None,
                repaint: None,
            };
            return (plan, viewer);
        }
        let reason = if within_budget.is_some() {
            SkipReason::OverReplayBudget
        } else {
            SkipReason::OlderThanRing
        };
        // From a checkpoint when one fits: the screen is exact from there
        // and the frames after it give the viewer history. Else the screen
        // as it is now, and no history.
        let repaint = self
            .checkpoint_within_budget(want_from, request.replay_budget, request.replay_cost)
            .unwrap_or_else(|| self.snapshot());
        let repaint_seq = repaint.through_seq;
        let head = self.head_seq().max(repaint_seq);
        viewer.next_seq = repaint_seq + 1;
        viewer.replay_to_seq = head;
        let plan = AttachPlan {
            head_seq: head,
            replay_from_seq: repaint_seq,
            replay_to_seq: head,
            skipped: skipped_range(want_from, repaint_seq, reason),
            repaint: Some(repaint),
        };
        (plan, viewer)
    }
}

/// Seqs `from..repaint_seq` (the repaint itself stands in for `repaint_seq`).
fn skipped_range(from_seq: u64, repaint_seq: u64, reason: SkipReason) -> Option<Skipped> {
    (from_seq < repaint_seq).then_some(Skipped {
        from_seq,
        to_seq: repaint_seq - 1,
        reason,
    })
}

impl Viewer {
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    pub fn stats(&self) -> ViewerStats {
        self.stats
    }

    /// Seq of the next frame this viewer will receive.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The next thing to deliver, taking at most about `max_bytes` of output.
    pub fn poll(&mut self, max_bytes: u64) -> ViewerEvent {
        // Read the exit state first: it is set only after the last append,
        // so "exited and nothing left" really means nothing left.
        let exit_code = self.session.exit_code();
        let (backlog, frames) = {
            let ring = self.session.ring.lock();
            if self.next_seq > ring.head_seq() {
                (Some(0), Vec::new())
            } else {
                let backlog = ring.bytes_from(self.next_seq);
                let fits = backlog.is_some_and(|b| b <= self.max_queued_bytes);
                let frames = if fits {
                    ring.read_from(self.next_seq, max_bytes)
                } else {
                    Vec::new()
                };
                (backlog.filter(|_| fits), frames)
            }
        };
        if backlog.is_none() {
            return ViewerEvent::Resync(self.resync());
        }
        if let Some(last) = frames.last() {
            self.next_seq = last.seq + 1;
            return ViewerEvent::Output {
                frames,
                replay_to_seq: self.replay_to_seq,
            };
        }
        match exit_code {
            Some(exit_code) => ViewerEvent::Exited { exit_code },
            None => ViewerEvent::Idle,
        }
    }

    fn resync(&mut self) -> Resync {
        let skipped_bytes = self
            .session
            .ring
            .lock()
            .bytes_from(self.next_seq)
            .unwrap_or(0);
        // Half the bound: the frames after the repaint then fit well within
        // it, and the repaint is newer than the cursor, which is more than
        // the whole bound behind. From a checkpoint when one is that close,
        // so the frames after it give the viewer history, as on attach.
        let within = self.max_queued_bytes / 2;
        let repaint = self
            .session
            .checkpoint_within_budget(self.next_seq, within, &Frame::len_bytes)
            .unwrap_or_else(|| self.session.recent_snapshot(within));
        let skipped = skipped_range(
            self.next_seq,
            repaint.through_seq,
            SkipReason::QueueOverflow,
        );
        if let Some(skipped) = skipped {
            self.stats.skipped_frames += skipped.to_seq - skipped.from_seq + 1;
        }
        self.stats.skipped_bytes += skipped_bytes;
        self.stats.resyncs += 1;
        self.session.count_viewer_drop(skipped_bytes);
        tracing::debug!(
            terminal = %self.session.terminal_id(),
            from = self.next_seq,
            to = repaint.through_seq,
            "viewer fell behind; resyncing with the screen"
        );
        self.next_seq = repaint.through_seq + 1;
        Resync { skipped, repaint }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.session.remove_viewer(self.id);
    }
}
