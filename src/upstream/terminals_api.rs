//! freshell's terminal HTTP routes, answered from ptyhub's sessions in
//! freshell's shapes (see `docs/freshell-http-terminals.md` §3), so the
//! sidebar, overview, renames and terminal search of freshell's UI work on
//! ptyhub's terminals.
//!
//! Authentication is freshell's (the `x-auth-token` header or the
//! `freshell-auth` cookie; ptyhub and freshell share one token), checked by
//! the one layer over these routes (`upstream::freshell_auth`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::daemon::Daemon;
use crate::session::Session;

/// freshell's limits on PATCH fields (characters, before trimming).
const MAX_TITLE_CHARS: usize = 500;
const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Directory page size: default and maximum, as freshell.
const MAX_PAGE_ITEMS: usize = 50;
const MAX_SEARCH_MATCHES: usize = 200;
const DEFAULT_SEARCH_MATCHES: usize = 50;
/// The summary heuristic reads this much of the newest output.
const SUMMARY_SOURCE_CHARS: usize = 20_000;
const SUMMARY_MAX_CHARS: usize = 240;
const LAST_LINE_MAX_CHARS: usize = 500;

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn invalid(details: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": "Invalid request", "details": [{ "message": details }] })),
    )
        .into_response()
}

/// Output as the lines freshell's search and summaries see: escapes
/// removed, `\r\n` and lone `\r` as line ends.
fn plain_lines(output: &str) -> Vec<String> {
    let plain = strip_ansi_escapes::strip_str(output);
    plain
        .replace("\r\n", "\n")
        .replace('\r', "")
        .split('\n')
        .map(str::to_owned)
        .collect()
}

fn last_line(session: &Session) -> Option<String> {
    let screen = session.screen_text();
    let line = screen
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())?;
    let mut cut: String = line.chars().take(LAST_LINE_MAX_CHARS).collect();
    if cut.len() < line.len() {
        cut = cut
            .chars()
            .take(LAST_LINE_MAX_CHARS - 3)
            .collect::<String>()
            + "...";
    }
    Some(cut)
}

/// One entry of freshell's terminal directory.
fn directory_item(daemon: &Daemon, session: &Session) -> Value {
    let info = session.info();
    let labels = daemon.registry.labels(session.terminal_id());
    let mut item = Map::new();
    item.insert("terminalId".into(), json!(info.terminal_id));
    item.insert("title".into(), json!(daemon.registry.title_of(session)));
    if let Some(description) = labels.description {
        item.insert("description".into(), json!(description));
    }
    item.insert("mode".into(), json!(info.mode));
    if let Some(session_ref) = session.session_ref().filter(|_| session.is_running()) {
        item.insert("sessionRef".into(), json!(session_ref));
    }
    item.insert("createdAt".into(), json!(info.created_at_ms));
    item.insert("lastActivityAt".into(), json!(session.last_activity_ms()));
    item.insert(
        "status".into(),
        json!(if session.is_running() {
            "running"
        } else {
            "exited"
        }),
    );
    item.insert("hasClients".into(), json!(session.viewer_count() > 0));
    if let Some(cwd) = &info.cwd {
        item.insert("cwd".into(), json!(cwd));
    }
    if let Some(line) = last_line(session) {
        item.insert("lastLine".into(), json!(line));
        item.insert("last_line".into(), json!(line));
    }
    Value::Object(item)
}

/// Visible terminals, newest activity first (ties: terminalId, descending).
fn directory(daemon: &Daemon) -> Vec<Arc<Session>> {
    let mut sessions: Vec<Arc<Session>> = daemon
        .registry
        .list()
        .into_iter()
        .filter(|s| !daemon.registry.labels(s.terminal_id()).hidden)
        .collect();
    sessions.sort_by(|a, b| {
        (b.last_activity_ms(), b.terminal_id()).cmp(&(a.last_activity_ms(), a.terminal_id()))
    });
    sessions
}

fn cursor_of(session: &Session) -> String {
    format!("{}.{}", session.last_activity_ms(), session.terminal_id())
}

