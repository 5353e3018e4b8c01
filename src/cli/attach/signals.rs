//! The signals an attached CLI cares about.
//!
//! SIGWINCH means the window changed size. SIGTERM, SIGHUP (the terminal
//! closed), SIGINT and SIGQUIT (sent with `kill`; in raw mode Ctrl-C is a
//! key, not a signal) end the attach: the loop returns normally so the
//! local terminal is restored instead of being left raw by a default
//! signal action.

use tokio::signal::unix::{signal, Signal, SignalKind};

pub enum AttachSignal {
    WindowChanged,
    /// A signal that ends the attach, by name.
    End(&'static str),
}

pub struct AttachSignals {
    window_change: Signal,
    terminate: Signal,
    hangup: Signal,
    interrupt: Signal,
    quit: Signal,
}

impl AttachSignals {
    pub fn install() -> std::io::Result<AttachSignals> {
        Ok(AttachSignals {
            window_change: signal(SignalKind::window_change())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            interrupt: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// The next signal that matters.
    pub async fn next(&mut self) -> AttachSignal {
        tokio::select! {
            _ = self.window_change.recv() => AttachSignal::WindowChanged,
            _ = self.terminate.recv() => AttachSignal::End("SIGTERM"),
            _ = self.hangup.recv() => AttachSignal::End("SIGHUP"),
            _ = self.interrupt.recv() => AttachSignal::End("SIGINT"),
            _ = self.quit.recv() => AttachSignal::End("SIGQUIT"),
        }
    }
}
