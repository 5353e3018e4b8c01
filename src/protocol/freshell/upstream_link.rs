//! One browser socket's companion socket to freshell (`--freshell-upstream`).
//!
//! ptyhub answers the terminal family itself; every other client message is
//! forwarded to freshell unchanged and in order, and every freshell message
//! outside the terminal family comes back to the browser unchanged and in
//! order. When freshell goes away (a restart), the browser socket stays up:
//! the link reconnects with backoff, replays the browser's `hello`, and
//! delivers what the browser sent meanwhile (bounded).

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::socket_writer::Outbox;

/// Messages kept for freshell while it is away; older ones are dropped first.
const MAX_QUEUED_WHILE_AWAY: usize = 1024;
const RECONNECT_FIRST_DELAY: Duration = Duration::from_millis(250);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(5);

/// Server→client types ptyhub produces itself; freshell's are dropped so the
/// browser sees only ptyhub's view of terminals.
pub fn is_terminal_family(kind: &str) -> bool {
    matches!(
        kind,
        "ready" | "terminal.inventory" | "terminals.changed" | "pong" | "pane.reconcile.result"
    ) || kind.starts_with("terminal.")
        // Agent activity by terminalId: freshell's terminals, not ours.
        || kind.contains(".activity.")
}

/// Client messages that carry the browser's current state (layout, tabs,
/// preferences). freshell keeps that state per socket, so after it restarts
/// the latest of each is sent again behind the hello.
const STATE_CARRYING_TYPES: &[&str] = &["ui.layout.sync", "tabs.sync.push", "sessions.prefs"];

#[derive(serde::Deserialize)]
struct TypeOnly<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<std::borrow::Cow<'a, str>>,
}

fn message_type(text: &str) -> Option<String> {
    serde_json::from_str::<TypeOnly<'_>>(text)
        .ok()
        .and_then(|t| t.kind.map(|k| k.into_owned()))
}

enum LinkCommand {
    /// The browser's (latest) hello: sent now and on every reconnect.
    Hello(String),
    Forward(String),
}

/// The connection's handle; dropping it closes the upstream socket.
pub struct UpstreamLink {
    commands: mpsc::UnboundedSender<LinkCommand>,
}

impl UpstreamLink {
    pub fn start(ws_url: String, outbox: Outbox) -> UpstreamLink {
        let (commands, receiver) = mpsc::unbounded_channel();
        tokio::spawn(tracing::Instrument::in_current_span(run(
            ws_url, outbox, receiver,
        )));
        UpstreamLink { commands }
    }

    pub fn hello(&self, text: &str) {
        let _ = self.commands.send(LinkCommand::Hello(text.to_owned()));
    }

    pub fn forward(&self, text: &str) {
        let _ = self.commands.send(LinkCommand::Forward(text.to_owned()));
    }
}

/// Why a connected period ended.
enum Ended {
    /// The browser socket closed: stop for good.
    BrowserGone,
    /// freshell refused our token: reconnecting cannot help.
    Refused,
    /// freshell went away: reconnect.
    Lost,
}

/// What the link remembers for freshell across reconnects.
#[derive(Default)]
struct Memory {
    /// The browser's latest hello.
    hello: Option<String>,
    /// Sent while freshell was away, in order.
    queued: VecDeque<String>,
    /// The latest message of each state-carrying type.
    state: Vec<(String, String)>,
}

impl Memory {
    fn take(&mut self, command: LinkCommand) -> Option<String> {
        match command {
            LinkCommand::Hello(text) => {
                self.hello = Some(text.clone());
                Some(text)
            }
            LinkCommand::Forward(text) => {
                if let Some(kind) =
                    message_type(&text).filter(|k| STATE_CARRYING_TYPES.contains(&k.as_str()))
                {
                    self.state.retain(|(k, _)| *k != kind);
                    self.state.push((kind, text.clone()));
                }
                Some(text)
            }
        }
    }

    /// What to send first on a new upstream socket: the hello, the latest
    /// state the browser sent before, then what waited.
    fn greeting(&mut self) -> Vec<String> {
        let mut out: Vec<String> = self.hello.iter().cloned().collect();
        let waiting: Vec<Option<String>> = self.queued.iter().map(|t| message_type(t)).collect();
        for (kind, text) in &self.state {
            if !waiting.iter().any(|w| w.as_deref() == Some(kind.as_str())) {
                out.push(text.clone());
            }
        }
        out.extend(self.queued.drain(..));
        out
    }
}

