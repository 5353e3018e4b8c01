//! The create decision: reuse a running terminal whenever the request names
//! one (same requestId, same provider session, a live handle), and spawn only
//! when none runs. Creates for one session key are serialized, so five tabs
//! reconnecting at once give exactly one process.

use std::sync::Arc;

use super::{opencode_watch, Registry};
use crate::providers::{LaunchKind, LaunchRequest, SessionFinder};
use crate::session::{now_ms, Session, SessionInfo, SessionRef};

/// A protocol-neutral create request.
#[derive(Clone, Debug, Default)]
pub struct CreateRequest {
    pub request_id: String,
    pub mode: String,
    pub cwd: Option<String>,
    pub session_ref: Option<SessionRef>,
    /// "This pane existed before; resume it."
    pub restore: bool,
    /// "Start fresh on purpose" (may not carry a restore identity).
    pub fresh_recovery: bool,
    /// A terminal the client believes is still alive on this daemon.
    pub live_terminal_id: Option<String>,
    pub tab_id: Option<String>,
    pub pane_id: Option<String>,
    /// Run this argv instead of the mode's program (`ptyhub new -- htop`);
    /// never with a session to resume.
    pub command: Option<Vec<String>>,
    /// Model, permission mode, sandbox for the agent (freshell's agent API).
    pub settings: crate::providers::LaunchSettings,
}

#[derive(Debug)]
pub enum CreateOutcome {
    Spawned(Arc<Session>),
    /// An existing terminal serves the request; nothing was spawned.
    Reused(Arc<Session>),
}

