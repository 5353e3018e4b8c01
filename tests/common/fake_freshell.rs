//! A stand-in for freshell's server, the upstream of `ptyhub serve --freshell-upstream`.
//!
//! It answers the non-terminal parts the way freshell does (`docs/freshell-http-terminals.md`
//! §1, §2, §6): an HTML page at `/`, a few token-guarded `/api/*` JSON routes, and `/ws` with
//! freshell's hello check and handshake. On top of that it has what a test needs to see through
//! the proxy: it records every HTTP request and every WebSocket frame it receives, echoes
//! requests back, serves an odd status with odd headers and a binary body, streams a body in
//! two halves, echoes frames on a second WebSocket (`/tunnel/echo`, like freshell's
//! browser-pane tunnels), and lets a test push any server message to its sockets.
//!
//! Everything it says about terminals carries [`UPSTREAM_ONLY`]: its `ready`, its
//! `terminal.inventory` (one bogus terminal), the `terminals.changed` and `terminal.output` it
//! sends after each handshake, its `/api/terminals`. ptyhub owns terminals in front of it, so
//! that marker must never reach a browser. Every HTTP response it sends carries the header
//! [`SERVED_BY`], so a test can tell whether ptyhub answered a request itself.
//!
//! It runs on its own thread and tokio runtime. [`FakeFreshell::stop`] drops that runtime,
//! which closes every socket without a close frame (a killed process); [`FakeFreshell::restart`]
//! serves again on the same port with a new bootId (a freshell restart). What it recorded
//! survives restarts, tagged with the incarnation that saw it.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::TcpListener as StdListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, Notify};

/// Marks everything the stand-in says about terminals; it must never reach a browser.
pub const UPSTREAM_ONLY: &str = "UPSTREAM-ONLY";

/// The id of the stand-in's own (bogus) terminal.
pub const UPSTREAM_TERMINAL_ID: &str = "UPSTREAM-ONLY-terminal";

/// Header on every HTTP response of the stand-in (value [`SERVED_BY_VALUE`]).
pub const SERVED_BY: &str = "x-served-by";
pub const SERVED_BY_VALUE: &str = "fake-freshell";

/// What `GET /` (and any other GET freshell's SPA fallback would catch) returns.
pub const INDEX_HTML: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>freshell (stand-in)</title></head>\n<body data-app=\"fake-freshell\"><div id=\"root\"></div></body></html>\n";

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

/// The two halves `/stream` sends; the second only after [`FakeFreshell::release_stream`].
pub const STREAM_FIRST_HALF: &[u8] = b"first half of a streamed body\n";
pub const STREAM_SECOND_HALF: &[u8] = b"second half, sent only when the test says so\n";

const TIMESTAMP: &str = "2026-11-25T12:00:00.000Z";
const MAX_WS_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
const REBIND_DEADLINE: Duration = Duration::from_secs(10);
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// One WebSocket text frame the stand-in received.
#[derive(Debug, Clone)]
pub struct ReceivedFrame {
    /// Connection number, unique over the stand-in's whole life (restarts included).
    pub connection: u64,
    /// 1 for the first start, +1 per restart.
    pub incarnation: u32,
    pub text: String,
    /// The parsed frame (`Value::Null` if it was not JSON).
    pub message: Value,
}

impl ReceivedFrame {
    pub fn kind(&self) -> &str {
        self.message["type"].as_str().unwrap_or_default()
    }
}

/// One HTTP request the stand-in received, as it arrived.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Every header line, in order, names lowercased.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl SeenRequest {
    /// Every value of header `name`, in order.
    pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }
}

enum Control {
    Send(Value),
    Close(u16),
}

struct OpenSocket {
    authenticated: bool,
    control: mpsc::UnboundedSender<Control>,
}

#[derive(Default)]
struct Shared {
    /// The `AUTH_TOKEN` shared with ptyhub.
    token: String,
    incarnation: u32,
    frames: Vec<ReceivedFrame>,
    requests: Vec<SeenRequest>,
    connections_opened: u64,
    open: HashMap<u64, OpenSocket>,
    refused_attempts: u64,
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Mutex<Shared>>,
    release_stream: Arc<Notify>,
    incarnation: u32,
}

