//! A freshell-protocol client for the CLI: connect, hello, then typed
//! messages in both directions, plus the request/response helper the
//! one-shot commands need (`send_and_sync`).
//!
//! The client splits into a [`MessageWriter`] and a [`MessageReader`] so
//! that `attach` can wait for the daemon while it sends keystrokes.

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::endpoint::Endpoint;
use super::wire::{ClientMessage, ServerMessage, PROTOCOL_VERSION};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait for the connection and the `ready` that answers `hello`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest wait for the answer to a request (ping).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the close handshake when leaving.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing answered; the text says why and what to do.
    #[error("{0}")]
    Connect(String),
    #[error("the daemon refused the token: check AUTH_TOKEN, --url or --state-dir")]
    Unauthorized,
    #[error("the daemon {}", describe_close(*.code, reason))]
    Closed { code: Option<u16>, reason: String },
    #[error("lost the connection to the daemon: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("the daemon sent a message the CLI cannot read ({source}): {text}")]
    BadMessage {
        text: String,
        source: serde_json::Error,
    },
    #[error("cannot encode a message: {0}")]
    Encode(serde_json::Error),
    #[error("the daemon refused: {message} ({code})")]
    Refused { code: String, message: String },
    #[error("no answer from the daemon within {0:?}")]
    Timeout(Duration),
}

/// What a close code means to the user, and what to do about it.
fn describe_close(code: Option<u16>, reason: &str) -> String {
    let what = match code {
        Some(4001) => "refused the token: check AUTH_TOKEN or --state-dir",
        Some(4003) => "has too many connections: close some viewers and retry",
        Some(4009) => "is shutting down",
        Some(4010) => "speaks another protocol version: use the ptyhub binary that runs it",
        Some(_) | None => "closed the connection",
    };
    match (code, reason.is_empty()) {
        (Some(code), false) => format!("{what} (close {code}: {reason})"),
        (Some(code), true) => format!("{what} (close {code})"),
        (None, _) => what.to_owned(),
    }
}

/// A connected, authenticated client.
pub struct ProtocolClient {
    pub writer: MessageWriter,
    pub reader: MessageReader,
}

pub struct MessageWriter {
    sink: SplitSink<Socket, Message>,
}

pub struct MessageReader {
    stream: SplitStream<Socket>,
}

impl ProtocolClient {
    /// Connects to the daemon's `/ws` and completes the hello handshake.
    pub async fn connect(endpoint: &Endpoint) -> Result<ProtocolClient, ClientError> {
        let connected = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            tokio_tungstenite::connect_async(&endpoint.ws_url),
        )
        .await
        .map_err(|_| ClientError::Timeout(HANDSHAKE_TIMEOUT))?;
        let (socket, _response) = connected
            .map_err(|err| ClientError::Connect(endpoint.unreachable(&err.to_string())))?;
        let (sink, stream) = socket.split();
        let mut client = ProtocolClient {
            writer: MessageWriter { sink },
            reader: MessageReader { stream },
        };
        client
            .writer
            .send(&ClientMessage::Hello {
                protocol_version: PROTOCOL_VERSION,
                token: &endpoint.token,
            })
            .await?;
        client
            .reply(HANDSHAKE_TIMEOUT, |message| match message {
                ServerMessage::Ready => Some(Ok(())),
                ServerMessage::Error { code, .. } if code == "NOT_AUTHENTICATED" => {
                    Some(Err(ClientError::Unauthorized))
                }
                ServerMessage::Error { code, message, .. } => {
                    Some(Err(ClientError::Refused { code, message }))
                }
                _ => None,
            })
            .await?;
        Ok(client)
    }

    /// Sends `messages`, then waits until the daemon has handled them all:
    /// the daemon handles a socket's messages in order, and only `ping` is
    /// answered, so its `pong` means everything before it was done. An
    /// `error` about `terminal_id` before the `pong` is the failure.
    pub async fn send_and_sync(
        &mut self,
        terminal_id: &str,
        messages: &[ClientMessage<'_>],
    ) -> Result<(), ClientError> {
        for message in messages {
            self.writer.send(message).await?;
        }
        self.writer.send(&ClientMessage::Ping).await?;
        self.reply(REPLY_TIMEOUT, |message| match message {
            ServerMessage::Pong => Some(Ok(())),
            ServerMessage::Error {
                code,
                message,
                terminal_id: Some(about),
                ..
            } if about == terminal_id => Some(Err(ClientError::Refused { code, message })),
            _ => None,
        })
        .await
    }

    /// Reads until `answer` picks a message, within `timeout`.
    async fn reply<T>(
        &mut self,
        timeout: Duration,
        mut answer: impl FnMut(ServerMessage) -> Option<Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        let wait = async {
            loop {
                if let Some(result) = answer(self.reader.next().await?) {
                    return result;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }

    /// Closes the socket politely (bounded wait).
    pub async fn close(self) {
        self.writer.close().await;
    }
}

impl MessageWriter {
    pub async fn send(&mut self, message: &ClientMessage<'_>) -> Result<(), ClientError> {
        let text = message.to_json().map_err(ClientError::Encode)?;
        self.sink.send(Message::text(text)).await?;
        Ok(())
    }

    /// Sends a close frame; gives up after a short wait (the daemon may be gone).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.sink.close()).await;
    }
}

impl MessageReader {
    /// The next message from the daemon. Cancel-safe: nothing is consumed
    /// before the await on the socket completes.
    pub async fn next(&mut self) -> Result<ServerMessage, ClientError> {
        loop {
            let frame = match self.stream.next().await {
                Some(frame) => frame?,
                None => {
                    return Err(ClientError::Closed {
                        code: None,
                        reason: String::new(),
                    })
                }
            };
            match frame {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).map_err(|source| {
                        ClientError::BadMessage {
                            text: text.as_str().chars().take(200).collect(),
                            source,
                        }
                    });
                }
                Message::Close(frame) => return Err(closed(frame)),
                // Pings are answered by tungstenite; the daemon sends no binary frames.
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }
}

fn closed(frame: Option<CloseFrame>) -> ClientError {
    match frame {
        Some(frame) => ClientError::Closed {
            code: Some(u16::from(frame.code)),
            reason: frame.reason.as_str().to_owned(),
        },
        None => ClientError::Closed {
            code: None,
            reason: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_tell_the_user_what_happened() {
        assert_eq!(
            describe_close(Some(4009), "Server shutting down"),
            "is shutting down (close 4009: Server shutting down)"
        );
        assert!(describe_close(Some(4001), "").contains("AUTH_TOKEN"));
        assert_eq!(describe_close(None, ""), "closed the connection");
    }
}
