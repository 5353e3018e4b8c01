//! How the screen model follows the output: fed from the replay ring beside
//! the viewers (raw output never waits for the parser), caught up on the
//! blocking pool or inline when it falls too far behind, and checkpointed
//! into the ring so a reattaching viewer can be given history. Also the
//! repaints taken from it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{now_ms, Checkpoint, ScreenModel, ScreenSnapshot, Session};

/// Unparsed output above which the reader waits for the model to catch up
/// before it reads on, so the screen model can never fall out of the ring.
const MAX_SCREEN_LAG_BYTES: u64 = 4 * 1024 * 1024;

/// Unparsed output at which the model is caught up at once, in the
/// background. Less waits up to `SCREEN_FOLLOW_DELAY`: a catch-up is a thread
/// woken on the blocking pool, and one per PTY read (~4 KiB in a flood, a
/// few bytes for an echo) cost the producer a context switch per read and
/// competed with the viewer's socket task for the CPU on an echo's path.
/// Whatever needs the screen itself (a query's answer, an attach, a resync,
/// a checkpoint) catches the model up first, so the lag is never seen.
const SCREEN_FOLLOW_BATCH_BYTES: u64 = 64 * 1024;

/// How long output below the follow batch may wait for the model.
const SCREEN_FOLLOW_DELAY: Duration = Duration::from_millis(10);

/// Output between two checkpoints of the screen (see `replay_ring.rs`), at
/// least: a viewer over its replay budget loses at most this much of the
/// history the budget could hold, and the model formats one screen per
/// interval. (16 KiB: freshell's 128 KiB budget then reaches ≥ 10 000 lines
/// of `seq` output, ≥ 7/8 of what the budget holds at best.)
pub(super) const CHECKPOINT_INTERVAL_BYTES: u64 = 16 * 1024;

/// Output per checkpoint byte, at least: a screen whose repaint is large (a
/// busy TUI's is ~17 KB) is checkpointed less often, so checkpoints cost at
/// most a quarter of the output's bytes and of the model's time.
const OUTPUT_BYTES_PER_CHECKPOINT_BYTE: u64 = 4;

/// Visible cells that must change for output to count as activity (for
/// the idle reaper): spinners, clocks and same-text redraws change fewer.
const MEANINGFUL_CHANGED_CELLS: usize = 12;

/// Quiet time after which a session's screen model rests (see
/// `ScreenModel::rest`): an idle session then costs a few KiB of repaint
/// instead of an emulator's grids. Short, because waking is cheap (one
/// repaint parsed, a fraction of a millisecond).
pub const SCREEN_REST_AFTER_QUIET_MS: u64 = 2_000;

impl Session {
    /// Puts the screen model at rest if no output or input came for
    /// `SCREEN_REST_AFTER_QUIET_MS`, after it has caught up.
    pub fn rest_screen_if_quiet(&self, now_ms: u64) {
        if now_ms.saturating_sub(self.last_activity_ms()) < SCREEN_REST_AFTER_QUIET_MS {
            return;
        }
        let mut screen = self.up_to_date_screen();
        screen.rest();
    }

    /// The repaint of the oldest checkpoint after frame `after_seq` or
    /// later, drawn at the screen's present size, whose repaint and
    /// following frames cost at most `budget` (see `replay_ring.rs`).
    pub(super) fn checkpoint_within_budget(
        &self,
        after_seq: u64,
        budget: u64,
        cost: &dyn Fn(&super::Frame) -> u64,
    ) -> Option<ScreenSnapshot> {
        let size = self.screen_size();
        let checkpoint = self
            .ring
            .lock()
            .checkpoint_within_budget(after_seq, size, budget, cost)?;
        Some(ScreenSnapshot {
            through_seq: checkpoint.seq,
            repaint: checkpoint.repaint.to_string(),
        })
    }

    /// Whether the screen model is at rest (for tests and metrics).
    pub fn screen_is_resting(&self) -> bool {
        self.screen.lock().is_resting()
    }

    /// Has the model follow output appended up to stream offset
    /// `appended`, in the background.
    pub(super) fn screen_follow(self: &Arc<Self>, appended: u64) {
        let lag = appended.saturating_sub(self.screen_parsed_offset.load(Ordering::Relaxed));
        if lag >= SCREEN_FOLLOW_BATCH_BYTES {
            self.screen_catch_ups_at_once
                .fetch_add(1, Ordering::Relaxed);
            self.schedule_screen_catch_up();
        } else if lag > 0 {
            self.follow_later();
        }
    }

    /// Catches the model up `SCREEN_FOLLOW_DELAY` from now, on a timer of
    /// the PTY loop (no thread is woken until then), if nothing did sooner.
    fn follow_later(self: &Arc<Self>) {
        if self.screen_follow_later_armed.swap(true, Ordering::AcqRel) {
            return;
        }
        let session = Arc::clone(self);
        super::pty_loop::handle().spawn(async move {
            tokio::time::sleep(SCREEN_FOLLOW_DELAY).await;
            session
                .screen_follow_later_armed
                .store(false, Ordering::Release);
            let appended = session.ring.lock().appended_bytes();
            if appended > session.screen_parsed_offset.load(Ordering::Relaxed) {
                session.schedule_screen_catch_up();
            }
        });
    }

