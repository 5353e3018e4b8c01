//! The agent-API routes that start a terminal: `POST /api/tabs`,
//! `/api/run`, `/api/panes/:id/split` and `/api/panes/:id/respawn`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::capture::plain_text;
use super::{
    approx, fail, launch, new_id, ok, panes, tell_browsers, terminal_content, AgentRequest, Launch,
    AGENT_API_OWNER,
};
use crate::daemon::Daemon;

/// Body keys that make a pane something other than a terminal (freshell's
/// browser, editor and SDK-agent panes), or a legacy resume freshell
/// refuses: such requests are freshell's to answer.
const NOT_A_TERMINAL: &[&str] = &["browser", "editor", "agent", "resumeSessionId"];

/// How long `run --capture` waits by default (freshell: 30 s).
const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// freshell polls a terminal's output this often while it waits.
pub(super) const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// `POST /api/tabs`: a new tab with a new terminal.
pub async fn tab(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: AgentRequest,
) -> Response {
    if request.has_any(NOT_A_TERMINAL) {
        return request.pass_to_freshell(&daemon, peer).await;
    }
    let title = request.text("name");
    let shell = request.text("shell");
    let cwd = request.text("cwd");
    let (tab_id, pane_id) = (new_id(), new_id());
    let session = match request.launch_into(&daemon, &tab_id, &pane_id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let content = terminal_content(&session, shell.as_deref(), cwd.as_deref());
    open_tab(&daemon, &tab_id, title.as_deref(), &pane_id, &content);
    ok(
        json!({ "tabId": tab_id, "paneId": pane_id, "terminalId": session.terminal_id() }),
        "tab created",
    )
}

/// Records the pane and tells browsers to open the tab (`tab.create`).
fn open_tab(daemon: &Daemon, tab_id: &str, title: Option<&str>, pane_id: &str, content: &Value) {
    let terminal_id = content["terminalId"].as_str().unwrap_or_default();
    let mode = content["mode"].as_str().unwrap_or("shell");
    if let Some(upstream) = &daemon.upstream {
        upstream
            .layout
            .place(tab_id, title, pane_id, terminal_id, mode);
    }
    let mut payload = json!({
        "id": tab_id,
        "mode": mode,
        "shell": content["shell"],
        "terminalId": terminal_id,
        "paneId": pane_id,
        "paneContent": content,
    });
    if let Some(title) = title {
        payload["title"] = json!(title);
    }
    for key in ["initialCwd", "sessionRef"] {
        if let Some(value) = content.get(key) {
            payload[key] = value.clone();
        }
    }
    tell_browsers(daemon, "tab.create", payload);
}

/// `POST /api/run`: a new tab running a command in a shell, optionally
/// waiting for it to finish and returning its output.
pub async fn run(State(daemon): State<Arc<Daemon>>, request: AgentRequest) -> Response {
    let Some(command) = request.text("command").or_else(|| request.text("cmd")) else {
        return fail(StatusCode::BAD_REQUEST, "command required");
    };
    let title = request.text("name").or_else(|| request.text("title"));
    let shell = request.text("shell");
    let cwd = request.text("cwd");
    let capture = request.flag("capture");
    let detached = ["detached", "detach", "background"]
        .iter()
        .any(|key| request.flag(key));
    let timeout = ["timeout", "T"]
        .iter()
        .find_map(|key| seconds(request.json.get(*key)))
        .unwrap_or(DEFAULT_RUN_TIMEOUT);
    let settings = match request.launch_settings() {
        Ok(settings) => settings,
        Err(why) => return fail(StatusCode::BAD_REQUEST, &why),
    };
    let (tab_id, pane_id) = (new_id(), new_id());
    let session = match launch(
        &daemon,
        &Launch {
            mode: request.text("mode").unwrap_or_else(|| "shell".to_owned()),
            cwd: cwd.clone(),
            session_ref: None,
            tab_id: tab_id.clone(),
            pane_id: pane_id.clone(),
            settings,
        },
    )
    .await
    {
        Ok(session) => session,
        Err(response) => return response,
    };
    let content = terminal_content(&session, shell.as_deref(), cwd.as_deref());
    open_tab(&daemon, &tab_id, title.as_deref(), &pane_id, &content);
    let ids = json!({ "terminalId": session.terminal_id(), "tabId": tab_id, "paneId": pane_id });
    if !capture || detached {
        if !session.write_input(AGENT_API_OWNER, format!("{command}\r").into_bytes()) {
            return fail(StatusCode::CONFLICT, "Terminal is not running.");
        }
        let message = if detached {
            "command started (detached)"
        } else {
            "command sent"
        };
        return ok(ids, message);
    }
    // The sentinel is echoed with the typed line too; only a line that is
    // the sentinel alone (the `echo` itself) means the command finished.
    let sentinel = format!("__FRESHELL_DONE_{}__", new_id());
    let typed = format!("{command}; echo {sentinel}\r");
    if !session.write_input(AGENT_API_OWNER, typed.into_bytes()) {
        return fail(StatusCode::CONFLICT, "Terminal is not running.");
    }
    let finished = |text: &str| text.lines().any(|line| line.trim() == sentinel);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut done = finished(&plain_text(&session));
    while !done && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(POLL_INTERVAL).await;
        done = finished(&plain_text(&session));
    }
    let output = plain_text(&session)
        .replace(&sentinel, "")
        .trim()
        .to_owned();
    let mut data = ids;
    data["output"] = json!(output);
    if done {
        ok(data, "run complete")
    } else {
        approx(data, "timeout waiting for command")
    }
}

