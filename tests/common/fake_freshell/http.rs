//! The stand-in's HTTP side: the page and `/api/*` routes freshell answers (behind its own
//! token check), and the test routes that show what the proxy does to a request and a response
//! (`/echo…`, `/teapot`, `/stream`). Every response carries [`SERVED_BY`]. Requests are recorded
//! in arrival order.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::{
    settings, AppState, SeenRequest, INDEXED_CLAUDE_SESSION, INDEXED_IDLE_SESSION, INDEXED_PROJECT,
    SERVED_BY, SERVED_BY_VALUE, UPSTREAM_ONLY, UPSTREAM_TERMINAL_ID,
};

/// What `GET /` (and any other GET freshell's SPA fallback would catch) returns.
/// Its script keeps a `?token=` as freshell's page does (`src/lib/auth.ts`): in localStorage
/// under `freshell.auth-token` and in the `freshell-auth` cookie.
pub const INDEX_HTML: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>freshell (stand-in)</title></head>\n<body data-app=\"fake-freshell\"><div id=\"root\"></div>\n<script>\nconst token = new URLSearchParams(location.search).get('token');\nif (token) {\n  localStorage.setItem('freshell.auth-token', token);\n  document.cookie = 'freshell-auth=' + encodeURIComponent(token) + '; path=/; SameSite=Strict';\n}\n</script></body></html>\n";

/// `/teapot` answers this status with [`TEAPOT_HEADERS`] and [`teapot_body`].
pub const TEAPOT_STATUS: u16 = 418;

/// The headers `/teapot` sets, in order; several `set-cookie`s and a non-UTF-8 value included.
pub const TEAPOT_HEADERS: &[(&str, &[u8])] = &[
    ("content-type", b"application/octet-stream"),
    ("x-fake-freshell", b"teapot; shape=\"round\""),
    (
        "set-cookie",
        b"upstream-session=abc%20def; Path=/; HttpOnly",
    ),
    ("set-cookie", b"second=2; Path=/api; SameSite=Strict"),
    ("cache-control", b"no-store"),
    ("retry-after", b"7"),
    ("x-latin1", b"caf\xe9"),
];

/// `/teapot`'s body: every byte value, then bytes that are not UTF-8.
pub fn teapot_body() -> Vec<u8> {
    let mut body: Vec<u8> = (0..=255u8).collect();
    body.extend_from_slice(b"\r\n\0\xff\xfe\xc3(not utf-8)");
    body
}

/// The two halves `/stream` sends; the second only after
/// [`FakeFreshell::release_stream`](super::FakeFreshell::release_stream).
pub const STREAM_FIRST_HALF: &[u8] = b"first half of a streamed body\n";
pub const STREAM_SECOND_HALF: &[u8] = b"second half, sent only when the test says so\n";

pub(super) async fn http(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let seen = SeenRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect(),
        body,
    };
    state.shared.lock().unwrap().requests.push(seen.clone());
    let token = state.shared.lock().unwrap().token.clone();
    let mut response = route(&state, &seen, &parts.headers, &token).await;
    response
        .headers_mut()
        .insert(SERVED_BY, HeaderValue::from_static(SERVED_BY_VALUE));
    response
}

async fn route(
    state: &AppState,
    request: &SeenRequest,
    headers: &HeaderMap,
    token: &str,
) -> Response {
    let path = request.path.as_str();
    let get = request.method == "GET";
    if path == "/teapot" {
        return teapot();
    }
    if path == "/stream" {
        return streamed(Arc::clone(&state.release_stream));
    }
    if path == "/echo" || path.starts_with("/echo/") {
        return echo(request);
    }
    if path == "/api/health" {
        return Json(json!({"ok": true, "app": "fake-freshell"})).into_response();
    }
    if path.starts_with("/api/") || path == "/api" {
        if !api_authorized(headers, token) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "Unauthorized"})),
            )
                .into_response();
        }
        let providers = state.shared.lock().unwrap().coding_cli_providers.clone();
        return api(request, state.incarnation, providers);
    }
    if get && (path == "/healthz" || path.starts_with("/ptyhub")) {
        // Both are ptyhub's own in upstream mode; answering here marks a misrouted request.
        return (StatusCode::OK, format!("{UPSTREAM_ONLY} {path}")).into_response();
    }
    if get {
        // freshell's SPA fallback: any other GET is the client shell.
        return (
            [
                ("content-type", "text/html; charset=utf-8"),
                ("cache-control", "no-store"),
            ],
            INDEX_HTML,
        )
            .into_response();
    }
    (StatusCode::NOT_FOUND, Json(json!({"error": "Not found"}))).into_response()
}

