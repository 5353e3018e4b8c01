//! A session as one image of the daemon hands it to the next.
//!
//! When the daemon executes a newer build of itself in place
//! (`crate::handover`), every session's child keeps running and its PTY
//! stays open; what the next image needs besides is written down here: the
//! identity freshell's clients know it by, the replay ring (so `sinceSeq`
//! resumes continue exactly), the screen as a repaint, the geometry and the
//! counters, and the bytes read but not yet passed on. Plain data: the
//! format (and its version, and how bulk text travels) is the handover's
//! business, not the core's.

use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::geometry::Geometry;
use super::output_gate::OutputGate;
use super::pty_process::PtyProcess;
use super::replay_ring::{Checkpoint, ReplayRing};
use super::size_policy::SizePolicy;
use super::terminal::ScreenModel;
use super::turn_tracker::TurnTracker;
use super::{ActivityEvent, Session, SessionConfig, SessionInfo, SessionRef, StartState};

#[derive(Debug, Serialize, Deserialize)]
pub struct SessionHandover {
    pub terminal_id: String,
    pub stream_id: String,
    pub mode: String,
    pub title: String,
    pub cwd: Option<String>,
    pub session_ref: Option<SessionRef>,
    pub bound_later: Option<SessionRef>,
    pub created_at_ms: u64,
    pub pid: Option<u32>,
    /// The PTY master's descriptor, left open across the exec.
    pub master_fd: i32,
    /// Set once the session has ended (all its output in the ring).
    pub exit_code: Option<i32>,
    /// The child's exit, when it was collected but the session had not
    /// ended yet (its last output still being read).
    pub collected_exit: Option<i32>,
    pub kill_requested: bool,
    /// Read from the PTY but not passed on yet (a split character, the
    /// start of a query): the next image decodes them first.
    pub unfinished_output: Vec<u8>,
    pub ring: RingHandover,
    pub screen: ScreenHandover,
    pub next_checkpoint_offset: u64,
    pub geometry: Geometry,
    pub size_policy: SizePolicy,
    pub last_activity_ms: u64,
    pub last_meaningful_activity_ms: u64,
    pub viewer_resyncs: u64,
    pub viewer_skipped_bytes: u64,
    /// The agent's turns (busy, turns in flight, the last completion), for
    /// the tracked modes. Absent in handovers written before it was kept.
    #[serde(default)]
    pub turns: Option<TurnTracker>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RingHandover {
    pub head_seq: u64,
    pub appended_bytes: u64,
    pub frames: Vec<FrameHandover>,
    pub checkpoints: Vec<CheckpointHandover>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FrameHandover {
    pub seq: u64,
    pub stream_offset: u64,
    #[serde(with = "crate::handover::side_text")]
    pub data: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CheckpointHandover {
    pub seq: u64,
    #[serde(with = "crate::handover::side_text")]
    pub repaint: String,
    pub cols: u16,
    pub rows: u16,
}

/// The screen model as a repaint (ending inside the sequence the output
/// ended inside of, if any).
#[derive(Debug, Serialize, Deserialize)]
pub struct ScreenHandover {
    pub cols: u16,
    pub rows: u16,
    pub title: Option<String>,
    pub through_seq: u64,
    pub through_offset: u64,
    #[serde(with = "crate::handover::side_text")]
    pub repaint: String,
}

impl ReplayRing {
    pub(super) fn hand_over(&self) -> RingHandover {
        let oldest = self.oldest_seq();
        RingHandover {
            head_seq: self.head_seq(),
            appended_bytes: self.appended_bytes(),
            frames: self
                .read_from(oldest, u64::MAX)
                .iter()
                .map(|frame| FrameHandover {
                    seq: frame.seq,
                    stream_offset: frame.stream_offset,
                    data: frame.data.to_string(),
                })
                .collect(),
            checkpoints: self
                .checkpoints()
                .map(|checkpoint| CheckpointHandover {
                    seq: checkpoint.seq,
                    repaint: checkpoint.repaint.to_string(),
                    cols: checkpoint.size.0,
                    rows: checkpoint.size.1,
                })
                .collect(),
        }
    }

    pub(super) fn taken_over(max_retained_bytes: u64, handed: RingHandover) -> ReplayRing {
        let mut ring = ReplayRing::restored(
            max_retained_bytes,
            handed.head_seq,
            handed.appended_bytes,
            handed
                .frames
                .into_iter()
                .map(|frame| (frame.seq, frame.stream_offset, frame.data)),
        );
        for checkpoint in handed.checkpoints {
            ring.add_checkpoint(Checkpoint {
                seq: checkpoint.seq,
                repaint: Arc::from(checkpoint.repaint),
                size: (checkpoint.cols, checkpoint.rows),
            });
        }
        ring
    }
}

impl ScreenModel {
    pub(super) fn hand_over(&self) -> ScreenHandover {
        let (cols, rows) = self.size();
        let snapshot = self.snapshot();
        ScreenHandover {
            cols,
            rows,
            title: self.title(),
            through_seq: snapshot.through_seq,
            through_offset: self.parsed_through_offset(),
            repaint: snapshot.repaint,
        }
    }

    pub(super) fn taken_over(handed: ScreenHandover) -> ScreenModel {
        let mut screen = ScreenModel::new(handed.cols, handed.rows);
        screen.feed_bytes(handed.repaint.as_bytes());
        screen.restore_title(handed.title);
        screen.skip_to(handed.through_seq, handed.through_offset);
        // `skip_to` forgets the unfinished sequence; the repaint ends in it.
        screen.note_unfinished(&handed.repaint);
        screen
    }
}

impl Session {
    /// Closes the output gate and writes the session down for the next
    /// image of the daemon. From here on nothing is read from the PTY nor
    /// collected of the child, until `resume_after_handover` (the handover
    /// did not happen) or the exec.
    pub fn hand_over(&self) -> SessionHandover {
        let unfinished_output = self.output_gate.pause();
        let screen = self.up_to_date_screen().hand_over();
        let ring = self.ring.lock().hand_over();
        let (viewer_resyncs, viewer_skipped_bytes) = self.viewer_drops();
        SessionHandover {
            terminal_id: self.info.terminal_id.clone(),
            stream_id: self.info.stream_id.clone(),
            mode: self.info.mode.clone(),
            title: self.info.title.clone(),
            cwd: self.info.cwd.clone(),
            session_ref: self.info.session_ref.clone(),
            bound_later: self.bound_later.get().cloned(),
            created_at_ms: self.info.created_at_ms,
            pid: self.process.pid(),
            master_fd: self.process.master_fd(),
            exit_code: self.exit_code(),
            collected_exit: *self.collected_exit.lock(),
            kill_requested: self.kill_requested.load(Ordering::SeqCst),
            unfinished_output,
            ring,
            screen,
            next_checkpoint_offset: self.next_checkpoint_offset.load(Ordering::Relaxed),
            geometry: self.geometry(),
            size_policy: self.size_policy(),
            last_activity_ms: self.last_activity_ms(),
            last_meaningful_activity_ms: self.last_meaningful_activity_ms(),
            viewer_resyncs,
            viewer_skipped_bytes,
            turns: self.turns.as_ref().map(|turns| turns.lock().clone()),
        }
    }

    /// What ran on timers in the earlier image and did not survive the
    /// exec: a kill under way goes on escalating (from the start of its
    /// grace), and a turn's truly-idle announcement still due is made.
    fn resume_timers_after_handover(self: &Arc<Self>) {
        if self.kill_requested.load(Ordering::SeqCst) && self.process.group_alive() {
            self.escalate_kill();
        }
        self.announce_idle_still_due();
    }

    /// Opens the output gate again after `hand_over`: the exec did not
    /// happen, and this image goes on serving.
    pub fn resume_after_handover(&self) {
        self.output_gate.resume();
    }

    /// The session an earlier image of the daemon handed over, its PTY
    /// master now `master` in this one. Must be called from within a tokio
    /// runtime. Its child goes on as if nothing happened: no resize, no
    /// signal; output it wrote meanwhile is waiting in the PTY.
    pub fn take_over(
        handed: SessionHandover,
        master: OwnedFd,
        config: SessionConfig,
        activity_events: Option<tokio::sync::broadcast::Sender<ActivityEvent>>,
    ) -> std::io::Result<Arc<Session>> {
        let adopted = PtyProcess::adopt(master, handed.pid)?;
        let info = SessionInfo {
            terminal_id: handed.terminal_id,
            stream_id: handed.stream_id,
            mode: handed.mode,
            title: handed.title,
            cwd: handed.cwd,
            session_ref: handed.session_ref,
            created_at_ms: handed.created_at_ms,
        };
        let ended = handed.exit_code.is_some();
        let state = StartState {
            ring: ReplayRing::taken_over(config.replay_ring_bytes, handed.ring),
            screen: ScreenModel::taken_over(handed.screen),
            next_checkpoint_offset: handed.next_checkpoint_offset,
            geometry: handed.geometry,
            size_policy: handed.size_policy,
            last_activity_ms: handed.last_activity_ms,
            last_meaningful_activity_ms: handed.last_meaningful_activity_ms,
            viewer_drops: (handed.viewer_resyncs, handed.viewer_skipped_bytes),
            exit_code: handed.exit_code,
            collected_exit: handed.collected_exit,
            kill_requested: handed.kill_requested,
            bound_later: handed.bound_later,
            output_gate: OutputGate::resuming(&handed.unfinished_output),
            turns: handed.turns,
        };
        let input = super::input_queue::input_queue(adopted.input)?;
        let session = Self::assemble(info, config, adopted.process, input, state, activity_events);
        if !ended {
            session.start_threads(adopted.output);
        }
        session.resume_timers_after_handover();
        Ok(session)
    }
}
