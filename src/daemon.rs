//! The daemon's shared state: one cheap handle every route and connection
//! holds (registry, identity, token, shutdown signal, connection count).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::auth_failures::AuthFailures;
use crate::config::Config;
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
    /// Every open TCP connection, and what it may hold before it authenticates.
    pub connections: Arc<ConnectionBudget>,
    shutdown: watch::Sender<bool>,
    open_connections: AtomicUsize,
    next_connection_id: AtomicU64,
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
    ) -> Arc<Daemon> {
        let connections = ConnectionBudget::new(config.server.connection_budgets());
        Arc::new(Daemon {
            registry,
            config,
            token: tokens.full,
            view_token: tokens.view,
            server_instance_id,
            boot_id: format!("boot-{}", uuid::Uuid::new_v4()),
            upstream,
            auth_failures: AuthFailures::default(),
            connections,
            shutdown: watch::Sender::new(false),
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
        self.shutdown.send_replace(true);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
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