    /// Whether the model fell so far behind the output that it could fall
    /// out of the ring: the reader then waits for it before reading on.
    pub(super) fn screen_too_far_behind(&self) -> bool {
        let appended = self.ring.lock().appended_bytes();
        let lag = appended.saturating_sub(self.screen_parsed_offset.load(Ordering::Relaxed));
        lag > MAX_SCREEN_LAG_BYTES.min(self.config.replay_ring_bytes / 2)
    }

    pub(super) fn schedule_screen_catch_up(self: &Arc<Self>) {
        if self.screen_catch_up_scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let session = Arc::clone(self);
        self.runtime.spawn_blocking(move || {
            session
                .screen_catch_up_scheduled
                .store(false, Ordering::Release);
            session.catch_up_screen();
        });
    }

    /// Feeds the screen model every frame it has not seen yet.
    pub(super) fn catch_up_screen(&self) {
        drop(self.up_to_date_screen());
    }

    /// The screen model, locked, after it has caught up with the ring.
    pub(super) fn up_to_date_screen(&self) -> parking_lot::MutexGuard<'_, ScreenModel> {
        let mut screen = self.screen.lock();
        let mut fed = false;
        loop {
            let next = screen.parsed_through_seq() + 1;
            let frames = {
                let ring = self.ring.lock();
                if next < ring.oldest_seq() {
                    tracing::warn!(
                        terminal = %self.info.terminal_id,
                        "screen model fell out of the replay ring; skipping to its oldest frame"
                    );
                    let oldest = ring.oldest_seq();
                    let offset = ring
                        .get(oldest)
                        .map_or(ring.appended_bytes(), |f| f.stream_offset);
                    screen.skip_to(oldest - 1, offset);
                    continue;
                }
                // Up to the next checkpoint, so checkpoints fall one
                // interval apart (give or take a frame).
                let checkpoint_due = self.next_checkpoint_offset.load(Ordering::Relaxed);
                let until_checkpoint =
                    checkpoint_due.saturating_sub(screen.parsed_through_offset());
                ring.read_from(next, until_checkpoint.max(1))
            };
            if frames.is_empty() {
                break;
            }
            screen.feed(&frames);
            fed = true;
            let parsed = screen.parsed_through_offset();
            self.screen_parsed_offset.store(parsed, Ordering::Relaxed);
            if parsed >= self.next_checkpoint_offset.load(Ordering::Relaxed) {
                self.checkpoint(&screen, parsed);
            }
        }
        if fed && screen.take_text_change() >= MEANINGFUL_CHANGED_CELLS {
            self.last_meaningful_activity_ms
                .store(now_ms(), Ordering::Relaxed);
        }
        screen
    }

    /// Puts a repaint of `screen`, which has parsed output up to `parsed`,
    /// into the ring. On the alternate screen nothing scrolls into history,
    /// so a checkpoint would give a viewer nothing the current screen does
    /// not: none is made there.
    fn checkpoint(&self, screen: &ScreenModel, parsed: u64) {
        let mut interval = CHECKPOINT_INTERVAL_BYTES;
        if !screen.on_alternate_screen() {
            let snapshot = screen.snapshot();
            interval =
                interval.max(snapshot.repaint.len() as u64 * OUTPUT_BYTES_PER_CHECKPOINT_BYTE);
            self.ring.lock().add_checkpoint(Checkpoint {
                seq: snapshot.through_seq,
                repaint: snapshot.repaint.into(),
                size: screen.size(),
            });
        }
        self.next_checkpoint_offset
            .store(parsed + interval, Ordering::Relaxed);
    }

    /// The current screen as a repaint, up to date with all output so far.
    pub fn snapshot(&self) -> ScreenSnapshot {
        self.up_to_date_screen().snapshot()
    }

    /// A repaint at most `max_lag` bytes of output behind the head: the
    /// model as it stands when it is that close (the frames after it are
    /// still in the ring), else one caught up with all output so far. A
    /// viewer resyncing during a flood then costs one screen of formatting,
    /// not megabytes of parsing on the socket's task.
    pub fn recent_snapshot(&self, max_lag: u64) -> ScreenSnapshot {
        {
            let screen = self.screen.lock();
            let ring = self.ring.lock();
            let lag = ring
                .appended_bytes()
                .saturating_sub(screen.parsed_through_offset());
            if lag <= max_lag && screen.parsed_through_seq() + 1 >= ring.oldest_seq() {
                return screen.snapshot();
            }
        }
        self.snapshot()
    }

    /// (cols, rows) the screen model has now.
    fn screen_size(&self) -> (u16, u16) {
        self.screen.lock().size()
    }
}

#[cfg(test)]
#[path = "screen_feed_tests.rs"]
mod tests;
