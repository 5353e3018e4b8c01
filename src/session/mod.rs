//! The session core: one child on one PTY, its screen, its history and its
//! viewers. Nothing here knows about WebSocket, JSON or freshell.
//!
//! Output flows one way: the PTY reader (`pty_io`) decodes UTF-8, cuts frames
//! (`framing`), appends them to the replay ring and wakes the viewers; the
//! screen model catches up from the ring beside them. Each viewer reads the
//! ring through its own cursor (`viewer`), so a slow viewer costs nothing to
//! the PTY or to other viewers.

mod activity;
mod exit_status;
mod frame;
mod framing;
mod geometry;
mod handover;
mod input_queue;
mod launch;
mod output_gate;
mod pty_io;
mod pty_loop;
mod pty_process;
mod query_filter;
mod replay_ring;
mod screen_feed;
mod shared_focus;
mod size_policy;
mod terminal;
mod turn_tracker;
mod utf8_stream;
mod viewer;
mod viewer_input;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{watch, Notify};

pub use activity::{activity_channel, Activity, ActivityChange, ActivityEvent, TRACKED_MODES};
pub use frame::Frame;
pub use framing::FrameLimit;
pub use geometry::{Geometry, GeometryAuthority};
pub use handover::SessionHandover;
pub use launch::LaunchSpec;
pub use pty_process::SpawnError;
pub use terminal::ScreenSnapshot;
pub use utf8_stream::Utf8Stream;
pub use viewer::{AttachPlan, AttachRequest, Resync, SkipReason, Skipped, Viewer, ViewerEvent};

use input_queue::{InputQueue, QueuedInput};
use output_gate::OutputGate;
use pty_process::PtyProcess;

use shared_focus::SharedFocus;
use size_policy::SizeArbiter;
// Public for benchmarks and tests of the hot paths; sessions use them internally.
pub use query_filter::{Piece, Query, QueryFilter, Terminator};
pub use replay_ring::{Checkpoint, ReplayRing};
pub use screen_feed::SCREEN_REST_AFTER_QUIET_MS;
pub use size_policy::SizePolicy;
pub use terminal::{ClipArea, ClippedView, ScreenModel, SharedTheme, Theme, ThemeError};
pub use turn_tracker::{Phase, TurnChange};

/// Identity of a provider session (e.g. one Claude conversation).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SessionRef {
    pub provider: String,
    #[serde(rename = "sessionId")]
    pub session_id: String,
}

/// `provider:id`, as a log line shows it.
impl std::fmt::Display for SessionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.provider, self.session_id)
    }
}

/// Facts about a session that do not change while it lives.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub terminal_id: String,
    pub stream_id: String,
    pub mode: String,
    pub title: String,
    pub cwd: Option<String>,
    /// The provider session it was launched for (a CLI that picks its own
    /// id is bound later: `Session::session_ref`).
    pub session_ref: Option<SessionRef>,
    pub created_at_ms: u64,
}

/// Tunables of one session.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub replay_ring_bytes: u64,
    pub frame_limit: FrameLimit,
    /// SIGHUP → SIGTERM → SIGKILL spacing when a session is killed.
    pub kill_grace: Duration,
    /// Which viewer's window size the PTY takes.
    pub size_policy: SizePolicy,
    /// The colours viewers show where a program chose none, shared by every
    /// session (`terminal/theme.rs`).
    pub theme: Arc<SharedTheme>,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What a session starts from: nothing yet (a new child), or what an
/// earlier image of the daemon handed over (`handover.rs`).
struct StartState {
    ring: ReplayRing,
    screen: ScreenModel,
    next_checkpoint_offset: u64,
    geometry: Geometry,
    size_policy: SizePolicy,
    last_activity_ms: u64,
    last_meaningful_activity_ms: u64,
    viewer_drops: (u64, u64),
    exit_code: Option<i32>,
    collected_exit: Option<i32>,
    kill_requested: bool,
    bound_later: Option<SessionRef>,
    output_gate: OutputGate,
    /// The agent's turns as an earlier image left them (`None`: a new one).
    turns: Option<turn_tracker::TurnTracker>,
}

