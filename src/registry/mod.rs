//! The registry: every terminal this daemon knows, running or recently
//! exited, and the dedupe keys that keep one process per provider session.
//!
//! Policy lives here (dedupe, limits, retention); the mechanics of one
//! terminal live in `session`, and wire formats in `protocol`.

mod accounting;
mod activity_sweep;
mod admission;
mod agent_api_link;
mod counters;
mod create;
mod forgetting;
mod handover;
mod labels;
mod late_binding;
mod opencode_watch;
mod periodic;
mod persistence;
mod reaper;
mod resting_screens;
mod resumption;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::config::Config;
use crate::providers::Providers;
use crate::session::{
    activity_channel, ActivityEvent, Session, SessionConfig, SessionRef, SharedTheme,
};

pub use accounting::Accounting;
pub use admission::{MemoryPicture, Refusal};
pub use agent_api_link::{AgentApiLink, McpServer};
pub use counters::{Counters, CountersHandover, LabeledCounter};
pub use create::{CreateError, CreateOutcome, CreateRequest};
pub use forgetting::ForgetError;
pub use handover::RegistryHandover;
pub use labels::TerminalLabels;
pub use late_binding::Association;
pub use persistence::RememberedSession;

/// A change every connected client should hear about.
#[derive(Clone, Debug)]
pub struct TerminalsChanged {
    /// Per-process counter starting at 1, +1 per change.
    pub revision: u64,
    /// Terminals that ended while nobody watched and can be resumed.
    pub recoverable_terminal_ids: Vec<String>,
}

pub struct Registry {
    config: Config,
    providers: Providers,
    session_config: SessionConfig,
    terminals: DashMap<String, Arc<Session>>,
    /// Running owner of each provider session: the dedupe key.
    owners: DashMap<SessionRef, String>,
    /// Terminal started for each create requestId, while it runs.
    request_ids: DashMap<String, String>,
    /// User-given titles and descriptions, by terminalId.
    labels: DashMap<String, TerminalLabels>,
    /// Per-key locks so concurrent creates for one session run one at a time.
    create_locks: DashMap<String, Arc<tokio::sync::Mutex<()>>>,
    /// Exited terminals still remembered, oldest first.
    exited_order: Mutex<VecDeque<String>>,
    revision: AtomicU64,
    admission: admission::Admission,
    pub counters: Counters,
    accounting: accounting::AccountingState,
    persistence: persistence::PersistenceState,
    changes: broadcast::Sender<TerminalsChanged>,
    /// Every tracked agent's activity changes (`session/activity.rs`).
    activity: broadcast::Sender<ActivityEvent>,
    shutting_down: AtomicBool,
    /// In front of freshell: how terminals reach its agent API.
    agent_api_link: std::sync::OnceLock<AgentApiLink>,
    /// Terminals bound late to the session their CLI chose (`late_binding.rs`).
    associations: broadcast::Sender<Association>,
    /// For a terminal that resumed a session, the terminal it continues
    /// (`resumption.rs`).
    resumed_from: DashMap<String, String>,
    /// The port of each running opencode terminal's server (`opencode_watch.rs`).
    opencode_ports: DashMap<String, u16>,
}

impl Registry {
    pub fn new(config: Config, session_config: SessionConfig) -> Arc<Registry> {
        let providers = Providers::from_config(&config.providers);
        let (changes, _) = broadcast::channel(256);
        let admission = admission::Admission::new(&config.limits);
        Arc::new(Registry {
            config,
            providers,
            session_config,
            terminals: DashMap::new(),
            owners: DashMap::new(),
            request_ids: DashMap::new(),
            create_locks: DashMap::new(),
            labels: DashMap::new(),
            exited_order: Mutex::new(VecDeque::new()),
            revision: AtomicU64::new(0),
            admission,
            counters: Counters::default(),
            accounting: accounting::AccountingState::default(),
            persistence: persistence::PersistenceState::default(),
            changes,
            activity: activity_channel(),
            shutting_down: AtomicBool::new(false),
            agent_api_link: std::sync::OnceLock::new(),
            associations: late_binding::association_channel(),
            resumed_from: DashMap::new(),
            opencode_ports: DashMap::new(),
        })
    }

    /// From now on, terminals get what reaches freshell's agent API
    /// (`agent_api_link.rs`). Set once, before serving.
    pub fn link_agent_api(&self, link: AgentApiLink) {
        let _ = self.agent_api_link.set(link);
    }

    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    /// The colours every session reports where its program chose none; a
    /// viewer may teach its own once (`session/terminal/theme.rs`).
    pub fn theme(&self) -> &SharedTheme {
        &self.session_config.theme
    }

    pub fn get(&self, terminal_id: &str) -> Option<Arc<Session>> {
        self.terminals.get(terminal_id).map(|s| Arc::clone(&s))
    }

