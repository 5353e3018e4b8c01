//! Reading the keyboard (stdin) on its own thread.
//!
//! A blocking read cannot be cancelled, and tokio's stdin would keep the
//! runtime from shutting down until the user presses one more key. This
//! thread waits with `poll(2)` in short slices, so it notices it should stop
//! without consuming a key meant for the shell the user returns to. Reads go
//! straight to fd 0, so no bytes sit in a userspace buffer that `poll`
//! cannot see.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

/// How often the thread checks whether it should stop.
const STOP_CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// One read; a key press is a few bytes, a paste arrives in several reads.
const READ_CHUNK_BYTES: usize = 4096;
/// Reads queued before the thread waits for the attach loop.
const QUEUED_READS: usize = 64;

/// Keyboard reads, in order; `None` once stdin is closed or unreadable.
pub struct Keyboard {
    reads: mpsc::Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
}

impl Keyboard {
    pub fn start() -> std::io::Result<Keyboard> {
        let (sender, reads) = mpsc::channel(QUEUED_READS);
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("ptyhub-keyboard".into())
            .spawn(move || read_keys(&sender, &thread_stop))?;
        Ok(Keyboard { reads, stop })
    }

    /// The next read, or `None` when the keyboard is gone.
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        self.reads.recv().await
    }
}

impl Drop for Keyboard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_keys(sender: &mpsc::Sender<Vec<u8>>, stop: &AtomicBool) {
    let mut buffer = vec![0u8; READ_CHUNK_BYTES];
    let timeout_ms = i32::try_from(STOP_CHECK_INTERVAL.as_millis()).unwrap_or(100);
    while !stop.load(Ordering::SeqCst) {
        let mut poll_fd = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, count 1.
        let ready = unsafe { libc::poll(&mut poll_fd, 1, timeout_ms) };
        if ready < 0 {
            if interrupted() {
                continue;
            }
            return;
        }
        if ready == 0 || stop.load(Ordering::SeqCst) {
            continue;
        }
        // SAFETY: the buffer is valid for `len` bytes and outlives the call.
        let read = unsafe {
            libc::read(
                libc::STDIN_FILENO,
                buffer.as_mut_ptr().cast::<libc::c_void>(),
                buffer.len(),
            )
        };
        match usize::try_from(read) {
            // End of input: the terminal hung up.
            Ok(0) => return,
            Ok(count) => {
                if sender.blocking_send(buffer[..count].to_vec()).is_err() {
                    return;
                }
            }
            Err(_) if interrupted() => continue,
            Err(_) => return,
        }
    }
}

fn interrupted() -> bool {
    matches!(
        std::io::Error::last_os_error().kind(),
        std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
    )
}
