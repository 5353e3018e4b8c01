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
//!
//! This module holds the handle ([`FakeFreshell`]), what the stand-in recorded, its runtime and
//! freshell's default [`settings`]; how it answers HTTP requests is in `http`, how it answers on
//! its WebSockets in `ws`.

mod http;
mod ws;

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::TcpListener as StdListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, Notify};

pub use self::http::{
    teapot_body, INDEX_HTML, STREAM_FIRST_HALF, STREAM_SECOND_HALF, TEAPOT_HEADERS, TEAPOT_STATUS,
};
pub use self::ws::{upstream_terminal_output, upstream_terminal_traffic};

/// Marks everything the stand-in says about terminals; it must never reach a browser.
pub const UPSTREAM_ONLY: &str = "UPSTREAM-ONLY";

/// The id of the stand-in's own (bogus) terminal.
pub const UPSTREAM_TERMINAL_ID: &str = "UPSTREAM-ONLY-terminal";

/// Sessions freshell's index knows (its session directory lists them), and their project.
pub const INDEXED_CLAUDE_SESSION: &str = "3c9d2e1f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
pub const INDEXED_IDLE_SESSION: &str = "indexed-codex-thread";
pub const INDEXED_PROJECT: &str = "/srv/indexed-project";

/// Header on every HTTP response of the stand-in (value [`SERVED_BY_VALUE`]).
pub const SERVED_BY: &str = "x-served-by";
pub const SERVED_BY_VALUE: &str = "fake-freshell";

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
    /// `settings.codingCli.providers` as its settings page set them (`None`: the defaults).
    coding_cli_providers: Option<Value>,
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
    /// What its settings page sets for each coding CLI (`settings.codingCli.providers`, e.g.
    /// `{"claude": {"permissionMode": "plan"}}`), as `GET /api/settings` answers from now on.
    pub fn set_coding_cli_providers(&self, providers: Value) {
        self.shared.lock().unwrap().coding_cli_providers = Some(providers);
    }

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
            .route("/ws", get(ws::websocket))
            .route("/tunnel/echo", get(ws::tunnel_echo))
            .fallback(http::http)
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