async fn run(ws_url: String, outbox: Outbox, mut commands: mpsc::UnboundedReceiver<LinkCommand>) {
    let mut memory = Memory::default();
    let mut delay = RECONNECT_FIRST_DELAY;
    loop {
        // Nothing to say to freshell before the browser has said hello.
        while memory.hello.is_none() {
            match commands.recv().await {
                Some(command) => {
                    if let Some(text) = memory.take(command) {
                        if memory.hello.as_deref() != Some(text.as_str()) {
                            queue(&mut memory.queued, text);
                        }
                    }
                }
                None => return,
            }
        }
        let socket = match tokio_tungstenite::connect_async(ws_url.as_str()).await {
            Ok((socket, _)) => socket,
            Err(err) => {
                tracing::info!(%err, delay_ms = delay.as_millis() as u64, "freshell upstream unreachable; retrying");
                if !wait_queueing(delay, &mut commands, &mut memory).await {
                    return;
                }
                delay = (delay * 2).min(RECONNECT_MAX_DELAY);
                continue;
            }
        };
        tracing::info!("connected to the freshell upstream");
        delay = RECONNECT_FIRST_DELAY;
        match serve_connected(socket, &outbox, &mut commands, &mut memory).await {
            Ended::BrowserGone => return,
            Ended::Refused => {
                tracing::error!("freshell refused ptyhub's token: give both the same AUTH_TOKEN");
                return;
            }
            Ended::Lost => {
                tracing::info!("freshell upstream went away; reconnecting");
                if !wait_queueing(delay, &mut commands, &mut memory).await {
                    return;
                }
            }
        }
    }
}

fn queue(queued: &mut VecDeque<String>, text: String) {
    if queued.len() == MAX_QUEUED_WHILE_AWAY {
        queued.pop_front();
        tracing::warn!("freshell is away too long; dropping the oldest queued message");
    }
    queued.push_back(text);
}

/// Waits `delay`, keeping what the browser sends; false if it went away.
async fn wait_queueing(
    delay: Duration,
    commands: &mut mpsc::UnboundedReceiver<LinkCommand>,
    memory: &mut Memory,
) -> bool {
    let deadline = tokio::time::sleep(delay);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return true,
            command = commands.recv() => match command {
                Some(command @ LinkCommand::Forward(_)) => {
                    if let Some(text) = memory.take(command) {
                        queue(&mut memory.queued, text);
                    }
                }
                // A new hello replaces the one sent on reconnect.
                Some(command @ LinkCommand::Hello(_)) => {
                    memory.take(command);
                }
                None => return false,
            },
        }
    }
}

type UpstreamSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve_connected(
    mut socket: UpstreamSocket,
    outbox: &Outbox,
    commands: &mut mpsc::UnboundedReceiver<LinkCommand>,
    memory: &mut Memory,
) -> Ended {
    let mut greeting = memory.greeting().into_iter();
    while let Some(text) = greeting.next() {
        if socket.send(Message::text(text.clone())).await.is_err() {
            // Keep what did not go out (the hello and state are remembered).
            for rest in std::iter::once(text).chain(greeting) {
                if message_type(&rest).as_deref() != Some("hello") {
                    queue(&mut memory.queued, rest);
                }
            }
            return Ended::Lost;
        }
    }
    loop {
        tokio::select! {
            command = commands.recv() => {
                let Some(command) = command else {
                    let _ = socket.close(None).await;
                    return Ended::BrowserGone;
                };
                let Some(text) = memory.take(command) else { continue };
                if socket.send(Message::text(text.clone())).await.is_err() {
                    if message_type(&text).as_deref() != Some("hello") {
                        queue(&mut memory.queued, text);
                    }
                    return Ended::Lost;
                }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let kind = message_type(text.as_str());
                    if kind.as_deref().is_some_and(is_terminal_family) {
                        continue;
                    }
                    if !outbox.send(text.as_str().to_owned()) {
                        return Ended::BrowserGone;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let refused = frame.is_some_and(|f| f.code == CloseCode::Library(4001));
                    return if refused { Ended::Refused } else { Ended::Lost };
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ended::Lost,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnect_greets_with_the_hello_the_latest_state_and_what_waited() {
        let mut memory = Memory::default();
        memory.take(LinkCommand::Hello(r#"{"type":"hello"}"#.into()));
        memory.take(LinkCommand::Forward(
            r#"{"type":"ui.layout.sync","n":1}"#.into(),
        ));
        memory.take(LinkCommand::Forward(
            r#"{"type":"ui.layout.sync","n":2}"#.into(),
        ));
        memory.take(LinkCommand::Forward(r#"{"type":"sessions.prefs"}"#.into()));
        memory
            .queued
            .push_back(r#"{"type":"sessions.prefs","later":true}"#.into());
        assert_eq!(
            memory.greeting(),
            vec![
                r#"{"type":"hello"}"#.to_owned(),
                r#"{"type":"ui.layout.sync","n":2}"#.to_owned(),
                r#"{"type":"sessions.prefs","later":true}"#.to_owned(),
            ]
        );
    }

    #[test]
    fn the_terminal_family_is_ptyhubs_everything_else_is_freshells() {
        for kind in [
            "ready",
            "terminal.inventory",
            "terminals.changed",
            "terminal.output",
            "terminal.exit",
        ] {
            assert!(is_terminal_family(kind), "{kind}");
        }
        for kind in [
            "settings.updated",
            "perf.logging",
            "tabs.sync.snapshot",
            "sessions.changed",
            "error",
        ] {
            assert!(!is_terminal_family(kind), "{kind}");
        }
        assert_eq!(
            message_type(r#"{"type":"x.y","a":1}"#).as_deref(),
            Some("x.y")
        );
        assert_eq!(message_type("not json"), None);
    }
}
