//! One freshell socket: the hello gate, then dispatch of every client message
//! to the registry and the sessions. Replies go through the socket's
//! [`Outbox`], in order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tracing::Instrument;

use super::activity_messages::activity_list_response;
use super::create_rate::CreateRate;
use super::inbound::{self, ActivityProvider, ClientMessage, Rejection};
use super::outbound::{
    self, Created, ErrorCode, ErrorMessage, Inventory, InventoryTerminal, Pong, Ready,
};
use super::replies::{create_error, identity_mismatch, inventory_record};
use super::socket_writer::{self, Outbox, Outgoing, SocketWriter};
use super::upstream_link::UpstreamLink;
use crate::daemon::{Access, ConnectionSlot, Daemon};
use crate::registry::CreateRequest;
use crate::session::{Session, SessionRef, Theme};
use crate::upstream::provider_defaults;

mod attach;

/// Longest wait for the writer to flush a close frame.
const CLOSE_FLUSH_WAIT: Duration = Duration::from_secs(2);

/// Serves one upgraded socket from `peer` until it closes.
pub async fn serve_socket(daemon: Arc<Daemon>, socket: WebSocket, peer: SocketAddr) {
    let connection_id = daemon.next_connection_id();
    let span = tracing::info_span!("ws", conn = connection_id);
    async move {
        let (sink, stream) = socket.split();
        let wake = Arc::new(Notify::new());
        let awaiting_pong = Arc::new(AtomicBool::new(false));
        let (outbox, writer) = SocketWriter::new(
            sink,
            Arc::clone(&wake),
            Arc::clone(&daemon.registry),
            daemon.upstream.as_ref().map(|u| u.ui_commands.clone()),
            daemon.config.server.ping_interval(),
            Arc::clone(&awaiting_pong),
            daemon.shutdown_signal(),
        );
        let mut writer_task = tokio::spawn(writer.run());
        let writer_finished = {
            let upstream = daemon_upstream_link(&daemon, &outbox);
            let mut connection = Connection {
                id: connection_id,
                slot: None,
                peer,
                wrong_hello: false,
                outbox,
                wake,
                awaiting_pong,
                access: None,
                active_attach_ids: HashMap::new(),
                upstream,
                create_rate: CreateRate::new(
                    daemon.config.limits.creates_per_window,
                    Duration::from_millis(daemon.config.limits.create_window_ms),
                ),
                daemon,
            };
            // A writer that gave up on the client (no pong, nothing read)
            // ends the socket: the reader alone would wait forever on a peer
            // that sends nothing, holding its connection slot.
            tokio::select! {
                () = connection.read(stream) => false,
                _ = &mut writer_task => true,
            }
            // Dropping the connection drops the outbox: the writer finishes
            // what is queued and ends.
        };
        if !writer_finished
            && tokio::time::timeout(CLOSE_FLUSH_WAIT, &mut writer_task)
                .await
                .is_err()
        {
            writer_task.abort();
        }
        tracing::debug!("socket closed");
    }
    .instrument(span)
    .await;
}

struct Connection {
    daemon: Arc<Daemon>,
    id: u64,
    /// One of the `max_connections` places, taken by an accepted hello: a socket that
    /// never says hello holds none.
    slot: Option<ConnectionSlot>,
    peer: SocketAddr,
    /// The hello's token was wrong: refused once the peer's backoff is waited out.
    wrong_hello: bool,
    outbox: Outbox,
    wake: Arc<Notify>,
    awaiting_pong: Arc<AtomicBool>,
    /// What the hello's token allows; `None` before a good hello.
    access: Option<Access>,
    /// The attachRequestId active for each (terminal, pane).
    active_attach_ids: HashMap<(String, String), String>,
    /// The companion socket to freshell, with `--freshell-upstream`.
    upstream: Option<UpstreamLink>,
    create_rate: CreateRate,
}

fn daemon_upstream_link(daemon: &Daemon, outbox: &Outbox) -> Option<UpstreamLink> {
    let upstream = daemon.upstream.as_ref()?;
    Some(UpstreamLink::start(
        upstream.address.ws_url.clone(),
        outbox.clone(),
    ))
}

/// Whether the read loop goes on after a message.
enum Flow {
    Continue,
    Close,
}

