//! The session's PTY size, as the attach learns it.
//!
//! No freshell message carries the PTY's size, so the attach asks the
//! daemon's `GET /ptyhub/api/sessions/{id}/size`: once, when it needs the
//! size now (after an attach, after sending its own size), and in a long
//! poll on a thread of its own (`?changedFrom=` the last answer), which
//! answers as soon as another viewer changes the size. The thread asks from
//! its own last answer, never from what the attach believes, so a lost or
//! late answer cannot leave it waiting on a size the PTY never had.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::cli::api_client::{ApiClient, ApiError};
use crate::cli::endpoint::Endpoint;
use crate::server::api::PtySize;

/// Waits between attempts while the daemon cannot be reached (it may be
/// upgrading in place); the attach reconnects meanwhile.
const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// Follows one session's PTY size.
pub struct PtySizes {
    api: ApiClient,
    terminal_id: String,
    /// Sizes the long poll answered, each different from the one before.
    changes: mpsc::UnboundedReceiver<PtySize>,
    stop: Arc<AtomicBool>,
}

impl PtySizes {
    /// Starts following `terminal_id`'s size.
    pub fn follow(endpoint: &Endpoint, terminal_id: &str) -> std::io::Result<PtySizes> {
        let api = ApiClient::new(endpoint);
        let (sender, changes) = mpsc::unbounded_channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_api, thread_id, thread_stop) =
            (api.clone(), terminal_id.to_owned(), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("ptyhub-pty-size".into())
            .spawn(move || long_poll(&thread_api, &thread_id, &sender, &thread_stop))?;
        Ok(PtySizes {
            api,
            terminal_id: terminal_id.to_owned(),
            changes,
            stop,
        })
    }

    /// The next size the long poll learned; pending forever once it stopped
    /// (the terminal is gone, which the socket says too).
    pub async fn next_change(&mut self) -> PtySize {
        match self.changes.recv().await {
            Some(size) => size,
            None => std::future::pending().await,
        }
    }

    /// The size now, if the daemon answers.
    pub async fn now(&self) -> Option<PtySize> {
        let (api, terminal_id) = (self.api.clone(), self.terminal_id.clone());
        tokio::task::spawn_blocking(move || api.pty_size(&terminal_id, None))
            .await
            .ok()
            .and_then(Result::ok)
    }
}

impl Drop for PtySizes {
    fn drop(&mut self) {
        // The thread ends after its current request (at most the long poll's
        // 25 s; a command that ends exits sooner).
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn long_poll(
    api: &ApiClient,
    terminal_id: &str,
    changes: &mpsc::UnboundedSender<PtySize>,
    stop: &AtomicBool,
) {
    let mut known: Option<(u16, u16)> = None;
    let mut failures = 0usize;
    while !stop.load(Ordering::SeqCst) {
        match api.pty_size(terminal_id, known) {
            Ok(size) => {
                failures = 0;
                if known != Some((size.cols, size.rows)) {
                    known = Some((size.cols, size.rows));
                    if changes.send(size).is_err() {
                        return;
                    }
                }
            }
            // Not running any more, or not ours to ask: the socket says the rest.
            Err(
                ApiError::UnknownTerminal { .. } | ApiError::Unauthorized | ApiError::ReadOnlyToken,
            ) => return,
            Err(_) => {
                std::thread::sleep(RETRY_DELAYS[failures.min(RETRY_DELAYS.len() - 1)]);
                failures += 1;
            }
        }
    }
}
