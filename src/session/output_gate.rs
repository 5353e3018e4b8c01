//! The gate every PTY read and the collection of the child's exit pass.
//!
//! A handover (`crate::handover`) closes it: from then on the child's output
//! waits in the kernel's PTY buffer and its exit status in the process table,
//! for the next image of the daemon to take, so nothing is read by a process
//! that is about to be replaced. The reader's decoding state lives behind the
//! gate, so what was read but is not whole yet (a split UTF-8 character, the
//! start of a query) is handed over with the rest.

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::Notify;

use super::query_filter::QueryFilter;
use super::utf8_stream::Utf8Stream;
use super::Piece;

#[derive(Default)]
pub struct Decoding {
    pub text: Utf8Stream,
    pub queries: QueryFilter,
}

impl Decoding {
    /// Output and queries in `bytes`, read from the PTY.
    pub fn pieces(&mut self, bytes: &[u8]) -> Vec<Piece> {
        let text = self.text.decode(bytes);
        self.queries.filter(text)
    }

    /// What is left once the PTY has hung up: the held bytes, as output.
    pub fn finish(&mut self) -> Vec<Piece> {
        let rest = self.text.finish();
        let mut pieces = self.queries.filter(rest);
        pieces.extend(self.queries.finish());
        pieces
    }

    /// The bytes read but not yet passed on, in stream order.
    fn unfinished(&self) -> Vec<u8> {
        let mut bytes = self.queries.held().as_bytes().to_vec();
        bytes.extend_from_slice(self.text.carried());
        bytes
    }
}

#[derive(Default)]
pub struct Passage {
    pub decoding: Decoding,
    paused: bool,
}

#[derive(Default)]
pub struct OutputGate {
    passage: Mutex<Passage>,
    reopened: Notify,
}

impl OutputGate {
    /// A gate whose decoding starts from `unfinished` bytes an earlier image
    /// of the daemon had read (see `pause`).
    pub fn resuming(unfinished: &[u8]) -> Self {
        let gate = Self::default();
        let pieces = gate.passage.lock().decoding.pieces(unfinished);
        // Unfinished bytes decode to nothing yet: they are the start of a
        // character or of a sequence, completed by the next read.
        debug_assert!(pieces.is_empty());
        gate
    }

    /// Passes the gate: waits while it is paused, then holds it. (The
    /// guard is the caller's to drop before its next await.)
    pub async fn enter(&self) -> MutexGuard<'_, Passage> {
        loop {
            self.reopened().await;
            if let Some(passage) = self.try_enter() {
                return passage;
            }
        }
    }

    /// Holds the gate if it is open.
    pub fn try_enter(&self) -> Option<MutexGuard<'_, Passage>> {
        let passage = self.passage.lock();
        (!passage.paused).then_some(passage)
    }

    /// Returns once the gate is open (at once if it is).
    pub async fn reopened(&self) {
        loop {
            let notified = self.reopened.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.passage.lock().paused {
                return;
            }
            notified.await;
        }
    }

    /// Closes the gate once whoever holds it has passed, and returns the
    /// bytes read but not yet passed on.
    pub fn pause(&self) -> Vec<u8> {
        let mut passage = self.passage.lock();
        passage.paused = true;
        passage.decoding.unfinished()
    }

    /// Opens the gate again (a handover that did not happen).
    pub fn resume(&self) {
        self.passage.lock().paused = false;
        self.reopened.notify_waiters();
    }
}