impl Connection {
    async fn read(&mut self, mut stream: futures_util::stream::SplitStream<WebSocket>) {
        let opened = tokio::time::Instant::now();
        let hello_deadline = opened + self.daemon.config.server.hello_timeout();
        // A socket that sends nothing at all is given up on much sooner.
        let silent_deadline = opened + self.daemon.config.server.first_message_timeout();
        let mut received_anything = false;
        loop {
            let deadline = if received_anything {
                hello_deadline
            } else {
                silent_deadline
            };
            let next = if self.access.is_some() {
                stream.next().await
            } else {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.outbox.push(Outgoing::Close {
                            code: 4002,
                            reason: "Hello timeout",
                        });
                        return;
                    }
                }
            };
            received_anything = true;
            let flow = match next {
                Some(Ok(Message::Text(text))) => self.on_text(text.as_str()),
                Some(Ok(Message::Binary(_))) => self.reply_error(ErrorMessage::new(
                    ErrorCode::InvalidMessage,
                    "Binary frames are not supported; send JSON text frames.",
                )),
                Some(Ok(Message::Pong(_))) => {
                    self.awaiting_pong.store(false, Ordering::SeqCst);
                    Flow::Continue
                }
                Some(Ok(Message::Ping(_))) => Flow::Continue,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Flow::Close,
            };
            if self.wrong_hello {
                let delay = self
                    .daemon
                    .auth_failures
                    .record(self.peer.ip(), "ws_hello", "/ws");
                tokio::time::sleep(delay).await;
                self.close_with(
                    ErrorMessage::new(ErrorCode::NotAuthenticated, "Invalid token"),
                    4001,
                    "Invalid token",
                );
                return;
            }
            if matches!(flow, Flow::Close) {
                return;
            }
        }
    }

    fn send(&self, message: &impl serde::Serialize) -> Flow {
        self.send_encoded(outbound::to_json(message))
    }

    /// Sends a message already encoded as JSON.
    fn send_encoded(&self, json: String) -> Flow {
        if self.outbox.send(json) {
            Flow::Continue
        } else {
            Flow::Close
        }
    }

    fn reply_error(&self, error: ErrorMessage) -> Flow {
        self.send(&error)
    }

    fn close_with(&self, error: ErrorMessage, code: u16, reason: &'static str) -> Flow {
        self.send(&error);
        self.outbox.push(Outgoing::Close { code, reason });
        Flow::Close
    }

    fn on_text(&mut self, text: &str) -> Flow {
        let message = match inbound::parse(text, self.access.is_some()) {
            Ok(message) => message,
            Err(Rejection::ProtocolMismatch) => {
                return self.close_with(
                    ErrorMessage::new(
                        ErrorCode::ProtocolMismatch,
                        "Expected protocol version 7. Please reload the page.",
                    ),
                    4010,
                    "Protocol version mismatch",
                );
            }
            Err(Rejection::Invalid {
                message,
                request_id,
                terminal_id,
            }) => {
                let mut error =
                    ErrorMessage::new(ErrorCode::InvalidMessage, message).request(request_id);
                error.terminal_id = terminal_id;
                return self.reply_error(error);
            }
        };
        match message {
            ClientMessage::Hello(hello) => {
                self.on_hello(hello.token.as_deref().unwrap_or(""), text)
            }
            // Nothing, not even a ping, is answered before hello.
            _ if self.access.is_none() => self.close_with(
                ErrorMessage::new(ErrorCode::NotAuthenticated, "Send hello first"),
                4001,
                "Not authenticated",
            ),
            ClientMessage::Ping => self.send(&Pong {
                kind: "pong",
                timestamp: outbound::timestamp_now(),
            }),
            ClientMessage::Create(create) if self.read_only() => {
                self.refuse_read_only(Some(create.request_id), None)
            }
            ClientMessage::Input(input) if self.read_only() => {
                self.refuse_read_only(None, Some(input.terminal_id))
            }
            ClientMessage::Resize(resize) if self.read_only() => {
                self.refuse_read_only(None, Some(resize.terminal_id))
            }
            ClientMessage::Kill(target) if self.read_only() => {
                self.refuse_read_only(None, Some(target.terminal_id))
            }
            ClientMessage::Create(create) => self.on_create(create),
            ClientMessage::Attach(attach) => self.on_attach(attach),
            ClientMessage::Input(input) => self.on_input(input),
            ClientMessage::Resize(resize) => self.on_resize(resize),
            ClientMessage::Detach(target) => self.on_detach(&target.terminal_id),
            ClientMessage::Kill(target) => self.on_kill(&target.terminal_id),
            ClientMessage::ActivityList(provider, list) => {
                self.on_activity_list(provider, list.request_id)
            }
            ClientMessage::Theme(theme) => {
                self.on_theme(theme);
                Flow::Continue
            }
            ClientMessage::Tolerated(kind) => {
                match &self.upstream {
                    Some(upstream) => {
                        if kind == "ui.layout.sync" && !self.read_only() {
                            // The agent API's pane targets (`upstream::agent_api`).
                            if let Some(front) = &self.daemon.upstream {
                                front.layout.update_from_browser(text);
                            }
                        }
                        upstream.forward(text)
                    }
                    None => tracing::trace!(kind, "ignoring a non-terminal message"),
                }
                Flow::Continue
            }
            ClientMessage::Unknown { kind, request_id } => match &self.upstream {
                Some(upstream) => {
                    upstream.forward(text);
                    Flow::Continue
                }
                None => {
                    let kind: String = kind.chars().take(100).collect();
                    self.reply_error(
                        ErrorMessage::new(
                            ErrorCode::InvalidMessage,
                            format!("Unknown message type: {kind}"),
                        )
                        .request(request_id),
                    )
                }
            },
        }
    }

    /// A viewer's theme: the first one reported becomes what every session
    /// answers colour queries with. A read-only viewer's is ignored, since
    /// the answers are written to the children.
    fn on_theme(&self, theme: Theme) {
        if self.read_only() {
            tracing::debug!("ignoring a read-only viewer's theme");
        } else if self.daemon.registry.theme().learn(theme) {
            tracing::info!(%theme, "learned the viewers' theme for colour queries");
        } else if self.daemon.registry.theme().current() != theme {
            tracing::debug!(%theme, "keeping the theme learned first");
        }
    }

    fn read_only(&self) -> bool {
        self.access == Some(Access::ReadOnly)
    }

    fn refuse_read_only(&self, request_id: Option<String>, terminal_id: Option<String>) -> Flow {
        let mut error = ErrorMessage::new(
            ErrorCode::Unauthorized,
            "This connection is read-only (it used the view token): it can watch terminals but not create, type, resize or kill.",
        )
        .request(request_id);
        error.terminal_id = terminal_id;
        self.reply_error(error)
    }

    fn on_hello(&mut self, token: &str, text: &str) -> Flow {
        let Some(access) = self.daemon.access_for(token) else {
            // Answered by the read loop, after the peer's backoff.
            self.wrong_hello = true;
            return Flow::Close;
        };
        if self.slot.is_none() {
            // Counted from the first good hello; a second hello keeps its place.
            match self.daemon.open_connection() {
                Some(slot) => self.slot = Some(slot),
                None => {
                    self.outbox.push(Outgoing::Close {
                        code: 4003,
                        reason: "Too many connections",
                    });
                    return Flow::Close;
                }
            }
        }
        self.daemon.connections.authenticated(self.peer);
        self.access = Some(access);
        if access == Access::ReadOnly {
            // freshell would refuse the view token; a viewer needs none of it.
            self.upstream = None;
        }
        if let Some(upstream) = &self.upstream {
            // freshell checks the same token and keeps its own per-socket state.
            upstream.hello(text);
        }
        self.send(&Ready {
            kind: "ready",
            timestamp: outbound::timestamp_now(),
            server_instance_id: self.daemon.server_instance_id.clone(),
            boot_id: self.daemon.boot_id.clone(),
        });
        self.outbox.push(Outgoing::Authenticated);
        let registry = &self.daemon.registry;
        let mut terminals: Vec<InventoryTerminal> = registry
            .list()
            .iter()
            .map(|session| inventory_record(session, registry.title_of(session)))
            .collect();
        // Sessions of a previous run: exited, resumable by their sessionRef.
        terminals.extend(
            registry
                .dormant()
                .into_iter()
                .map(|dormant| InventoryTerminal {
                    session_ref: Some(dormant.session_ref()),
                    terminal_id: dormant.terminal_id,
                    title: dormant.title,
                    mode: dormant.provider,
                    status: "exited",
                    created_at: dormant.created_at,
                    last_activity_at: dormant.last_activity_at,
                    cwd: dormant.cwd,
                }),
        );
        self.send(&Inventory {
            kind: "terminal.inventory",
            boot_id: self.daemon.boot_id.clone(),
            terminals,
            terminal_meta: Vec::new(),
        })
    }

    fn on_create(&mut self, create: inbound::Create) -> Flow {
        let request_id = create.request_id.clone();
        // A resent create (same requestId) is an answer, not a new spawn.
        let counted =
            create.restore != Some(true) && !self.daemon.registry.knows_request(&request_id);
        if counted && !self.create_rate.allow(std::time::Instant::now()) {
            return self.reply_error(
                ErrorMessage::new(ErrorCode::RateLimited, "Too many terminal.create requests")
                    .request(Some(request_id)),
            );
        }
        let live_terminal_id = create
            .live_terminal
            .filter(|live| live.server_instance_id == self.daemon.server_instance_id)
            .map(|live| live.terminal_id);
        let request = CreateRequest {
            request_id: create.request_id,
            mode: create.mode.unwrap_or_else(|| "shell".to_owned()),
            cwd: create.cwd,
            session_ref: create.session_ref,
            restore: create.restore.unwrap_or(false),
            fresh_recovery: create.recovery_intent.is_some(),
            live_terminal_id,
            tab_id: create.tab_id,
            pane_id: create.pane_id,
            command: None,
            // freshell's terminal.create carries none: in front of freshell,
            // the defaults of its settings page (below), as freshell applies them.
            settings: Default::default(),
        };
        let daemon = Arc::clone(&self.daemon);
        let registry = Arc::clone(&self.daemon.registry);
        let outbox = self.outbox.clone();
        // Creates may wait on a per-session lock; other messages go on meanwhile.
        tokio::spawn(
            async move {
                let mut request = request;
                request.settings =
                    provider_defaults::freshell_defaults(&daemon, &request.mode).await;
                let (reply, created) = match registry.create(request).await {
                    Ok(outcome) => {
                        let session = outcome.session();
                        let reply = outbound::to_json(&Created {
                            kind: "terminal.created",
                            request_id,
                            terminal_id: session.terminal_id().to_owned(),
                            created_at: session.info().created_at_ms,
                            cwd: session.info().cwd.clone(),
                            session_ref: session.session_ref().cloned(),
                        });
                        (reply, true)
                    }
                    Err(err) => {
                        tracing::info!(%err, "create refused");
                        let error = create_error(&err).request(Some(request_id));
                        (outbound::to_json(&error), false)
                    }
                };
                outbox.send(reply);
                if created {
                    registry.announce_change(Vec::new());
                }
            }
            .in_current_span(),
        );
        Flow::Continue
    }

    /// The running session for input/resize, or the error to reply with.
    fn running_session(
        &self,
        terminal_id: &str,
        expected: Option<&SessionRef>,
    ) -> Result<Arc<Session>, Box<ErrorMessage>> {
        let not_running = || {
            Box::new(
                ErrorMessage::new(ErrorCode::InvalidTerminalId, "Terminal not running")
                    .terminal(terminal_id),
            )
        };
        let session = self
            .daemon
            .registry
            .get(terminal_id)
            .ok_or_else(not_running)?;
        if let Some(error) = identity_mismatch(&session, expected) {
            return Err(Box::new(error));
        }
        if !session.is_running() {
            return Err(not_running());
        }
        Ok(session)
    }

    fn on_input(&self, input: inbound::Input) -> Flow {
        crate::panic_injection::panic_if_marked(&input.data, "a socket's input");
        match self.running_session(&input.terminal_id, input.expected_session_ref.as_ref()) {
            Ok(session) => {
                session.write_input(self.id, input.data.into_bytes());
                Flow::Continue
            }
            Err(error) => self.reply_error(*error),
        }
    }

    fn on_resize(&self, resize: inbound::Resize) -> Flow {
        match self.running_session(&resize.terminal_id, resize.expected_session_ref.as_ref()) {
            Ok(session) => {
                session.resize(resize.cols, resize.rows, self.id);
                if resize.take_size {
                    session.take_size(self.id);
                }
                Flow::Continue
            }
            Err(error) => self.reply_error(*error),
        }
    }

    fn on_detach(&mut self, terminal_id: &str) -> Flow {
        if self.daemon.registry.get(terminal_id).is_none() {
            return self.reply_error(
                ErrorMessage::new(ErrorCode::InvalidTerminalId, "Unknown terminalId")
                    .terminal(terminal_id),
            );
        }
        self.active_attach_ids.retain(|(t, _), _| t != terminal_id);
        self.outbox.push(Outgoing::Detach {
            terminal_id: terminal_id.to_owned(),
            ack: socket_writer::detached(terminal_id),
        });
        Flow::Continue
    }

    fn on_kill(&mut self, terminal_id: &str) -> Flow {
        let registry = Arc::clone(&self.daemon.registry);
        let Some(session) = registry.get(terminal_id) else {
            return self.reply_error(
                ErrorMessage::new(ErrorCode::InvalidTerminalId, "Unknown terminalId")
                    .terminal(terminal_id),
            );
        };
        self.active_attach_ids.retain(|(t, _), _| t != terminal_id);
        session.kill();
        // Viewers get terminal.exit from their attachments; everyone then
        // hears that the list changed.
        tokio::spawn(async move {
            session.exited().await;
            registry.announce_change(Vec::new());
        });
        Flow::Continue
    }

    fn on_activity_list(&self, provider: ActivityProvider, request_id: String) -> Flow {
        let sessions = self.daemon.registry.list();
        self.send_encoded(activity_list_response(provider, &request_id, &sessions))
    }
}
