//! The daemon's shared state: one cheap handle every route and connection
//! holds (registry, identity, token, shutdown signal, connection count).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::auth_failures::AuthFailures;
use crate::config::Config;
use crate::login_codes::LoginCodes;
use crate::registry::Registry;
use crate::server::connection_budget::ConnectionBudget;
use crate::upstream::Upstream;

pub struct Daemon {
    pub registry: Arc<Registry>,
    pub config: Config,
    token: String,
    /// Lets a socket watch terminals but never type, resize, create or kill.
    view_token: String,
    /// Stable for the installation (kept in the state dir).
    pub server_instance_id: String,
    /// New for every daemon process.
    pub boot_id: String,
    /// The freshell server ptyhub fronts, with `--freshell-upstream`.
    pub upstream: Option<Upstream>,
    /// Wrong tokens, per peer: logged, counted, slowed down.
    pub auth_failures: AuthFailures,
    /// The codes of the login links not opened yet (`crate::login_codes`).
    pub login_codes: LoginCodes,
    /// Every open TCP connection, and what it may hold before it authenticates.
    pub connections: Arc<ConnectionBudget>,
    /// Whether (and why) every socket is being closed.
    closing: watch::Sender<Closing>,
    /// A descriptor of the listening socket, for a handover to pass on.
    listener: std::sync::OnceLock<std::os::fd::OwnedFd>,
    /// The state dir's lock, held while the daemon runs.
    state_lock: std::sync::OnceLock<std::os::fd::OwnedFd>,
    /// In-place upgrades this daemon has been through (`crate::handover`).
    handovers: AtomicU64,
    /// How long the last one took, sessions paused to serving again (ms).
    last_handover_ms: AtomicU64,
    /// Upgrades refused or failed since this image started, and why the
    /// last one was.
    upgrade_failures: AtomicU64,
    last_upgrade_failure: parking_lot::Mutex<Option<String>>,
    open_connections: AtomicUsize,
    next_connection_id: AtomicU64,
}

/// Why every socket is being closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    No,
    /// The daemon is going away.
    ShuttingDown,
    /// The daemon is executing a newer image of itself; clients come back
    /// to the same sessions at once.
    Restarting,
}

/// The daemon's two secrets.
pub struct Tokens {
    /// Everything: create, type, resize, kill, watch.
    pub full: String,
    /// Watch only.
    pub view: String,
}

/// What a token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Full,
    /// Watch terminals; never type, resize, create or kill.
    ReadOnly,
}

/// Constant-time comparison (lengths are not secret; contents are).
fn same_secret(presented: &str, secret: &str) -> bool {
    presented.len() == secret.len() && bool::from(presented.as_bytes().ct_eq(secret.as_bytes()))
}

