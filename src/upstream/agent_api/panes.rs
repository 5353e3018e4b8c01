//! The agent-API routes that act on an existing pane's terminal:
//! `attach`, `send-keys`, `capture` and `wait-for`, and how a pane target
//! becomes a pane.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::capture::{looks_like_prompt, parse_pattern, plain_text, render, CaptureOptions};
use super::create::{seconds, POLL_INTERVAL};
use super::{approx, fail, ok, tell_browsers, AgentRequest, Refusal, AGENT_API_OWNER};
use crate::daemon::Daemon;
use crate::session::{Session, SessionRef};

/// `wait-for`'s default time limit (freshell: 30 s).
const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// Without a condition (or with `prompt` alone), freshell settles for one
/// second of unchanged output.
const FALLBACK_STABLE: Duration = Duration::from_secs(1);

/// The tab (if a layout knows it) and pane a target names. An unknown
/// target is taken as a literal pane id; a tab without the asked-for pane
/// or an ambiguous title is an error, as in freshell.
pub(super) fn resolve(daemon: &Daemon, target: &str) -> Result<(Option<String>, String), Refusal> {
    let Some(upstream) = &daemon.upstream else {
        return Err(Refusal {
            status: StatusCode::NOT_FOUND,
            message: "pane not found".to_owned(),
        });
    };
    let resolved = upstream.layout.resolve(target);
    if let Some(pane_id) = resolved.pane_id {
        return Ok((resolved.tab_id, pane_id));
    }
    match resolved.message {
        Some(message) if message.contains("ambiguous") => Err(Refusal {
            status: StatusCode::CONFLICT,
            message,
        }),
        Some(message) if resolved.tab_id.is_some() => Err(Refusal {
            status: StatusCode::NOT_FOUND,
            message,
        }),
        _ => Ok((None, target.to_owned())),
    }
}

/// Records a terminal in a pane and tells browsers (`pane.attach`).
pub(super) fn put_in_pane(daemon: &Daemon, tab_id: &str, pane_id: &str, content: &Value) {
    if let Some(upstream) = &daemon.upstream {
        upstream.layout.place(
            tab_id,
            None,
            pane_id,
            content["terminalId"].as_str().unwrap_or_default(),
            content["mode"].as_str().unwrap_or("shell"),
        );
    }
    tell_browsers(
        daemon,
        "pane.attach",
        json!({ "tabId": tab_id, "paneId": pane_id, "content": content }),
    );
}

/// What a pane holds, for the routes that read or drive its terminal.
enum PaneTerminal {
    /// A pane freshell knows to be something else (browser, editor, SDK
    /// agent): freshell answers.
    NotATerminal,
    /// A terminal pane whose terminal ptyhub does not have.
    Missing,
    /// A pane no layout knows.
    UnknownPane,
    Found(Arc<Session>),
}

fn pane_terminal(daemon: &Daemon, pane_id: &str) -> PaneTerminal {
    let Some(pane) = daemon
        .upstream
        .as_ref()
        .and_then(|u| u.layout.pane(pane_id))
    else {
        return PaneTerminal::UnknownPane;
    };
    if pane.kind != "terminal" {
        return PaneTerminal::NotATerminal;
    }
    match pane.terminal_id.and_then(|id| daemon.registry.get(&id)) {
        Some(session) => PaneTerminal::Found(session),
        None => PaneTerminal::Missing,
    }
}

/// The session a caller expects a terminal to run, against the one it runs.
fn identity_mismatch(session: &Session, expected: Option<&SessionRef>) -> Option<Response> {
    let expected = expected?;
    let actual = session.session_ref();
    if actual == Some(expected) {
        return None;
    }
    let actual = actual.map_or_else(
        || "none".to_owned(),
        |r| format!("{}:{}", r.provider, r.session_id),
    );
    Some(fail(
        StatusCode::CONFLICT,
        &format!(
            "Terminal session identity mismatch. Expected {}:{}, got {actual}.",
            expected.provider, expected.session_id
        ),
    ))
}

