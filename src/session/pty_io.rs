//! What serves one child besides its input (`input_queue.rs`): a reader
//! task that drains the PTY's output into the session, and a waiter task
//! that collects the child's exit. Both pass the output gate a handover
//! closes (`output_gate.rs`).
//!
//! Both are tasks on the PTY loop (`pty_loop.rs`), woken by its epoll (the
//! PTY's master; the child's pidfd), so a session costs no thread of its
//! own, as tmux's panes cost none of its.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;

use super::exit_status::reported_exit_code;
use super::pty_loop;
use super::{Piece, Session};

/// Bytes of one PTY read. Linux PTYs hand out at most ~4 KiB per read; a
/// larger buffer lets a burst arrive in fewer frames when it can.
const PTY_READ_BUFFER_BYTES: usize = 16 * 1024;

/// How long the PTY may stay open after the child exited (a background job
/// holding it) before the rest of its process group is hung up.
const ORPHAN_HOLD_GRACE: Duration = Duration::from_secs(1);

/// What one read came to.
enum ReadOutcome {
    /// Output was taken (or the read was interrupted): read again.
    Took,
    /// The PTY had nothing after all: wait for it to be readable again.
    Empty,
    /// A handover closed the output gate: wait for it to reopen (it only
    /// does if the handover failed), leaving the output in the PTY.
    GateClosed,
    /// The PTY hung up (every slave closed) or failed.
    HungUp,
}

impl Session {
    /// Starts the reader task and the exit waiter (not for a session that
    /// has ended). `output` is the master's non-blocking read side.
    pub(super) fn start_threads(self: &Arc<Self>, output: std::fs::File) {
        let (exit_tx, exit_rx) = oneshot::channel();
        let reader_done = Arc::new(AtomicBool::new(false));

        let session = Arc::clone(self);
        let done = Arc::clone(&reader_done);
        pty_loop::handle().spawn(async move {
            session.read_output(output).await;
            done.store(true, Ordering::SeqCst);
            let code = exit_rx.await.unwrap_or(-1);
            // Off the loop: ending catches the screen model up,
            // which may parse what it has not yet.
            let ending = Arc::clone(&session);
            let _ = session
                .runtime
                .spawn_blocking(move || ending.finish(code))
                .await;
        });

        let session = Arc::clone(self);
        pty_loop::handle().spawn(async move { session.wait_for_child(exit_tx, reader_done).await });
    }

    /// Reads the child's output until the PTY hangs up. Each read passes
    /// the output gate (`output_gate.rs`), which a handover closes.
    async fn read_output(self: &Arc<Self>, output: std::fs::File) {
        // SAFETY: the File owns its descriptor, which stays open and the
        // same until the AsyncFd (which owns the File) is dropped.
        // Readable only: a PTY's master turns writable each time the child
        // reads its input, which would wake the loop for nothing on every
        // keystroke's way to its echo.
        let output = match unsafe { AsyncFd::register_with_interest(output, Interest::READABLE) } {
            Ok(output) => output,
            Err(err) => {
                tracing::error!(terminal = %self.info.terminal_id, err = %err, "could not watch the PTY");
                return;
            }
        };
        let mut buffer = vec![0u8; PTY_READ_BUFFER_BYTES];
        let lag = read_lag_for_tests();
        loop {
            if let Some(lag) = lag {
                tokio::time::sleep(lag).await;
            }
            let Ok(mut readiness) = output.readable().await else {
                break;
            };
            self.output_gate.reopened().await;
            let outcome = self.read_once(output.get_ref(), &mut buffer);
            match outcome {
                ReadOutcome::Took | ReadOutcome::GateClosed => {}
                ReadOutcome::Empty => readiness.clear_ready(),
                ReadOutcome::HungUp => break,
            }
            drop(readiness);
            if let ReadOutcome::Took = outcome {
                // One read per session in turn: a flooding session never
                // holds up another's keystroke echo.
                tokio::task::yield_now().await;
            }
            if self.screen_too_far_behind() {
                // Backpressure to the child rather than a wrong screen,
                // without parsing megabytes on a runtime thread.
                let session = Arc::clone(self);
                let _ = self
                    .runtime
                    .spawn_blocking(move || session.catch_up_screen())
                    .await;
            }
        }
        let mut passage = self.output_gate.enter().await;
        let rest = passage.decoding.finish();
        self.take_output_confined(rest);
    }

