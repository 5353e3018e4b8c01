//! freshell's agent API (`/api/run`, `/api/tabs`, `/api/panes/:id/…`), the
//! routes freshell's CLI and the MCP tool inside agents use to open panes
//! and drive them — answered by ptyhub in front of freshell, so every
//! terminal they create is ptyhub's (deduped, surviving freshell restarts)
//! and the ones they drive are ptyhub's too.
//!
//! The layout stays the browser's: ptyhub tells browsers to open the tab or
//! pane with a `ui.command` naming its terminal, as freshell does, and reads
//! pane targets from the layout browsers push (`layout.rs`). Requests that
//! create no terminal — browser, editor and SDK ("fresh agent") panes, and
//! the layout-only routes — are freshell's and go to it unchanged; its
//! layout listings come back with the panes ptyhub placed (`listings.rs`).
//!
//! Shapes follow freshell's router: the envelope `{status, message, data}`
//! (`ok`, `approx` when done inexactly, `error`), its messages and status
//! codes. Authentication is the one front-mode layer
//! (`upstream::freshell_auth`).

mod capture;
mod create;
mod keys;
pub mod layout;
mod listings;
mod panes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::daemon::Daemon;
use crate::providers::LaunchSettings;
use crate::registry::{CreateError, CreateRequest};
use crate::session::{Session, SessionRef};
use crate::upstream::provider_defaults;

/// The owner id under which the agent API types into terminals: never a
/// viewer's (connection ids count up from 1), so API input never picks the
/// PTY's size.
const AGENT_API_OWNER: u64 = u64::MAX;

/// freshell's JSON body limit (express.json `1mb`).
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn routes() -> Router<Arc<Daemon>> {
    // Other methods on these paths (say, a GET freshell may add) stay freshell's.
    let ours = |route: axum::routing::MethodRouter<Arc<Daemon>>| route.fallback(to_freshell);
    Router::new()
        .route("/api/tabs", ours(post(create::tab).get(listings::tabs)))
        .route("/api/panes", ours(get(listings::panes)))
        .route("/api/run", ours(post(create::run)))
        .route("/api/panes/{pane}/split", ours(post(create::split)))
        .route("/api/panes/{pane}/respawn", ours(post(create::respawn)))
        .route("/api/panes/{pane}/attach", ours(post(panes::attach)))
        .route("/api/panes/{pane}/send-keys", ours(post(panes::send_keys)))
        .route("/api/panes/{pane}/capture", ours(get(panes::capture)))
        .route("/api/panes/{pane}/wait-for", ours(get(panes::wait_for)))
}

async fn to_freshell(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    match &daemon.upstream {
        Some(upstream) => upstream.proxy.forward(request, peer).await,
        None => fail(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `{status: "ok", data, message}` (HTTP 200).
fn ok(data: Value, message: &str) -> Response {
    Json(json!({ "status": "ok", "data": data, "message": message })).into_response()
}

/// `{status: "approx", data, message}` (HTTP 200): done, but not exactly.
fn approx(data: Value, message: &str) -> Response {
    Json(json!({ "status": "approx", "data": data, "message": message })).into_response()
}

/// `{status: "error", message}` with an error status.
fn fail(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": "error", "message": message })),
    )
        .into_response()
}

/// An error answer, small enough to travel in a `Result`.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        fail(self.status, &self.message)
    }
}

/// A request read whole, so it can still be handed to freshell unchanged.
struct AgentRequest {
    parts: Parts,
    body: Bytes,
    json: Map<String, Value>,
}

/// Handlers take the request read whole; a body too large or not JSON is
/// answered before they run.
impl<S: Send + Sync> axum::extract::FromRequest<S> for AgentRequest {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        AgentRequest::read(request).await
    }
}