struct ViewerSlot {
    id: u64,
    owner: u64,
    wake: Arc<Notify>,
}

pub struct Session {
    info: SessionInfo,
    config: SessionConfig,
    process: Arc<PtyProcess>,
    ring: Mutex<ReplayRing>,
    screen: Mutex<ScreenModel>,
    /// Mirror of the screen model's parsed offset, read without its lock.
    screen_parsed_offset: AtomicU64,
    /// Stream offset at which the next checkpoint is due (changed under
    /// the screen lock).
    next_checkpoint_offset: AtomicU64,
    screen_catch_up_scheduled: AtomicBool,
    /// A catch-up for output below the follow batch is due shortly.
    screen_follow_later_armed: AtomicBool,
    /// Times output made the model catch up at once (for tests).
    screen_catch_ups_at_once: AtomicU64,
    viewers: Mutex<Vec<ViewerSlot>>,
    next_viewer_id: AtomicU64,
    /// The PTY's size; watchers learn when it changes (a viewer that does
    /// not drive the size shows the terminal at this one).
    geometry: watch::Sender<Geometry>,
    sizes: Mutex<SizeArbiter>,
    focus: Mutex<SharedFocus>,
    last_activity_ms: AtomicU64,
    /// Last input, or output that changed the screen's text noticeably.
    last_meaningful_activity_ms: AtomicU64,
    /// When the last viewer left (0 while someone watches).
    detached_since_ms: AtomicU64,
    /// Resyncs of viewers that fell behind, and the output bytes they skipped.
    viewer_resyncs: AtomicU64,
    viewer_skipped_bytes: AtomicU64,
    input: InputQueue,
    /// `None` while running; the exit code once every byte is in the ring.
    exit_code: watch::Sender<Option<i32>>,
    /// The child's exit code once collected (before the session ends,
    /// which waits for its last output).
    collected_exit: Mutex<Option<i32>>,
    /// Someone asked for this session to end (its exit then reports 0).
    kill_requested: AtomicBool,
    /// A viewer was attached when the session ended. Taken at the end itself:
    /// viewers leave as soon as they have seen the exit, so counting them
    /// later would call every watched exit unwatched.
    ended_watched: AtomicBool,
    /// Every PTY read and the collection of the exit pass it; a handover
    /// closes it.
    output_gate: OutputGate,
    /// The agent's turns, for the modes that ring a bell when one completes.
    turns: Option<Mutex<turn_tracker::TurnTracker>>,
    /// Where activity changes go (`None`: nowhere, as in benchmarks).
    activity_events: Option<tokio::sync::broadcast::Sender<ActivityEvent>>,
    /// The provider session, once found for a CLI that chose its own id.
    bound_later: std::sync::OnceLock<SessionRef>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("terminal_id", &self.info.terminal_id)
            .field("mode", &self.info.mode)
            .field("pid", &self.process.pid())
            .field("exit_code", &self.exit_code())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts the child and the threads that serve it. Must be called from
    /// within a tokio runtime.
    pub fn spawn(
        info: SessionInfo,
        spec: &LaunchSpec,
        config: SessionConfig,
        activity_events: Option<tokio::sync::broadcast::Sender<ActivityEvent>>,
    ) -> Result<Arc<Session>, SpawnError> {
        let spawned = PtyProcess::spawn(spec)?;
        let state = StartState {
            ring: ReplayRing::new(config.replay_ring_bytes),
            screen: ScreenModel::new(spec.cols, spec.rows),
            next_checkpoint_offset: screen_feed::CHECKPOINT_INTERVAL_BYTES,
            geometry: Geometry::new(spec.cols, spec.rows),
            size_policy: config.size_policy,
            last_activity_ms: info.created_at_ms,
            last_meaningful_activity_ms: info.created_at_ms,
            viewer_drops: (0, 0),
            exit_code: None,
            collected_exit: None,
            kill_requested: false,
            bound_later: None,
            output_gate: OutputGate::default(),
            turns: None,
        };
        let input = input_queue::input_queue(spawned.input)
            .map_err(|e| SpawnError::Setup(e.to_string()))?;
        let session = Self::assemble(info, config, spawned.process, input, state, activity_events);
        session.start_threads(spawned.output);
        Ok(session)
    }

