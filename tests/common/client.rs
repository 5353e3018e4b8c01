//! A freshell-speaking WebSocket client for tests.
//!
//! Every message received goes through [`Client::next_event`], which validates it against the
//! frozen schema (panicking with the message and the reasons otherwise), books output and
//! gaps into the [`AttachStream`] of their attachRequestId, and records `terminal.exit`. Test
//! code then asks questions (`wait_for_text`, `stream`) instead of juggling raw frames.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::daemon::Daemon;
use super::schema::validate_server_message;
use super::streams::AttachStream;
use super::{fresh_id, COLS, PATIENCE, ROWS};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the socket produced next.
#[derive(Debug)]
pub enum Event {
    Message(Value),
    /// The server closed the socket (with its close code) or the connection dropped (`None`).
    Closed(Option<u16>),
}

/// The two messages of a successful handshake.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub ready: Value,
    pub inventory: Value,
}

impl Handshake {
    /// The inventory record of `terminal_id`, if listed.
    pub fn terminal(&self, terminal_id: &str) -> Option<&Value> {
        self.inventory["terminals"]
            .as_array()?
            .iter()
            .find(|t| t["terminalId"] == terminal_id)
    }
}

/// Parameters of a `terminal.attach`; `Attach::default()` is a fresh pane's first attach.
#[derive(Debug, Clone)]
pub struct Attach {
    pub intent: &'static str,
    pub since_seq: u64,
    pub max_replay_bytes: Option<u64>,
    pub cols: u16,
    pub rows: u16,
    /// Defaults to a fresh unique id.
    pub attach_request_id: Option<String>,
}

impl Default for Attach {
    fn default() -> Self {
        Attach {
            intent: "viewport_hydrate",
            since_seq: 0,
            max_replay_bytes: None,
            cols: COLS,
            rows: ROWS,
            attach_request_id: None,
        }
    }
}

pub struct Client {
    socket: Socket,
    token: String,
    streams: HashMap<String, AttachStream>,
    exits: HashMap<String, i64>,
    /// The last few messages, for panic messages.
    recent: VecDeque<String>,
    closed: Option<Option<u16>>,
}

impl Client {
    /// Opens a WebSocket to the daemon's `/ws` (no hello yet).
    pub async fn connect(daemon: &Daemon) -> Client {
        let (socket, _) = tokio_tungstenite::connect_async(daemon.ws_url.as_str())
            .await
            .unwrap_or_else(|e| panic!("WebSocket connect to {} failed: {e}", daemon.ws_url));
        Client::wrap(socket, daemon)
    }

    /// Like [`Client::connect`], but with a tiny kernel receive buffer and a small advertised
    /// MSS. On loopback the daemon's kernel send buffer is otherwise sized from a 64 KiB MSS
    /// (about 4 MiB); with these it stays near 200 KiB, so a client that stops reading makes
    /// the daemon's own queue back up after a few hundred KiB instead of megabytes.
    pub async fn connect_with_small_receive_buffer(daemon: &Daemon, bytes: i32) -> Client {
        let tcp = small_buffer_tcp(daemon.port, bytes);
        let (socket, _) =
            tokio_tungstenite::client_async(daemon.ws_url.as_str(), MaybeTlsStream::Plain(tcp))
                .await
                .unwrap_or_else(|e| {
                    panic!("WebSocket handshake with {} failed: {e}", daemon.ws_url)
                });
        Client::wrap(socket, daemon)
    }

    /// Says hello with `token` instead of the daemon's full token.
    pub fn with_token(mut self, token: &str) -> Client {
        self.token = token.to_owned();
        self
    }

    /// Connects and completes the handshake.
    pub async fn connect_ready(daemon: &Daemon) -> (Client, Handshake) {
        let mut client = Client::connect(daemon).await;
        let handshake = client.hello().await;
        (client, handshake)
    }

    fn wrap(socket: Socket, daemon: &Daemon) -> Client {
        Client {
            socket,
            token: daemon.token.clone(),
            streams: HashMap::new(),
            exits: HashMap::new(),
            recent: VecDeque::new(),
            closed: None,
        }
    }

    /// Sends a freshell v7 hello with the right token and waits for `ready` and
    /// `terminal.inventory`.
    pub async fn hello(&mut self) -> Handshake {
        let token = self.token.clone();
        self.send_json(&json!({
            "type": "hello",
            "protocolVersion": 7,
            "token": token,
            "capabilities": {"terminalOutputBatchV1": false},
        }))
        .await;
        let ready = self
            .recv_until("ready", PATIENCE, |m| m["type"] == "ready")
            .await;
        let inventory = self
            .recv_until("terminal.inventory", PATIENCE, |m| {
                m["type"] == "terminal.inventory"
            })
            .await;
        Handshake { ready, inventory }
    }

