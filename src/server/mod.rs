//! `ptyhub serve`: the listener, its routes and graceful shutdown.

pub mod api;
pub(crate) mod auth;
pub mod connection_budget;
pub mod daemon_api;
mod host_gate;
mod http_connections;
pub mod login;
mod origin;
mod routes;
mod web_client;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::signal::unix::{Signal, SignalKind};

use crate::config::Config;
use crate::daemon::{Access, Daemon, Tokens};
use crate::handover::DaemonHandover;
use crate::login_codes;
use crate::protocol::freshell;
use crate::registry::Registry;
use crate::registry::{AgentApiLink, McpServer};
use crate::session::SessionConfig;
use crate::state_dir::{DaemonRecord, StateDir};
use crate::token_strength;
use crate::upstream::{terminals_path, Upstream, UpstreamAddress};

/// Default listen address: loopback only, and not freshell's own 3001.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7373";

/// Mirrors freshell's WebSocket frame cap (`WS_MAX_PAYLOAD_BYTES`, 16 MiB);
/// application messages are further capped at 1 MiB by the adapter.
const MAX_WS_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// tungstenite zero-fills its whole read buffer before every read, so the
/// default 128 KiB was 128 KiB of RSS per idle viewer. Clients send
/// keystrokes and resizes; a larger message still grows the buffer.
const WS_READ_BUFFER_BYTES: usize = 8 * 1024;

/// Frames are batched up to this much before a write to the socket: four
/// full 16 KiB output frames per syscall under a flood. (Default 128 KiB.)
const WS_WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// How long children get to exit after the hang-up at shutdown.
const SHUTDOWN_CHILD_WAIT: Duration = Duration::from_secs(3);

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub config: Config,
    pub state_dir: PathBuf,
    /// `AUTH_TOKEN`, or `None` to generate one.
    pub token: Option<String>,
    /// `--freshell-upstream`: the freshell server to put ptyhub in front of.
    pub freshell_upstream: Option<String>,
    /// What the previous image of this daemon handed over, when this one
    /// was executed in its place (`crate::handover`).
    pub handover: Option<DaemonHandover>,
}

