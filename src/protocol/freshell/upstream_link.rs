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
        "ready" | "terminal.inventory" | "terminals.changed" | "pong"
    ) || kind.starts_with("terminal.")
}

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

async fn run(ws_url: String, outbox: Outbox, mut commands: mpsc::UnboundedReceiver<LinkCommand>) {
    let mut hello: Option<String> = None;
    let mut queued: VecDeque<String> = VecDeque::new();
    let mut delay = RECONNECT_FIRST_DELAY;
    loop {
        // Nothing to say to freshell before the browser has said hello.
        while hello.is_none() {
            match commands.recv().await {
                Some(LinkCommand::Hello(text)) => hello = Some(text),
                Some(LinkCommand::Forward(text)) => queue(&mut queued, text),
                None => return,
            }
        }
        let socket = match tokio_tungstenite::connect_async(ws_url.as_str()).await {
            Ok((socket, _)) => socket,
            Err(err) => {
                tracing::info!(%err, ?delay, "freshell upstream unreachable; retrying");
                if !wait_queueing(delay, &mut commands, &mut hello, &mut queued).await {
                    return;
                }
                delay = (delay * 2).min(RECONNECT_MAX_DELAY);
                continue;
            }
        };
        tracing::info!("connected to the freshell upstream");
        delay = RECONNECT_FIRST_DELAY;
        let ended = serve_connected(socket, &outbox, &mut commands, &mut hello, &mut queued).await;
        match ended {
            Ended::BrowserGone => return,
            Ended::Refused => {
                tracing::error!("freshell refused ptyhub's token: give both the same AUTH_TOKEN");
                return;
            }
            Ended::Lost => {
                tracing::info!("freshell upstream went away; reconnecting");
                if !wait_queueing(delay, &mut commands, &mut hello, &mut queued).await {
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

/// Waits `delay`, queueing what the browser sends; false if it went away.
async fn wait_queueing(
    delay: Duration,
    commands: &mut mpsc::UnboundedReceiver<LinkCommand>,
    hello: &mut Option<String>,
    queued: &mut VecDeque<String>,
) -> bool {
    let deadline = tokio::time::sleep(delay);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return true,
            command = commands.recv() => match command {
                Some(LinkCommand::Hello(text)) => *hello = Some(text),
                Some(LinkCommand::Forward(text)) => queue(queued, text),
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
    hello: &mut Option<String>,
    queued: &mut VecDeque<String>,
) -> Ended {
    let Some(greeting) = hello.clone() else {
        return Ended::Lost;
    };
    if socket.send(Message::text(greeting)).await.is_err() {
        return Ended::Lost;
    }
    while let Some(text) = queued.pop_front() {
        if socket.send(Message::text(text.clone())).await.is_err() {
            queued.push_front(text);
            return Ended::Lost;
        }
    }
    loop {
        tokio::select! {
            command = commands.recv() => {
                let text = match command {
                    Some(LinkCommand::Hello(text)) => {
                        *hello = Some(text.clone());
                        text
                    }
                    Some(LinkCommand::Forward(text)) => text,
                    None => {
                        let _ = socket.close(None).await;
                        return Ended::BrowserGone;
                    }
                };
                if socket.send(Message::text(text.clone())).await.is_err() {
                    queue(queued, text);
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