struct Running {
    shutdown: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// A running (or stopped) stand-in freshell on 127.0.0.1. Stopped on drop.
pub struct FakeFreshell {
    port: u16,
    shared: Arc<Mutex<Shared>>,
    release_stream: Arc<Notify>,
    running: Option<Running>,
    refuser: Option<Running>,
}

impl FakeFreshell {
    /// Starts serving on a free loopback port, with a fresh token (see [`FakeFreshell::token`]).
    pub fn start() -> FakeFreshell {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind the stand-in freshell");
        let port = listener.local_addr().unwrap().port();
        let shared = Shared {
            token: super::fresh_id("token"),
            ..Shared::default()
        };
        let mut fake = FakeFreshell {
            port,
            shared: Arc::new(Mutex::new(shared)),
            release_stream: Arc::new(Notify::new()),
            running: None,
            refuser: None,
        };
        fake.serve(listener);
        fake
    }

    /// `http://127.0.0.1:<port>`, what `--freshell-upstream` takes.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// freshell's `AUTH_TOKEN`; ptyhub in front of it must be given the same one.
    pub fn token(&self) -> String {
        self.lock().token.clone()
    }

    /// Kills the server: every socket is dropped without a close frame and the port is closed.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            halt(running);
        }
        let mut shared = self.lock();
        shared.open.clear();
    }

    /// Closes every socket with `code` (freshell closes with 4009 when it shuts down), waits
    /// until they are gone, then stops.
    pub async fn stop_gracefully(&mut self, code: u16) {
        for socket in self.lock().open.values() {
            let _ = socket.control.send(Control::Close(code));
        }
        let deadline = Instant::now() + STOP_DEADLINE;
        while self.connections_open() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.stop();
    }

    /// While stopped: accept TCP connections on the port and drop them at once (a server
    /// that is coming up but not serving yet), counting them in [`FakeFreshell::refused_attempts`].
    /// A count above zero proves the client noticed the outage and is reconnecting.
    pub fn refuse_connections(&mut self) {
        assert!(
            self.running.is_none(),
            "refuse_connections() needs stop() first"
        );
        if self.refuser.is_some() {
            return;
        }
        let listener = bind_again(self.port);
        let shared = Arc::clone(&self.shared);
        self.refuser = Some(spawn_runtime("fake-freshell-refuser", async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                shared.lock().unwrap().refused_attempts += 1;
                drop(stream);
            }
        }));
    }

    /// Serves again on the same port, as a new incarnation (new bootId).
    pub fn restart(&mut self) {
        self.stop();
        if let Some(refuser) = self.refuser.take() {
            halt(refuser);
        }
        let listener = bind_again(self.port);
        self.serve(listener);
    }

    /// 1 after [`FakeFreshell::start`], +1 per restart.
    pub fn incarnation(&self) -> u32 {
        self.lock().incarnation
    }

    /// Lets the pending (and the next) `/stream` response send its second half.
    pub fn release_stream(&self) {
        self.release_stream.notify_one();
    }

    /// Sends `message` on every authenticated socket of the current incarnation.
    pub fn push(&self, message: Value) {
        for socket in self.lock().open.values().filter(|s| s.authenticated) {
            let _ = socket.control.send(Control::Send(message.clone()));
        }
    }

    /// Every WebSocket frame received so far, in arrival order.
    pub fn frames(&self) -> Vec<ReceivedFrame> {
        self.lock().frames.clone()
    }

    /// Frames received by incarnation `incarnation`.
    pub fn frames_of_incarnation(&self, incarnation: u32) -> Vec<ReceivedFrame> {
        self.frames()
            .into_iter()
            .filter(|f| f.incarnation == incarnation)
            .collect()
    }

    /// Frames received on connection `connection`.
    pub fn frames_on(&self, connection: u64) -> Vec<ReceivedFrame> {
        self.frames()
            .into_iter()
            .filter(|f| f.connection == connection)
            .collect()
    }

    /// The `hello` frames received so far.
    pub fn hellos(&self) -> Vec<ReceivedFrame> {
        self.frames()
            .into_iter()
            .filter(|f| f.kind() == "hello")
            .collect()
    }

    /// Every HTTP request received so far (WebSocket upgrades excluded).
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.lock().requests.clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn requests_under(&self, prefix: &str) -> Vec<SeenRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }

    /// WebSocket connections accepted since the first start.
    pub fn connections_opened(&self) -> u64 {
        self.lock().connections_opened
    }

    /// WebSocket connections open now.
    pub fn connections_open(&self) -> usize {
        self.lock().open.len()
    }

    /// Open connections whose hello was accepted.
    pub fn authenticated_connections(&self) -> Vec<u64> {
        let shared = self.lock();
        let mut ids: Vec<u64> = shared
            .open
            .iter()
            .filter(|(_, s)| s.authenticated)
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Connections dropped by [`FakeFreshell::refuse_connections`].
    pub fn refused_attempts(&self) -> u64 {
        self.lock().refused_attempts
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap()
    }

    fn serve(&mut self, listener: StdListener) {
        listener.set_nonblocking(true).unwrap();
        let incarnation = {
            let mut shared = self.lock();
            shared.incarnation += 1;
            shared.incarnation
        };
        let state = AppState {
            shared: Arc::clone(&self.shared),
            release_stream: Arc::clone(&self.release_stream),
            incarnation,
        };
        let app = Router::new()
            .route("/ws", get(websocket))
            .route("/tunnel/echo", get(tunnel_echo))
            .fallback(http)
            .with_state(state);
        self.running = Some(spawn_runtime("fake-freshell", async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = axum::serve(listener, app).await;
        }));
    }
}