pub async fn serve(mut options: ServeOptions) -> anyhow::Result<()> {
    crate::handover::upgrade::remember_executable();
    let handover = options.handover.take();
    // Its errors name the directory and what to do.
    let state_dir = StateDir::open(&options.state_dir)?;
    let state_lock = match &handover {
        // SAFETY: the previous image left its lock open for this one alone.
        Some(handed) => unsafe { crate::handover::inherited_fd(handed.state_lock_fd) },
        None => state_dir.lock()?,
    };
    let server_instance_id = match &handover {
        Some(handed) => handed.server_instance_id.clone(),
        None => state_dir
            .server_instance_id()
            .context("cannot record the server instance id")?,
    };
    let token = match (options.token, &handover) {
        // The same token across an upgrade, even a generated one.
        (_, Some(handed)) => handed.token.clone(),
        (Some(token), None) => {
            token_strength::check("AUTH_TOKEN", &token)?;
            token
        }
        (None, None) => {
            let kept = state_dir.token().context("cannot record the token")?;
            // Someone may have edited the file: it guards a shell like AUTH_TOKEN.
            token_strength::check("the token kept in the state dir", &kept)?;
            kept
        }
    };
    let config = options.config;
    let session_config = SessionConfig {
        replay_ring_bytes: config.sessions.replay_ring_bytes,
        frame_limit: freshell::frame_limit(),
        kill_grace: Duration::from_millis(config.sessions.kill_grace_ms),
        size_policy: config.sessions.size_policy,
        theme: Default::default(),
    };
    let registry = Registry::new(config.clone(), session_config);
    registry.enable_persistence(state_dir.path());
    // A first measurement before serving, so metrics are complete from the start.
    registry.account();
    registry.start_accounting();
    registry.start_reaper();
    registry.start_resting_quiet_screens();
    registry.start_activity_sweep();
    registry.start_session_locator();
    let upstream = match &options.freshell_upstream {
        Some(url) => Some(Upstream::new(
            UpstreamAddress::parse(url).map_err(anyhow::Error::msg)?,
        )),
        None => None,
    };
    let view_token = match (
        &handover,
        std::env::var("PTYHUB_VIEW_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
    ) {
        (Some(handed), _) => handed.view_token.clone(),
        (None, Some(view)) => {
            token_strength::check("PTYHUB_VIEW_TOKEN", &view)?;
            view
        }
        (None, None) => state_dir
            .view_token()
            .context("cannot record the read-only token")?,
    };
    anyhow::ensure!(
        view_token != token,
        "the read-only token must differ from AUTH_TOKEN"
    );
    let tokens = Tokens {
        full: token,
        view: view_token,
    };
    let daemon = Daemon::new(
        Arc::clone(&registry),
        config,
        tokens,
        server_instance_id,
        upstream,
        handover.as_ref().map(|h| h.boot_id.clone()),
    );

    if !options.listen.ip().is_loopback() {
        tracing::warn!(
            listen = %options.listen,
            "LISTENING BEYOND LOOPBACK: anyone who can reach this address and learns the token gets a shell on this machine"
        );
    }
    let handed_over = handover.is_some();
    let (listener, handed_registry) = match handover {
        Some(handed) => {
            // SAFETY: the previous image left its listening socket open for
            // this one, under this number, and nothing else here owns it.
            let listener = unsafe { crate::handover::listener_from(handed.listener_fd) }
                .context("cannot take over the listening socket")?;
            let took = crate::session::now_ms().saturating_sub(handed.paused_at_ms);
            daemon.note_handover(handed.handovers, took);
            if let (Some(upstream), Some(layout)) = (&daemon.upstream, handed.layout) {
                upstream.layout.take_over(layout);
            }
            (listener, Some((handed.registry, handed.written_by)))
        }
        None => (
            tokio::net::TcpListener::bind(options.listen)
                .await
                .with_context(|| format!("cannot listen on {}", options.listen))?,
            None,
        ),
    };
    daemon.keep_state_lock(state_lock);
    daemon.keep_listener(
        std::os::fd::AsFd::as_fd(&listener)
            .try_clone_to_owned()
            .context("cannot keep the listening socket for upgrades")?,
    );
    if let Some((registry_handover, written_by)) = handed_registry {
        // SAFETY: every master descriptor in the handover was left open by
        // the previous image for this one alone.
        let taken = unsafe { registry.take_over(registry_handover) };
        tracing::info!(
            sessions = taken,
            from = %written_by,
            handovers = daemon.handovers(),
            took_ms = daemon.last_handover_ms(),
            "took over from the previous image: every session kept"
        );
    }
    let bound = listener.local_addr()?;
    let url = format!("http://{bound}/");
    if daemon.upstream.is_some() {
        // Terminals reach freshell's agent API as freshell's own do, at
        // ptyhub's address (which answers it).
        registry.link_agent_api(AgentApiLink {
            url: format!("http://{bound}"),
            token: daemon.token().to_owned(),
            mcp_server: daemon
                .config
                .freshell
                .mcp_server
                .as_ref()
                .map(|script| McpServer {
                    command: daemon.config.freshell.node.clone(),
                    args: vec![script.clone()],
                }),
            mcp_config_dir: state_dir.path().join("mcp"),
        });
    }
    state_dir
        .write_daemon_record(&DaemonRecord {
            url,
            token: daemon.token().to_owned(),
            pid: std::process::id(),
        })
        .context("cannot write the daemon record")?;
    let hosts = host_gate::AllowedHosts::new(bound, &daemon.config.server.allowed_hosts);
    let app = routes::router(Arc::clone(&daemon), hosts);
    // Before routing: another spelling of freshell's terminal routes is routed as they are.
    let app = tower::Layer::layer(
        &tower::util::MapRequestLayer::new(terminals_path::canonical_terminal_route),
        app,
    );
    // Links with a login code, never a token: a browser keeps every address it opens
    // (`crate::login_codes`). In front of freshell they open ptyhub's own client, since
    // freshell's page at `/` knows no codes (and must never see the view token).
    let front = daemon.upstream.is_some();
    let authority = bound.to_string();
    let full_code = daemon
        .login_codes
        .mint(Access::Full, login_codes::STARTUP_CODE_LIFETIME);
    let view_code = daemon
        .login_codes
        .mint(Access::ReadOnly, login_codes::STARTUP_CODE_LIFETIME);
    // The one line scripts and tests wait for.
    println!(
        "ptyhub ready: {}",
        login::login_link(&authority, front, Access::Full, &full_code)
    );
    println!(
        "ptyhub read-only link (watch, never type): {}",
        login::login_link(&authority, front, Access::ReadOnly, &view_code)
    );
    tracing::info!(
        "each printed link works once, within {}; `ptyhub url [--read-only]` prints a new one",
        login::lifetime_words(login_codes::STARTUP_CODE_LIFETIME)
    );
    tracing::info!(%bound, state_dir = %state_dir.path().display(), "serving");

    tokio::spawn(Arc::clone(&daemon.connections).sweep());
    // Listening for a reload and a stop before the first request is served:
    // a client that sees this image answer may send either at once. What
    // came during an exec into this image was held for it and arrives now.
    if let Some(delay) = takeover_delay_for_tests(handed_over) {
        std::thread::sleep(delay);
    }
    let reloads = listen_for(SignalKind::user_defined2());
    let stops = listen_for(SignalKind::terminate());
    crate::handover::held_signals::release();
    if let Some(reloads) = reloads {
        tokio::spawn(upgrade_on_sigusr2(Arc::clone(&daemon), reloads));
    } else {
        tracing::error!("cannot listen for SIGUSR2; upgrades need `ptyhub upgrade`");
    }
    let listener =
        connection_budget::BudgetedListener::new(listener, Arc::clone(&daemon.connections));
    let tune = |stream: &connection_budget::BudgetedStream| {
        // Replies and output are many small writes; without TCP_NODELAY each one
        // written while an earlier one is unacknowledged waits for the client's
        // delayed ACK (about 40 ms).
        if let Err(err) = stream.tcp().set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
        bound_send_buffer(stream.tcp());
    };
    let shutdown_daemon = Arc::clone(&daemon);
    http_connections::serve(
        listener,
        app,
        Duration::from_millis(daemon.config.server.header_read_timeout_ms),
        tune,
        async move {
            wait_for_signal(stops).await;
            tracing::info!("shutting down: hanging up children and closing sockets");
            shutdown_daemon.begin_shutdown();
            shutdown_daemon.registry.shutdown(SHUTDOWN_CHILD_WAIT).await;
        },
    )
    .await;
    state_dir.remove_daemon_record();
    Ok(())
}

/// SIGUSR2 (what a service manager's reload sends) upgrades in place, as
/// `ptyhub upgrade` does.
async fn upgrade_on_sigusr2(daemon: Arc<Daemon>, mut reloads: Signal) {
    while reloads.recv().await.is_some() {
        tracing::info!("SIGUSR2: upgrading in place");
        let failure = crate::handover::upgrade::upgrade(Arc::clone(&daemon)).await;
        tracing::error!(%failure, "SIGUSR2 upgrade did not happen");
    }
}

fn listen_for(kind: SignalKind) -> Option<Signal> {
    match tokio::signal::unix::signal(kind) {
        Ok(signals) => Some(signals),
        Err(err) => {
            tracing::error!(%err, signal = kind.as_raw_value(), "cannot listen for a signal");
            None
        }
    }
}

/// A test hook: `PTYHUB_TEST_TAKEOVER_DELAY_MS` makes an image that took
/// over from an earlier one wait that long before it listens for signals
/// (the ones held across the exec still blocked), so a test can send one in
/// that window
/// (`tests/upgrade_in_flight.rs`). Unset, or on a first start, nothing waits.
fn takeover_delay_for_tests(handed_over: bool) -> Option<Duration> {
    crate::test_delays::from_env("PTYHUB_TEST_TAKEOVER_DELAY_MS").filter(|_| handed_over)
}

async fn wait_for_signal(stops: Option<Signal>) {
    let Some(mut stops) = stops else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = stops.recv() => {}
    }
}