fn api(request: &SeenRequest, incarnation: u32, providers: Option<Value>) -> Response {
    let path = request.path.as_str();
    let settings = || {
        let mut settings = settings();
        if let Some(providers) = &providers {
            settings["codingCli"]["providers"] = providers.clone();
        }
        settings
    };
    match (request.method.as_str(), path) {
        ("GET", "/api/settings") => Json(settings()).into_response(),
        ("GET", "/api/bootstrap") => Json(json!({
            "settings": settings(),
            "perf": {"logging": false},
            "serverInstanceId": "srv-fake-freshell",
            "incarnation": incarnation,
        }))
        .into_response(),
        ("GET", "/api/sessions") => Json(json!([])).into_response(),
        // freshell's indexed sessions; it runs no terminal, so none is running.
        ("GET", "/api/session-directory") => {
            let mut items = vec![
                json!({"sessionId": INDEXED_CLAUDE_SESSION, "provider": "claude", "projectPath": INDEXED_PROJECT,
                       "title": "indexed claude", "lastActivityAt": 1_000, "isRunning": false}),
                json!({"sessionId": INDEXED_IDLE_SESSION, "provider": "codex", "projectPath": INDEXED_PROJECT,
                       "title": "indexed codex", "lastActivityAt": 900, "isRunning": false}),
            ];
            if request
                .query
                .as_deref()
                .is_some_and(|q| q.contains("cursor="))
            {
                items.truncate(2);
            }
            Json(json!({"items": items, "nextCursor": null, "revision": 7})).into_response()
        }
        // freshell's layout listings: what its one browser showed it (no pane of ptyhub's).
        ("GET", "/api/tabs") => Json(json!({"status": "ok", "data": {
            "tabs": [{"id": "browser-tab", "title": "from a browser", "activePaneId": "browser-pane"}],
            "activeTabId": "browser-tab",
        }}))
        .into_response(),
        ("GET", "/api/panes") => Json(json!({"status": "ok", "data": {"panes": []}})).into_response(),
        ("GET", "/api/files/candidate-dirs") => {
            Json(json!({"directories": [INDEXED_PROJECT, "/srv/recent"]})).into_response()
        }
        _ if path == "/api/echo" || path.starts_with("/api/echo/") => echo(request),
        _ if path == "/api/terminals" || path.starts_with("/api/terminals/") => Json(json!([{
            "terminalId": UPSTREAM_TERMINAL_ID,
            "title": "Shell",
            "mode": "shell",
            "createdAt": 1,
            "lastActivityAt": 1,
            "status": "running",
            "hasClients": false,
        }]))
        .into_response(),
        _ if path.starts_with("/api/ai/terminals/") => Json(json!({
            "description": format!("{UPSTREAM_ONLY} summary"),
            "source": "upstream",
        }))
        .into_response(),
        _ => (StatusCode::NOT_FOUND, Json(json!({"error": "Not found"}))).into_response(),
    }
}

/// freshell's `/api` gate: the `x-auth-token` header, else the URL-encoded `freshell-auth`
/// cookie (`Authorization: Bearer` and `?token=` are not accepted).
fn api_authorized(headers: &HeaderMap, token: &str) -> bool {
    if let Some(given) = headers.get("x-auth-token") {
        return given.as_bytes() == token.as_bytes();
    }
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == "freshell-auth" && percent_decode(value) == token)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn echo(request: &SeenRequest) -> Response {
    let headers: Vec<Value> = request
        .headers
        .iter()
        .map(|(n, v)| json!([n, String::from_utf8_lossy(v)]))
        .collect();
    Json(json!({
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": headers,
        "bodyBytes": request.body.len(),
    }))
    .into_response()
}

fn teapot() -> Response {
    let mut response = Response::new(Body::from(teapot_body()));
    *response.status_mut() = StatusCode::from_u16(TEAPOT_STATUS).unwrap();
    for (name, value) in TEAPOT_HEADERS {
        response
            .headers_mut()
            .append(*name, HeaderValue::from_bytes(value).unwrap());
    }
    response
}

fn streamed(release: Arc<Notify>) -> Response {
    let first = futures_util::stream::once(async {
        Ok::<Bytes, std::io::Error>(Bytes::from_static(STREAM_FIRST_HALF))
    });
    let second = futures_util::stream::once(async move {
        release.notified().await;
        Ok::<Bytes, std::io::Error>(Bytes::from_static(STREAM_SECOND_HALF))
    });
    let mut response = Response::new(Body::from_stream(first.chain(second)));
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.0.to_string()));
        response.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response
    }
}
