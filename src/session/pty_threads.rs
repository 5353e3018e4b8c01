//! The threads that serve one child: a reader that drains the PTY into the
//! session, a waiter that collects the child's exit, and a writer that feeds
//! it input. Blocking threads, because a PTY read or write can block (a
//! child that does not read; a burst larger than the buffer), and each
//! passes the output gate a handover closes (`output_gate.rs`).

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::exit_status::reported_exit_code;
use super::input_queue::QueuedInput;
use super::pty_process::PtyProcess;
use super::{Piece, Session};

/// Bytes of one PTY read. Linux PTYs hand out at most ~4 KiB per read; a
/// larger buffer lets a burst arrive in fewer frames when it can.
const PTY_READ_BUFFER_BYTES: usize = 16 * 1024;

/// How long the PTY may stay open after the child exited (a background job
/// holding it) before the rest of its process group is hung up.
const ORPHAN_HOLD_GRACE: Duration = Duration::from_secs(1);

impl Session {
    /// Starts the threads that read the child's output and collect its
    /// exit (not for a session that has ended).
    pub(super) fn start_threads(self: &Arc<Self>, output: std::fs::File) {
        let (exit_tx, exit_rx) = std::sync::mpsc::channel();
        let reader_done = Arc::new(AtomicBool::new(false));

        let session = Arc::clone(self);
        let done = Arc::clone(&reader_done);
        let reader = std::thread::Builder::new()
            .name(format!("pty-read-{}", self.info.terminal_id))
            .spawn(move || {
                session.read_output(output);
                done.store(true, Ordering::SeqCst);
                let code = exit_rx.recv().unwrap_or(-1);
                session.finish(code);
            });
        if let Err(err) = reader {
            tracing::error!(terminal = %self.info.terminal_id, %err, "could not start the PTY reader");
        }

        let session = Arc::clone(self);
        let waiter = std::thread::Builder::new()
            .name(format!("pty-wait-{}", self.info.terminal_id))
            .spawn(move || session.wait_for_child(exit_tx, reader_done));
        if let Err(err) = waiter {
            tracing::error!(terminal = %self.info.terminal_id, %err, "could not start the child waiter");
        }
    }

    /// Reads the child's output until the PTY hangs up. Each read passes
    /// the output gate (`output_gate.rs`), which a handover closes.
    fn read_output(self: &Arc<Self>, mut output: std::fs::File) {
        let mut buffer = vec![0u8; PTY_READ_BUFFER_BYTES];
        let lag = read_lag_for_tests();
        loop {
            if let Some(lag) = lag {
                std::thread::sleep(lag);
            }
            self.process.wait_readable();
            let mut passage = self.output_gate.enter();
            match output.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    let filled = self.gather_pending(&mut output, &mut buffer, n);
                    let pieces = passage.decoding.pieces(&buffer[..filled]);
                    self.take_output_confined(pieces);
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                // EIO: every slave fd is closed, the Linux PTY's end of file.
                Err(_) => break,
            }
        }
        let mut passage = self.output_gate.enter();
        let rest = passage.decoding.finish();
        self.take_output_confined(rest);
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
        output: &mut std::fs::File,
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
    fn wait_for_child(&self, exit_tx: std::sync::mpsc::Sender<i32>, reader_done: Arc<AtomicBool>) {
        let collected_before = *self.collected_exit.lock();
        let code = match collected_before {
            Some(code) => code,
            None => {
                let collected = self.process.wait_for_exit().and_then(|()| {
                    let _passage = self.output_gate.enter();
                    let status = self.process.collect_exit()?;
                    let code = reported_exit_code(
                        &status.into(),
                        self.kill_requested.load(Ordering::SeqCst),
                    );
                    *self.collected_exit.lock() = Some(code);
                    Ok(code)
                });
                collected.unwrap_or_else(|err| {
                    tracing::warn!(terminal = %self.info.terminal_id, %err, "waiting for the child failed");
                    -1
                })
            }
        };
        let _ = exit_tx.send(code);
        // The child is gone; if something it started still holds the PTY,
        // hang that group up so the session can end (as tmux does).
        std::thread::sleep(ORPHAN_HOLD_GRACE);
        if !reader_done.load(Ordering::SeqCst) {
            self.process.signal_group(libc::SIGHUP);
            std::thread::sleep(self.config.kill_grace);
            if !reader_done.load(Ordering::SeqCst) {
                self.process.signal_group(libc::SIGKILL);
            }
        }
    }
}

/// Writes queued input to the PTY in order, on a thread of its own: a child
/// that does not read would block the write, and a keystroke must reach the
/// PTY with one thread wake-up (a task handing each write to the blocking
/// pool took three, a visible share of the echo latency).
/// A test hook: `PTYHUB_TEST_PTY_READ_LAG_MS` makes every PTY read wait that
/// long first, so a test can hold the reader far behind a child that has
/// already exited — the race between a child's exit and the reading of its
/// last output, made wide (`tests/lifecycle.rs`). Unset, nothing waits.
fn read_lag_for_tests() -> Option<Duration> {
    static LAG: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    *LAG.get_or_init(|| {
        std::env::var("PTYHUB_TEST_PTY_READ_LAG_MS")
            .ok()
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    })
}

pub(super) fn write_input(process: &PtyProcess, mut input: QueuedInput) {
    let lag = write_lag_for_tests();
    while let Some(bytes) = input.next() {
        if let Some(lag) = lag {
            std::thread::sleep(lag);
        }
        let written = process.write_input(&bytes);
        input.written(bytes.len());
        if written.is_err() {
            break;
        }
    }
}

/// A test hook: `PTYHUB_TEST_PTY_WRITE_LAG_MS` makes every PTY write wait
/// that long first, so a test can have keys still queued when an upgrade
/// starts (`tests/upgrade.rs`). Unset, nothing waits.
fn write_lag_for_tests() -> Option<Duration> {
    std::env::var("PTYHUB_TEST_PTY_WRITE_LAG_MS")
        .ok()
        .and_then(|ms| ms.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis)
}