/// Counts one open connection for as long as it lives.
pub struct ConnectionSlot {
    daemon: Arc<Daemon>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.daemon.open_connections.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Daemon {
    pub fn new(
        registry: Arc<Registry>,
        config: Config,
        tokens: Tokens,
        server_instance_id: String,
        upstream: Option<Upstream>,
        boot_id: Option<String>,
    ) -> Arc<Daemon> {
        let connections = ConnectionBudget::new(config.server.connection_budgets());
        Arc::new(Daemon {
            registry,
            config,
            token: tokens.full,
            view_token: tokens.view,
            server_instance_id,
            boot_id: boot_id.unwrap_or_else(|| format!("boot-{}", uuid::Uuid::new_v4())),
            upstream,
            auth_failures: AuthFailures::default(),
            login_codes: LoginCodes::default(),
            connections,
            closing: watch::Sender::new(Closing::No),
            listener: std::sync::OnceLock::new(),
            state_lock: std::sync::OnceLock::new(),
            handovers: AtomicU64::new(0),
            last_handover_ms: AtomicU64::new(0),
            upgrade_failures: AtomicU64::new(0),
            last_upgrade_failure: parking_lot::Mutex::new(None),
            open_connections: AtomicUsize::new(0),
            next_connection_id: AtomicU64::new(1),
        })
    }

    /// Compares a presented token with the full token in constant time.
    pub fn token_matches(&self, presented: &str) -> bool {
        same_secret(presented, &self.token)
    }

    /// What a presented token allows, if anything.
    pub fn access_for(&self, presented: &str) -> Option<Access> {
        if same_secret(presented, &self.token) {
            Some(Access::Full)
        } else if same_secret(presented, &self.view_token) {
            Some(Access::ReadOnly)
        } else {
            None
        }
    }

    pub fn view_token(&self) -> &str {
        &self.view_token
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Takes a connection slot, or `None` when the daemon is at its limit.
    pub fn open_connection(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let limit = self.config.server.max_connections;
        let previous = self.open_connections.fetch_add(1, Ordering::SeqCst);
        let slot = ConnectionSlot {
            daemon: Arc::clone(self),
        };
        (previous < limit).then_some(slot)
    }

    pub fn next_connection_id(&self) -> u64 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn begin_shutdown(&self) {
        self.closing.send_replace(Closing::ShuttingDown);
    }

    /// Closes every socket for an upgrade (`crate::handover`).
    pub fn begin_restart(&self) {
        self.closing.send_replace(Closing::Restarting);
    }

    /// The upgrade did not happen: sockets opened from now on stay.
    pub fn end_restart(&self) {
        self.closing.send_replace(Closing::No);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<Closing> {
        self.closing.subscribe()
    }

    /// Open WebSockets.
    pub fn open_sockets(&self) -> usize {
        self.open_connections.load(Ordering::SeqCst)
    }

    /// Keeps a descriptor of the listening socket for a handover.
    pub fn keep_listener(&self, listener: std::os::fd::OwnedFd) {
        let _ = self.listener.set(listener);
    }

    /// Holds the state dir's lock for as long as the daemon runs.
    pub fn keep_state_lock(&self, lock: std::os::fd::OwnedFd) {
        let _ = self.state_lock.set(lock);
    }

    pub fn state_lock_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.state_lock.get().map(|fd| fd.as_raw_fd())
    }

    pub fn listener_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.listener.get().map(|fd| fd.as_raw_fd())
    }

    pub fn handovers(&self) -> u64 {
        self.handovers.load(Ordering::SeqCst)
    }

    pub fn last_handover_ms(&self) -> u64 {
        self.last_handover_ms.load(Ordering::SeqCst)
    }

    /// An upgrade did not happen, for this reason.
    pub fn note_upgrade_failure(&self, reason: String) {
        *self.last_upgrade_failure.lock() = Some(reason);
        self.upgrade_failures.fetch_add(1, Ordering::SeqCst);
    }

    /// Upgrades that did not happen, and why the last one did not.
    pub fn upgrade_failures(&self) -> (u64, Option<String>) {
        (
            self.upgrade_failures.load(Ordering::SeqCst),
            self.last_upgrade_failure.lock().clone(),
        )
    }

    /// This image took over from an earlier one (the `count`th handover),
    /// `took_ms` after its exec.
    pub fn note_handover(&self, count: u64, took_ms: u64) {
        self.handovers.store(count, Ordering::SeqCst);
        self.last_handover_ms.store(took_ms, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionConfig;

    #[tokio::test]
    async fn tokens_must_match_exactly() {
        let config = Config::default();
        let registry = Registry::new(
            config.clone(),
            SessionConfig {
                replay_ring_bytes: 1024,
                frame_limit: crate::session::FrameLimit::utf8_bytes(1024),
                kill_grace: std::time::Duration::from_millis(10),
                size_policy: crate::session::SizePolicy::default(),
                theme: Default::default(),
            },
        );
        let daemon = Daemon::new(
            registry,
            config,
            Tokens {
                full: "a-long-enough-token".into(),
                view: "a-view-only-token-1".into(),
            },
            "srv-x".into(),
            None,
            None,
        );
        assert!(daemon.token_matches("a-long-enough-token"));
        assert!(!daemon.token_matches("a-long-enough-tokeN"));
        assert!(!daemon.token_matches(""));
        assert_eq!(daemon.access_for("a-long-enough-token"), Some(Access::Full));
        assert_eq!(
            daemon.access_for("a-view-only-token-1"),
            Some(Access::ReadOnly)
        );
        assert_eq!(daemon.access_for("a-view-only-token-2"), None);
        assert!(!daemon.token_matches("a-view-only-token-1"));
    }
}