impl Drop for FakeFreshell {
    fn drop(&mut self) {
        self.stop();
        if let Some(refuser) = self.refuser.take() {
            halt(refuser);
        }
    }
}

/// Runs `task` on a new thread with its own runtime until told to stop; stopping drops the
/// runtime and with it every task and socket it owns.
fn spawn_runtime(
    name: &str,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) -> Running {
    let (shutdown, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                tokio::select! {
                    _ = task => {}
                    _ = stopped => {}
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(2));
        })
        .unwrap();
    Running { shutdown, thread }
}

fn halt(running: Running) {
    let _ = running.shutdown.send(());
    let _ = running.thread.join();
}

/// Binds the port again; a just-closed port can be briefly unavailable.
fn bind_again(port: u16) -> StdListener {
    let deadline = Instant::now() + REBIND_DEADLINE;
    loop {
        match StdListener::bind(("127.0.0.1", port)) {
            Ok(listener) => {
                listener.set_nonblocking(true).unwrap();
                return listener;
            }
            Err(e) if e.kind() == ErrorKind::AddrInUse && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("cannot bind the stand-in freshell to port {port} again: {e}"),
        }
    }
}

// ---- HTTP ----

async fn http(State(state): State<AppState>, request: Request) -> Response {
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
        return api(request, state.incarnation);
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

fn api(request: &SeenRequest, incarnation: u32) -> Response {
    let path = request.path.as_str();
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

/// freshell's default server settings (`createDefaultServerSettings` in `shared/settings.ts`).
pub fn settings() -> Value {
    json!({
        "logging": {"debug": false},
        "safety": {"autoKillIdleMinutes": 15},
        "terminal": {"scrollback": 10000},
        "panes": {"defaultNewPane": "ask"},
        "sidebar": {
            "excludeFirstChatSubstrings": [],
            "excludeFirstChatMustStart": false,
            "autoGenerateTitles": true,
        },
        "ai": {},
        "codingCli": {
            "enabledProviders": ["claude", "codex"],
            "providers": {"claude": {"permissionMode": "default"}, "codex": {}},
            "mcpServer": true,
        },
        "editor": {"externalEditor": "auto"},
        "freshAgent": {"enabled": false, "defaultPlugins": [], "providers": {}},
        "extensions": {"disabled": []},
        "network": {"host": "127.0.0.1", "configured": false},
    })
}

// ---- WebSocket ----

async fn websocket(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve_socket(state, socket))
}

/// A WebSocket other than `/ws` (like freshell's browser-pane tunnels under
/// `/api/proxy/http/…`): answers each text frame with `echo: <frame>`.
async fn tunnel_echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut socket| async move {
        while let Some(Ok(frame)) = socket.next().await {
            let reply = match frame {
                Message::Text(text) => Message::text(format!("echo: {}", text.as_str())),
                Message::Close(_) => break,
                _ => continue,
            };
            if socket.send(reply).await.is_err() {
                break;
            }
        }
    })
}