    /// One read (and what the PTY already holds besides), decoded and taken
    /// under the output gate.
    fn read_once(self: &Arc<Self>, mut output: &std::fs::File, buffer: &mut [u8]) -> ReadOutcome {
        let Some(mut passage) = self.output_gate.try_enter() else {
            return ReadOutcome::GateClosed;
        };
        match output.read(buffer) {
            Ok(0) => ReadOutcome::HungUp,
            Ok(n) => {
                let filled = self.gather_pending(output, buffer, n);
                let pieces = passage.decoding.pieces(&buffer[..filled]);
                self.take_output_confined(pieces);
                ReadOutcome::Took
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => ReadOutcome::Took,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => ReadOutcome::Empty,
            // EIO: every slave fd is closed, the Linux PTY's end of file.
            Err(_) => ReadOutcome::HungUp,
        }
    }

    /// `take_output`, with a panic in it (a bug in the ring, the screen
    /// model or a query's answer) confined to this read: it is logged, what
    /// the read brought may be lost, and the session reads on. A session
    /// whose reader died would never show output or end again.
    fn take_output_confined(self: &Arc<Self>, pieces: Vec<Piece>) {
        let taken =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.take_output(pieces)));
        if let Err(panic) = taken {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(
                terminal = %self.info.terminal_id,
                panic = %what,
                "a panic on the session's output path was caught; the session reads on"
            );
        }
    }

    /// After a read of `filled` bytes, reads what the PTY already holds, up
    /// to the buffer's size: a flood then makes frames of 16 KiB, not the
    /// PTY's ~4 KiB pieces, which costs every viewer fewer messages (and a
    /// replay budget less framing), and never waits for output to come.
    fn gather_pending(
        &self,
        mut output: &std::fs::File,
        buffer: &mut [u8],
        mut filled: usize,
    ) -> usize {
        while filled < buffer.len() && self.process.pending_output_bytes() > 0 {
            match output.read(&mut buffer[filled..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        filled
    }

    /// Waits for the child to exit and collects its status under the output
    /// gate: a handover in progress leaves it to the next image.
    async fn wait_for_child(&self, exit_tx: oneshot::Sender<i32>, reader_done: Arc<AtomicBool>) {
        let collected_before = *self.collected_exit.lock();
        let code = match collected_before {
            Some(code) => code,
            None => match self.process.exited().await {
                Ok(()) => self.collect_exit().await,
                Err(err) => {
                    tracing::warn!(terminal = %self.info.terminal_id, %err, "waiting for the child failed");
                    -1
                }
            },
        };
        let _ = exit_tx.send(code);
        // The child is gone; if something it started still holds the PTY,
        // hang that group up so the session can end (as tmux does).
        tokio::time::sleep(ORPHAN_HOLD_GRACE).await;
        if !reader_done.load(Ordering::SeqCst) {
            self.process.signal_group(libc::SIGHUP);
            tokio::time::sleep(self.config.kill_grace).await;
            if !reader_done.load(Ordering::SeqCst) {
                self.process.signal_group(libc::SIGKILL);
            }
        }
    }

    /// Collects the exited child's status once the output gate is open.
    async fn collect_exit(&self) -> i32 {
        let _passage = self.output_gate.enter().await;
        match self.process.collect_exit() {
            Ok(status) => {
                let code =
                    reported_exit_code(&status.into(), self.kill_requested.load(Ordering::SeqCst));
                *self.collected_exit.lock() = Some(code);
                code
            }
            Err(err) => {
                tracing::warn!(terminal = %self.info.terminal_id, %err, "collecting the child's exit failed");
                -1
            }
        }
    }
}

/// A test hook: `PTYHUB_TEST_PTY_READ_LAG_MS` makes every PTY read wait that
/// long first, so a test can hold the reader far behind a child that has
/// already exited — the race between a child's exit and the reading of its
/// last output, made wide (`tests/lifecycle.rs`). Unset, nothing waits.
fn read_lag_for_tests() -> Option<Duration> {
    static LAG: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    *LAG.get_or_init(|| crate::test_delays::from_env("PTYHUB_TEST_PTY_READ_LAG_MS"))
}
