//! A CLI that picks its own session id (codex; ptyhub launches claude with
//! one) starts unbound: nothing would resume it after a restart, and a
//! second tab of its conversation would start a second process. The
//! session locator watches where such a CLI writes its sessions down
//! (`providers::codex_sessions`) and binds the terminal once its session
//! appears, as freshell does: the session must be in the terminal's
//! directory, written after the terminal started, owned by no other
//! terminal, and exactly one unbound terminal may fit it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use super::Registry;
use crate::providers::codex_sessions::{self, RolloutSession};
use crate::providers::SessionFinder;
use crate::session::{Session, SessionRef};

/// How often unbound terminals look for their session.
const LOCATE_INTERVAL: Duration = Duration::from_secs(2);
/// A session written this long before its terminal started still counts
/// (clocks and file times are coarse).
const STARTED_BEFORE_SLACK_MS: u64 = 5_000;

/// A terminal bound to the provider session it runs.
#[derive(Clone, Debug)]
pub struct Association {
    pub terminal_id: String,
    pub session_ref: SessionRef,
}

pub fn association_channel() -> broadcast::Sender<Association> {
    broadcast::channel(256).0
}

impl Registry {
    pub fn subscribe_associations(&self) -> broadcast::Receiver<Association> {
        self.associations.subscribe()
    }

    pub fn start_session_locator(self: &Arc<Self>) {
        self.every(LOCATE_INTERVAL, |registry| registry.locate_sessions());
    }

    /// Binds unbound terminals whose session has appeared.
    pub fn locate_sessions(&self) {
        let unbound: Vec<Arc<Session>> = self
            .list()
            .into_iter()
            .filter(|s| s.is_running() && s.session_ref().is_none())
            .filter(|s| {
                self.providers.get(&s.info().mode).map(|p| p.session_finder)
                    == Some(SessionFinder::CodexRollouts)
            })
            .collect();
        let Some(oldest_ms) = unbound.iter().map(|s| s.info().created_at_ms).min() else {
            return;
        };
        let Some(home) = codex_sessions::codex_home() else {
            return;
        };
        let since = oldest_ms.saturating_sub(STARTED_BEFORE_SLACK_MS);
        for found in codex_sessions::recent_sessions(&home, since) {
            let session_ref = SessionRef {
                provider: "codex".to_owned(),
                session_id: found.session_id.clone(),
            };
            if self.owners.contains_key(&session_ref) {
                continue;
            }
            let fitting: Vec<&Arc<Session>> = unbound
                .iter()
                .filter(|s| s.session_ref().is_none() && fits(s, &found))
                .collect();
            match fitting.as_slice() {
                [only] => {
                    self.bind_session(only, session_ref);
                }
                [] => {}
                several => tracing::info!(
                    session = %found.session_id,
                    candidates = several.len(),
                    "a codex session fits several unbound terminals; binding none"
                ),
            }
        }
    }

    /// Binds a running terminal to the session it turned out to run; false
    /// if another terminal owns that session or this one has one already.
    pub fn bind_session(&self, session: &Arc<Session>, session_ref: SessionRef) -> bool {
        if session.info().mode != session_ref.provider || !session.is_running() {
            return false;
        }
        let id = session.terminal_id().to_owned();
        match self.owners.entry(session_ref.clone()) {
            dashmap::mapref::entry::Entry::Occupied(_) => return false,
            dashmap::mapref::entry::Entry::Vacant(slot) => {
                if !session.bind_session(session_ref.clone()) {
                    return false;
                }
                slot.insert(id.clone());
            }
        }
        tracing::info!(terminal = %id, %session_ref, "bound to the session it started");
        self.wake_dormant(&session_ref);
        self.state_changed();
        self.announce_change(Vec::new());
        let _ = self.associations.send(Association {
            terminal_id: id,
            session_ref,
        });
        true
    }
}

/// The session is in the terminal's directory and was written after it started.
fn fits(session: &Session, found: &RolloutSession) -> bool {
    let info = session.info();
    found.modified_ms + STARTED_BEFORE_SLACK_MS >= info.created_at_ms
        && info
            .cwd
            .as_deref()
            .is_some_and(|cwd| same_dir(Path::new(cwd), &found.cwd))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(a), Ok(b)) if a == b
        )
}