    fn assemble(
        info: SessionInfo,
        config: SessionConfig,
        process: PtyProcess,
        (input_queue, queued_input): (InputQueue, QueuedInput),
        state: StartState,
        activity_events: Option<tokio::sync::broadcast::Sender<ActivityEvent>>,
    ) -> Arc<Session> {
        let process = Arc::new(process);
        tokio::spawn(queued_input.write_all());
        let bound_later = std::sync::OnceLock::new();
        if let Some(session_ref) = state.bound_later {
            let _ = bound_later.set(session_ref);
        }
        Arc::new(Session {
            config,
            process,
            screen_parsed_offset: AtomicU64::new(state.screen.parsed_through_offset()),
            ring: Mutex::new(state.ring),
            screen: Mutex::new(state.screen),
            next_checkpoint_offset: AtomicU64::new(state.next_checkpoint_offset),
            screen_catch_up_scheduled: AtomicBool::new(false),
            screen_follow_later_armed: AtomicBool::new(false),
            screen_catch_ups_at_once: AtomicU64::new(0),
            viewers: Mutex::new(Vec::new()),
            next_viewer_id: AtomicU64::new(1),
            geometry: watch::Sender::new(state.geometry),
            sizes: Mutex::new(SizeArbiter::new(state.size_policy)),
            focus: Mutex::new(SharedFocus::default()),
            last_activity_ms: AtomicU64::new(state.last_activity_ms),
            last_meaningful_activity_ms: AtomicU64::new(state.last_meaningful_activity_ms),
            detached_since_ms: AtomicU64::new(now_ms()),
            viewer_resyncs: AtomicU64::new(state.viewer_drops.0),
            viewer_skipped_bytes: AtomicU64::new(state.viewer_drops.1),
            input: input_queue,
            exit_code: watch::Sender::new(state.exit_code),
            collected_exit: Mutex::new(state.collected_exit),
            kill_requested: AtomicBool::new(state.kill_requested),
            ended_watched: AtomicBool::new(false),
            turns: TRACKED_MODES.contains(&info.mode.as_str()).then(|| {
                Mutex::new(
                    state
                        .turns
                        .unwrap_or_else(|| turn_tracker::TurnTracker::new(info.created_at_ms)),
                )
            }),
            activity_events,
            bound_later,
            output_gate: state.output_gate,
            runtime: tokio::runtime::Handle::current(),
            info,
        })
    }

    /// Output for viewers goes to the ring; each query the child asked its
    /// terminal is answered here, once, from the screen model caught up to
    /// just before it (so a cursor report gives the cursor at that point of
    /// the stream), whatever viewers are attached.
    fn take_output(self: &Arc<Self>, pieces: Vec<Piece>) {
        for piece in pieces {
            match piece {
                Piece::Output(text) => self.append_output(text),
                Piece::Query(query) => {
                    let theme = self.config.theme.current();
                    let answer = self.up_to_date_screen().answer(&query, &theme);
                    // Input the child reads in order with keystrokes; not
                    // user activity.
                    let _ = self.input.send(answer.into_bytes());
                }
            }
        }
    }

    /// Appends decoded output to the ring as frames and wakes every viewer.
    fn append_output(self: &Arc<Self>, text: String) {
        if text.is_empty() {
            return;
        }
        crate::panic_injection::panic_if_marked(&text, "a session's output");
        self.track_output(&text);
        let appended = {
            let mut ring = self.ring.lock();
            for piece in self.config.frame_limit.split(text) {
                ring.push(piece);
            }
            ring.appended_bytes()
        };
        self.last_activity_ms.store(now_ms(), Ordering::Relaxed);
        self.wake_viewers();
        self.screen_follow(appended);
    }