/// `GET /api/terminals`: the flat list, or a page when paging keys are present.
pub async fn list(
    State(daemon): State<Arc<Daemon>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let sessions = directory(&daemon);
    let paged = ["priority", "cursor", "revision", "limit"]
        .iter()
        .any(|key| query.contains_key(*key));
    if !paged {
        let items: Vec<Value> = sessions
            .iter()
            .map(|s| directory_item(&daemon, s))
            .collect();
        return Json(items).into_response();
    }
    if !matches!(
        query.get("priority").map(String::as_str),
        Some("visible" | "background")
    ) {
        return invalid("priority must be 'visible' or 'background'");
    }
    if query
        .get("revision")
        .is_some_and(|r| r.parse::<u64>().is_err())
    {
        return invalid("revision must be a non-negative integer");
    }
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => MAX_PAGE_ITEMS,
        Some(Ok(limit)) if (1..=MAX_PAGE_ITEMS).contains(&limit) => limit,
        Some(_) => return invalid("limit must be an integer from 1 to 50"),
    };
    let start = match query.get("cursor") {
        None => 0,
        Some(cursor) => {
            let Some((activity, id)) = cursor.split_once('.') else {
                return error(StatusCode::BAD_REQUEST, "Invalid terminal-directory cursor");
            };
            let Ok(activity) = activity.parse::<u64>() else {
                return error(StatusCode::BAD_REQUEST, "Invalid terminal-directory cursor");
            };
            // The first item strictly after the cursor's position in the order.
            sessions
                .iter()
                .position(|s| (s.last_activity_ms(), s.terminal_id()) < (activity, id))
                .unwrap_or(sessions.len())
        }
    };
    let page: Vec<&Arc<Session>> = sessions.iter().skip(start).take(limit).collect();
    let next_cursor = (start + page.len() < sessions.len())
        .then(|| page.last().map(|s| cursor_of(s)))
        .flatten();
    let revision = sessions
        .iter()
        .map(|s| s.last_activity_ms())
        .max()
        .unwrap_or(0);
    Json(json!({
        "items": page.iter().map(|s| directory_item(&daemon, s)).collect::<Vec<_>>(),
        "nextCursor": next_cursor,
        "revision": revision,
    }))
    .into_response()
}

/// A PATCH field: absent/null, or a string within `max_chars`.
fn optional_text(
    body: &Map<String, Value>,
    key: &str,
    max_chars: usize,
) -> Result<Option<String>, String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.chars().count() <= max_chars => {
            let trimmed = text.trim();
            Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
        }
        Some(_) => Err(format!(
            "{key} must be a string of at most {max_chars} characters"
        )),
    }
}

/// `PATCH /api/terminals/{id}`: rename, describe, hide or unhide.
pub async fn patch(
    State(daemon): State<Arc<Daemon>>,
    Path(terminal_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let body: Map<String, Value> = if body.is_empty() {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return invalid("the body must be a JSON object"),
            Err(_) => return error(StatusCode::BAD_REQUEST, "Invalid JSON body"),
        }
    };
    let title = match optional_text(&body, "titleOverride", MAX_TITLE_CHARS) {
        Ok(title) => title,
        Err(message) => return invalid(&message),
    };
    let description = match optional_text(&body, "descriptionOverride", MAX_DESCRIPTION_CHARS) {
        Ok(description) => description,
        Err(message) => return invalid(&message),
    };
    let deleted = match body.get("deleted") {
        None => None,
        Some(Value::Bool(deleted)) => Some(*deleted),
        Some(_) => return invalid("deleted must be a boolean"),
    };
    let session = daemon.registry.get(&terminal_id);
    if session.is_some() {
        daemon.registry.update_labels(&terminal_id, |labels| {
            // freshell: the shown title and description are the last
            // non-empty values; any PATCH sets the hidden flag anew.
            if let Some(title) = &title {
                labels.title = Some(title.clone());
            }
            if let Some(description) = &description {
                labels.description = Some(description.clone());
            }
            labels.hidden = deleted == Some(true);
        });
    }
    if let (Some(title), Some(session), Some(upstream)) = (&title, &session, &daemon.upstream) {
        if let Some(session_ref) = session.session_ref() {
            // Renaming a terminal renames its session in freshell's sidebar.
            upstream.rename_session(session_ref, title, daemon.token());
        }
    }
    let mut reply = Map::new();
    if let Some(title) = title {
        reply.insert("titleOverride".into(), json!(title));
    }
    if let Some(description) = description {
        reply.insert("descriptionOverride".into(), json!(description));
    }
    if let Some(deleted) = deleted {
        reply.insert("deleted".into(), json!(deleted));
    }
    Json(Value::Object(reply)).into_response()
}

