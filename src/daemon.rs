//! The daemon's shared state: one cheap handle every route and connection
//! holds (registry, identity, token, shutdown signal, connection count).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::config::Config;
use crate::registry::Registry;
use crate::upstream::Upstream;

pub struct Daemon {
    pub registry: Arc<Registry>,
    pub config: Config,
    token: String,
    /// Stable for the installation (kept in the state dir).
    pub server_instance_id: String,
    /// New for every daemon process.
    pub boot_id: String,
    /// The freshell server ptyhub fronts, with `--freshell-upstream`.
    pub upstream: Option<Upstream>,
    shutdown: watch::Sender<bool>,
    open_connections: AtomicUsize,
    next_connection_id: AtomicU64,
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
        token: String,
        server_instance_id: String,
        upstream: Option<Upstream>,
    ) -> Arc<Daemon> {
        Arc::new(Daemon {
            registry,
            config,
            token,
            server_instance_id,
            boot_id: format!("boot-{}", uuid::Uuid::new_v4()),
            upstream,
            shutdown: watch::Sender::new(false),
            open_connections: AtomicUsize::new(0),
            next_connection_id: AtomicU64::new(1),
        })
    }

    /// Compares a presented token with ours in constant time.
    pub fn token_matches(&self, presented: &str) -> bool {
        // Lengths are not secret; contents are.
        presented.len() == self.token.len()
            && bool::from(presented.as_bytes().ct_eq(self.token.as_bytes()))
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
            },
        );
        let daemon = Daemon::new(
            registry,
            config,
            "a-long-enough-token".into(),
            "srv-x".into(),
            None,
        );
        assert!(daemon.token_matches("a-long-enough-token"));
        assert!(!daemon.token_matches("a-long-enough-tokeN"));
        assert!(!daemon.token_matches(""));
    }
}