    /// The visible text of the screen (for scripts and tests).
    pub fn screen_text(&self) -> String {
        self.up_to_date_screen().text()
    }

    /// All output the ring still holds, oldest first (for search).
    pub fn retained_output(&self) -> String {
        let ring = self.ring.lock();
        let frames = ring.read_from(ring.oldest_seq(), u64::MAX);
        drop(ring);
        frames.iter().map(|f| &*f.data).collect()
    }

    /// The window title the child set, if any.
    pub fn window_title(&self) -> Option<String> {
        self.up_to_date_screen().title()
    }

    fn finish(&self, code: i32) {
        self.catch_up_screen();
        self.ended_watched
            .store(self.viewer_count() > 0, Ordering::SeqCst);
        self.exit_code.send_replace(Some(code));
        self.wake_viewers();
        self.publish_gone();
        tracing::info!(terminal = %self.info.terminal_id, code, "session exited");
    }

    fn wake_viewers(&self) {
        for viewer in self.viewers.lock().iter() {
            viewer.wake.notify_one();
        }
    }

    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    pub fn terminal_id(&self) -> &str {
        &self.info.terminal_id
    }

    /// The provider session this terminal runs: the one it was launched
    /// for, or the one found later for a CLI that chose its own id.
    pub fn session_ref(&self) -> Option<&SessionRef> {
        self.info
            .session_ref
            .as_ref()
            .or_else(|| self.bound_later.get())
    }