async fn websocket(
    State(daemon): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(reason) = origin::check(&headers, &daemon.config.server.allowed_origins) {
        tracing::warn!(reason, "refusing a WebSocket from another origin");
        return (StatusCode::FORBIDDEN, "Origin not allowed").into_response();
    }
    // Until its hello is accepted, the socket may send a hello's worth of bytes, no more.
    daemon
        .connections
        .limit_reads_until_authenticated(peer, connection_budget::PRE_HELLO_BYTES);
    upgrade
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(WS_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_WS_FRAME_BYTES)
        .max_frame_size(MAX_WS_FRAME_BYTES)
        .on_upgrade(move |socket| freshell::serve_socket(daemon, socket, peer))
}

/// Bytes the kernel may hold for one connection's unsent output (it doubles
/// the figure for its own bookkeeping). Fixed, so autotuning cannot grow a
/// socket's buffer to megabytes after one large replay: the daemon's memory
/// per viewer stays bounded, and a viewer that stops reading is found behind
/// (and resynced) after a known amount of output, not after whatever its
/// socket grew to hold.
const SOCKET_SEND_BUFFER_BYTES: libc::c_int = 64 * 1024;

fn bound_send_buffer(tcp: &tokio::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let size = SOCKET_SEND_BUFFER_BYTES;
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from a live c_int;
    // the descriptor belongs to `tcp`, open for the duration of the call.
    let status = unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if status != 0 {
        tracing::debug!(err = %std::io::Error::last_os_error(), "cannot bound SO_SNDBUF");
    }
}
