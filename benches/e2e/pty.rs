//! A bare PTY for the benchmark's own use: the reference the systems are compared with, and
//! the terminal each `tmux attach` client runs on.
//!
//! The master is read by a tokio task that counts bytes and keeps the most recent ones (to
//! find a marker), so hundreds of clients cost one task each, not a thread.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use crate::streams::{COLS, ROWS};

/// What a PTY's reader has seen so far.
#[derive(Default)]
pub struct Received {
    pub bytes: u64,
    /// When the last byte arrived.
    pub last_at: Option<Instant>,
    /// The newest bytes (a sliding window), for marker searches.
    pub tail: Vec<u8>,
    pub closed: bool,
}

const TAIL_BYTES: usize = 64 * 1024;

pub struct Pty {
    master: Arc<AsyncFd<OwnedFd>>,
    pub child: Child,
    pub received: Arc<Mutex<Received>>,
    /// Notified after every read.
    pub progress: Arc<Notify>,
}

fn openpty() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let mut master = 0;
    let mut slave = 0;
    let size = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into our variables; the size struct outlives
    // the call.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    anyhow::ensure!(
        rc == 0,
        "openpty failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: openpty succeeded, so both are fresh descriptors we now own.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
        let flags = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    Ok((master, slave))
}

impl Pty {
    /// Starts `command` as a session leader on a new PTY of the benchmark's size and starts
    /// reading its output. Must be called inside a tokio runtime.
    pub fn spawn(mut command: Command) -> anyhow::Result<Pty> {
        let (master, slave) = openpty()?;
        command
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        // The slave descriptors were moved into `command`; drop them in the parent so EOF
        // (EIO) arrives when the child exits.
        drop(command);
        // SAFETY: the descriptor is owned by the AsyncFd from here on and registered nowhere
        // else, so it stays open exactly as long as the registration.
        let master = unsafe { AsyncFd::register(master) }
            .map_err(|e| anyhow::anyhow!("registering the PTY with tokio: {e}"))?;
        let master = Arc::new(master);
        let received = Arc::new(Mutex::new(Received::default()));
        let progress = Arc::new(Notify::new());
        tokio::spawn(read_loop(
            Arc::clone(&master),
            Arc::clone(&received),
            Arc::clone(&progress),
        ));
        Ok(Pty {
            master,
            child,
            received,
            progress,
        })
    }

    /// Writes `bytes` to the master (keys typed into the terminal).
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: write(2) from a slice we own, within its length.
            let n = unsafe {
                libc::write(
                    self.master.get_ref().as_raw_fd(),
                    rest.as_ptr().cast(),
                    rest.len(),
                )
            };
            if n < 0 {
                let err = std::io::Error::last_os_error();
                if err.kind() == std::io::ErrorKind::WouldBlock {
                    std::thread::yield_now();
                    continue;
                }
                return Err(err.into());
            }
            rest = &rest[n as usize..];
        }
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.received.lock().bytes
    }

    /// Waits until the output's tail contains `needle` or `timeout` passes; true if found.
    pub async fn wait_for(&self, needle: &[u8], timeout: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.progress.notified();
            {
                let received = self.received.lock();
                if contains(&received.tail, needle) {
                    return true;
                }
                if received.closed {
                    return false;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// Forgets the tail (so the next `wait_for` sees only new output).
    pub fn clear_tail(&self) {
        self.received.lock().tail.clear();
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn read_loop(
    master: Arc<AsyncFd<OwnedFd>>,
    received: Arc<Mutex<Received>>,
    progress: Arc<Notify>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let Ok(mut guard) = master.readable().await else {
            break;
        };
        let result = guard.try_io(|fd| {
            // SAFETY: read(2) into a buffer we own, within its length.
            let n = unsafe {
                libc::read(
                    fd.get_ref().as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                )
            };
            if n < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match result {
            Err(_would_block) => continue,
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                let mut seen = received.lock();
                seen.bytes += n as u64;
                seen.last_at = Some(Instant::now());
                seen.tail.extend_from_slice(&buffer[..n]);
                if seen.tail.len() > TAIL_BYTES {
                    let cut = seen.tail.len() - TAIL_BYTES / 2;
                    seen.tail.drain(..cut);
                }
                drop(seen);
                progress.notify_waiters();
            }
        }
    }
    received.lock().closed = true;
    progress.notify_waiters();
}