    pub async fn send_json(&mut self, message: &Value) {
        self.send_text(&message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("sending to the daemon failed: {e}"));
    }

    /// The next message or close, validated and booked; `None` if nothing came in `timeout`.
    pub async fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        if let Some(code) = self.closed {
            return Some(Event::Closed(code));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            let text = match next {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map(|f| u16::from(f.code));
                    self.closed = Some(code);
                    return Some(Event::Closed(code));
                }
                Some(Ok(Message::Binary(_))) => {
                    panic!("the protocol has no binary frames, got one")
                }
                Some(Ok(_)) => continue, // ping/pong: tungstenite answers pings itself
                None | Some(Err(_)) => {
                    self.closed = Some(None);
                    return Some(Event::Closed(None));
                }
            };
            let message: Value = serde_json::from_str(text.as_str())
                .unwrap_or_else(|e| panic!("server sent text that is not JSON ({e}): {text}"));
            if let Err(why) = validate_server_message(&message) {
                panic!("server message violates the protocol schema: {why}\nmessage: {message}");
            }
            self.book(&message);
            return Some(Event::Message(message));
        }
    }

    /// The next message; panics if the socket closes or nothing comes within [`PATIENCE`].
    pub async fn recv(&mut self) -> Value {
        match self.next_event(PATIENCE).await {
            Some(Event::Message(m)) => m,
            Some(Event::Closed(code)) => {
                panic!("socket closed ({code:?}) while a message was expected")
            }
            None => panic!("no message within {PATIENCE:?}; recent: {:#?}", self.recent),
        }
    }

    /// Reads (and books) messages until one satisfies `predicate`, which is returned.
    pub async fn recv_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut predicate: impl FnMut(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Some(Event::Message(m)) if predicate(&m) => return m,
                Some(Event::Message(_)) => {}
                Some(Event::Closed(code)) => {
                    panic!(
                        "socket closed ({code:?}) while waiting for {what}; recent: {:#?}",
                        self.recent
                    )
                }
                None => panic!(
                    "timed out after {timeout:?} waiting for {what}; recent: {:#?}",
                    self.recent
                ),
            }
        }
    }

    /// Reads messages until the server closes the socket; returns them and the close code.
    pub async fn recv_until_closed(&mut self, timeout: Duration) -> (Vec<Value>, Option<u16>) {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Some(Event::Message(m)) => seen.push(m),
                Some(Event::Closed(code)) => return (seen, code),
                None => {
                    panic!("socket still open after {timeout:?}; messages meanwhile: {seen:#?}")
                }
            }
        }
    }

    /// Every message that arrives within `window` (for "nothing of kind X arrives" checks).
    pub async fn drain_for(&mut self, window: Duration) -> Vec<Value> {
        let deadline = Instant::now() + window;
        let mut seen = Vec::new();
        while let Some(Event::Message(m)) = self
            .next_event(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            seen.push(m);
        }
        seen
    }

    /// Waits for the `error` answering `requestId`.
    pub async fn expect_error_for(&mut self, request_id: &str) -> Value {
        self.recv_until(
            &format!("error with requestId {request_id}"),
            PATIENCE,
            |m| m["type"] == "error" && m["requestId"] == request_id,
        )
        .await
    }

    /// Waits for the next `error` message.
    pub async fn expect_error(&mut self) -> Value {
        self.recv_until("an error", PATIENCE, |m| m["type"] == "error")
            .await
    }

    /// Proves the socket is open and served: an activity list round trip.
    pub async fn assert_served(&mut self) {
        let request_id = fresh_id("probe");
        self.send_json(&json!({"type": "claude.activity.list", "requestId": request_id}))
            .await;
        let reply = self
            .recv_until("claude.activity.list.response", PATIENCE, |m| {
                m["type"] == "claude.activity.list.response" && m["requestId"] == request_id
            })
            .await;
        assert!(
            reply["terminals"].is_array(),
            "an activity list lists terminals: {reply}"
        );
    }

    // ---- terminals ----

    /// Sends `terminal.create` with a fresh requestId plus `fields` (which may override it);
    /// returns `terminal.created` or the `error` answering it.
    pub async fn try_create(&mut self, fields: Value) -> Result<Value, Value> {
        let mut message = json!({"type": "terminal.create", "requestId": fresh_id("req")});
        message
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().expect("fields object").clone());
        let request_id = message["requestId"].as_str().unwrap().to_owned();
        self.send_json(&message).await;
        let reply = self
            .recv_until(
                &format!("the answer to create {request_id}"),
                PATIENCE,
                |m| {
                    (m["type"] == "terminal.created" || m["type"] == "error")
                        && m["requestId"] == request_id
                },
            )
            .await;
        if reply["type"] == "terminal.created" {
            Ok(reply)
        } else {
            Err(reply)
        }
    }

    /// Like [`Client::try_create`], panicking on an error; returns `terminal.created`.
    pub async fn create(&mut self, fields: Value) -> Value {
        self.try_create(fields.clone())
            .await
            .unwrap_or_else(|e| panic!("create {fields} failed: {e}"))
    }

    /// Starts a fresh fake claude, attaches to it and waits for its prompt.
    pub async fn start_fake_agent(&mut self) -> FakeAgent {
        let created = self.create(json!({"mode": "claude"})).await;
        let terminal_id = created["terminalId"].as_str().unwrap().to_owned();
        let session_id = created["sessionRef"]["sessionId"]
            .as_str()
            .unwrap()
            .to_owned();
        let attach = self.attach(&terminal_id).await;
        self.wait_for_text(&attach, "fake> ").await;
        FakeAgent {
            terminal_id,
            session_id,
            attach,
        }
    }

    /// Attaches with `Attach::default()`; returns the attachRequestId.
    pub async fn attach(&mut self, terminal_id: &str) -> String {
        self.attach_with(terminal_id, Attach::default()).await
    }

    /// Attaches as freshell's client does after a dropped socket: `transport_reconnect`
    /// from `since_seq`, the last seq it has. Returns the attachRequestId.
    pub async fn reattach_since(&mut self, terminal_id: &str, since_seq: u64) -> String {
        self.attach_with(
            terminal_id,
            Attach {
                intent: "transport_reconnect",
                since_seq,
                ..Default::default()
            },
        )
        .await
    }

    /// Sends `terminal.attach` and waits for its `terminal.attach.ready`; returns the
    /// attachRequestId (the key of [`Client::stream`]).
    pub async fn attach_with(&mut self, terminal_id: &str, attach: Attach) -> String {
        let id = self.send_attach(terminal_id, attach).await;
        let ready = self
            .recv_until(&format!("attach.ready for {id}"), PATIENCE, |m| {
                m["type"] == "terminal.attach.ready" && m["attachRequestId"] == id
                    || m["type"] == "error" && m["requestId"] == id
            })
            .await;
        assert_eq!(
            ready["type"], "terminal.attach.ready",
            "attach {id} to {terminal_id} failed: {ready}"
        );
        id
    }

    /// Sends `terminal.attach` without waiting; returns the attachRequestId.
    pub async fn send_attach(&mut self, terminal_id: &str, attach: Attach) -> String {
        let id = attach
            .attach_request_id
            .clone()
            .unwrap_or_else(|| fresh_id("attach"));
        let mut message = json!({
            "type": "terminal.attach",
            "terminalId": terminal_id,
            "intent": attach.intent,
            "sinceSeq": attach.since_seq,
            "cols": attach.cols,
            "rows": attach.rows,
            "attachRequestId": id,
        });
        if let Some(budget) = attach.max_replay_bytes {
            message["maxReplayBytes"] = json!(budget);
        }
        self.send_json(&message).await;
        id
    }

    /// Types one line into a terminal (a carriage return is appended, as a keyboard would).
    pub async fn type_line(&mut self, terminal_id: &str, line: &str) {
        self.send_json(&json!({"type": "terminal.input", "terminalId": terminal_id, "data": format!("{line}\r")}))
            .await;
    }

    /// What attach `attach_request_id` has received so far.
    pub fn stream(&self, attach_request_id: &str) -> &AttachStream {
        self.streams
            .get(attach_request_id)
            .unwrap_or_else(|| panic!("no attach.ready was received for {attach_request_id}"))
    }

    /// Reads until the output of attach `attach_request_id` contains `needle`.
    pub async fn wait_for_text(&mut self, attach_request_id: &str, needle: &str) {
        self.wait_for_text_from(attach_request_id, 0, needle).await;
    }

    /// Reads until `needle` appears in the output of attach `attach_request_id` at or after
    /// byte `offset` (e.g. `stream.data.len()` taken before typing a command).
    pub async fn wait_for_text_from(
        &mut self,
        attach_request_id: &str,
        offset: usize,
        needle: &str,
    ) {
        let mut searched_to: usize = offset + needle.len();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let data = &self.stream(attach_request_id).data;
            let mut from = searched_to.saturating_sub(needle.len()).min(data.len());
            while !data.is_char_boundary(from) {
                from -= 1;
            }
            if data[from..].contains(needle) {
                return;
            }
            searched_to = data.len();
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Some(Event::Message(_)) => {}
                Some(Event::Closed(code)) => {
                    panic!("socket closed ({code:?}) while waiting for {needle:?}")
                }
                None => {
                    let data = &self.stream(attach_request_id).data;
                    let mut cut = data.len().saturating_sub(600);
                    while !data.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    let tail = &data[cut..];
                    panic!("{needle:?} never appeared in attach {attach_request_id}; output ends with {tail:?}")
                }
            }
        }
    }

    /// Reads until the input a reporting fixture shows in attach `attach_request_id`
    /// (`reported_hex`) passes `condition`; `what` names it in the failure.
    pub async fn wait_for_reported_hex(
        &mut self,
        attach_request_id: &str,
        what: &str,
        condition: impl Fn(&str) -> bool,
    ) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let read = super::reported_hex(&self.stream(attach_request_id).data);
            if condition(&read) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the child never read {what}; it read {read:?}"
            );
            self.next_event(Duration::from_millis(200)).await;
        }
    }

    /// Reads until attach `attach_request_id` has received (or been told it lost) `seq`.
    pub async fn wait_for_seq(&mut self, attach_request_id: &str, seq: u64) {
        let deadline = Instant::now() + PATIENCE;
        while self.stream(attach_request_id).last_seq() < seq {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Some(Event::Message(_)) => {}
                Some(Event::Closed(code)) => {
                    panic!("socket closed ({code:?}) while waiting for seq {seq}")
                }
                None => panic!(
                    "attach {attach_request_id} never reached seq {seq} (it is at {})",
                    self.stream(attach_request_id).last_seq()
                ),
            }
        }
    }

    /// Reads until `terminal.exit` for `terminal_id`; returns its exitCode.
    pub async fn wait_for_exit(&mut self, terminal_id: &str) -> i64 {
        if let Some(code) = self.exits.get(terminal_id) {
            return *code;
        }
        let exit = self
            .recv_until(&format!("terminal.exit of {terminal_id}"), PATIENCE, |m| {
                m["type"] == "terminal.exit" && m["terminalId"] == terminal_id
            })
            .await;
        exit["exitCode"]
            .as_i64()
            .unwrap_or_else(|| panic!("exitCode is not an integer: {exit}"))
    }

    /// The exit code this socket was told for `terminal_id`, if any.
    pub fn exit_code(&self, terminal_id: &str) -> Option<i64> {
        self.exits.get(terminal_id).copied()
    }

    fn book(&mut self, message: &Value) {
        let mut summary = message.to_string();
        if summary.len() > 300 {
            let mut cut = 300;
            while !summary.is_char_boundary(cut) {
                cut -= 1;
            }
            summary.truncate(cut);
            summary.push('…');
        }
        self.recent.push_back(summary);
        if self.recent.len() > 12 {
            self.recent.pop_front();
        }

        let kind = message["type"].as_str().unwrap_or_default();
        let terminal_id = message["terminalId"].as_str().unwrap_or_default();
        match kind {
            "terminal.attach.ready" => {
                let id = message["attachRequestId"].as_str().unwrap_or_else(|| {
                    panic!("attach.ready must echo the attachRequestId: {message}")
                });
                assert!(
                    !self.streams.contains_key(id),
                    "a second attach.ready for attachRequestId {id}: {message}"
                );
                self.streams
                    .insert(id.to_owned(), AttachStream::open(message));
            }
            "terminal.output" | "terminal.output.gap" => {
                assert!(
                    !self.exits.contains_key(terminal_id),
                    "{kind} for terminal {terminal_id} arrived after its terminal.exit: {message}"
                );
                let id = message["attachRequestId"].as_str().unwrap_or_else(|| {
                    panic!("{kind} must carry the attach's attachRequestId: {message}")
                });
                let stream = self.streams.get_mut(id).unwrap_or_else(|| {
                    panic!("{kind} for attach {id} before its attach.ready: {message}")
                });
                assert_eq!(
                    stream.terminal_id, terminal_id,
                    "{kind} names another terminal than its attach"
                );
                stream.book(message);
            }
            "terminal.exit" => {
                let code = message["exitCode"].as_i64().unwrap_or(i64::MIN);
                self.exits.insert(terminal_id.to_owned(), code);
            }
            _ => {}
        }
    }
}