    /// The running terminal of a provider session, if any.
    pub fn owner_of(&self, session_ref: &SessionRef) -> Option<Arc<Session>> {
        let id = self.owners.get(session_ref)?.clone();
        self.get(&id).filter(|s| s.is_running())
    }

    /// Every remembered terminal, oldest first.
    pub fn list(&self) -> Vec<Arc<Session>> {
        let mut all: Vec<Arc<Session>> = self
            .terminals
            .iter()
            .map(|e| Arc::clone(e.value()))
            .collect();
        all.sort_by(|a, b| {
            (a.info().created_at_ms, a.terminal_id())
                .cmp(&(b.info().created_at_ms, b.terminal_id()))
        });
        all
    }

    pub fn running_count(&self) -> usize {
        self.terminals
            .iter()
            .filter(|e| e.value().is_running())
            .count()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TerminalsChanged> {
        self.changes.subscribe()
    }

    /// Activity changes of every tracked agent, from now on.
    pub fn subscribe_activity(&self) -> broadcast::Receiver<ActivityEvent> {
        self.activity.subscribe()
    }

    pub fn announce_change(&self, recoverable_terminal_ids: Vec<String>) {
        let revision = self.revision.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.changes.send(TerminalsChanged {
            revision,
            recoverable_terminal_ids,
        });
    }

    fn register(self: &Arc<Self>, session: Arc<Session>, request_id: &str) {
        let previous = session
            .session_ref()
            .and_then(|session_ref| self.previous_terminal_of(session_ref));
        if let Some(previous) = previous {
            self.continue_previous(&session, previous);
        }
        self.request_ids
            .insert(request_id.to_owned(), session.terminal_id().to_owned());
        self.register_running(session);
    }

    /// Keeps a running terminal: listed, its dedupe key, and its end watched.
    fn register_running(self: &Arc<Self>, session: Arc<Session>) {
        let id = session.terminal_id().to_owned();
        // Listed before its remembered record is dropped, so a list taken
        // meanwhile shows the session at least once.
        self.terminals.insert(id.clone(), Arc::clone(&session));
        if let Some(session_ref) = session.session_ref() {
            self.owners.insert(session_ref.clone(), id);
            self.wake_dormant(session_ref);
            self.state_changed();
        }
        let registry = Arc::clone(self);
        tokio::spawn(async move {
            session.exited().await;
            registry.on_exit(&session);
        });
    }

    /// Releases an exited terminal's dedupe keys and retires old records.
    fn on_exit(&self, session: &Arc<Session>) {
        let id = session.terminal_id();
        if let Some(link) = self.agent_api_link.get() {
            link.forget(id);
        }
        if let Some(session_ref) = session.session_ref() {
            self.owners.remove_if(session_ref, |_, owner| owner == id);
        }
        self.request_ids.retain(|_, terminal| terminal != id);
        let evicted: Vec<String> = {
            let mut order = self.exited_order.lock();
            order.push_back(id.to_owned());
            let keep = self.config.sessions.max_exited_terminals;
            let excess = order.len().saturating_sub(keep);
            order.drain(..excess).collect()
        };
        for old in evicted {
            self.terminals.remove(&old);
            self.labels.remove(&old);
        }
        if session.session_ref().is_some() {
            self.state_changed();
        }
        let (resyncs, skipped_bytes) = session.viewer_drops();
        self.counters.retire_viewer_drops(resyncs, skipped_bytes);
        // Only a session that ended unwatched needs clients to act on it.
        if !session.ended_watched() && session.session_ref().is_some() {
            self.announce_change(vec![id.to_owned()]);
        }
    }

    /// Hangs up every running child and waits (bounded) for them to exit.
    pub async fn shutdown(&self, wait: Duration) {
        self.shutting_down.store(true, Ordering::SeqCst);
        let running: Vec<Arc<Session>> =
            self.list().into_iter().filter(|s| s.is_running()).collect();
        for session in &running {
            session.kill();
        }
        let all_exited = futures_util::future::join_all(running.iter().map(|s| s.exited()));
        if tokio::time::timeout(wait, all_exited).await.is_err() {
            // Nobody escalates once the daemon has exited: what still runs
            // (it ignored SIGHUP and SIGTERM) is killed now.
            for session in running.iter().filter(|s| s.is_running()) {
                tracing::warn!(terminal = %session.terminal_id(), "still running at shutdown; SIGKILL to its process group");
                session.kill_now();
            }
            let all_exited = futures_util::future::join_all(running.iter().map(|s| s.exited()));
            let _ = tokio::time::timeout(wait, all_exited).await;
        }
        // Whatever ran is resumable after the restart.
        self.save_state();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}
