//! The part of freshell's protocol v7 the CLI speaks, as typed messages.
//!
//! The daemon's own adapter (`crate::protocol::freshell`) is the server side
//! and keeps its types private; the CLI is a client like any browser tab, so
//! it has its own small copy of the shapes it sends and reads. Unknown server
//! messages parse as [`ServerMessage::Other`] and are ignored, as the spec
//! asks of a forward-compatible client.

use serde::{Deserialize, Serialize};

/// freshell's protocol version; the daemon closes the socket (4010) on any other.
pub const PROTOCOL_VERSION: u32 = 7;

/// The two attach intents the CLI uses (spec §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachIntent {
    /// Full repaint; the PTY is resized to the viewer.
    ViewportHydrate,
    /// Never resizes: what a read-only viewer sends.
    KeepaliveDelta,
    /// Coming back after the connection dropped (the daemon upgraded in
    /// place): the frames after the seq the viewer has.
    TransportReconnect,
}

/// Client → server messages.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum ClientMessage<'a> {
    /// Opens the session; must be first.
    #[serde(rename = "hello", rename_all = "camelCase")]
    Hello {
        protocol_version: u32,
        token: &'a str,
    },
    /// Answered by `pong` after every earlier message has been handled.
    #[serde(rename = "ping")]
    Ping,
    /// Starts receiving a terminal's output.
    #[serde(rename = "terminal.attach", rename_all = "camelCase")]
    Attach {
        terminal_id: &'a str,
        intent: AttachIntent,
        cols: u16,
        rows: u16,
        since_seq: u64,
        attach_request_id: &'a str,
        max_replay_bytes: u64,
    },
    /// Bytes typed into the terminal.
    #[serde(rename = "terminal.input", rename_all = "camelCase")]
    Input { terminal_id: &'a str, data: &'a str },
    /// The viewer's window size.
    #[serde(rename = "terminal.resize", rename_all = "camelCase")]
    Resize {
        terminal_id: &'a str,
        cols: u16,
        rows: u16,
        /// ptyhub's extension: the PTY takes this size now, as if this
        /// viewer had typed (left out when false, as freshell sends it).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        take_size: bool,
    },
    /// Stops output to this socket; the terminal keeps running.
    #[serde(rename = "terminal.detach", rename_all = "camelCase")]
    Detach { terminal_id: &'a str },
    /// Ends the terminal's process.
    #[serde(rename = "terminal.kill", rename_all = "camelCase")]
    Kill { terminal_id: &'a str },
}

/// Server → client messages the CLI acts on.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum ServerMessage {
    /// The hello was accepted.
    #[serde(rename = "ready")]
    Ready,
    /// An attach succeeded; output follows.
    #[serde(rename = "terminal.attach.ready", rename_all = "camelCase")]
    AttachReady {
        terminal_id: String,
        head_seq: u64,
        #[serde(default)]
        attach_request_id: Option<String>,
    },
    /// One frame of output (`seqStart == seqEnd` from this daemon; the end
    /// is what orders frames).
    #[serde(rename = "terminal.output", rename_all = "camelCase")]
    Output {
        terminal_id: String,
        seq_end: u64,
        data: String,
        #[serde(default)]
        attach_request_id: Option<String>,
    },
    /// Output this viewer will never get; a screen repaint follows it, so
    /// the CLI needs none of its fields.
    #[serde(rename = "terminal.output.gap")]
    OutputGap,
    /// The terminal's process ended.
    #[serde(rename = "terminal.exit", rename_all = "camelCase")]
    Exit { terminal_id: String, exit_code: i32 },
    /// A detach was done.
    #[serde(rename = "terminal.detached", rename_all = "camelCase")]
    Detached { terminal_id: String },
    /// Answer to `ping`.
    #[serde(rename = "pong")]
    Pong,
    /// A request failed.
    #[serde(rename = "error", rename_all = "camelCase")]
    Error {
        code: String,
        message: String,
        #[serde(default)]
        request_id: Option<String>,
        #[serde(default)]
        terminal_id: Option<String>,
    },
    /// Anything else (inventory, terminals.changed, …): not needed here.
    #[serde(other)]
    Other,
}

impl ClientMessage<'_> {
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_use_freshell_field_names() {
        let attach = ClientMessage::Attach {
            terminal_id: "t1",
            intent: AttachIntent::ViewportHydrate,
            cols: 80,
            rows: 24,
            since_seq: 0,
            attach_request_id: "cli:1",
            max_replay_bytes: 1,
        }
        .to_json()
        .expect("serializes");
        let value: serde_json::Value = serde_json::from_str(&attach).expect("json");
        assert_eq!(value["type"], "terminal.attach");
        assert_eq!(value["terminalId"], "t1");
        assert_eq!(value["intent"], "viewport_hydrate");
        assert_eq!(value["sinceSeq"], 0);
        assert_eq!(value["attachRequestId"], "cli:1");
        assert_eq!(value["maxReplayBytes"], 1);

        let hello = ClientMessage::Hello {
            protocol_version: PROTOCOL_VERSION,
            token: "secret",
        }
        .to_json()
        .expect("serializes");
        assert_eq!(
            hello,
            r#"{"type":"hello","protocolVersion":7,"token":"secret"}"#
        );

        let resize = |take_size| {
            ClientMessage::Resize {
                terminal_id: "t1",
                cols: 60,
                rows: 20,
                take_size,
            }
            .to_json()
            .expect("serializes")
        };
        assert_eq!(
            resize(false),
            r#"{"type":"terminal.resize","terminalId":"t1","cols":60,"rows":20}"#
        );
        assert_eq!(
            resize(true),
            r#"{"type":"terminal.resize","terminalId":"t1","cols":60,"rows":20,"takeSize":true}"#
        );
    }

    #[test]
    fn unknown_server_messages_are_tolerated() {
        let inventory: ServerMessage =
            serde_json::from_str(r#"{"type":"terminal.inventory","bootId":"b","terminals":[]}"#)
                .expect("parses");
        assert!(matches!(inventory, ServerMessage::Other));
        let pong: ServerMessage =
            serde_json::from_str(r#"{"type":"pong","timestamp":"2026-01-01T00:00:00.000Z"}"#)
                .expect("parses");
        assert!(matches!(pong, ServerMessage::Pong));
        let output: ServerMessage = serde_json::from_str(
            r#"{"type":"terminal.output","terminalId":"t","streamId":"s","seqStart":3,"seqEnd":3,"data":"hi","source":"live","attachRequestId":"a"}"#,
        )
        .expect("parses");
        assert!(matches!(
            output,
            ServerMessage::Output { seq_end: 3, ref data, .. } if data == "hi"
        ));
    }
}