/// A loopback TCP connection whose receive buffer is set to `bytes` before connecting (the
/// window is negotiated at connect time).
fn small_buffer_tcp(port: u16, bytes: i32) -> TcpStream {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket syscalls on a descriptor this function owns; on success it is
    // handed to std's TcpStream, which closes it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket(2) failed");
        let size = bytes as libc::c_int;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mss: libc::c_int = 536;
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            &mss as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let address = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
            },
            sin_zero: [0; 8],
        };
        let connected = libc::connect(
            fd,
            &address as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(connected, 0, "connect(2) to 127.0.0.1:{port} failed");
        let std_stream = std::net::TcpStream::from_raw_fd(fd);
        std_stream.set_nonblocking(true).unwrap();
        TcpStream::from_std(std_stream).unwrap()
    }
}

/// A fake claude started by [`Client::start_fake_agent`].
pub struct FakeAgent {
    pub terminal_id: String,
    pub session_id: String,
    /// The attachRequestId of the starting client's attachment.
    pub attach: String,
}

/// Raw WebSocket-level access, for tests of what the protocol does not allow (binary or
/// malformed frames, pings) and of connections that end badly.
impl Client {
    /// Sends any WebSocket message as is: binary frames, raw frames (e.g. a text frame whose
    /// payload is not UTF-8, built with `Message::Frame`), pings.
    pub async fn send_message(&mut self, message: Message) {
        self.socket
            .send(message)
            .await
            .unwrap_or_else(|e| panic!("sending to the daemon failed: {e}"));
    }