/// What the stand-in does in answer to one frame.
enum Reply {
    Send(Value),
    Close(u16, &'static str),
}

async fn serve_socket(state: AppState, socket: WebSocket) {
    let (control, mut controls) = mpsc::unbounded_channel();
    let connection = {
        let mut shared = state.shared.lock().unwrap();
        shared.connections_opened += 1;
        let connection = shared.connections_opened;
        shared.open.insert(
            connection,
            OpenSocket {
                authenticated: false,
                control,
            },
        );
        connection
    };
    let (mut sink, mut stream) = socket.split();
    let mut authenticated = false;
    'socket: loop {
        let replies = tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str().to_owned();
                    let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let replies = answer(&state, connection, &message, &mut authenticated);
                    state.shared.lock().unwrap().frames.push(ReceivedFrame {
                        connection,
                        incarnation: state.incarnation,
                        text,
                        message,
                    });
                    replies
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break 'socket,
                Some(Ok(_)) => continue 'socket, // pings are answered by the library
            },
            control = controls.recv() => match control {
                Some(Control::Send(message)) => vec![Reply::Send(message)],
                Some(Control::Close(code)) => vec![Reply::Close(code, "Server shutting down")],
                None => break 'socket,
            },
        };
        for reply in replies {
            let sent = match reply {
                Reply::Send(message) => sink.send(Message::text(message.to_string())).await,
                Reply::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    break 'socket;
                }
            };
            if sent.is_err() {
                break 'socket;
            }
        }
    }
    state.shared.lock().unwrap().open.remove(&connection);
}

/// freshell's handling of one client frame, reduced to what the bridge needs (WS spec §2, §3).
fn answer(
    state: &AppState,
    connection: u64,
    message: &Value,
    authenticated: &mut bool,
) -> Vec<Reply> {
    let kind = message["type"].as_str().unwrap_or_default();
    let request_id = message.get("requestId").cloned();
    if message.is_null() || kind.is_empty() {
        return vec![Reply::Send(error("INVALID_MESSAGE", "Invalid JSON", None))];
    }
    if kind == "hello" {
        if message["protocolVersion"] != 7 {
            return vec![
                Reply::Send(error(
                    "PROTOCOL_MISMATCH",
                    "Expected protocol version 7. Please reload the page.",
                    None,
                )),
                Reply::Close(4010, "Protocol version mismatch"),
            ];
        }
        let mut shared = state.shared.lock().unwrap();
        if message["token"].as_str() != Some(shared.token.as_str()) {
            return vec![
                Reply::Send(error("NOT_AUTHENTICATED", "Invalid token", None)),
                Reply::Close(4001, "Not authenticated"),
            ];
        }
        *authenticated = true;
        if let Some(socket) = shared.open.get_mut(&connection) {
            socket.authenticated = true;
        }
        return handshake(state.incarnation)
            .into_iter()
            .map(Reply::Send)
            .collect();
    }
    if kind == "ping" {
        return vec![Reply::Send(json!({"type": "pong", "timestamp": TIMESTAMP}))];
    }
    if !*authenticated {
        return vec![
            Reply::Send(error("NOT_AUTHENTICATED", "Send hello first", None)),
            Reply::Close(4001, "Not authenticated"),
        ];
    }
    match kind {
        "tabs.sync.query" => vec![Reply::Send(json!({
            "type": "tabs.sync.snapshot",
            "requestId": request_id.unwrap_or(json!("")),
            "data": {"localOpen": [], "remoteOpen": [], "closed": [], "devices": [], "sameDeviceOpen": []},
        }))],
        "tabs.sync.push" => vec![Reply::Send(json!({
            "type": "tabs.sync.ack", "accepted": true, "openRecords": 0, "closedRecords": 0,
        }))],
        "sessions.prefs" => vec![Reply::Send(
            json!({"type": "settings.updated", "settings": settings()}),
        )],
        "ui.layout.sync" | "ui.screenshot.result" | "tabs.sync.client.retire" => Vec::new(),
        _ if kind.ends_with(".activity.list") => {
            // freshell's trackers watch its own PTYs; a forwarded request would list this one.
            vec![Reply::Send(json!({
                "type": format!("{kind}.response"),
                "requestId": request_id.unwrap_or(json!("")),
                "terminals": [{"terminalId": UPSTREAM_TERMINAL_ID, "phase": "busy", "updatedAt": 1}],
            }))]
        }
        "terminal.create" => vec![Reply::Send(json!({
            "type": "terminal.created",
            "requestId": request_id.unwrap_or(json!("")),
            "terminalId": UPSTREAM_TERMINAL_ID,
            "createdAt": 1,
        }))],
        _ if kind.starts_with("terminal.") => vec![Reply::Send(error(
            "INVALID_TERMINAL_ID",
            &format!("{UPSTREAM_ONLY}: the stand-in got {kind}"),
            request_id,
        ))],
        _ => vec![Reply::Send(error(
            "INVALID_MESSAGE",
            &format!("Invalid message: unknown type {kind}"),
            request_id,
        ))],
    }
}

