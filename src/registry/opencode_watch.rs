//! opencode tells who works itself: ptyhub starts it with its server on a
//! port of 127.0.0.1 (as freshell does) and follows that server, one thread
//! per opencode terminal: the agent is busy while one of its root sessions
//! works (a subtask's child session is its parent's work), a turn completes
//! when none works any more, and a terminal started without a session is
//! bound to the root session that works first, as freshell binds it.
//!
//! The thread waits for the server to answer (it starts with the TUI), reads
//! which sessions work, then follows the event stream; when the stream ends
//! it starts over, until the terminal ends.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::Registry;
use crate::providers::opencode_server::{OpencodeEvent, OpencodeServer};
use crate::session::{Session, SessionRef};

/// How often a server not answering yet is asked again.
const HEALTH_POLL: Duration = Duration::from_millis(200);
/// How long one round waits for the server before backing off.
const HEALTH_WAIT: Duration = Duration::from_secs(15);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const LONGEST_BACKOFF: Duration = Duration::from_secs(5);

/// A free port on 127.0.0.1 for an opencode server (free when asked; the
/// kernel does not hand it out again at once).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// The command-line arguments that start opencode's server on `port`.
pub fn server_args(port: u16) -> Vec<String> {
    vec![
        "--hostname".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
    ]
}

/// What the server said about its sessions so far.
#[derive(Default)]
struct Sessions {
    working: HashMap<String, bool>,
    children: HashSet<String>,
}

impl Sessions {
    fn apply(&mut self, event: OpencodeEvent) {
        match event {
            OpencodeEvent::Working {
                session_id,
                working,
            } => {
                self.working.insert(session_id, working);
            }
            OpencodeEvent::Created {
                session_id,
                parent_id: Some(_),
            } => {
                self.children.insert(session_id);
            }
            OpencodeEvent::Created { .. } => {}
        }
    }

    /// The root sessions at work, sorted.
    fn working_roots(&self) -> Vec<&str> {
        let mut roots: Vec<&str> = self
            .working
            .iter()
            .filter(|(id, working)| **working && !self.children.contains(*id))
            .map(|(id, _)| id.as_str())
            .collect();
        roots.sort_unstable();
        roots
    }
}

impl Registry {
    /// Follows the opencode server of `session` on `port` until the session ends.
    pub(super) fn watch_opencode(self: &Arc<Self>, session: &Arc<Session>, port: u16) {
        self.opencode_ports
            .insert(session.terminal_id().to_owned(), port);
        let registry = Arc::downgrade(self);
        let session = Arc::clone(session);
        let started = std::thread::Builder::new()
            .name("opencode-watch".into())
            .spawn(move || follow(&registry, &session, &OpencodeServer::new(port)));
        if let Err(err) = started {
            tracing::warn!(%err, "cannot follow opencode's server: no activity for it");
        }
    }
}

fn follow(registry: &Weak<Registry>, session: &Arc<Session>, server: &OpencodeServer) {
    let mut backoff = FIRST_BACKOFF;
    let mut sessions = Sessions::default();
    while session.is_running() {
        if !wait_until_healthy(session, server) {
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(LONGEST_BACKOFF);
            continue;
        }
        backoff = FIRST_BACKOFF;
        match server.working_sessions() {
            Ok(working) => sessions.working = working,
            Err(err) => {
                tracing::debug!(terminal = %session.terminal_id(), %err, "opencode's session status");
                continue;
            }
        }
        report(registry, session, &sessions);
        let events = match server.events() {
            Ok(events) => events,
            Err(err) => {
                tracing::debug!(terminal = %session.terminal_id(), %err, "opencode's event stream");
                continue;
            }
        };
        for event in events {
            sessions.apply(event);
            report(registry, session, &sessions);
            if !session.is_running() {
                break;
            }
        }
    }
    if let Some(registry) = registry.upgrade() {
        registry.opencode_ports.remove(session.terminal_id());
    }
}

fn wait_until_healthy(session: &Session, server: &OpencodeServer) -> bool {
    let deadline = Instant::now() + HEALTH_WAIT;
    while session.is_running() && Instant::now() < deadline {
        if server.healthy() {
            return true;
        }
        std::thread::sleep(HEALTH_POLL);
    }
    false
}

/// Tells the session whether its agent works, and binds an unbound one to
/// the only root session at work.
fn report(registry: &Weak<Registry>, session: &Arc<Session>, sessions: &Sessions) {
    let roots = sessions.working_roots();
    session.provider_reports_activity(!roots.is_empty());
    if let ([only], None, Some(registry)) =
        (roots.as_slice(), session.session_ref(), registry.upgrade())
    {
        registry.bind_session(
            session,
            SessionRef {
                provider: session.info().mode.clone(),
                session_id: (*only).to_owned(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_root_sessions_at_work_count() {
        let mut sessions = Sessions::default();
        sessions.apply(OpencodeEvent::Working {
            session_id: "ses_root".into(),
            working: true,
        });
        sessions.apply(OpencodeEvent::Created {
            session_id: "ses_child".into(),
            parent_id: Some("ses_root".into()),
        });
        sessions.apply(OpencodeEvent::Working {
            session_id: "ses_child".into(),
            working: true,
        });
        assert_eq!(sessions.working_roots(), ["ses_root"]);
        sessions.apply(OpencodeEvent::Working {
            session_id: "ses_root".into(),
            working: false,
        });
        assert!(
            sessions.working_roots().is_empty(),
            "a child's work alone is not a turn"
        );
    }
}