/// `DELETE /api/terminals/{id}`: hide from listings; the terminal keeps running.
pub async fn hide(State(daemon): State<Arc<Daemon>>, Path(terminal_id): Path<String>) -> Response {
    if daemon.registry.get(&terminal_id).is_some() {
        daemon
            .registry
            .update_labels(&terminal_id, |labels| labels.hidden = true);
    }
    Json(json!({ "ok": true })).into_response()
}

/// `GET /api/terminals/{id}/search?query=&cursor=&limit=`: case-insensitive
/// substring search over the output ptyhub still holds.
pub async fn search(
    State(daemon): State<Arc<Daemon>>,
    Path(terminal_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(needle) = query.get("query").filter(|q| !q.is_empty()) else {
        return invalid("query is required");
    };
    let first_line = match query.get("cursor").map(|c| c.parse::<usize>()) {
        None => 0,
        Some(Ok(line)) => line,
        Some(Err(_)) => return invalid("cursor must be a line index"),
    };
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_SEARCH_MATCHES,
        Some(Ok(limit)) if (1..=MAX_SEARCH_MATCHES).contains(&limit) => limit,
        Some(_) => return invalid("limit must be an integer from 1 to 200"),
    };
    let Some(session) = daemon.registry.get(&terminal_id) else {
        return error(StatusCode::NOT_FOUND, "Terminal not found");
    };
    let lines = plain_lines(&session.retained_output());
    let needle = needle.to_lowercase();
    let mut matches = Vec::new();
    let mut last_matched = None;
    for (index, line) in lines.iter().enumerate().skip(first_line) {
        if matches.len() == limit {
            break;
        }
        let lower = line.to_lowercase();
        if let Some(byte_column) = lower.find(&needle) {
            // freshell counts columns in UTF-16 units.
            let column: usize = lower[..byte_column].chars().map(char::len_utf16).sum();
            matches.push(json!({ "line": index, "column": column, "text": line }));
            last_matched = Some(index);
        }
    }
    let next_cursor = last_matched
        .filter(|line| line + 1 < lines.len())
        .map(|line| (line + 1).to_string());
    Json(json!({ "matches": matches, "nextCursor": next_cursor })).into_response()
}

/// `POST /api/ai/terminals/{id}/summary`: freshell's heuristic summary (the
/// first two non-empty lines of recent output).
pub async fn summary(
    State(daemon): State<Arc<Daemon>>,
    Path(terminal_id): Path<String>,
) -> Response {
    let Some(session) = daemon.registry.get(&terminal_id) else {
        return error(StatusCode::NOT_FOUND, "Terminal not found");
    };
    let output = session.retained_output();
    let skip = output.chars().count().saturating_sub(SUMMARY_SOURCE_CHARS);
    let recent: String = output.chars().skip(skip).collect();
    let lines: Vec<String> = plain_lines(&recent)
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .take(2)
        .collect();
    let mut description: String = lines.join(" - ").chars().take(SUMMARY_MAX_CHARS).collect();
    if description.is_empty() {
        description = "Terminal session".to_owned();
    }
    Json(json!({ "description": description, "source": "heuristic" })).into_response()
}

/// Any other path under `/api/terminals`, as freshell's catch-all answers it.
pub async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_drop_escapes_and_carriage_returns() {
        assert_eq!(
            plain_lines("\x1b[31mred\x1b[0m\r\nnext\rline"),
            vec!["red", "nextline"]
        );
    }
}