/// freshell's answer to a good hello (`ready`, then the handshake snapshot), plus terminal
/// traffic about the stand-in's own terminal that ptyhub must drop.
fn handshake(incarnation: u32) -> Vec<Value> {
    let boot_id = format!("boot-{UPSTREAM_ONLY}-{incarnation}");
    vec![
        json!({"type": "ready", "timestamp": TIMESTAMP, "serverInstanceId": format!("srv-{UPSTREAM_ONLY}"), "bootId": boot_id}),
        json!({"type": "settings.updated", "settings": settings()}),
        json!({"type": "perf.logging", "enabled": false}),
        json!({
            "type": "terminal.inventory",
            "bootId": boot_id,
            "terminals": [{
                "terminalId": UPSTREAM_TERMINAL_ID, "title": "Shell", "mode": "shell",
                "status": "running", "createdAt": 1, "lastActivityAt": 1,
            }],
            "terminalMeta": [],
        }),
        json!({"type": "terminals.changed", "revision": 1}),
        upstream_terminal_output(),
    ]
}

/// A `terminal.output` of the stand-in's own terminal (never for a browser).
pub fn upstream_terminal_output() -> Value {
    json!({
        "type": "terminal.output",
        "terminalId": UPSTREAM_TERMINAL_ID,
        "attachRequestId": format!("{UPSTREAM_ONLY}-attach"),
        "streamId": format!("{UPSTREAM_ONLY}-stream"),
        "seqStart": 1,
        "seqEnd": 1,
        "data": format!("{UPSTREAM_ONLY} output\r\n"),
    })
}

/// Every terminal-family message freshell might send about its own terminals; a test pushes
/// these to check ptyhub drops them.
pub fn upstream_terminal_traffic() -> Vec<Value> {
    vec![
        json!({"type": "ready", "timestamp": TIMESTAMP, "bootId": format!("boot-{UPSTREAM_ONLY}-pushed")}),
        json!({"type": "terminal.inventory", "bootId": format!("boot-{UPSTREAM_ONLY}"), "terminals": [], "terminalMeta": []}),
        json!({"type": "terminals.changed", "revision": 99, "recoverableTerminalIds": [UPSTREAM_TERMINAL_ID]}),
        json!({"type": "terminal.created", "requestId": format!("{UPSTREAM_ONLY}-req"), "terminalId": UPSTREAM_TERMINAL_ID, "createdAt": 1}),
        upstream_terminal_output(),
        json!({"type": "terminal.title.updated", "terminalId": UPSTREAM_TERMINAL_ID, "title": UPSTREAM_ONLY}),
        json!({"type": "terminal.meta.updated", "upsert": [{"terminalId": UPSTREAM_TERMINAL_ID, "updatedAt": 1}], "remove": []}),
        json!({"type": "terminal.exit", "terminalId": UPSTREAM_TERMINAL_ID, "exitCode": 0}),
    ]
}

fn error(code: &str, message: &str, request_id: Option<Value>) -> Value {
    let mut error =
        json!({"type": "error", "code": code, "message": message, "timestamp": TIMESTAMP});
    if let Some(request_id) = request_id {
        error["requestId"] = request_id;
    }
    error
}
