//! The child's input on its way to the PTY: queued by any thread, written
//! in order by the session's writer thread (`pty_threads::write_input`).
//!
//! The queue counts what it holds — bytes queued and not yet written — so an
//! in-place upgrade can wait for the keys a viewer typed in the old image's
//! last moments to reach the PTY before the exec, which ends the writer
//! thread and whatever it still held (`Session::hand_over`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// The sending side, kept by the session.
#[derive(Debug)]
pub struct InputQueue {
    sender: mpsc::UnboundedSender<Vec<u8>>,
    unwritten_bytes: Arc<AtomicUsize>,
}

/// The writer thread's side.
pub struct QueuedInput {
    receiver: mpsc::UnboundedReceiver<Vec<u8>>,
    unwritten_bytes: Arc<AtomicUsize>,
}

pub fn input_queue() -> (InputQueue, QueuedInput) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let unwritten_bytes = Arc::new(AtomicUsize::new(0));
    (
        InputQueue {
            sender,
            unwritten_bytes: Arc::clone(&unwritten_bytes),
        },
        QueuedInput {
            receiver,
            unwritten_bytes,
        },
    )
}

impl InputQueue {
    /// Queues `bytes` behind everything queued before; false once the
    /// writer has stopped (the child is gone).
    pub fn send(&self, bytes: Vec<u8>) -> bool {
        let len = bytes.len();
        self.unwritten_bytes.fetch_add(len, Ordering::SeqCst);
        let sent = self.sender.send(bytes).is_ok();
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
    /// The next input to write, in order (`None` once the session is gone).
    pub fn next(&mut self) -> Option<Vec<u8>> {
        self.receiver.blocking_recv()
    }

    /// `bytes` of what `next` gave are in the PTY now.
    pub fn written(&self, bytes: usize) {
        self.unwritten_bytes.fetch_sub(bytes, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_counts_what_is_not_written_yet() {
        let (queue, mut writer) = input_queue();
        assert!(queue.send(b"ab".to_vec()));
        assert!(queue.send(b"c".to_vec()));
        let soon = Instant::now() + Duration::from_millis(5);
        assert_eq!(queue.wait_written(soon), 3);
        let first = writer.next().unwrap();
        writer.written(first.len());
        let second = writer.next().unwrap();
        writer.written(second.len());
        assert_eq!(queue.wait_written(Instant::now()), 0);
        drop(writer);
        assert!(!queue.send(b"d".to_vec()));
        assert_eq!(queue.wait_written(Instant::now()), 0);
    }
}