impl CreateOutcome {
    pub fn session(&self) -> &Arc<Session> {
        match self {
            CreateOutcome::Spawned(s) | CreateOutcome::Reused(s) => s,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("Invalid terminal mode: '{mode}'. Valid: {valid}")]
    InvalidMode { mode: String, valid: String },
    #[error("{0}")]
    InvalidSessionId(String),
    #[error("Restore requires a canonical session reference.")]
    RestoreUnavailable,
    #[error("Fresh recovery requests cannot include restore identity.")]
    FreshWithRestoreIdentity,
    #[error("{0}")]
    LimitReached(String),
    #[error("Server is shutting down; terminal.create is no longer accepted.")]
    ShuttingDown,
    #[error("{0}")]
    SpawnFailed(String),
}

impl Registry {
    pub async fn create(
        self: &Arc<Self>,
        request: CreateRequest,
    ) -> Result<CreateOutcome, CreateError> {
        if self.is_shutting_down() {
            return Err(CreateError::ShuttingDown);
        }
        let provider =
            self.providers
                .get(&request.mode)
                .ok_or_else(|| CreateError::InvalidMode {
                    mode: request.mode.clone(),
                    valid: self.providers.modes().collect::<Vec<_>>().join(", "),
                })?;
        let provider = match request.command.as_deref() {
            Some([]) => return Err(CreateError::SpawnFailed("the command is empty".to_owned())),
            Some(argv) => provider.running_command(argv),
            None => provider.clone(),
        };
        let restore_identity =
            request.restore || request.session_ref.is_some() || request.live_terminal_id.is_some();
        if request.fresh_recovery && restore_identity {
            return Err(CreateError::FreshWithRestoreIdentity);
        }
        // A sessionRef only names a resume target for its own provider.
        let resume_ref = request
            .session_ref
            .clone()
            .filter(|r| r.provider == request.mode && provider.can_resume());
        if let Some(r) = &resume_ref {
            provider
                .session_ids
                .check(&r.session_id)
                .map_err(CreateError::InvalidSessionId)?;
        }

        if let Some(session) = self.running_for_request(&request.request_id) {
            self.counters.deduped.add(&request.mode, 1);
            return Ok(CreateOutcome::Reused(session));
        }
        if let Some(session) = request
            .live_terminal_id
            .as_deref()
            .and_then(|id| self.get(id))
            .filter(|s| s.is_running() && s.info().mode == request.mode)
        {
            self.counters.deduped.add(&request.mode, 1);
            return Ok(CreateOutcome::Reused(session));
        }
        if request.restore && provider.can_resume() && resume_ref.is_none() {
            return Err(CreateError::RestoreUnavailable);
        }

        let launch = match &resume_ref {
            Some(r) => LaunchKind::Resume {
                session_id: r.session_id.clone(),
            },
            None => LaunchKind::Fresh {
                session_id: provider
                    .server_assigns_session_id
                    .then(|| uuid::Uuid::new_v4().to_string()),
            },
        };
        let bound_ref = match &launch {
            LaunchKind::Resume { session_id }
            | LaunchKind::Fresh {
                session_id: Some(session_id),
            } => Some(SessionRef {
                provider: provider.mode.clone(),
                session_id: session_id.clone(),
            }),
            LaunchKind::Fresh { session_id: None } => None,
        };
        let lock_key = match &bound_ref {
            Some(r) => format!("session:{}:{}", r.provider, r.session_id),
            None => format!("request:{}", request.request_id),
        };
        let lock = Arc::clone(
            self.create_locks
                .entry(lock_key.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
                .value(),
        );
        let guard = lock.lock().await;
        let result = self
            .create_locked(&request, &provider, &launch, bound_ref)
            .await;
        drop(guard);
        // Forget the lock once nobody else waits on it.
        self.create_locks
            .remove_if(&lock_key, |_, l| Arc::strong_count(l) <= 2);
        result
    }

    /// The create, once no other create for the same key can run.
    async fn create_locked(
        self: &Arc<Self>,
        request: &CreateRequest,
        provider: &crate::providers::Provider,
        launch: &LaunchKind,
        bound_ref: Option<SessionRef>,
    ) -> Result<CreateOutcome, CreateError> {
        // Re-check under the lock: an earlier create may have just spawned it.
        if let Some(session) = self.running_for_request(&request.request_id) {
            self.counters.deduped.add(&provider.mode, 1);
            return Ok(CreateOutcome::Reused(session));
        }
        if let Some(session) = bound_ref.as_ref().and_then(|r| self.owner_of(r)) {
            self.request_ids
                .insert(request.request_id.clone(), session.terminal_id().to_owned());
            self.counters.deduped.add(&provider.mode, 1);
            return Ok(CreateOutcome::Reused(session));
        }
        // Before a slot is taken: a missing program is the user's to fix,
        // and the error says how (portable-pty's would list PATH).
        if let Some(why) = provider.unavailable() {
            return Err(CreateError::SpawnFailed(why));
        }
        let _slot = self.admission.spawn_slot().await;
        let reservation = self.reserve_spawn(&provider.mode).map_err(|refusal| {
            self.counters.refused.add(refusal.limit, 1);
            tracing::warn!(limit = refusal.limit, mode = %provider.mode, "create refused: {}", refusal.message);
            CreateError::LimitReached(refusal.message)
        })?;
        let session = self.spawn_session(request, provider, launch, bound_ref)?;
        reservation.complete(|| self.register(Arc::clone(&session), &request.request_id));
        self.counters.spawned.add(&provider.mode, 1);
        Ok(CreateOutcome::Spawned(session))
    }

    fn spawn_session(
        self: &Arc<Self>,
        request: &CreateRequest,
        provider: &crate::providers::Provider,
        launch: &LaunchKind,
        bound_ref: Option<SessionRef>,
    ) -> Result<Arc<Session>, CreateError> {
        let terminal_id = uuid::Uuid::new_v4().simple().to_string();
        let sessions = &self.config.sessions;
        let (extra_args, extra_env) = match self.agent_api_link.get() {
            Some(link) => (
                link.mcp_args(provider.mcp_style, &terminal_id)
                    .map_err(|e| {
                        CreateError::SpawnFailed(format!(
                            "cannot write the MCP config for freshell's tool: {e}"
                        ))
                    })?,
                link.env()
                    .into_iter()
                    .chain(link.mcp_env(provider.mcp_style))
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let resuming = matches!(launch, LaunchKind::Resume { .. });
        let mut extra_args = extra_args;
        let opencode_port = match provider.session_finder {
            SessionFinder::OpencodeServer => Some(opencode_watch::free_port().map_err(|e| {
                CreateError::SpawnFailed(format!("cannot find a port for opencode's server: {e}"))
            })?),
            _ => None,
        };
        if let Some(port) = opencode_port {
            extra_args.extend(opencode_watch::server_args(port));
        }
        extra_args.extend(request.settings.args(&provider.mode, resuming));
        let spec = provider.launch_spec(&LaunchRequest {
            kind: launch,
            cwd: request.cwd.as_deref(),
            terminal_id: &terminal_id,
            tab_id: request.tab_id.as_deref(),
            pane_id: request.pane_id.as_deref(),
            cols: sessions.initial_cols,
            rows: sessions.initial_rows,
            extra_args: &extra_args,
            extra_env: &extra_env,
        });
        let info_terminal_id = terminal_id.clone();
        let info = SessionInfo {
            stream_id: format!("stream-{}", uuid::Uuid::new_v4().simple()),
            mode: provider.mode.clone(),
            title: provider.title.clone(),
            cwd: spec.cwd.as_ref().map(|p| p.display().to_string()),
            session_ref: bound_ref,
            created_at_ms: now_ms(),
            terminal_id,
        };
        let session = Session::spawn(
            info,
            &spec,
            self.session_config.clone(),
            Some(self.activity.clone()),
        )
        .map_err(|e| {
            if let Some(link) = self.agent_api_link.get() {
                link.forget(&info_terminal_id);
            }
            CreateError::SpawnFailed(e.to_string())
        })?;
        tracing::info!(
            terminal = %session.terminal_id(),
            mode = %provider.mode,
            // Absent, not `None`, when there is none.
            pid = session.pid(),
            session_ref = session.session_ref().map(tracing::field::display),
            "spawned"
        );
        if let Some(port) = opencode_port {
            self.watch_opencode(&session, port);
        }
        Ok(session)
    }

    /// Whether a running terminal was created for this requestId.
    pub fn knows_request(&self, request_id: &str) -> bool {
        self.running_for_request(request_id).is_some()
    }

    fn running_for_request(&self, request_id: &str) -> Option<Arc<Session>> {
        let id = self.request_ids.get(request_id)?.clone();
        self.get(&id).filter(|s| s.is_running())
    }
}
