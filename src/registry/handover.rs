//! The registry as one image of the daemon hands it to the next
//! (`crate::handover`): every terminal, running or recently exited, and
//! what the registry knows about them besides (labels, the requestIds that
//! created them, which exited ones are remembered longest).

use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{CountersHandover, Registry, TerminalLabels};
use crate::session::{Session, SessionHandover};

#[derive(Debug, Serialize, Deserialize)]
pub struct RegistryHandover {
    pub sessions: Vec<SessionHandover>,
    pub labels: Vec<(String, TerminalLabels)>,
    /// (requestId, terminalId) of running terminals.
    pub request_ids: Vec<(String, String)>,
    /// Exited terminals still remembered, oldest first.
    pub exited_order: Vec<String>,
    pub revision: u64,
    pub counters: CountersHandover,
    /// (terminalId, the terminal it continues) of resumed sessions.
    #[serde(default)]
    pub resumed_from: Vec<(String, String)>,
    /// (terminalId, port) of the opencode servers followed
    /// (`opencode_watch.rs`): the next image follows them again.
    #[serde(default)]
    pub opencode_ports: Vec<(String, u16)>,
}

impl Registry {
    /// Stops every session's reading (`Session::hand_over`) and writes the
    /// registry down. The sessions stay paused until the exec, or until
    /// `resume_after_handover` if it does not happen.
    /// Waits (blocking, until `deadline` at most) for every session's queued
    /// input to reach its PTY; returns the bytes still unwritten.
    pub fn wait_for_input_written(&self, deadline: std::time::Instant) -> usize {
        self.list()
            .iter()
            .map(|session| session.wait_input_written(deadline))
            .sum()
    }

    pub fn hand_over(&self) -> RegistryHandover {
        RegistryHandover {
            sessions: self.list().iter().map(|s| s.hand_over()).collect(),
            labels: self
                .labels
                .iter()
                .map(|e| (e.key().clone(), e.value().clone()))
                .collect(),
            request_ids: self
                .request_ids
                .iter()
                .map(|e| (e.key().clone(), e.value().clone()))
                .collect(),
            exited_order: self.exited_order.lock().iter().cloned().collect(),
            revision: self.revision.load(Ordering::SeqCst),
            counters: self.counters.hand_over(),
            resumed_from: self
                .resumed_from
                .iter()
                .map(|e| (e.key().clone(), e.value().clone()))
                .collect(),
            opencode_ports: self
                .opencode_ports
                .iter()
                .map(|e| (e.key().clone(), *e.value()))
                .collect(),
        }
    }

    /// Every session reads again: the handover did not happen.
    pub fn resume_after_handover(&self) {
        for session in self.list() {
            session.resume_after_handover();
        }
    }

    /// Takes over what an earlier image handed over. Each session's PTY
    /// master is the descriptor it names, left open across the exec; this
    /// registry owns it from now on. Returns the number of sessions taken.
    ///
    /// # Safety
    /// Every `master_fd` in `handed` must be an open descriptor nothing else
    /// in this process owns (the handover's own, inherited across the exec).
    pub unsafe fn take_over(self: &Arc<Self>, handed: RegistryHandover) -> usize {
        let mut taken = 0;
        for session in handed.sessions {
            let terminal_id = session.terminal_id.clone();
            // SAFETY: the caller's promise.
            let master = unsafe { OwnedFd::from_raw_fd(session.master_fd) };
            crate::handover::close_on_exec(&master);
            let session = match Session::take_over(
                session,
                master,
                self.session_config.clone(),
                Some(self.activity.clone()),
            ) {
                Ok(session) => session,
                Err(err) => {
                    tracing::error!(terminal = %terminal_id, %err, "could not take over a session");
                    continue;
                }
            };
            taken += 1;
            if session.is_running() {
                self.register_running(Arc::clone(&session));
            } else {
                // Written to the state file before the exec, it was loaded
                // back as a record from a previous run: it is this one.
                if let Some(session_ref) = session.session_ref() {
                    self.wake_dormant(session_ref);
                }
                self.terminals.insert(terminal_id, session);
            }
        }
        for (terminal_id, labels) in handed.labels {
            if self.terminals.contains_key(&terminal_id) {
                self.labels.insert(terminal_id, labels);
            }
        }
        for (request_id, terminal_id) in handed.request_ids {
            if self.get(&terminal_id).is_some_and(|s| s.is_running()) {
                self.request_ids.insert(request_id, terminal_id);
            }
        }
        {
            let mut order = self.exited_order.lock();
            order.extend(
                handed
                    .exited_order
                    .into_iter()
                    .filter(|id| self.terminals.contains_key(id)),
            );
        }
        self.revision.store(handed.revision, Ordering::SeqCst);
        self.counters.take_over(handed.counters);
        for (terminal_id, previous) in handed.resumed_from {
            self.resumed_from.insert(terminal_id, previous);
        }
        for (terminal_id, port) in handed.opencode_ports {
            if let Some(session) = self.get(&terminal_id).filter(|s| s.is_running()) {
                self.watch_opencode(&session, port);
            }
        }
        taken
    }
}