    /// Sends a WebSocket ping frame carrying `payload` and reads until the pong frame that
    /// echoes it; returns the application messages that arrived meanwhile (validated and
    /// booked like every other).
    pub async fn ping(&mut self, payload: &[u8]) -> Vec<Value> {
        self.send_message(Message::Ping(payload.to_vec().into()))
            .await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no pong within {PATIENCE:?}; messages: {seen:#?}"));
            match next {
                Some(Ok(Message::Pong(echo))) if echo.as_ref() == payload => return seen,
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(text.as_str()).unwrap_or_else(|e| {
                        panic!("server sent text that is not JSON ({e}): {text}")
                    });
                    if let Err(why) = validate_server_message(&message) {
                        panic!("server message violates the protocol schema: {why}\nmessage: {message}");
                    }
                    self.book(&message);
                    seen.push(message);
                }
                Some(Ok(Message::Binary(_))) => {
                    panic!("the protocol has no binary frames, got one")
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended while waiting for a pong: {other:?}"),
            }
        }
    }

    /// Ends the connection the polite way: a close frame, then waits (bounded) for the
    /// server's close frame or the end of the stream.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
        let _ = tokio::time::timeout(PATIENCE, async {
            while let Some(Ok(message)) = self.socket.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// The local TCP port of this connection (the daemon sees it as the peer's port).
    pub fn local_port(&self) -> u16 {
        match self.socket.get_ref() {
            MaybeTlsStream::Plain(tcp) => tcp.local_addr().expect("a connected socket").port(),
            _ => panic!("the harness only speaks plain TCP"),
        }
    }

    /// Ends the connection the rude way: the TCP connection is reset (SO_LINGER 0), with no
    /// WebSocket close frame, as when a laptop drops off the network.
    pub fn abort(self) {
        use std::os::fd::AsRawFd;
        if let MaybeTlsStream::Plain(tcp) = self.socket.get_ref() {
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: setsockopt on a descriptor this client owns, with a correctly sized value.
            unsafe {
                libc::setsockopt(
                    tcp.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &linger as *const libc::linger as *const libc::c_void,
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
        }
        drop(self);
    }
}

/// Sends every client its `terminal.create` (each with its own `requestId`) at once, so that
/// the daemon gets them in a race, and returns each one's answer — `terminal.created` or
/// `error` — in the clients' order.
pub async fn create_at_once(clients: &mut [Client], creates: &[Value]) -> Vec<Value> {
    futures_util::future::join_all(
        clients
            .iter_mut()
            .zip(creates)
            .map(|(client, create)| client.send_json(create)),
    )
    .await;
    let mut answers = Vec::new();
    for (client, create) in clients.iter_mut().zip(creates) {
        let request_id = create["requestId"].clone();
        let answer = client
            .recv_until("the answer to the create", PATIENCE, |m| {
                (m["type"] == "terminal.created" || m["type"] == "error")
                    && m["requestId"] == request_id
            })
            .await;
        answers.push(answer);
    }
    answers
}