/// `POST /api/panes/:id/attach {terminalId}`: shows an existing terminal
/// in a pane.
pub async fn attach(
    State(daemon): State<Arc<Daemon>>,
    Path(target): Path<String>,
    request: AgentRequest,
) -> Response {
    let (tab_id, pane_id) = match resolve(&daemon, &target) {
        Ok(resolved) => resolved,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(terminal_id) = request.text("terminalId") else {
        return fail(StatusCode::BAD_REQUEST, "terminalId required");
    };
    let Some(tab_id) = tab_id else {
        return fail(StatusCode::NOT_FOUND, "pane not found");
    };
    let Some(session) = daemon.registry.get(&terminal_id) else {
        return fail(StatusCode::NOT_FOUND, "terminal not found");
    };
    if let Some(refused) = identity_mismatch(&session, request.session_ref().as_ref()) {
        return refused;
    }
    let mut content = super::terminal_content(&session, request.text("shell").as_deref(), None);
    if let Some(mode) = request.text("mode") {
        content["mode"] = json!(mode);
    }
    put_in_pane(&daemon, &tab_id, &pane_id, &content);
    ok(json!({ "terminalId": terminal_id }), "terminal attached")
}

/// `POST /api/panes/:id/send-keys`: types into a pane's terminal.
pub async fn send_keys(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(target): Path<String>,
    request: AgentRequest,
) -> Response {
    let (_, pane_id) = match resolve(&daemon, &target) {
        Ok(resolved) => resolved,
        Err(refusal) => return refusal.into_response(),
    };
    let session = match pane_terminal(&daemon, &pane_id) {
        PaneTerminal::Found(session) => session,
        PaneTerminal::NotATerminal => return request.pass_to_freshell(&daemon, peer).await,
        PaneTerminal::Missing | PaneTerminal::UnknownPane => {
            return fail(StatusCode::NOT_FOUND, "terminal not found")
        }
    };
    if let Some(refused) = identity_mismatch(&session, request.session_ref().as_ref()) {
        return refused;
    }
    let input = super::keys::input_of(&request.json);
    if !session.is_running() || !session.write_input(AGENT_API_OWNER, input.into_bytes()) {
        return fail(StatusCode::CONFLICT, "Terminal is not running.");
    }
    ok(json!({ "terminalId": session.terminal_id() }), "input sent")
}

fn query_flag(query: &HashMap<String, String>, key: &str) -> bool {
    matches!(
        query.get(key).map(String::as_str),
        Some("true" | "1" | "yes")
    )
}

/// The terminal a reading route (capture, wait-for) is about, with the
/// query; or the answer instead — freshell's own for a pane that holds no
/// terminal, a 404 (`unknown_pane` for a pane no layout knows) otherwise.
async fn terminal_to_read(
    daemon: &Daemon,
    peer: SocketAddr,
    target: &str,
    request: AgentRequest,
    unknown_pane: &str,
) -> Result<(Arc<Session>, HashMap<String, String>), Response> {
    let query = Query::<HashMap<String, String>>::try_from_uri(&request.parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (_, pane_id) = resolve(daemon, target).map_err(IntoResponse::into_response)?;
    match pane_terminal(daemon, &pane_id) {
        PaneTerminal::Found(session) => Ok((session, query)),
        PaneTerminal::NotATerminal => Err(request.pass_to_freshell(daemon, peer).await),
        PaneTerminal::Missing => Err(fail(StatusCode::NOT_FOUND, "terminal not found")),
        PaneTerminal::UnknownPane => Err(fail(StatusCode::NOT_FOUND, unknown_pane)),
    }
}

/// `GET /api/panes/:id/capture?S=&J=&e=`: the terminal's output as text.
pub async fn capture(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(target): Path<String>,
    request: AgentRequest,
) -> Response {
    let (session, query) =
        match terminal_to_read(&daemon, peer, &target, request, "pane not found").await {
            Ok(found) => found,
            Err(answer) => return answer,
        };
    let options = CaptureOptions {
        start: query.get("S").and_then(|s| s.trim().parse::<i64>().ok()),
        join_lines: matches!(query.get("J").map(String::as_str), Some("true" | "1")),
        keep_escapes: matches!(query.get("e").map(String::as_str), Some("true" | "1")),
    };
    let text = render(&session.retained_output(), options);
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// `GET /api/panes/:id/wait-for?pattern=&stable=&exit=&prompt=&T=`: waits
/// until the output matches, stays unchanged, the terminal exits or shows
/// a prompt — whichever was asked — or the time runs out (`approx`).
pub async fn wait_for(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(target): Path<String>,
    request: AgentRequest,
) -> Response {
    let (session, query) =
        match terminal_to_read(&daemon, peer, &target, request, "terminal not found").await {
            Ok(found) => found,
            Err(answer) => return answer,
        };
    let pattern = match query.get("pattern").or_else(|| query.get("p")) {
        None => None,
        Some(raw) => match parse_pattern(raw) {
            Ok(pattern) => Some(pattern),
            Err(_) => return fail(StatusCode::BAD_REQUEST, "invalid pattern"),
        },
    };
    let wait_exit = query_flag(&query, "exit");
    let wait_prompt = query_flag(&query, "prompt");
    let asked_stable = query
        .get("stable")
        .or_else(|| query.get("s"))
        .and_then(|s| seconds(Some(&json!(s))));
    let timeout = query
        .get("T")
        .or_else(|| query.get("timeout"))
        .and_then(|t| seconds(Some(&json!(t))))
        .unwrap_or(DEFAULT_WAIT);
    let fallback = asked_stable.is_none() && (wait_prompt || (pattern.is_none() && !wait_exit));
    let stable_for = asked_stable.or(fallback.then_some(FALLBACK_STABLE));

    let started = tokio::time::Instant::now();
    let mut last_text = plain_text(&session);
    let mut unchanged_since = started;
    loop {
        let text = plain_text(&session);
        if pattern.as_ref().is_some_and(|p| p.is_match(&text)) {
            return ok(
                json!({ "matched": true, "reason": "pattern" }),
                "pattern matched",
            );
        }
        if wait_exit {
            if let Some(code) = session.exit_code() {
                return ok(
                    json!({ "matched": true, "reason": "exit", "exitCode": code }),
                    "terminal exited",
                );
            }
        }
        if wait_prompt && looks_like_prompt(&text) {
            return ok(
                json!({ "matched": true, "reason": "prompt" }),
                "prompt detected",
            );
        }
        let now = tokio::time::Instant::now();
        if let Some(stable_for) = stable_for {
            if text != last_text {
                last_text = text;
                unchanged_since = now;
            } else if now.duration_since(unchanged_since) >= stable_for {
                let data = json!({ "matched": true, "reason": "stable" });
                return match (fallback, wait_prompt) {
                    (false, _) => ok(data, "output stable"),
                    (true, true) => approx(data, "prompt not detected; output stable"),
                    (true, false) => approx(data, "no wait condition; output stable"),
                };
            }
        }
        if now.duration_since(started) >= timeout {
            return approx(json!({ "matched": false }), "timeout");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
