//! The one thread on which every session's PTY is read and every child's
//! exit is awaited: a single-threaded runtime on an epoll of its own, as
//! tmux's one loop serves all its panes.
//!
//! Not the daemon's main runtime: there the readers would share its threads
//! with the viewers' socket tasks, and under a flood a hundred viewers
//! sending would pace the reader — the child would wait for its viewers,
//! which ptyhub never lets happen (a viewer that cannot keep up is resynced
//! instead). Measured: the producer fell from 51 to 15 MB/s with 100
//! viewers. Here readers share the thread only with each other, one read
//! each in turn.
//!
//! Not a thread per session either: a reader, a writer and a waiter thread
//! per session were a third of an idle session's memory, and 600 threads to
//! start again after every upgrade with 200 sessions.

use std::sync::OnceLock;

use tokio::runtime::Handle;

/// The loop's runtime, started with the first session.
pub fn handle() -> &'static Handle {
    static LOOP: OnceLock<Handle> = OnceLock::new();
    LOOP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the PTY loop's runtime starts (an epoll and a timer)");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("pty-loop".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the PTY loop's thread starts");
        handle
    })
}
