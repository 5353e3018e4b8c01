//! The child's input on its way to the PTY, in order.
//!
//! A keystroke is written straight into the PTY by whoever sends it (the
//! socket's task) when nothing is queued before it and the PTY takes it
//! without waiting: one non-blocking write, no hand-off to another thread or
//! task, which was most of a keystroke's echo latency. What the PTY does not
//! take at once — a child that does not read, a paste larger than the PTY's
//! buffer — is queued and written by the session's writer task
//! (`QueuedInput::write_all`) as the PTY makes room; everything sent after
//! it queues behind it.
//!
//! The queue counts what it holds — bytes queued and not yet written — so an
//! in-place upgrade can wait for the keys a viewer typed in the old image's
//! last moments to reach the PTY before the exec, which ends the writer task
//! and whatever it still held (`Session::hand_over`).

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc;

/// The sending side, kept by the session.
pub struct InputQueue {
    pty: Arc<AsyncFd<File>>,
    sender: mpsc::UnboundedSender<Vec<u8>>,
    unwritten_bytes: Arc<AtomicUsize>,
    /// Held from the check that nothing is queued to the end of the direct
    /// write and the queuing of its rest, so two senders never interleave.
    order: Mutex<()>,
    /// False under the write-lag test hook, whose point is input that waits.
    writes_directly: bool,
}

/// The writer task's side.
pub struct QueuedInput {
    pty: Arc<AsyncFd<File>>,
    receiver: mpsc::UnboundedReceiver<Vec<u8>>,
    unwritten_bytes: Arc<AtomicUsize>,
}

/// The queue for input into `pty`, a non-blocking descriptor of the PTY's
/// master (within the runtime, which watches it for room).
pub fn input_queue(pty: File) -> std::io::Result<(InputQueue, QueuedInput)> {
    // SAFETY: the File owns its descriptor, which stays open and the same
    // until the AsyncFd (which owns the File) is dropped.
    // Writable only: the master turns readable with every piece of the
    // child's output, which is the PTY loop's to read (`pty_io.rs`); watched
    // here too, it would wake a runtime thread for nothing each time.
    let pty = unsafe { AsyncFd::register_with_interest(pty, Interest::WRITABLE) }
        .map_err(std::io::Error::from)?;
    let pty = Arc::new(pty);
    let (sender, receiver) = mpsc::unbounded_channel();
    let unwritten_bytes = Arc::new(AtomicUsize::new(0));
    Ok((
        InputQueue {
            pty: Arc::clone(&pty),
            sender,
            unwritten_bytes: Arc::clone(&unwritten_bytes),
            order: Mutex::new(()),
            writes_directly: write_lag_for_tests().is_none(),
        },
        QueuedInput {
            pty,
            receiver,
            unwritten_bytes,
        },
    ))
}

impl InputQueue {
    /// Writes `bytes` after everything sent before, never waiting for the
    /// child: what the PTY does not take at once is queued for the writer
    /// task. False once the child is gone.
    pub fn send(&self, bytes: Vec<u8>) -> bool {
        let _order = self.order.lock();
        let mut taken = 0;
        if self.writes_directly && self.unwritten_bytes.load(Ordering::SeqCst) == 0 {
            while taken < bytes.len() {
                match self.pty.get_ref().write(&bytes[taken..]) {
                    Ok(0) => break,
                    Ok(n) => taken += n,
                    Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                    Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                    // EIO: the child's side is closed, the child is gone.
                    Err(_) => return false,
                }
            }
            if taken == bytes.len() {
                return true;
            }
        }
        self.queue(bytes[taken..].to_vec())
    }

    fn queue(&self, rest: Vec<u8>) -> bool {
        let len = rest.len();
        self.unwritten_bytes.fetch_add(len, Ordering::SeqCst);
        let sent = self.sender.send(rest).is_ok();
        if !sent {
            self.unwritten_bytes.fetch_sub(len, Ordering::SeqCst);
        }
        sent
    }

