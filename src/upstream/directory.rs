//! freshell's session directory and directory-picker suggestions, with
//! ptyhub's terminals in them: freshell builds both from its own terminal
//! registry (running marks, live-only entries, terminal cwds), which is empty
//! in front of ptyhub. ptyhub passes the request on and adds what freshell
//! would have known had the terminals been its own
//! (`docs/freshell-http-terminals.md` §3.10):
//! - `GET /api/session-directory`: an indexed session that runs in a ptyhub
//!   terminal is `isRunning` with its `runningTerminalId`; an agent terminal
//!   whose session freshell has not indexed (yet) becomes a live-only entry
//!   on the first page, as freshell lists its own;
//! - `GET /api/files/candidate-dirs`: the running terminals' directories
//!   come first (the places the user works in now), then freshell's.
//!
//! Anything but a 200 with the expected JSON is returned as freshell sent it.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::amend::rewrite_json;
use crate::daemon::Daemon;
use crate::session::Session;

/// freshell's `GET /api/session-directory`, with ptyhub's running terminals.
pub async fn session_directory(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let first_page = !request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("cursor=")));
    let query = request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("query="))
            .map(|v| {
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .to_lowercase()
            })
            .filter(|v| !v.is_empty())
    });
    let running = running_agents(&daemon);
    rewrite_json(&daemon, peer, request, |page| {
        let Some(items) = page.get_mut("items").and_then(Value::as_array_mut) else {
            return;
        };
        let mut indexed = HashSet::new();
        for item in items.iter_mut() {
            let (Some(provider), Some(session_id)) = (
                item.get("provider").and_then(Value::as_str),
                item.get("sessionId").and_then(Value::as_str),
            ) else {
                continue;
            };
            indexed.insert((provider.to_owned(), session_id.to_owned()));
            let runner = running.iter().find(|s| {
                s.session_ref()
                    .is_some_and(|r| r.provider == provider && r.session_id == session_id)
            });
            item["isRunning"] = json!(runner.is_some());
            match runner {
                Some(session) => item["runningTerminalId"] = json!(session.terminal_id()),
                None => {
                    if let Some(object) = item.as_object_mut() {
                        object.remove("runningTerminalId");
                    }
                }
            }
        }
        if !first_page {
            return;
        }
        for session in &running {
            if let Some(r) = session.session_ref() {
                if indexed.contains(&(r.provider.clone(), r.session_id.clone())) {
                    continue;
                }
            }
            let entry = live_only_entry(&daemon, session);
            let matches_query = query.as_ref().is_none_or(|q| {
                [&entry["title"], &entry["cwd"]]
                    .iter()
                    .filter_map(|v| v.as_str())
                    .any(|text| text.to_lowercase().contains(q))
            });
            if matches_query {
                items.push(entry);
            }
        }
        items.sort_by_key(|item| {
            std::cmp::Reverse(
                item.get("lastActivityAt")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            )
        });
    })
    .await
}

/// Running terminals of agent modes (a shell has no session to list).
fn running_agents(daemon: &Daemon) -> Vec<Arc<Session>> {
    daemon
        .registry
        .list()
        .into_iter()
        .filter(|s| s.is_running() && s.info().mode != "shell")
        .collect()
}

/// A running terminal as freshell lists one whose session it has not indexed.
fn live_only_entry(daemon: &Daemon, session: &Session) -> Value {
    let info = session.info();
    let terminal_id = info.terminal_id.as_str();
    let placeholder = format!("terminal:{terminal_id}");
    let session_id = session
        .session_ref()
        .map_or(placeholder.clone(), |r| r.session_id.clone());
    let mut entry = json!({
        "sessionId": session_id,
        "provider": info.mode,
        "projectPath": info.cwd.clone().unwrap_or(placeholder),
        "title": daemon.registry.title_of(session),
        "lastActivityAt": session.last_activity_ms(),
        "createdAt": info.created_at_ms,
        "sessionType": info.mode,
        "isRunning": true,
        "runningTerminalId": terminal_id,
        "liveTerminalOnly": session.session_ref().is_none(),
    });
    if let Some(cwd) = &info.cwd {
        entry["cwd"] = json!(cwd);
    }
    entry
}

/// freshell's `GET /api/files/candidate-dirs`, running terminals' cwds first.
pub async fn candidate_dirs(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let mut ours: Vec<String> = Vec::new();
    let mut sessions = daemon.registry.list();
    sessions.retain(|s| s.is_running());
    sessions.sort_by_key(|s| std::cmp::Reverse(s.last_activity_ms()));
    for cwd in sessions.iter().filter_map(|s| s.info().cwd.clone()) {
        if !ours.contains(&cwd) {
            ours.push(cwd);
        }
    }
    rewrite_json(&daemon, peer, request, move |answer| {
        let Some(theirs) = answer.get("directories").and_then(Value::as_array) else {
            return;
        };
        let mut merged: Vec<Value> = ours.iter().map(|d| json!(d)).collect();
        for dir in theirs {
            if !merged.contains(dir) {
                merged.push(dir.clone());
            }
        }
        answer["directories"] = Value::Array(merged);
    })
    .await
}