    /// Records the session a CLI chose for itself; false if it already has one.
    pub fn bind_session(&self, session_ref: SessionRef) -> bool {
        self.session_ref().is_none() && self.bound_later.set(session_ref).is_ok()
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub fn exit_code(&self) -> Option<i32> {
        *self.exit_code.borrow()
    }

    pub fn is_running(&self) -> bool {
        self.exit_code().is_none()
    }

    /// Whether a viewer watched the session end (false while it runs).
    pub fn ended_watched(&self) -> bool {
        self.ended_watched.load(Ordering::SeqCst)
    }

    /// Resolves once the session has exited and all its output is in the ring.
    pub async fn exited(&self) -> i32 {
        let mut rx = self.exit_code.subscribe();
        loop {
            if let Some(code) = *rx.borrow_and_update() {
                return code;
            }
            if rx.changed().await.is_err() {
                return -1;
            }
        }
    }

    pub fn head_seq(&self) -> u64 {
        self.ring.lock().head_seq()
    }

    /// Last output or input of any kind (freshell's `lastActivityAt`).
    pub fn last_activity_ms(&self) -> u64 {
        self.last_activity_ms.load(Ordering::Relaxed)
    }

    /// Last input, or output that changed the screen's text noticeably:
    /// what the idle reaper goes by.
    pub fn last_meaningful_activity_ms(&self) -> u64 {
        self.last_meaningful_activity_ms.load(Ordering::Relaxed)
    }

    pub fn geometry(&self) -> Geometry {
        *self.geometry.borrow()
    }

    /// Follows the PTY's size: the receiver wakes each time it changes.
    pub fn geometry_changes(&self) -> watch::Receiver<Geometry> {
        self.geometry.subscribe()
    }

    /// Number of attached viewers, and of distinct owners among them.
    pub fn viewer_count(&self) -> usize {
        self.viewers.lock().len()
    }

    /// Whether viewers belonging to someone other than `owner` are attached.
    pub fn has_viewers_of_other_owners(&self, owner: u64) -> bool {
        self.viewers.lock().iter().any(|v| v.owner != owner)
    }

    /// `owner` joins without setting the size; if others watch, they may
    /// render at different sizes.
    pub fn note_passive_join(&self, owner: u64) {
        let others = self.has_viewers_of_other_owners(owner);
        // The size does not change: nobody following it needs waking.
        self.geometry.send_if_modified(|geometry| {
            geometry.note_passive_join(others);
            false
        });
    }

    /// Escape sequences that re-enter the input and screen modes the child
    /// has switched on (for a fresh terminal that will not see them).
    pub fn mode_preamble(&self) -> String {
        self.up_to_date_screen().mode_preamble()
    }

    /// Ends the child: SIGHUP to its process group, then SIGTERM, then
    /// SIGKILL once the grace period has passed.
    pub fn kill(self: &Arc<Self>) {
        if !self.is_running() {
            return;
        }
        self.kill_requested.store(true, Ordering::SeqCst);
        self.process.signal_group(libc::SIGHUP);
        self.escalate_kill();
    }

    /// SIGTERM after a third of the grace period, SIGKILL after all of it,
    /// unless the child and its process group have ended by then. Also
    /// started again by the next image of the daemon for a kill that was
    /// under way at a handover (its timer does not survive the exec).
    fn escalate_kill(self: &Arc<Self>) {
        let session = Arc::clone(self);
        let grace = self.config.kill_grace;
        self.runtime.spawn(async move {
            for (signal, wait) in [(libc::SIGTERM, grace / 3), (libc::SIGKILL, grace)] {
                if tokio::time::timeout(wait, session.ended_with_its_group())
                    .await
                    .is_ok()
                {
                    return;
                }
                tracing::info!(terminal = %session.info.terminal_id, signal, "escalating kill");
                session.process.signal_group(signal);
            }
        });
    }

    /// The child has exited and nothing is left in its process group (a
    /// background job that ignores hang-ups outlives its leader).
    async fn ended_with_its_group(&self) {
        self.exited().await;
        while self.process.group_alive() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL to the child's process group, no grace: for what is still
    /// running when the daemon exits.
    pub fn kill_now(&self) {
        if self.is_running() {
            self.process.signal_group(libc::SIGKILL);
        }
    }

    fn add_viewer(&self, owner: u64, wake: Arc<Notify>) -> u64 {
        let id = self.next_viewer_id.fetch_add(1, Ordering::Relaxed);
        let mut viewers = self.viewers.lock();
        viewers.push(ViewerSlot { id, owner, wake });
        self.detached_since_ms.store(0, Ordering::Relaxed);
        id
    }

    fn remove_viewer(&self, id: u64) {
        let (owner, owners) = {
            let mut viewers = self.viewers.lock();
            let owner = viewers.iter().find(|v| v.id == id).map(|v| v.owner);
            viewers.retain(|v| v.id != id);
            if viewers.is_empty() {
                self.detached_since_ms.store(now_ms(), Ordering::Relaxed);
            }
            let mut owners: Vec<u64> = viewers.iter().map(|v| v.owner).collect();
            owners.sort_unstable();
            owners.dedup();
            (owner, owners)
        };
        // The owner's last viewer of this session: its window and its focus
        // leave with it.
        let Some(owner) = owner.filter(|owner| !owners.contains(owner)) else {
            return;
        };
        let focus_report = self.focus.lock().left(owner);
        if let Some(report) = focus_report {
            self.report_focus(report);
        }
        let picked = self.sizes.lock().left(owner, &owners);
        if let Some(size) = picked {
            self.apply_size(size, owners.len() > 1);
        }
    }

    /// Viewers resynced after falling behind, and output bytes they skipped.
    pub fn viewer_drops(&self) -> (u64, u64) {
        (
            self.viewer_resyncs.load(Ordering::Relaxed),
            self.viewer_skipped_bytes.load(Ordering::Relaxed),
        )
    }

    fn count_viewer_drop(&self, skipped_bytes: u64) {
        self.viewer_resyncs.fetch_add(1, Ordering::Relaxed);
        self.viewer_skipped_bytes
            .fetch_add(skipped_bytes, Ordering::Relaxed);
    }

    /// Since when nobody watches this session, or `None` while someone does.
    pub fn detached_since_ms(&self) -> Option<u64> {
        Some(self.detached_since_ms.load(Ordering::Relaxed)).filter(|&t| t != 0)
    }
}