    /// Waits (blocking) until everything queued has been written, or until
    /// `deadline`; returns the bytes still unwritten then.
    pub fn wait_written(&self, deadline: Instant) -> usize {
        loop {
            let unwritten = self.unwritten_bytes.load(Ordering::SeqCst);
            if unwritten == 0 || self.sender.is_closed() || Instant::now() >= deadline {
                return unwritten;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl QueuedInput {
    /// The writer task's work: writes what was queued, in order, waiting
    /// for the PTY to make room as long as it takes, until the session is
    /// gone or the PTY fails.
    pub async fn write_all(mut self) {
        let lag = write_lag_for_tests();
        while let Some(bytes) = self.receiver.recv().await {
            if let Some(lag) = lag {
                tokio::time::sleep(lag).await;
            }
            let written = self.write_fully(&bytes).await;
            self.unwritten_bytes
                .fetch_sub(bytes.len(), Ordering::SeqCst);
            if !written {
                break;
            }
        }
    }

    async fn write_fully(&self, bytes: &[u8]) -> bool {
        let mut taken = 0;
        while taken < bytes.len() {
            let Ok(mut room) = self.pty.writable().await else {
                return false;
            };
            match room.try_io(|pty| pty.get_ref().write(&bytes[taken..])) {
                Ok(Ok(0)) => return false,
                Ok(Ok(n)) => taken += n,
                Ok(Err(err)) if err.kind() == ErrorKind::Interrupted => {}
                Ok(Err(_)) => return false,
                // WouldBlock: the readiness is cleared, wait for room.
                Err(_would_block) => {}
            }
        }
        true
    }
}

/// A test hook: `PTYHUB_TEST_PTY_WRITE_LAG_MS` makes every write of the
/// writer task wait that long first, and sends all input through it, so a
/// test can have keys still queued when an upgrade starts
/// (`tests/upgrade_in_flight.rs`). Unset, nothing waits.
fn write_lag_for_tests() -> Option<Duration> {
    crate::test_delays::from_env("PTYHUB_TEST_PTY_WRITE_LAG_MS")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    /// A pipe whose write end is non-blocking and holds one page: a PTY
    /// whose child has stopped reading, after 4 KiB.
    fn small_pipe() -> (File, File) {
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array, which the
        // Files then own; F_SETPIPE_SZ only sets the pipe's capacity.
        unsafe {
            assert_eq!(
                libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC),
                0
            );
            assert!(libc::fcntl(fds[1], libc::F_SETPIPE_SZ, 4096) >= 4096);
            (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1]))
        }
    }

    fn read_available(reader: &mut File) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buffer) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buffer[..n]);
        }
        all
    }

    #[tokio::test]
    async fn input_the_pty_takes_at_once_is_written_without_queuing() {
        let (mut reader, writer) = small_pipe();
        let (queue, _writer_task) = input_queue(writer).unwrap();
        assert!(queue.send(b"ab".to_vec()));
        assert_eq!(queue.wait_written(Instant::now()), 0);
        assert_eq!(read_available(&mut reader), b"ab");
    }

    #[tokio::test]
    async fn what_the_pty_does_not_take_waits_and_everything_after_it_queues_behind() {
        let (mut reader, writer) = small_pipe();
        let (queue, writer_task) = input_queue(writer).unwrap();
        let paste: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        assert!(queue.send(paste.clone()));
        let queued = queue.wait_written(Instant::now());
        assert!(queued > 0 && queued < paste.len(), "{queued} bytes queued");
        // The PTY has room again, but the key must not overtake the paste.
        let mut seen = read_available(&mut reader);
        assert!(queue.send(b"!".to_vec()));
        assert_eq!(queue.wait_written(Instant::now()), queued + 1);
        let writing = tokio::spawn(writer_task.write_all());
        while seen.len() < paste.len() + 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            seen.extend(read_available(&mut reader));
        }
        let mut expected = paste;
        expected.push(b'!');
        assert_eq!(seen, expected);
        assert_eq!(queue.wait_written(Instant::now()), 0);
        drop(queue);
        writing.await.unwrap();
    }

    #[tokio::test]
    async fn a_queue_whose_writer_is_gone_refuses_what_it_cannot_write() {
        let (_reader, writer) = small_pipe();
        let (queue, writer_task) = input_queue(writer).unwrap();
        assert!(queue.send(vec![b'x'; 4096]));
        drop(writer_task);
        assert!(!queue.send(b"d".to_vec()));
        assert_eq!(queue.wait_written(Instant::now()), 0);
    }
}