impl AgentRequest {
    async fn read(request: Request) -> Result<AgentRequest, Response> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| fail(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"))?;
        let json = if body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(map)) => map,
                Ok(_) => Map::new(),
                Err(_) => return Err(fail(StatusCode::BAD_REQUEST, "invalid JSON body")),
            }
        };
        Ok(AgentRequest { parts, body, json })
    }

    fn text(&self, key: &str) -> Option<String> {
        self.json
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// freshell's truthy: `true`, `"true"`, `"1"`, `"yes"`.
    fn flag(&self, key: &str) -> bool {
        truthy(self.json.get(key))
    }

    /// Whether any of these keys is present (freshell tests presence).
    fn has_any(&self, keys: &[&str]) -> bool {
        keys.iter()
            .any(|key| self.json.get(*key).is_some_and(|v| !v.is_null()))
    }

    /// `sessionRef` when both its fields are non-empty strings.
    fn session_ref(&self) -> Option<SessionRef> {
        let value = self.json.get("sessionRef")?;
        let provider = value.get("provider")?.as_str().filter(|s| !s.is_empty())?;
        let session_id = value.get("sessionId")?.as_str().filter(|s| !s.is_empty())?;
        Some(SessionRef {
            provider: provider.to_owned(),
            session_id: session_id.to_owned(),
        })
    }

    /// Starts the terminal this request asks for (`mode`, default a shell;
    /// `cwd`; `sessionRef`) in a pane, or joins the session's running one.
    async fn launch_into(
        &self,
        daemon: &Daemon,
        tab_id: &str,
        pane_id: &str,
    ) -> Result<Arc<Session>, Response> {
        launch(
            daemon,
            &Launch {
                mode: self.text("mode").unwrap_or_else(|| "shell".to_owned()),
                cwd: self.text("cwd"),
                session_ref: self.session_ref(),
                tab_id: tab_id.to_owned(),
                pane_id: pane_id.to_owned(),
                settings: self
                    .launch_settings()
                    .map_err(|why| fail(StatusCode::BAD_REQUEST, &why))?,
            },
        )
        .await
    }

    /// The agent's model, permission mode and sandbox, if the body names
    /// them (400 for a value that could pass as a flag, or an unknown
    /// sandbox).
    fn launch_settings(&self) -> Result<LaunchSettings, String> {
        LaunchSettings::new(
            self.text("model"),
            self.text("permissionMode"),
            self.text("sandbox"),
        )
    }

    /// Hands the request to freshell as it came.
    async fn pass_to_freshell(self, daemon: &Daemon, peer: SocketAddr) -> Response {
        let Some(upstream) = &daemon.upstream else {
            return fail(StatusCode::NOT_FOUND, "Not found");
        };
        let request = Request::from_parts(self.parts, Body::from(self.body));
        upstream.proxy.forward(request, peer).await
    }
}

fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "true" | "1" | "yes"),
        _ => false,
    }
}

/// A fresh layout id (tab, pane, create request).
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What a route asks ptyhub to launch into a pane.
struct Launch {
    mode: String,
    cwd: Option<String>,
    session_ref: Option<SessionRef>,
    tab_id: String,
    pane_id: String,
    settings: LaunchSettings,
}

/// Starts (or, for a session that already runs, reuses) a terminal.
async fn launch(daemon: &Daemon, launch: &Launch) -> Result<Arc<Session>, Response> {
    // The request's own settings win over freshell's settings page, as in freshell.
    let defaults = provider_defaults::freshell_defaults(daemon, &launch.mode).await;
    let request = CreateRequest {
        request_id: format!("agent-api-{}", new_id()),
        mode: launch.mode.clone(),
        cwd: launch.cwd.clone(),
        // A sessionRef resumes only its own provider's session (freshell).
        session_ref: launch
            .session_ref
            .clone()
            .filter(|r| r.provider == launch.mode),
        tab_id: Some(launch.tab_id.clone()),
        pane_id: Some(launch.pane_id.clone()),
        settings: launch.settings.clone().or(defaults),
        ..CreateRequest::default()
    };
    match daemon.registry.create(request).await {
        Ok(outcome) => {
            daemon.registry.announce_change(Vec::new());
            Ok(Arc::clone(outcome.session()))
        }
        Err(err) => {
            let status = match &err {
                CreateError::InvalidMode { .. }
                | CreateError::InvalidSessionId(_)
                | CreateError::RestoreUnavailable
                | CreateError::FreshWithRestoreIdentity => StatusCode::BAD_REQUEST,
                CreateError::LimitReached(_) | CreateError::ShuttingDown => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                CreateError::SpawnFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Err(fail(status, &err.to_string()))
        }
    }
}

/// A terminal pane's content, as freshell's layout holds it.
fn terminal_content(session: &Session, shell: Option<&str>, cwd: Option<&str>) -> Value {
    let info = session.info();
    let mut content = json!({
        "kind": "terminal",
        "terminalId": info.terminal_id,
        "status": "running",
        "mode": info.mode,
        "shell": shell.unwrap_or("system"),
        "createRequestId": new_id(),
    });
    if let Some(session_ref) = session.session_ref() {
        content["sessionRef"] = json!(session_ref);
    }
    if let Some(cwd) = cwd {
        content["initialCwd"] = json!(cwd);
    }
    content
}

/// Tells every browser to apply a layout change.
fn tell_browsers(daemon: &Daemon, command: &str, payload: Value) {
    if let Some(upstream) = &daemon.upstream {
        upstream.ui_commands.send(command, payload);
    }
}