/// A duration in seconds, given as a number or a numeric string.
pub(super) fn seconds(value: Option<&Value>) -> Option<Duration> {
    let seconds = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// `POST /api/panes/:id/split`: a new terminal beside a pane.
pub async fn split(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(target): Path<String>,
    request: AgentRequest,
) -> Response {
    if request.has_any(NOT_A_TERMINAL) {
        return request.pass_to_freshell(&daemon, peer).await;
    }
    let (tab_id, pane_id) = match panes::resolve(&daemon, &target) {
        Ok(resolved) => resolved,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(tab_id) = tab_id else {
        return approx(
            json!({ "message": "pane not found" }),
            "pane split requested; not applied",
        );
    };
    let direction = match request.text("direction").as_deref() {
        Some("vertical") => "vertical",
        _ => "horizontal",
    };
    let new_pane_id = new_id();
    let shell = request.text("shell");
    let session = match request.launch_into(&daemon, &tab_id, &new_pane_id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let content = terminal_content(&session, shell.as_deref(), None);
    if let Some(upstream) = &daemon.upstream {
        upstream.layout.place(
            &tab_id,
            None,
            &new_pane_id,
            session.terminal_id(),
            &session.info().mode,
        );
    }
    tell_browsers(
        &daemon,
        "pane.split",
        json!({
            "tabId": tab_id,
            "paneId": pane_id,
            "direction": direction,
            "newPaneId": new_pane_id,
            "newContent": content,
        }),
    );
    ok(
        json!({ "paneId": new_pane_id, "terminalId": session.terminal_id() }),
        "pane split",
    )
}

/// `POST /api/panes/:id/respawn`: a new terminal in an existing pane (the
/// old one keeps running, as in freshell).
pub async fn respawn(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(target): Path<String>,
    request: AgentRequest,
) -> Response {
    if request.has_any(&["resumeSessionId"]) {
        return request.pass_to_freshell(&daemon, peer).await;
    }
    let (tab_id, pane_id) = match panes::resolve(&daemon, &target) {
        Ok(resolved) => resolved,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(tab_id) = tab_id else {
        return fail(StatusCode::NOT_FOUND, "pane not found");
    };
    let shell = request.text("shell");
    let session = match request.launch_into(&daemon, &tab_id, &pane_id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let content = terminal_content(&session, shell.as_deref(), None);
    panes::put_in_pane(&daemon, &tab_id, &pane_id, &content);
    ok(
        json!({ "terminalId": session.terminal_id() }),
        "pane respawned",
    )
}
